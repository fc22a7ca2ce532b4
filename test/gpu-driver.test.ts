// A GPU driver on a machine whose addon has no CUDA backend: the driver probe (lib/gpu-driver.ts)
// on stubbed files, and what the library then says (lib/missing-cuda.ts): devices() lists the
// GPUs as unusable with the fix, cudaUnavailableReason() gives it, and the first import prints one
// warning per process (FRUGAL_NO_CUDA_WARNING=1 silences it). The library runs in child processes
// with the probe overridden (FRUGAL_TEST_DRIVER_PRESENT) and, where the build matters, a stand-in
// addon (FRUGAL_ADDON_PATH), so the checks hold on every machine and build.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { detectGpuDriver, DriverFiles, GpuDriver } from '../lib/gpu-driver';
import { CUDA_BACKEND_FIX, driverOnlyGpus, missingCudaBackend, NO_CUDA_WARNING_CODE, warnIfCudaBackendMissing } from '../lib/missing-cuda';
import { native } from '../lib/native';
import { childJson, runChildCode } from './helpers/child';

// A file system holding exactly `files` (path -> text); directories are the prefixes of paths.
function stubFiles(files: Record<string, string>): DriverFiles {
  return {
    readText: (file) => (file in files ? files[file] : null),
    list: (dir) => [...new Set(Object.keys(files).filter((f) => f.startsWith(`${dir}/`)).map((f) => f.slice(dir.length + 1).split('/')[0]))],
    exists: (file) => file in files,
  };
}

const PROC_VERSION =
  'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.65.06  Release Build  (dvs-builder@U16-I3-B03-4-3)  Sun Jul 27 06:54:38 UTC 2025\n' +
  'GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n';
const info = (model: string, bus: string) => `Model: \t\t ${model}\nIRQ:   \t\t 180\nBus Location: \t ${bus}\nDevice Minor: \t 0\n`;
const KERNEL_MODULE = {
  '/proc/driver/nvidia/version': PROC_VERSION,
  '/proc/driver/nvidia/gpus/0000:c1:00.0/information': info('NVIDIA H200', '0000:c1:00.0'),
  '/proc/driver/nvidia/gpus/0000:41:00.0/information': info('NVIDIA A100-SXM4-80GB', '0000:41:00.0'),
};

describe('detectGpuDriver', () => {
  test('the kernel module with its control device: version and each GPU by bus order', () => {
    expect(detectGpuDriver(stubFiles({ ...KERNEL_MODULE, '/dev/nvidiactl': '' }), {})).toEqual({
      present: true,
      version: '580.65.06',
      gpus: ['NVIDIA A100-SXM4-80GB', 'NVIDIA H200'],
      evidence: '/proc/driver/nvidia/version',
    });
  });

  test("the host's module seen from a container not given the GPU is no driver", () => {
    expect(detectGpuDriver(stubFiles(KERNEL_MODULE), {}).present).toBe(false);
  });

  test('libcuda.so.1 where the loader finds it: LD_LIBRARY_PATH, the loader cache, WSL', () => {
    const viaPath = detectGpuDriver(stubFiles({ '/opt/drv/libcuda.so.1': '' }), { LD_LIBRARY_PATH: '/usr/x:/opt/drv' });
    expect(viaPath).toEqual({ present: true, version: '', gpus: [], evidence: '/opt/drv/libcuda.so.1' });
    const cache = '\u0000ld.so-1.7.0\u0000glibc-ld.so.cache1.1\u0001libcuda.so.1\u0000/usr/lib/x86_64-linux-gnu/libcuda.so.1\u0000';
    expect(detectGpuDriver(stubFiles({ '/etc/ld.so.cache': cache }), {}).evidence).toBe('libcuda.so.1 (in /etc/ld.so.cache)');
    expect(detectGpuDriver(stubFiles({ '/usr/lib/wsl/lib/libcuda.so.1': '' }), {}).present).toBe(true);
    // The runtime and the link-time stub are not the driver.
    const toolkitOnly = '\u0000libcudart.so.13\u0000/usr/local/cuda/lib64/libcudart.so.13\u0000libcuda.so\u0000/usr/local/cuda/lib64/stubs/libcuda.so\u0000';
    expect(detectGpuDriver(stubFiles({ '/etc/ld.so.cache': toolkitOnly }), {}).present).toBe(false);
  });

  test('nothing: absent', () => {
    expect(detectGpuDriver(stubFiles({}), {})).toEqual({ present: false, version: '', gpus: [], evidence: '' });
  });

  test('FRUGAL_TEST_DRIVER_PRESENT (tests only) overrides the probe either way', () => {
    expect(detectGpuDriver(stubFiles({}), { FRUGAL_TEST_DRIVER_PRESENT: '1' })).toMatchObject({ present: true, gpus: ['test GPU'] });
    expect(detectGpuDriver(stubFiles({ ...KERNEL_MODULE, '/dev/nvidiactl': '' }), { FRUGAL_TEST_DRIVER_PRESENT: '0' }).present).toBe(false);
  });
});

describe('a driver without the CUDA backend', () => {
  const driver: GpuDriver = { present: true, version: '580.65.06', gpus: ['NVIDIA H200'], evidence: '/proc/driver/nvidia/version' };
  const none: GpuDriver = { present: false, version: '', gpus: [], evidence: '' };

  test('the reason names the driver, the cause and the fix; nothing to say with CUDA built or no driver', () => {
    const reason = missingCudaBackend(false, driver);
    expect(reason).toContain('an NVIDIA GPU driver is installed (version 580.65.06, found through /proc/driver/nvidia/version)');
    expect(reason).toContain('no CUDA backend (nvcc was not found when it was built)');
    expect(reason).toContain(CUDA_BACKEND_FIX);
    expect(CUDA_BACKEND_FIX).toContain('npm rebuild frugal-optim');
    expect(missingCudaBackend(true, driver)).toBeNull();
    expect(missingCudaBackend(false, none)).toBeNull();
    expect(driverOnlyGpus(false, driver)).toEqual([{ name: 'NVIDIA H200', reason }]);
    expect(driverOnlyGpus(false, { ...driver, gpus: [] })).toEqual([{ name: 'NVIDIA GPU', reason }]);
    expect(driverOnlyGpus(true, driver)).toEqual([]);
  });

  test('the warning: silenced by FRUGAL_NO_CUDA_WARNING=1, then printed once per process', () => {
    const emit = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      expect(warnIfCudaBackendMissing(false, driver, { FRUGAL_NO_CUDA_WARNING: '1' })).toBe(false);
      expect(warnIfCudaBackendMissing(true, driver, {})).toBe(false);
      expect(warnIfCudaBackendMissing(false, none, {})).toBe(false);
      expect(emit).not.toHaveBeenCalled();
      expect(warnIfCudaBackendMissing(false, driver, {})).toBe(true);
      expect(warnIfCudaBackendMissing(false, driver, {})).toBe(false);
      expect(emit).toHaveBeenCalledTimes(1);
      expect(emit.mock.calls[0][0]).toBe(`frugal-optim: ${missingCudaBackend(false, driver)}. (FRUGAL_NO_CUDA_WARNING=1 silences this warning.)`);
      expect(emit.mock.calls[0][1]).toEqual({ type: 'FrugalOptimWarning', code: NO_CUDA_WARNING_CODE });
    } finally {
      emit.mockRestore();
    }
  });
});

describe('the library on a machine with a driver', () => {
  let dir: string;
  const addon = (builtWithCuda: boolean) => path.join(dir, `addon-${builtWithCuda ? 'cuda' : 'cpu'}.js`);
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-driver-'));
    // Stand-in addons: only what importing the library and listing devices calls.
    for (const cuda of [false, true]) {
      fs.writeFileSync(addon(cuda), `module.exports = { builtWithCuda: ${cuda}, cudaDeviceCount: () => 0, ` +
        "cudaUnavailableReason: () => 'no CUDA driver is installed', version: () => '0.0.0' };\n");
    }
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  // Imports the library (twice, and a deep module), lists devices and asks twice why CUDA is unavailable.
  const USE = `
    require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'device'))});
    const again = require(${JSON.stringify(path.join(__dirname, '..', 'lib'))});
    const devices = again.devices(); again.cudaUnavailableReason();
    console.log(JSON.stringify({ devices: devices.slice(1), count: again.cudaDeviceCount(), reason: again.cudaUnavailableReason() }));
  `;
  interface Seen {
    devices: { device: string; name: string; totalMemory: number; usable: boolean; unusableReason: string }[];
    count: number;
    reason: string;
  }
  const run = (env: Record<string, string | undefined>, code = USE) => runChildCode(code, { env: { FRUGAL_NO_CUDA_WARNING: undefined, ...env } });
  const warnings = (stderr: string) => stderr.split(NO_CUDA_WARNING_CODE).length - 1;

  test('no CUDA backend: the GPU listed as unusable with the fix, and one warning with the fix at import', () => {
    const r = run({ FRUGAL_TEST_DRIVER_PRESENT: '1', FRUGAL_ADDON_PATH: addon(false) });
    const seen = childJson<Seen>(r);
    expect(seen.count).toBe(0);
    expect(seen.devices).toEqual([{ device: 'cuda:0', name: 'test GPU', totalMemory: 0, usable: false, unusableReason: expect.stringContaining(CUDA_BACKEND_FIX) }]);
    expect(seen.reason).toBe(seen.devices[0].unusableReason);
    expect(seen.reason).toContain('an NVIDIA GPU driver is installed');
    expect(warnings(r.stderr)).toBe(1);
    expect(r.stderr).toContain(`FrugalOptimWarning: frugal-optim: ${seen.reason}`);
  });

  test('the warning comes at import, before any call', () => {
    const r = run({ FRUGAL_TEST_DRIVER_PRESENT: '1', FRUGAL_ADDON_PATH: addon(false) }, 'console.log(typeof lib.devices);');
    expect([r.status, r.stdout.trim(), warnings(r.stderr)]).toEqual([0, 'function', 1]);
  });

  test('FRUGAL_NO_CUDA_WARNING=1: no warning; devices() still says so', () => {
    const r = run({ FRUGAL_TEST_DRIVER_PRESENT: '1', FRUGAL_ADDON_PATH: addon(false), FRUGAL_NO_CUDA_WARNING: '1' });
    expect(childJson<Seen>(r).devices).toHaveLength(1);
    expect(r.stderr).toBe('');
  });

  test('an addon with the CUDA backend, or no driver: nothing added, nothing printed', () => {
    for (const env of [
      { FRUGAL_TEST_DRIVER_PRESENT: '1', FRUGAL_ADDON_PATH: addon(true) },
      { FRUGAL_TEST_DRIVER_PRESENT: '0', FRUGAL_ADDON_PATH: addon(false) },
    ]) {
      const r = run(env);
      expect(childJson<Seen>(r)).toEqual({ devices: [], count: 0, reason: 'no CUDA driver is installed' });
      expect(r.stderr).toBe('');
    }
  });

  test('no driver: importing the library does not load the addon', () => {
    const r = run({ FRUGAL_TEST_DRIVER_PRESENT: '0' }, "console.log(Object.keys(require.cache).some((k) => k.endsWith('.node')));");
    expect([r.status, r.stdout.trim()]).toEqual([0, 'false']);
  });

  test("this build's own addon: listed as unusable exactly when it has no CUDA backend", () => {
    const r = run({ FRUGAL_TEST_DRIVER_PRESENT: '1', FRUGAL_ADDON_PATH: undefined });
    const seen = childJson<Seen>(r);
    const unusable = seen.devices.filter((d) => !d.usable && d.unusableReason.includes(CUDA_BACKEND_FIX));
    expect(unusable).toHaveLength(native().builtWithCuda ? 0 : 1);
    expect(warnings(r.stderr)).toBe(native().builtWithCuda ? 0 : 1);
  });
});
