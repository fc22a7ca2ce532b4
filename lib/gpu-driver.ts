// Whether this machine has an NVIDIA GPU driver, read from what the driver leaves on the system,
// with no CUDA call (the addon asking may have no CUDA backend at all). Evidence, either of:
//   - the kernel module: /proc/driver/nvidia/version (its version; /proc/driver/nvidia/gpus/*
//     names each GPU), with its control device /dev/nvidiactl: a container on a GPU host sees the
//     host's /proc but gets the device only when it is given the GPU;
//   - the driver's user-space library libcuda.so.1 where the loader finds it: LD_LIBRARY_PATH,
//     the loader's cache /etc/ld.so.cache, WSL's /usr/lib/wsl/lib.
// FRUGAL_TEST_DRIVER_PRESENT overrides the probe, for tests only: 1 (a driver with one GPU named
// 'test GPU'), 0 (none). The file access is a parameter, so tests hand it stubs.
import * as fs from 'fs';

export interface GpuDriver {
  present: boolean;
  /** The driver's version, e.g. '580.65.06' ('' when unknown). */
  version: string;
  /** Each GPU the kernel module lists, by model name (empty when it lists none or is absent). */
  gpus: string[];
  /** What showed the driver, in words ('' when absent). */
  evidence: string;
}

/** The file access the probe needs; each answers null / [] / false for anything unreadable. */
export interface DriverFiles {
  readText(file: string): string | null;
  list(dir: string): string[];
  exists(file: string): boolean;
}

export const SYSTEM_FILES: DriverFiles = {
  readText(file) {
    try {
      return fs.readFileSync(file, 'latin1'); // the loader cache is binary; names in it are ASCII
    } catch {
      return null;
    }
  },
  list(dir) {
    try {
      return fs.readdirSync(dir);
    } catch {
      return [];
    }
  },
  exists: (file) => fs.existsSync(file),
};

const PROC = '/proc/driver/nvidia';
const LIBCUDA = 'libcuda.so.1';

function gpuModels(files: DriverFiles): string[] {
  const models: string[] = [];
  for (const bus of files.list(`${PROC}/gpus`).sort()) {
    const info = files.readText(`${PROC}/gpus/${bus}/information`);
    const model = info && /^Model:\s*(.+?)\s*$/m.exec(info);
    models.push(model ? model[1] : `NVIDIA GPU at ${bus}`);
  }
  return models;
}

/** Where the loader would find libcuda.so.1, or null. */
function findLibcuda(files: DriverFiles, env: NodeJS.ProcessEnv): string | null {
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/wsl/lib'];
  for (const dir of dirs) if (files.exists(`${dir}/${LIBCUDA}`)) return `${dir}/${LIBCUDA}`;
  if (files.readText('/etc/ld.so.cache')?.includes(LIBCUDA)) return `${LIBCUDA} (in /etc/ld.so.cache)`;
  return null;
}

/** Looks for an NVIDIA driver (see the top of this file). */
export function detectGpuDriver(files: DriverFiles = SYSTEM_FILES, env: NodeJS.ProcessEnv = process.env): GpuDriver {
  const override = env.FRUGAL_TEST_DRIVER_PRESENT;
  if (override === '1') return { present: true, version: '', gpus: ['test GPU'], evidence: 'FRUGAL_TEST_DRIVER_PRESENT=1' };
  if (override === '0') return { present: false, version: '', gpus: [], evidence: '' };
  const procVersion = files.readText(`${PROC}/version`);
  const version = procVersion ? (/NVRM version:.*?\s(\d+\.\d+(?:\.\d+)?)\s/.exec(procVersion)?.[1] ?? '') : '';
  if (procVersion !== null && files.exists('/dev/nvidiactl')) {
    return { present: true, version, gpus: gpuModels(files), evidence: `${PROC}/version` };
  }
  const lib = findLibcuda(files, env);
  if (lib) return { present: true, version, gpus: procVersion !== null ? gpuModels(files) : [], evidence: lib };
  return { present: false, version: '', gpus: [], evidence: '' };
}
