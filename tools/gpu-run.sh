#!/usr/bin/env bash
# Runs on the CUDA machine (no .NET needed): unpacks the bundle made by tools/gpu-bundle.sh, points TorchSharp at
# the machine's PyTorch libraries, runs the program with the given arguments (default: all benchmarks on CUDA),
# then the ideal PyTorch reference in the same session when present. Output goes to stdout and $OUT if set.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=$(cat "$here/program")
work=${TMPDIR:-/tmp}/shapgen-bundle
rm -rf "$work" && mkdir -p "$work" && tar -C "$work" -xJf "$here/$name.tar.xz"
torch_lib=$(python3 -c "import torch,os;print(os.path.join(os.path.dirname(torch.__file__),'lib'))")
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
log=${OUT:-$work}/shapgen.jsonl
# GPU memory in use, sampled every 100 ms (TorchSharp exposes no CUDA memory statistics); align with finished_utc.
nvidia-smi --query-gpu=timestamp,memory.used --format=csv,noheader -lms 100 > "${OUT:-$work}/gpu-memory.csv" 2>/dev/null &
sampler=$!
trap 'kill $sampler 2>/dev/null || true' EXIT
if [ $# -eq 0 ]; then set -- all --device cuda; fi
"$work/$name/$name" "$@" | tee "$log"
if [ -f "$here/ideal_reference.py" ]; then
  python3 "$here/ideal_reference.py" --device cuda | tee "${OUT:-$work}/ideal.jsonl"
fi
