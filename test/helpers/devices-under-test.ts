// The devices every device-parametrized test runs on: the CPU always, and cuda:0 when this
// machine has a usable GPU. Without one, the suite says so (once per file) instead of skipping silently.
import { cudaUnavailableReason, devices, Tensor } from '../../lib';

export function devicesUnderTest(): string[] {
  const list = devices().map((d) => d.device as string);
  const out = ['cpu'];
  if (list.includes('cuda:0')) out.push('cuda:0');
  return out;
}

export function reportSkippedGpu(file: string): void {
  if (!devicesUnderTest().includes('cuda:0')) {
    console.log(`${file}: GPU runs skipped: no CUDA device (${cudaUnavailableReason() || 'none found'})`);
  }
}

/**
 * Gives each param in `onDevice` a copy of the gradient of the matching param in `onCpu`. The
 * GPU's randn differs from the CPU's in the last bits (logf, cosf), so device-vs-CPU comparisons
 * copy the CPU's gradients: then the step, whose math is shared (native/math, IEEE sqrt and
 * division, no FMA contraction on either side), must give the CPU's bits exactly.
 */
export function copyGrads(onCpu: Tensor[], onDevice: Tensor[]): void {
  onDevice.forEach((p, i) => {
    p.grad?.dispose();
    p.grad = onCpu[i].grad!.to(p.device);
  });
}

/** Every state tensor of an optimizer as raw bytes, in order (bf16 state stays bf16). */
export function stateBytes(opt: { stateDict(): { params: { state: { data: ArrayBufferView }[] }[] } }): Buffer[] {
  return opt.stateDict().params.flatMap((r) => r.state.map((s) => Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength)));
}
