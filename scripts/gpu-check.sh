#!/usr/bin/env bash
# The GPU check: one command, for the first GPU we get (an H100/H200 in under 8 minutes) or any
# CUDA machine. It builds for the local GPU and runs the suite, compute-sanitizer, CPU-vs-GPU
# comparisons, concurrency and error checks and the benches, and writes one JSON report
# (gpu-check.json) and a log (gpu-check.log) to the output directory: $OUT when set, else
# ./gpu-out, or --out DIR. Each part reports pass / fail / skipped with its reason; a failing part
# does not stop the others. See scripts/gpu-check/run.js for the parts.
#
#   bash scripts/gpu-check.sh [--dry-run] [--out DIR] [--only part,part] [--budget SECONDS]
#
# --dry-run (no GPU needed): every part reports skipped with what it would do.
# On a machine without Node (the lent GPU machine): pack Node here with
# ../shared/device/pack-node.sh and carry .devnode and node_modules; this script unpacks it.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1 && [ -f .devnode/node.xz ]; then
  xz -dc .devnode/node.xz > /tmp/node && chmod +x /tmp/node && export PATH=/tmp:$PATH
fi
if ! command -v node >/dev/null 2>&1; then
  echo "gpu-check: node not found (carry .devnode, see scripts/gpu-check.sh)" >&2
  exit 2
fi
exec node scripts/gpu-check/run.js "$@"
