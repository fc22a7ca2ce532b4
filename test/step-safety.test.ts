// Issue 11 items 8 and 9: user code that runs during a step (selection functions) cannot free or
// re-enter what the step uses, and grassInfo() hands out copies that outlive refreshes and
// dispose(). The abuse runs in child processes: before these fixes it crashed the process
// (exit 139 / SIGABRT), which would otherwise take jest down with it.
import { Frugal, Grass, Tensor } from '../lib';
import { childJson, runChildCode } from './helpers/child';

// A Frugal with a selection function that runs `inside` at the refresh; reports what step() threw.
function abuseInCallback(inside: string): { error: string | null; after: number[]; grad: number[] } {
  const code = `
    const { Frugal, Tensor } = lib;
    const p = Tensor.fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
    p.grad = Tensor.fromArray([0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [2, 3]);
    let opt;
    const selection = ({ param, grad }) => { ${inside}; return [0]; };
    opt = new Frugal([p], { lr: 0.1, selection, selectionKind: 'rows', updateGap: 10 });
    let error = null;
    try { opt.step(); } catch (e) { error = e.message; }
    const after = Array.from(p.toArray());
    const grad = p.grad && !p.grad.disposed ? Array.from(p.grad.toArray()) : [];
    console.log(JSON.stringify({ error, after, grad }));
  `;
  return childJson(runChildCode(code));
}

describe('a selection function cannot break the step it runs in', () => {
  test('disposing the param inside the callback is refused, the process lives', () => {
    const r = abuseInCallback('param.dispose()');
    expect(r.error).toMatch(/Tensor\.dispose: refused: the tensor is in use by a running optimizer step/);
    expect(r.after).toEqual([1, 2, 3, 4, 5, 6]); // the rejected step changed nothing
  });

  test('disposing the grad inside the callback is refused', () => {
    const r = abuseInCallback('grad.dispose()');
    expect(r.error).toMatch(/Tensor\.dispose: refused/);
    expect(r.grad).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  });

  test('step() from inside the callback is refused, naming what was refused', () => {
    const r = abuseInCallback('opt.step()');
    expect(r.error).toMatch(/Frugal\.step: refused while a step is running \(called from inside a selection function\)/);
  });

  test('zeroGrad, dispose and loadStateDict from inside the callback are refused', () => {
    expect(abuseInCallback('opt.zeroGrad()').error).toMatch(/Frugal\.zeroGrad: refused while a step is running/);
    expect(abuseInCallback('opt.dispose()').error).toMatch(/Frugal\.dispose: refused while a step is running/);
    expect(abuseInCallback('opt.loadStateDict(opt.stateDict())').error).toMatch(/Frugal\.loadStateDict: refused while a step is running/);
  });

  test('after the step the tensors can be disposed and the optimizer steps again', () => {
    const p = Tensor.fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
    p.grad = Tensor.full([2, 3], 0.5);
    let calls = 0;
    const opt = new Frugal([p], { lr: 0.1, selection: () => (calls++, [0]), selectionKind: 'rows', updateGap: 1 });
    opt.step();
    opt.step();
    expect(calls).toBe(2);
    p.grad.dispose();
    p.dispose();
    expect(p.disposed).toBe(true);
    opt.dispose();
  });
});

describe('grassInfo() returns copies', () => {
  test('indices and scales stay readable after a refresh replaced the buffers, and after dispose()', () => {
    const r = childJson<{ first: number[]; scales: number[]; again: number[]; afterDispose: number[]; owned: boolean }>(
      runChildCode(`
        const { Grass, Tensor } = lib;
        const p = Tensor.randn([8, 16], { seed: 1 });
        p.grad = Tensor.randn([8, 16], { seed: 2 });
        const opt = new Grass([p], { lr: 0.01, rank: 3, updateGap: 1, seed: 3 });
        opt.step();
        const info = opt.grassInfo(p);
        const first = Array.from(info.indices.toArray());
        // Refreshes with other gradients replace the optimizer's selection buffers.
        for (let s = 0; s < 4; s++) { p.grad.dispose(); p.grad = Tensor.randn([8, 16], { seed: 10 + s }); opt.step(); }
        info.indices.fill(7); // writing to the copy cannot reach the optimizer's heap
        const again = Array.from(info.indices.toArray());
        opt.dispose();
        const afterDispose = Array.from(info.scales.toArray());
        console.log(JSON.stringify({ first, scales: afterDispose, again, afterDispose, owned: !info.indices.isBorrowed }));
      `),
    );
    expect(r.first).toHaveLength(3);
    expect(r.again).toEqual([7, 7, 7]);
    expect(r.afterDispose).toHaveLength(3);
    expect(r.afterDispose.every((x) => Number.isFinite(x) && x > 0)).toBe(true);
    expect(r.owned).toBe(true);
  });

  test('the copy equals the selection the step uses, and a later change does not alter it', () => {
    const p = Tensor.randn([6, 10], { seed: 4 });
    p.grad = Tensor.randn([6, 10], { seed: 5 });
    const opt = new Grass([p], { lr: 0.01, rank: 2, updateGap: 1, seed: 6 });
    opt.step();
    const a = opt.grassInfo(p);
    const idx = Array.from(a.indices.toArray());
    p.grad.dispose();
    p.grad = Tensor.randn([6, 10], { seed: 50 });
    opt.step();
    expect(Array.from(a.indices.toArray())).toEqual(idx);
    const b = opt.grassInfo(p);
    expect(b.indices.dataPtr).not.toBe(a.indices.dataPtr);
    for (const t of [a.indices, a.scales, b.indices, b.scales]) t?.dispose();
    opt.dispose();
  });
});
