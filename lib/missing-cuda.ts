// A machine with an NVIDIA driver and an addon built without the CUDA backend (nvcc was not found
// when it was built): the GPU sits unused while everything runs on the CPU, which a user would
// otherwise notice only from the speed. devices() lists the GPUs as unusable with this reason,
// cudaUnavailableReason() gives it, and the first load of the addon prints it once per process as
// a warning with the fix (FRUGAL_NO_CUDA_WARNING=1 silences it; so does node --no-warnings).
import { detectGpuDriver, GpuDriver } from './gpu-driver';

export const NO_CUDA_WARNING_CODE = 'FRUGAL_NO_CUDA_BACKEND';

/** How to get the CUDA backend, for every message that says it is missing. */
export const CUDA_BACKEND_FIX =
  'install the CUDA toolkit (12.1 or newer), set CUDA_HOME to it (or put its bin/ on PATH) and run `npm rebuild frugal-optim`';

let cachedDriver: GpuDriver | undefined;

/** The driver on this machine, looked for once per process (tests pass their own). */
function driverHere(): GpuDriver {
  cachedDriver ??= detectGpuDriver();
  return cachedDriver;
}

/**
 * Why the GPU this machine has cannot be used, when that is because the addon has no CUDA backend;
 * null when the addon has one or there is no driver.
 */
export function missingCudaBackend(builtWithCuda: boolean, probed?: GpuDriver): string | null {
  if (builtWithCuda) return null; // the driver is not even looked for
  const driver = probed ?? driverHere();
  if (!driver.present) return null;
  const which = driver.version ? `version ${driver.version}, ` : '';
  return (
    `an NVIDIA GPU driver is installed (${which}found through ${driver.evidence}), but this build of frugal-optim ` +
    `has no CUDA backend (nvcc was not found when it was built), so it runs on the CPU only; to use the GPU, ${CUDA_BACKEND_FIX}`
  );
}

/** The GPUs the driver lists (one unnamed when it lists none), for devices() to show as unusable. */
export function driverOnlyGpus(builtWithCuda: boolean, probed?: GpuDriver): { name: string; reason: string }[] {
  const reason = missingCudaBackend(builtWithCuda, probed);
  if (reason === null) return [];
  const gpus = (probed ?? driverHere()).gpus;
  return (gpus.length > 0 ? gpus : ['NVIDIA GPU']).map((name) => ({ name, reason }));
}

// Process-wide, not per module copy: two installs of the package in one process warn once.
const WARNED = Symbol.for('frugal-optim.noCudaBackendWarning');

/** Prints the warning the first time it applies in this process; true when it printed it. */
export function warnIfCudaBackendMissing(
  builtWithCuda: boolean,
  driver?: GpuDriver,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const flags = globalThis as { [WARNED]?: boolean };
  if (flags[WARNED] || env.FRUGAL_NO_CUDA_WARNING === '1') return false;
  const reason = missingCudaBackend(builtWithCuda, driver);
  if (reason === null) return false;
  flags[WARNED] = true;
  process.emitWarning(`frugal-optim: ${reason}. (FRUGAL_NO_CUDA_WARNING=1 silences this warning.)`, {
    type: 'FrugalOptimWarning',
    code: NO_CUDA_WARNING_CODE,
  });
  return true;
}

/** At import: when a driver is present, loads the addon now so that its warning comes now. */
export function checkCudaBackendAtImport(load: () => unknown): void {
  if (!driverHere().present) return; // nothing to say: the addon stays unloaded until first use
  try {
    load();
  } catch {
    // a missing or broken build is reported by the first call that needs it, as before
  }
}
