#!/usr/bin/env bash
# Builds a self-contained linux-x64 bundle of a ShapGen program (default: the benchmarks) that needs no .NET on
# the target and no bundled libtorch: it runs against an existing PyTorch installation's libraries (DESIGN §7,
# "bring your own libtorch"). Output: gpu-bundle/<name>.tar.xz plus gpu-bundle/ideal_reference.py when ../shared
# has it, and gpu-bundle/run.sh, the script to run on the CUDA machine.
#   tools/gpu-bundle.sh [project.csproj]
# Then, with the device tool: carry gpu-bundle, run `bash gpu-bundle/run.sh [benchmark args]`.
set -euo pipefail
cd "$(dirname "$0")/.."
project=${1:-tests/ShapGen.Benchmarks/ShapGen.Benchmarks.csproj}
name=$(basename "$project" .csproj)
out=gpu-bundle
rm -rf "$out/$name" && mkdir -p "$out"
dotnet publish "$project" -c Release -r linux-x64 --self-contained \
  -p:ShapGenBackend=external -p:ShapGenFixLibTorchSharp=always -o "$out/$name" | grep -E "error|ShapGen:|->" || true
tar -C "$out" -cJf "$out/$name.tar.xz" "$name"
rm -rf "${out:?}/$name"
[ -f ../shared/bench/ideal_reference.py ] && cp ../shared/bench/ideal_reference.py "$out/"
cp tools/gpu-run.sh "$out/run.sh"
echo "$name" > "$out/program"
ls -la "$out"
