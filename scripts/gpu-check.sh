#!/usr/bin/env bash
# The GPU check: one command, for the first GPU we get (an H100/H200 in under 8 minutes) or any
# CUDA machine. It builds for the local GPU and runs the suite, compute-sanitizer, CPU-vs-GPU
# comparisons, concurrency and error checks and the benches, and writes one JSON report
# (gpu-check.json, with each part script's results), a log (gpu-check.log), gpu-status.json and
# one archive of everything else (gpu-check-files.tar.gz: bench JSON and markdown, the tiny
# training run) to the output directory: $OUT when set, else build/gpu-check (ignored by git), or
# --out DIR. Each part reports pass / fail / skipped with its reason; a failing part
# does not stop the others. See scripts/gpu-check/run.js for the parts.
#
#   bash scripts/gpu-check.sh [--dry-run] [--out DIR] [--only part,part] [--budget SECONDS]
#
# --dry-run (no GPU needed): every part reports skipped with what it would do.
# On a machine without Node or node_modules (the lent GPU machine): run scripts/gpu-check/pack.sh
# here, carry .devnode, and this script unpacks both. Needs python3 with torch for the benches
# (cuBLAS / cuSOLVER are taken from its pip wheels) and compute-sanitizer for part 2.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1 && [ -f .devnode/node.xz ]; then
  xz -dc .devnode/node.xz > /tmp/node && chmod +x /tmp/node && export PATH=/tmp:$PATH
fi
if [ ! -d node_modules ] && [ -f .devnode/node_modules.tar.xz ]; then
  xz -dc .devnode/node_modules.tar.xz | tar -xf -
fi
if ! command -v node >/dev/null 2>&1; then
  echo "gpu-check: node not found (carry .devnode, see scripts/gpu-check.sh)" >&2
  exit 2
fi
exec node scripts/gpu-check/run.js "$@"
