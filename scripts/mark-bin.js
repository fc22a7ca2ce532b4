// Marks the package's bin entries executable after tsc (which writes files 0644): `npx frugal-optim`
// in the repository runs dist/cjs/cli/main.js directly, and an installed package links to it.
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const { bin } = require(path.join(root, 'package.json'));
for (const file of Object.values(bin || {})) {
  const full = path.join(root, file);
  fs.chmodSync(full, fs.statSync(full).mode | 0o111);
  console.log(`mark-bin: ${file} is executable`);
}
