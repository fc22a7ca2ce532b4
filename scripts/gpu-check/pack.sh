#!/usr/bin/env bash
# Packs what a bare GPU machine lacks for scripts/gpu-check.sh into .devnode/ (about 35 MB, under
# the device tool's 64 MiB carry limit, where node_modules itself is ~85 MB):
#   .devnode/node.xz               this machine's node binary (packed as shared/device/pack-node.sh does)
#   .devnode/node_modules.tar.xz   node_modules (cmake-js, node-addon-api, jest, ts-jest, typescript)
# Then run on the GPU machine with carry [".devnode"]:  bash scripts/gpu-check.sh
# (gpu-check.sh unpacks both when node or node_modules is missing.)
set -euo pipefail
cd "$(dirname "$0")/../.."
# Node itself, as shared/device/pack-node.sh does it, without its `git rev-parse` and
# .git/info/exclude (.git is a file in a worktree; .devnode/ is in .gitignore anyway).
mkdir -p .devnode
node_bin=$(command -v node)
if [[ ! -f .devnode/node.xz || "$node_bin" -nt .devnode/node.xz ]]; then
  xz -T2 -6 -c "$node_bin" > .devnode/node.xz.tmp && mv .devnode/node.xz.tmp .devnode/node.xz
fi
if [[ ! -f .devnode/node_modules.tar.xz || package-lock.json -nt .devnode/node_modules.tar.xz ]]; then
  # No -h: node_modules/.bin holds symlinks whose targets require their neighbours by relative
  # path (typescript/bin/tsc: ../lib/tsc.js); a dereferenced copy would miss them. The trailing
  # slash still follows node_modules itself where it is a symlink to a shared copy.
  tar -cf - node_modules/ | xz -T2 -6 > .devnode/node_modules.tar.xz.tmp
  mv .devnode/node_modules.tar.xz.tmp .devnode/node_modules.tar.xz
fi
ls -la .devnode/
