// Child processes that run lib/ code: the TypeScript is transpiled once per test file into a
// temporary folder under build/ (inside the package, so `bindings` finds the addon and Node finds
// node_modules), and children start with plain node in a fraction of a second.
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');

function transpileTree(from: string, to: string): void {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    if (entry.isDirectory()) transpileTree(src, path.join(to, entry.name));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      const out = ts.transpileModule(fs.readFileSync(src, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        fileName: src,
      });
      fs.mkdirSync(to, { recursive: true });
      fs.writeFileSync(path.join(to, entry.name.replace(/\.ts$/, '.js')), out.outputText);
    }
  }
}

export interface ChildScripts {
  /** The transpiled path of a file given relative to the package root ("test/helpers/x.ts"). */
  script(relative: string): string;
  remove(): void;
}

/** Transpiles lib/ and test/helpers/ (a second or two); call remove() in afterAll. */
export function compileChildScripts(): ChildScripts {
  fs.mkdirSync(path.join(ROOT, 'build'), { recursive: true });
  const dir = fs.mkdtempSync(path.join(ROOT, 'build', 'test-js-'));
  transpileTree(path.join(ROOT, 'lib'), path.join(dir, 'lib'));
  transpileTree(path.join(ROOT, 'test', 'helpers'), path.join(dir, 'test', 'helpers'));
  return {
    script: (relative) => path.join(dir, relative.replace(/\.ts$/, '.js')),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
