// Devices and streams. The CUDA block runs wherever a GPU is usable and checks the GPU against
// the CPU; elsewhere it says that it skipped, and why.
import {
  AdamW,
  cudaDeviceCount,
  cudaUnavailableReason,
  devices,
  Event,
  memoryStats,
  SGD,
  SignSGD,
  Stream,
  synchronize,
  Tensor,
  version,
} from '../lib';
import { copyGrads, devicesUnderTest, stateBytes } from './helpers/devices-under-test';
import { expectBitIdentical, expectClose, setGrads } from './helpers/update-rules';

describe('devices', () => {
  test('the CPU is always listed first; every CUDA device has its properties', () => {
    const list = devices();
    expect(list[0].device).toBe('cpu');
    expect(list[0].totalMemory).toBeGreaterThan(0);
    expect(list.length).toBe(1 + cudaDeviceCount());
    for (const d of list.slice(1)) {
      expect(d.device).toMatch(/^cuda:\d+$/);
      expect(d.name.length).toBeGreaterThan(0);
      expect(d.totalMemory).toBeGreaterThan(0);
      expect(d.computeCapability).toMatch(/^\d+\.\d+$/);
      expect(d.multiprocessors).toBeGreaterThan(0);
    }
    expect(version()).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('no GPU is a normal answer with a reason, not an error', () => {
    const reason = cudaUnavailableReason();
    if (cudaDeviceCount() === 0) expect(reason.length).toBeGreaterThan(0);
    else expect(reason).toBe('');
  });

  test('a CUDA device that does not exist is refused with the reason', () => {
    const n = cudaDeviceCount();
    const pattern = n === 0 ? /'cuda:7' is not available/ : /'cuda:7' does not exist/;
    expect(() => Tensor.zeros([2], { device: 'cuda:7' })).toThrow(pattern);
    expect(() => Stream.create('cuda:7')).toThrow(pattern);
    expect(() => memoryStats('cuda:7')).toThrow(pattern);
    expect(() => Tensor.zeros([2], { device: 'gpu' })).toThrow(/expected 'cpu' or 'cuda:N'/);
  });

  test('CPU streams: create, synchronize, borrow a handle, step on them', () => {
    const s = Stream.create('cpu');
    s.synchronize();
    synchronize('cpu');
    const borrowed = Stream.fromHandle(0n, 'cpu');
    expect(borrowed.isBorrowed).toBe(true);
    const p = Tensor.fromArray([1, 2], [2]);
    p.grad = Tensor.fromArray([1, -1], [2]);
    const opt = new SignSGD([p], { lr: 0.5 });
    opt.step({ stream: s });
    opt.step({ stream: borrowed });
    expect(Array.from(p.toArray())).toEqual([0, 3]);
    s.destroy();
    expect(() => s.handle).toThrow(/destroyed/);
    expect(() => opt.step({ stream: s })).toThrow(/destroyed/);
  });
});

const skipReason = devicesUnderTest().includes('cuda:0') ? '' : cudaUnavailableReason() || 'no CUDA device';
if (skipReason) {
  describe('CUDA (skipped)', () => {
    console.log(`CUDA tests skipped: ${skipReason}`);
    test.skip(`CUDA tests skipped: ${skipReason}`, () => undefined);
  });
} else {
  describe('CUDA cuda:0 against the CPU', () => {
    const gpu = 'cuda:0';

    test('every dtype round-trips through the GPU; casts and fills match the CPU', () => {
      for (const dtype of ['float32', 'bfloat16', 'float16', 'int32'] as const) {
        const data = [0, 1, -2, 3, 100, -7, 5, 8];
        const cpu = Tensor.fromArray(data, [2, 4], { dtype });
        const dev = cpu.to(gpu);
        expect(dev.device).toBe(gpu);
        expectBitIdentical(dev.toArray(), cpu.toArray());
        expectBitIdentical(dev.to('cpu').toArray(), cpu.toArray());
      }
      const x = Tensor.randn([1000], { seed: 3 });
      expectBitIdentical(x.to(gpu).cast('bfloat16').toArray(), x.cast('bfloat16').toArray());
      expectBitIdentical(x.to(gpu).cast('float16').toArray(), x.cast('float16').toArray());
      expectBitIdentical(Tensor.full([5], 0.3, { device: gpu, dtype: 'bfloat16' }).toArray(), Tensor.full([5], 0.3, { dtype: 'bfloat16' }).toArray());
    });

    test('the same seed gives the same random tensor on the GPU and the CPU, within stated ulps', () => {
      // Not bitwise: the counter RNG's bits are shared, but randn goes through logf / sqrtf / cosf,
      // which CUDA computes within 1-2 ulps of glibc: 1e-6 relative (8 fp32 ulps) covers the
      // chain. rand is a single scaling of the shared bits: within 1e-7 (about one ulp).
      expectClose(Tensor.randn([4096], { seed: 11, device: gpu }).toArray(), Tensor.randn([4096], { seed: 11 }).toArray(), 1e-6, 1e-6);
      expectClose(Tensor.rand([4096], { seed: 12, device: gpu }).toArray(), Tensor.rand([4096], { seed: 12 }).toArray(), 1e-6, 1e-7);
    });

    test('memory stats count GPU tensors exactly', () => {
      const before = memoryStats(gpu);
      const t = Tensor.zeros([256], { device: gpu });
      expect(memoryStats(gpu).current.tensors - before.current.tensors).toBe(1024);
      t.dispose();
      expect(memoryStats(gpu).current).toEqual(before.current);
    });

    const methods: [string, (p: Tensor[]) => AdamW | SGD | SignSGD][] = [
      ['AdamW', (p) => new AdamW(p, { lr: 0.01, weightDecay: 0.1 })],
      ['AdamW bf16 state', (p) => new AdamW(p, { lr: 0.01, stateDtype: 'bfloat16' })],
      ['SGD nesterov', (p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
      ['SignSGD', (p) => new SignSGD(p, { lr: 0.01, weightDecay: 0.1 })],
    ];
    for (const dtype of ['float32', 'bfloat16', 'float16'] as const) {
      test.each(methods)(`%s on ${dtype} params: GPU steps give the CPU's bits (params and state)`, (_name, make) => {
        const shapes = [[33, 17], [1000], [4, 4, 4]];
        const cpuParams = shapes.map((s, i) => Tensor.randn(s, { seed: 50 + i, dtype }));
        const gpuParams = cpuParams.map((p) => p.to(gpu));
        const a = make(cpuParams);
        const b = make(gpuParams);
        const stream = Stream.create(gpu);
        for (let t = 0; t < 4; t++) {
          setGrads(cpuParams, t);
          copyGrads(cpuParams, gpuParams); // the same gradient bits on both sides
          a.step();
          b.step({ stream });
        }
        stream.synchronize();
        // Shared math (native/math) on both sides, --fmad=false / -ffp-contract=off, scalars
        // folded on the host: bit for bit, for every dtype (bf16 and fp16 storage included).
        cpuParams.forEach((p, i) => expectBitIdentical(gpuParams[i].toArray(), p.toArray()));
        const [sa, sb] = [stateBytes(a), stateBytes(b)];
        expect(sb.length).toBe(sa.length);
        sa.forEach((bytes, i) => expect(sb[i].equals(bytes)).toBe(true));
        expect(b.stateBytes()).toBe(a.stateBytes());
        stream.destroy();
      });
    }

    test('a grad on another device is refused and nothing changes', () => {
      const p = Tensor.fromArray([1, 2, 3], [3], { device: gpu });
      p.grad = Tensor.fromArray([1, 1, 1], [3]);
      const opt = new AdamW([p]);
      expect(() => opt.step()).toThrow(/param 0: grad is on 'cpu' but the param is on 'cuda:0'/);
      expect(Array.from(p.toArray())).toEqual([1, 2, 3]);
      expect(() => new AdamW([p, Tensor.zeros([2])])).toThrow(/one optimizer steps one device/);
      expect(() => opt.step({ stream: Stream.create('cpu') })).toThrow(/stream is on 'cpu'/);
    });

    test('a raw cudaStream_t from another runtime can carry the step', () => {
      const owner = Stream.create(gpu);
      const borrowed = Stream.fromHandle(owner.handle, gpu);
      const p = Tensor.fromArray([1, 2], [2], { device: gpu });
      p.grad = Tensor.fromArray([1, -1], [2], { device: gpu });
      new SignSGD([p], { lr: 0.5 }).step({ stream: borrowed });
      borrowed.synchronize();
      borrowed.destroy(); // forgets, never destroys
      owner.synchronize();
      expect(Array.from(p.toArray())).toEqual([0.5, 2.5]);
      owner.destroy();
    });
  });
}

describe.each(devicesUnderTest())('timing events on %s', (device) => {
  it('measure elapsed time between two records, and refuse unrecorded or destroyed events', () => {
    const a = new Event(device);
    const b = new Event(device);
    expect(() => a.elapsedMs(b)).toThrow(/needs both events recorded/);
    a.record();
    const t = Tensor.randn([1 << 18], { device, seed: 1 });
    for (let i = 0; i < 5; i++) t.fill(i);
    b.record();
    const ms = a.elapsedMs(b);
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(10000);
    a.destroy();
    expect(() => a.record()).toThrow(/event: destroyed/);
    b.destroy();
    t.dispose();
  });
});
