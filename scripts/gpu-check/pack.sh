#!/usr/bin/env bash
# Packs what a bare GPU machine lacks for scripts/gpu-check.sh into .devnode/ (about 35 MB, under
# the device tool's 64 MiB carry limit, where node_modules itself is ~85 MB):
#   .devnode/node.xz               this machine's node binary (../shared/device/pack-node.sh)
#   .devnode/node_modules.tar.xz   node_modules (cmake-js, node-addon-api, jest, ts-jest, typescript)
# Then run on the GPU machine with carry [".devnode"]:  bash scripts/gpu-check.sh
# (gpu-check.sh unpacks both when node or node_modules is missing.)
set -euo pipefail
cd "$(dirname "$0")/../.."
pack_node=""
for candidate in ../shared/device/pack-node.sh ../../shared/device/pack-node.sh /work/shared/device/pack-node.sh; do
  if [ -f "$candidate" ]; then pack_node=$candidate; break; fi
done
[ -n "$pack_node" ] || { echo "pack: shared/device/pack-node.sh not found" >&2; exit 2; }
bash "$pack_node"
if [[ ! -f .devnode/node_modules.tar.xz || package-lock.json -nt .devnode/node_modules.tar.xz ]]; then
  tar -chf - node_modules | xz -T2 -6 > .devnode/node_modules.tar.xz.tmp
  mv .devnode/node_modules.tar.xz.tmp .devnode/node_modules.tar.xz
fi
ls -la .devnode/
