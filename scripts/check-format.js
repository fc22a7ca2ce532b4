#!/usr/bin/env node
// clang-format, checked not applied: lists the C, C++ and CUDA files whose formatting differs from
// .clang-format and exits 1 (CI: npm run format:check). `--fix` rewrites them in place instead.
// The clang-format binary comes from the clang-format npm package (a devDependency), so every
// machine checks with the same version.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const fix = process.argv.includes('--fix');
const PATTERNS = ['native/**', 'cuda/**', 'examples/**', 'test/**'];
const EXTENSIONS = /\.(c|h|cc|cpp|cu|cuh)$/;

function binary() {
  try {
    return require('clang-format').getNativeBinary();
  } catch (e) {
    console.error(`check-format: the clang-format package is not installed (npm install --include=dev): ${e.message}`);
    process.exit(2);
  }
}

const files = execFileSync('git', ['ls-files', '--', ...PATTERNS], { cwd: root, encoding: 'utf8' })
  .split('\n')
  // Generated files follow their generator (scripts/gen-schema.js --check owns them).
  .filter((f) => EXTENSIONS.test(f) && !/\.generated\./.test(f) && fs.existsSync(path.join(root, f)));
const bin = binary();
const wrong = [];
for (const f of files) {
  const file = path.join(root, f);
  const formatted = execFileSync(bin, ['--style=file', file], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (formatted !== fs.readFileSync(file, 'utf8')) {
    if (fix) fs.writeFileSync(file, formatted);
    wrong.push(f);
  }
}
if (fix) {
  console.log(`check-format: reformatted ${wrong.length} of ${files.length} files`);
} else if (wrong.length) {
  console.error(`check-format: ${wrong.length} of ${files.length} files differ from .clang-format (npm run format:fix):`);
  for (const f of wrong) console.error(`  ${f}`);
  process.exit(1);
} else {
  console.log(`check-format: ${files.length} files match .clang-format`);
}
