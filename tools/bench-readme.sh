#!/usr/bin/env bash
# Regenerates the benchmark tables of README.md and docs/*.md (between <!-- bench:… --> markers) from a fresh run of
# the README's set: W1 (N = 3 and 20), W3 (bg 100), W4, each case's phases interleaved, 5 runs each by default. Takes
# a few minutes on 2 cores. Refuses to write when the 1-minute load average exceeds the core count during a case (the
# table is printed, the exit status is 3); run it on an idle machine.
#   tools/bench-readme.sh [--repeats R] [--dry-run] [--force] [--jsonl PATH]
#   tools/bench-readme.sh --quick --repeats 2      # a smoke run: small settings, writes nothing
set -euo pipefail
cd "$(dirname "$0")/.."
read -r load _ < /proc/loadavg
echo "bench-readme: $(nproc) cores, 1-minute load average $load before the build" >&2
log=$(mktemp)
if ! dotnet build tests/ShapGen.Benchmarks -c Release -nologo > "$log" 2>&1; then
  grep -E "error" "$log" >&2; echo "bench-readme: build failed" >&2; exit 1
fi
rm -f "$log"
# libtorch prints an NNPACK warning per convolution on CPUs it does not support; keep stderr readable.
exec dotnet tests/ShapGen.Benchmarks/bin/Release/net10.0/ShapGen.Benchmarks.dll readme --command "tools/bench-readme.sh $*" "$@" \
  2> >(grep -v "NNPACK" >&2)
