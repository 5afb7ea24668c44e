#!/usr/bin/env bash
# Embedding throughput on a GPU machine: bare SentenceTransformer.encode against `seealso index`,
# both with torch on cuda (what `SEEALSO_BACKEND=auto` picks when a GPU is present), and the
# OpenVINO CPU path beside them for comparison. Run from the repository root:
#
#     scripts/bench_gpu.sh [N]        # N BBC articles (default: all 2,225)
#
# Needs a torch build with CUDA in .venv (this machine's pinned torch is the CPU build) and
# ../shared/data/bbc-news.jsonl. Prints the GPU, then bench_index.py's table.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
LIMIT=${1:-}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || {
    echo "no NVIDIA GPU here" >&2; exit 2; }
"$PYTHON" - <<'PY' || { echo "torch here cannot use the GPU (a CPU build?)" >&2; exit 2; }
import sys, torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "device", torch.cuda.get_device_name(0))
sys.exit(0 if torch.cuda.is_available() else 1)
PY
"$PYTHON" scripts/bench_index.py --device cuda --backends auto ${LIMIT:+--limit "$LIMIT"}
"$PYTHON" scripts/bench_index.py --device cpu --backends auto ${LIMIT:+--limit "$LIMIT"}
