// The devices every device-parametrized test runs on: the CPU always, and cuda:0 when this
// machine has a usable GPU. Without one, the suite says so (once per file) instead of skipping silently.
import { cudaUnavailableReason, devices } from '../../lib';

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
