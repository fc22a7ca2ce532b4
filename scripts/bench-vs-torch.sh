#!/usr/bin/env bash
# Our optimizer steps and PyTorch's on the same device, in one call: `npm run bench`, then
# bench/torch/step_bench.py on the same presets, dtypes and sample counts, then the ratios
# (ours / torch) and the markdown report with both.
#
#   bash scripts/bench-vs-torch.sh [cpu|cuda:0] [-- options for both benches, e.g. --preset 60m --reps 10]
#
# Writes <out>/<device>-<date>.json and <out>/torch-<device>-<date>.json (out: $BENCH_OUT, default
# bench/results), prints the comparison, and writes $REPORT (default docs/benchmarks.md; REPORT=
# to skip). Needs the built package (npm install) and a Python with torch: $PYTHON, else the
# first of python3, /usr/bin/python3 that imports it. On Debian: apt-get install python3-torch,
# plus libopenblas0-pthread so torch's GEMMs and SVDs run on OpenBLAS rather than the reference BLAS.
set -euo pipefail
cd "$(dirname "$0")/.."

device=""
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
  device=$1
  shift
fi
if [ "${1:-}" = "--" ]; then shift; fi
if [ -z "$device" ]; then
  device=$(node -e "const f=require('.'); console.log(f.cudaDeviceCount() > 0 ? 'cuda:0' : 'cpu')")
fi
case "$device" in
  cpu) torch_device=cpu ;;
  cuda:0) torch_device=cuda ;;
  *) echo "bench-vs-torch: device: expected cpu or cuda:0, got '$device'" >&2; exit 2 ;;
esac

# Options both benches take with the same meaning.
shared=()
while [ $# -gt 0 ]; do
  case "$1" in
    --preset|--dtype|--methods|--reps|--warmup|--inner|--refresh-reps)
      [ $# -ge 2 ] || { echo "bench-vs-torch: $1: expected a value" >&2; exit 2; }
      shared+=("$1" "$2"); shift 2 ;;
    *) echo "bench-vs-torch: unknown option '$1'" >&2; exit 2 ;;
  esac
done

python=""
for candidate in ${PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import torch" 2>/dev/null; then
    python=$candidate
    break
  fi
done
if [ -z "$python" ]; then
  echo "bench-vs-torch: no Python with torch found (set PYTHON, or apt-get install python3-torch)" >&2
  exit 2
fi

out=${BENCH_OUT:-bench/results}
date=$(date -u +%F)
name=$device
if [ "$device" != cpu ]; then
  name=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr 'A-Z' 'a-z' | sed -E 's/[^a-z0-9]+/-/g; s/^-|-$//g')
fi
ours="$out/$name-$date.json"
theirs="$out/torch-$name-$date.json"

echo "== frugal-optim on $device" >&2
node dist/cjs/bench/step-bench.js --device "$device" --out "$ours" "${shared[@]}"
echo "== torch ($python) on $torch_device" >&2
"$python" bench/torch/step_bench.py --device "$torch_device" --out "$theirs" "${shared[@]}"
echo "== ours / torch" >&2
node dist/cjs/bench/compare.js "$ours" "$theirs"
report=${REPORT-docs/benchmarks.md}
if [ -n "$report" ]; then
  node dist/cjs/bench/report.js "$ours" "$theirs" --out "$report"
fi
