#!/usr/bin/env bash
# The GPU check in one short run (see bench/gpu.py): inference and training chars/s on CUDA.
#   bash bench/gpu.sh TEXT CORPUS [--models cws,ner]
set -euo pipefail
cd "$(dirname "$0")/.."
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}" python3 bench/gpu.py "$@"
