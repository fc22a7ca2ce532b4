// What a machine without a usable GPU is told, and the GPU-status queries: the reason names the
// installed driver (or that there is none) and the one this build needs; cudaMathStatus answers
// for a device that does not exist with that reason rather than failing; devices() marks whether
// each GPU can run this build.
import { cudaDeviceCount, cudaMathStatus, cudaUnavailableReason, devices } from '../lib';
import { native } from '../lib/native';

const builtWithCuda = native().builtWithCuda;

describe('GPU readiness reporting', () => {
  test('no usable GPU: the reason states the installed and the required driver, or that CUDA is not built in', () => {
    if (cudaDeviceCount() > 0) {
      console.log('gpu-readiness.test.ts: a GPU is present; the no-GPU reason is checked on machines without one');
      expect(cudaUnavailableReason()).toBe('');
      return;
    }
    const why = cudaUnavailableReason();
    if (!builtWithCuda) {
      expect(why).toMatch(/built without CUDA/);
      return;
    }
    // e.g. "the NVIDIA driver is missing or too old: no NVIDIA driver is installed (libcuda.so.1 was
    // not found); this build's CUDA 13.0 runtime needs NVIDIA driver 580 or newer"
    expect(why).toMatch(/no NVIDIA driver is installed|the installed driver is \S+|no CUDA-capable GPU/);
    expect(why).toMatch(/CUDA \d+\.\d runtime needs NVIDIA driver \d{3} or newer|no CUDA-capable GPU was found/);
    expect(why).not.toMatch(/undefined|NaN|\(\)|: ;/);
  });

  test('cudaMathStatus: words for every device, a clear error for a non-CUDA name', () => {
    const status = cudaMathStatus('cuda:0');
    if (cudaDeviceCount() === 0) {
      expect(status).toContain('cuda:0 does not exist');
      if (builtWithCuda) expect(status).toContain(cudaUnavailableReason());
    } else {
      expect(status).toMatch(/cuBLAS (loaded from|not in use|could not be loaded)/);
    }
    expect(() => cudaMathStatus('cpu')).toThrow(/cudaMathStatus: device: expected 'cuda:N', got/);
  });

  test('devices(): every GPU says whether this build can run on it, and why not', () => {
    for (const d of devices().slice(1)) {
      expect(typeof d.usable).toBe('boolean');
      if (d.usable) expect(d.unusableReason).toBe('');
      else expect(d.unusableReason).toMatch(/compute capability \d+\.\d+, and this build has GPU code for sm_\d+/);
    }
    if (devices().length === 1) console.log('gpu-readiness.test.ts: no GPU here; devices() lists the CPU only');
  });
});
