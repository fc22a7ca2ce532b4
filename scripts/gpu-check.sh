#!/usr/bin/env bash
# The whole GPU job in one command, for the lent GPU machine or any CUDA box:
# unpack Node if carried, build the addon for the local GPU, run the full test suite (which then
# runs every device test on cuda:0 against the CPU), the step benchmarks, and the PyTorch
# comparison. Logs and result tables go to $OUT (default: ./gpu-out).
#
# On the lent machine (no Node, no registry): pack Node here with ../shared/device/pack-node.sh,
# then run with carry [.devnode, node_modules]:  bash scripts/gpu-check.sh
set -uo pipefail
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
if ! command -v node >/dev/null && [ -f .devnode/node.xz ]; then
  xz -dc .devnode/node.xz > /tmp/node && chmod +x /tmp/node && export PATH=/tmp:$PATH
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"

# cuBLAS / cuSOLVER: the addon loads them at run time; PyTorch's wheels carry them.
site=$(python3 -c "import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))" 2>/dev/null || true)
if [ -n "$site" ]; then
  libdirs=$(find "$site/nvidia" -name 'libcublas.so*' -o -name 'libcusolver.so*' 2>/dev/null | xargs -r -n1 dirname | sort -u | tr '\n' ':')
  export LD_LIBRARY_PATH="${libdirs}${LD_LIBRARY_PATH:-}"
fi
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH" >> "$OUT/gpu.txt"

cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '.')
export FRUGAL_CUDA=ON FRUGAL_CUDA_ARCHS="${FRUGAL_CUDA_ARCHS:-$cc}"
set -o pipefail
( node scripts/build-addon.js && npx tsc -p tsconfig.json && node scripts/make-esm.js ) 2>&1 | tee "$OUT/build.log" || exit 1
node -e "const f=require('.'); console.log(JSON.stringify(f.devices(), null, 1))" | tee "$OUT/devices.json"
npx jest --ci 2>&1 | tee "$OUT/test.log"
test_rc=${PIPESTATUS[0]}
# Ours and torch's steps in one call: JSON, the ratios, and the report (charts beside it).
BENCH_OUT="$OUT" REPORT="$OUT/benchmarks.md" bash scripts/bench-vs-torch.sh cuda:0 2>&1 | tee "$OUT/bench.log"
# Back on the workstation: copy $OUT/*.json to bench/results/ and $OUT/benchmarks.md (+ benchmarks/) to docs/.
exit $test_rc
