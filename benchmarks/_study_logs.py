"""Build a study-sized log directory (~222k samples) from the real `.eval` logs of a small peerwatch run.

A study writes one `.eval` per (model, task type, shard) holding every configuration of that task type x its
epochs. Writing 222k samples through Inspect's writer takes ~40 ms each (hours), so this copies a seed run's logs
member by member instead: each seed log becomes one log per study model, its samples repeated over the study's
epochs (`samples/ID_epoch_E.json` with `epoch` and `uuid` rewritten), its summaries (`summaries.json` and the
`_journal/summaries/N.json` chunks) and header (`model`, ids, epochs, sample counts) rewritten to match. What the
report reads is then what a study run would leave: Inspect's own members and summaries, at the study's size.
Run through `analysis_scale.py --make-logs DIR`.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

_ALPHABET = string.ascii_letters + string.digits
ZSTD = 93  # Inspect's member compression


def _short_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(22))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _patch_spec(spec: dict[str, Any], model: str, epochs: int, task_id: str, run_id: str) -> dict[str, Any]:
    spec = {**spec, "model": model, "eval_id": _short_id(), "run_id": run_id, "task_id": task_id}
    spec["config"] = {**(spec.get("config") or {}), "epochs": epochs}
    return spec


def _sample_text(text: str, old_epoch: int, epoch: int, old_uuid: str | None, new_uuid: str) -> str:
    """A seed sample's JSON with its epoch and uuid rewritten (Inspect writes `id` then `epoch` first)."""
    head = f'"epoch":{old_epoch},'
    at = text.find(head, 0, 2000)
    if at < 0:
        raise ValueError("sample JSON does not start with id and epoch")
    text = f'{text[:at]}"epoch":{epoch},{text[at + len(head) :]}'
    return text.replace(old_uuid, new_uuid) if old_uuid else text


def _build_one(seed: str, out: str, model: str, epochs: int) -> int:
    import inspect_ai.log  # noqa: F401 - zstd members

    task_id, run_id = _short_id(), _short_id()
    with zipfile.ZipFile(seed) as z:
        names = z.namelist()
        summaries = json.loads(z.read("summaries.json"))
        journal = [n for n in names if n.startswith("_journal/summaries/")]
        chunk = max(1, len(summaries) // max(1, len(journal)))
        seed_epochs = max(s["epoch"] for s in summaries)
        by_key = {(str(s["id"]), s["epoch"]): s for s in summaries}
        new_summaries: list[dict[str, Any]] = []
        with zipfile.ZipFile(out, "w", compression=ZSTD) as w:
            start = json.loads(z.read("_journal/start.json"))
            start["eval"] = _patch_spec(start["eval"], model, epochs, task_id, run_id)
            w.writestr("_journal/start.json", _dumps(start))
            for name in names:
                if not name.startswith("samples/"):
                    continue
                stem, _, k = name[len("samples/") : -len(".json")].rpartition("_epoch_")
                seed_summary = by_key[(stem, int(k))]
                text = z.read(name).decode()
                for e in range(int(k), epochs + 1, seed_epochs):
                    uuid = _short_id()
                    w.writestr(
                        f"samples/{stem}_epoch_{e}.json", _sample_text(text, int(k), e, seed_summary.get("uuid"), uuid)
                    )
                    new_summaries.append({**seed_summary, "epoch": e, "uuid": uuid})
            for i in range(0, len(new_summaries), chunk):
                w.writestr(f"_journal/summaries/{i // chunk + 1}.json", _dumps(new_summaries[i : i + chunk]))
            w.writestr("summaries.json", _dumps(new_summaries))
            if "reductions.json" in names:
                w.writestr("reductions.json", z.read("reductions.json"))
            header = json.loads(z.read("header.json"))
            header["eval"] = _patch_spec(header["eval"], model, epochs, task_id, run_id)
            if header.get("results"):
                header["results"]["total_samples"] = header["results"]["completed_samples"] = len(new_summaries)
            w.writestr("header.json", _dumps(header))
    return len(new_summaries)


def build_study_logs(seed_dir: str, out_dir: str, models: list[str], samples: int, workers: int) -> int:
    """Write the study-sized directory; returns the number of samples written.

    The seed's logs of one model (its first) are the templates: every configuration of the seed run appears once
    per study model and epoch, so epochs = samples / (models x configurations).
    """
    import inspect_ai.log  # noqa: F401 - zstd members

    seeds = sorted(str(p) for p in Path(seed_dir).rglob("*.eval"))
    by_model: dict[str, list[str]] = {}
    configs = 0
    for s in seeds:
        with zipfile.ZipFile(s) as z:
            model = json.loads(z.read("header.json"))["eval"]["model"]
            if not by_model or model in by_model:
                by_model.setdefault(model, []).append(s)
                configs += len({x["id"] for x in json.loads(z.read("summaries.json"))})
    templates = next(iter(by_model.values()))
    epochs = max(1, round(samples / (len(models) * configs)))
    jobs = []
    for i, model in enumerate(models):
        for s in templates:
            rel = Path(s).relative_to(seed_dir)
            stamp, task, _ = rel.name.rsplit("_", 2)
            target = Path(out_dir) / f"model-{i}" / rel.parent / f"{stamp}_{task}_{_short_id()}.eval"
            target.parent.mkdir(parents=True, exist_ok=True)
            jobs.append((s, str(target), model, epochs))
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        return sum(pool.map(_build_one, *zip(*jobs, strict=True)))
