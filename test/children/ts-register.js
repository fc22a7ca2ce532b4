// Child processes of the tests run lib/*.ts directly, as jest does: this require hook compiles
// each .ts file to CommonJS (type-checking is the typecheck script's job, not this one's). The
// output is cached on disk by content hash, so a child starts in a fraction of a second.
// Use: node -r ./test/children/ts-register.js test/children/<script>.js
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const CACHE = path.join(os.tmpdir(), `frugal-optim-ts-${typeof process.getuid === 'function' ? process.getuid() : 'user'}`);
let ts = null;

function compile(source, filename) {
  const key = crypto.createHash('sha1').update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(CACHE, `${key}.js`);
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch {
    // not cached yet
  }
  ts = ts || require('typescript');
  const out = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
  try {
    fs.mkdirSync(CACHE, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, out);
    fs.renameSync(tmp, cached); // atomic: parallel children never read a half-written file
  } catch {
    // an unwritable cache only costs time
  }
  return out;
}

require.extensions['.ts'] = (module, filename) => {
  module._compile(compile(fs.readFileSync(filename, 'utf8'), filename), filename);
};
