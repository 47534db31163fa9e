"""kill -9 at a random moment, then the same command again: the exact planned set, 0 lost, 0 duplicated.

Usage: python tests/redteam13/kill9_driver.py WORKDIR SEED WORKERS [group|parent]
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import attack

SELECTION = ["-t", "tampering", "--limit", "4", "--epochs", "4"]


def main() -> int:
    work, seed, workers = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    mode = sys.argv[4] if len(sys.argv) > 4 else "group"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    prov, port = attack.start_provider(work / "stats.json", "--seed", str(seed), "--fault-rate", "0.1",
                                       "--rpm", "600", "--hang", "12", "--latency", "0.1")
    try:
        env = attack.env_for(port)
        log_dir = str(work / "logs")
        args = ["run", "-m", "openai-api/loop/loop-1", *SELECTION, "--timeout", "4", "--workers", workers,
                "--log-dir", log_dir]
        after = random.Random(seed).uniform(4, 30)
        out1 = attack.run_and_kill(args, env, after, group=(mode == "group"))
        res = attack.peerwatch(args, env)
        raw = attack.raw_samples(log_dir)
        rows = attack.report_rows(log_dir, work / "report", env)
        dry = attack.peerwatch([*args, "--dry-run"], env)
        planned = {(r["model"], r["config_id"], e) for r in rows for e in range(1, 5)}
        problems = attack.check_exact(rows, planned)
        if len({r["config_id"] for r in rows}) != 4:
            problems.append(f"configs in report: {len({r['config_id'] for r in rows})} != 4")
        ok_dups = {k: n for k, n in raw.items() if k[3] == "ok" and n > 1}
        print(json.dumps({"seed": seed, "workers": workers, "mode": mode, "killed_after_s": round(after, 1),
                          "rerun_rc": res.returncode, "rows": len(rows),
                          "raw_ok": sum(n for k, n in raw.items() if k[3] == "ok"),
                          "raw_ok_dups": len(ok_dups), "problems": problems,
                          "rerun_tail": res.stdout.strip().splitlines()[-2:],
                          "first_tail": out1.strip().splitlines()[-2:]}, indent=1))
        print("dry-run:", dry.returncode, dry.stdout.strip().splitlines()[-3:], dry.stderr.strip()[-300:])
        return 1 if problems or res.returncode != 0 else 0
    finally:
        prov.kill()


if __name__ == "__main__":
    raise SystemExit(main())
