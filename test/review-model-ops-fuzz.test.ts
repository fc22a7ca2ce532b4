// Issue 10 review (adversarial): every model op through the addon (lib/model/native-ops) called
// with seeded random arguments: sizes 0, negative, fractional, near and past 2^31, 2^53, 2^62;
// null, odd, misaligned and out-of-buffer pointers; unknown dtypes; NaN and Inf scalars. Each call
// must either run inside the one 64-float buffer it was given or refuse with a message naming an
// argument; none may crash (run in a child process, so a crash is a signal, not a lost jest).
import * as path from 'path';
import { childJson, ROOT, runChildCode } from './helpers/child';

const OPS = JSON.stringify(path.join(ROOT, 'lib', 'model', 'native-ops'));

test('review: model ops under random bad arguments: no crash, every refusal names what it expected', () => {
  const r = runChildCode(
    `const { modelOps } = require(${OPS});
    const ops = modelOps();
    const buf = lib.Tensor.zeros([64]); const p = buf.dataPtr;
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const pick = (a) => a[Math.floor(rand() * a.length)];
    const V = [0, -1, 1, 2, 3, 4, 2 ** 31 - 1, 2 ** 31, 2 ** 53, -(2 ** 53), 2 ** 62, NaN, Infinity, 1.5];
    const P = [p, 0n, 1n, p + 2n, p + 256n];
    const D = [0, 1, 2, 3, 4, -1, 99];
    const v = () => pick(V), q = () => pick(P), d = () => pick(D), b = () => rand() < 0.5;
    let calls = 0, ok = 0;
    const unnamed = new Set();
    const call = (name, f) => {
      calls++;
      try { f(); ok++; } catch (e) {
        const m = String(e && e.message);
        if (!/^[a-z_.A-Z]+(\\[\\d+\\])?(, [a-z_]+)*[:( ]|^[a-z]+: /.test(m) && !/^device/.test(m)) unnamed.add(name + ': ' + m);
      }
    };
    for (let i = 0; i < 1500; i++) {
      call('gemm', () => ops.gemm(-1, b(), b(), v(), v(), v(), 1, q(), d(), v(), q(), d(), v(), 0, q(), d(), v()));
      call('embeddingForward', () => ops.embeddingForward(-1, q(), v(), q(), d(), v(), v(), q()));
      call('embeddingBackward', () => ops.embeddingBackward(-1, q(), v(), q(), q(), d(), v(), v(), b()));
      call('rmsnormForward', () => ops.rmsnormForward(-1, q(), q(), d(), q(), q(), v(), v(), pick([1e-5, 0, -1, NaN])));
      call('rmsnormBackward', () => ops.rmsnormBackward(-1, q(), q(), d(), q(), q(), pick([q(), null]), b(), pick([q(), null]), d(), b(), v(), v()));
      const sh = { batch: v(), seq: v(), heads: v(), headDim: v(), scale: pick([0, 1, NaN, -1]) };
      call('rope', () => ops.rope(-1, q(), sh, pick([10000, 1, NaN]), b()));
      call('attentionForward', () => ops.attentionForward(-1, q(), q(), q(), q(), q(), sh));
      call('attentionBackward', () => ops.attentionBackward(-1, q(), q(), q(), q(), q(), q(), q(), q(), q(), sh));
      call('swigluForward', () => ops.swigluForward(-1, q(), q(), q(), v()));
      call('swigluBackward', () => ops.swigluBackward(-1, q(), q(), q(), q(), q(), v()));
      call('crossEntropy', () => ops.crossEntropy(-1, q(), q(), v(), v(), pick([q(), null]), pick([q(), null]), pick([1, NaN])));
      call('axpy', () => ops.axpy(-1, q(), q(), v(), pick([1, NaN])));
      call('gatherColumns', () => ops.gatherColumns(-1, q(), v(), v(), q(), pick([q(), null]), v(), q()));
    }
    console.log(JSON.stringify({ calls, ok, unnamed: [...unnamed].slice(0, 20) }));`,
    { timeoutMs: 300_000 },
  );
  const out = childJson<{ calls: number; ok: number; unnamed: string[] }>(r);
  expect(out.unnamed).toEqual([]);
  expect(out.calls).toBe(1500 * 13);
  // Some calls are valid (zero sizes, or small ones inside the buffer): the fuzz reaches the ops.
  expect(out.ok).toBeGreaterThan(0);
});
