// The fuzz test's child: `calls` seeded random calls over the public API (tensor factories and
// ops, every optimizer method with random options, valid and not, step, zeroGrad, state dicts,
// schedules, selection functions that misbehave). After each call it checks the contract:
//   - a refusal is an Error whose message names what it refused ("what: ..."), not a JavaScript
//     internal ("Cannot read properties of null", "x is not a function", ...);
//   - a refused call changed no tensor (every live tensor is snapshotted before, compared after).
// A crash or hang is the parent's to see (exit status, signal, timeout). On a violation it prints
// one JSON line {ok: false, seed, call, action, problem} and exits 1; otherwise {ok: true, ...}.
// Replay: node -r ./test/children/ts-register.js test/children/fuzz-worker.js SEED CALLS
const path = require('path');
const lib = require(path.resolve(__dirname, '../../lib'));

const { Tensor } = lib;
const seed = Number(process.argv[2] ?? 1);
const calls = Number(process.argv[3] ?? 500);

// mulberry32: small, seeded, good enough to pick cases.
let state = seed >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const pick = (list) => list[Math.floor(random() * list.length)];
const chance = (p) => random() < p;

// ---- values, valid and not ----

const WEIRD = [null, undefined, NaN, Infinity, -Infinity, -1, 0, 1e308, -0, 'x', '1', true, {}, [], () => 1, 1n, Symbol('s')];
const weird = () => pick(WEIRD);
const _number = () => (chance(0.8) ? pick([0, 1e-3, 0.01, 0.1, 0.5, 0.9, 0.999, 1, 2, 10, 1e-8]) : weird());

function shape() {
  if (chance(0.1)) return pick([[-1], [1.5], ['2'], [1, 1, 1, 1, 1, 1, 1, 1, 1], 'shape', null, [2 ** 60, 2 ** 60]]);
  if (chance(0.05)) {
    let reads = 0;
    return new Proxy([2, 3], { get: (t, k, r) => (k === '0' && reads++ > 0 ? -7 : Reflect.get(t, k, r)) });
  }
  return Array.from({ length: int(0, 3) }, () => int(0, 5));
}

const DTYPES = ['float32', 'bfloat16', 'float16', 'int32'];
const dtype = () => (chance(0.9) ? pick(DTYPES) : pick(['float64', 'fp32', '', 7, null]));
const device = () => (chance(0.9) ? 'cpu' : pick(['cuda:0', 'cuda:99', 'gpu', 5, null]));

function factoryOptions(extra) {
  if (chance(0.05)) return pick(['cuda:0', 'bfloat16', null, 5]);
  const o = {};
  if (chance(0.5)) o.dtype = dtype();
  if (chance(0.2)) o.device = device();
  for (const k of extra) if (chance(0.3)) o[k] = chance(0.8) ? pick([0, 1, 2, -1, 0.5, 1e308, 7]) : weird();
  if (chance(0.05)) o[pick(['dtpye', 'devise', 'sd', 'lo'])] = 1;
  return o;
}

// ---- the world the calls act on ----

const params = []; // tensors given to optimizers (with grads)
const scratch = []; // other tensors
const optimizers = [];
const statedicts = [];

function freshParam() {
  const s = pick([[4, 6], [6, 4], [5], [3, 3]]);
  const p = Tensor.randn(s, { seed: int(0, 1e6), dtype: pick(['float32', 'float32', 'bfloat16']) });
  p.grad = Tensor.randn(s, { seed: int(0, 1e6), dtype: p.dtype });
  params.push(p);
  return p;
}
for (let i = 0; i < 4; i++) freshParam();

const liveParams = () => params.filter((p) => !p.disposed);
const anyTensor = () => pick([...liveParams(), ...scratch.filter((t) => !t.disposed), ...(chance(0.1) ? params : [])]);

const METHODS = ['AdamW', 'SGD', 'SignSGD', 'Frugal', 'GaLore', 'BAdam', 'Grass', 'Optimizer'];
// Each option: [valid values, invalid values]; a function value is drawn fresh.
const OPTIONS = {
  lr: [[1e-3, 0.01, 0.1, 0], [-1, NaN, 'x', Infinity]],
  weightDecay: [[0, 0.01, 0.1], [-1, NaN]],
  betas: [[[0.9, 0.999], [0, 0.95]], [[1, 1], [0.9], 'x', [NaN, 0.9]]],
  eps: [[1e-8, 1e-6], [0, -1, 1e-50, 'x']],
  momentum: [[0, 0.9], [-0.5, 2]],
  nesterov: [[true, false], [1]],
  stateFull: [['adamw', 'sgdm'], ['adam']],
  stateFree: [['signsgd', 'sgd', 'none'], ['lion']],
  selection: [['all', 'none', 'blocks', 'columns', 'rows', 'coordinates', 'svd', 'random', 'randperm', 'grass', selectionFunction], ['top']],
  selectionKind: [['blocks', 'columns', 'rows', 'coordinates', 'grass'], ['diag']],
  density: [[0.25, 0.5, 1], [1.5, -0.1, NaN]],
  rank: [[0, 1, 2, 3], [-1, 1.5, 1e99]],
  updateGap: [[1, 2, 3], [0, -1, 1.5]],
  resetStatistics: [[true, false], ['no']],
  side: [['std', 'reverse_std', 'left', 'right'], ['up']],
  sampling: [['top-r', 'norm', 'uniform'], ['best']],
  orientation: [['std', 'rows', 'columns'], ['diag']],
  stateDtype: [['float32', 'bfloat16'], ['float16']],
  seed: [[0, 1, 2n], [-1, 2 ** 70]],
  switchEvery: [[1, 2], [0, 1.5]],
  maxGradNorm: [[0, 1, 0.1], [-1, NaN]],
  blockOrder: [['descending', 'ascending', 'mirror', 'random'], ['sideways']],
  bogusOption: [[], [1]],
};
function optionValue(k, valid) {
  const [good, bad] = OPTIONS[k];
  const v = pick(valid || bad.length === 0 ? good : bad);
  return typeof v === 'function' ? v() : v;
}

// Set when a selection function itself changed tensors (a write, or another optimizer's step):
// then a refused call that follows may legitimately find tensors changed.
let userCodeRan = false;

// Selection functions that return garbage, throw, or abuse the running step.
function selectionFunction() {
  const mode = int(0, 9);
  return (ctx) => {
    switch (mode) {
      case 0:
        return [0];
      case 1:
        return { indices: new Int32Array([0, 1]), scales: [1, 0.5] };
      case 2:
        return pick([null, undefined, 'x', [99], [-1], [0, 0], { indices: [0], scales: [NaN] }, 7]);
      case 3:
        throw new Error('selection function: failing on purpose');
      case 4:
        ctx.param.dispose();
        return [0];
      case 5:
        if (ctx.grad) ctx.grad.dispose();
        return [0];
      case 6:
        userCodeRan = true;
        pick(optimizers)?.step();
        return [0];
      case 7:
        userCodeRan = true;
        ctx.param.fill(3);
        return true;
      default:
        return chance(0.5);
    }
  };
}

function optimizerOptions(method) {
  const o = {};
  const keys = Object.keys(OPTIONS).filter((k) => OPTIONS[k][0].length > 0);
  const valid = chance(0.75); // mostly valid sets, so optimizers exist to step
  for (let i = int(0, 4); i > 0; i--) {
    const k = pick(keys);
    o[k] = optionValue(k, valid || !chance(0.3));
  }
  if (!valid && chance(0.2)) o.bogusOption = 1;
  if (method === 'Optimizer' && chance(0.7)) o.selection = o.selection ?? pick(['columns', 'grass', 'svd', 'blocks']);
  return o;
}

// ---- the calls ----

const ACTIONS = {
  factory() {
    const f = pick(['zeros', 'full', 'empty', 'randn', 'rand', 'fromArray']);
    const s = shape();
    let t;
    if (f === 'full') t = Tensor.full(s, chance(0.8) ? pick([0, 1, -2.5, 65504, 3e38]) : weird(), factoryOptions([]));
    else if (f === 'randn') t = Tensor.randn(s, factoryOptions(['seed', 'mean', 'std']));
    else if (f === 'rand') t = Tensor.rand(s, factoryOptions(['seed', 'low', 'high']));
    else if (f === 'fromArray') {
      const n = Array.isArray(s) ? s.reduce((a, b) => a * (typeof b === 'number' && b >= 0 ? b : 1), 1) : 3;
      const data = chance(0.9) ? Array.from({ length: Math.min(n, 64) }, () => int(-3, 3)) : weird();
      t = Tensor.fromArray(data, chance(0.5) ? s : undefined, chance(0.7) ? factoryOptions([]) : pick(['bfloat16', null]));
    } else t = Tensor[f](s, factoryOptions([]));
    scratch.push(t);
    return `Tensor.${f}`;
  },
  tensorOp() {
    const t = anyTensor();
    const op = pick(['toArray', 'clone', 'cast', 'fill', 'copyFrom', 'to', 'disposeScratch', 'dtypeSize']);
    if (op === 'cast') scratch.push(t.cast(dtype()));
    else if (op === 'fill') t.fill(chance(0.8) ? pick([0, 1, -1, 0.25, 1e5]) : weird());
    else if (op === 'copyFrom') t.copyFrom(chance(0.9) ? anyTensor() : weird());
    else if (op === 'to') scratch.push(t.to(device()));
    else if (op === 'clone') scratch.push(t.clone());
    else if (op === 'disposeScratch') pick(scratch)?.dispose();
    else if (op === 'dtypeSize') lib.dtypeSize(dtype());
    else t.toArray();
    return `tensor.${op}`;
  },
  borrow() {
    const owner = anyTensor();
    if (chance(0.5)) {
      const buf = new ArrayBuffer(int(0, 64));
      scratch.push(Tensor.fromArrayBuffer(chance(0.9) ? buf : weird(), shape(), dtype(), chance(0.8) ? int(0, 16) : weird()));
      return 'Tensor.fromArrayBuffer';
    }
    const ptr = pick([0n, 1n, 0x1000n, 2n ** 64n, -4n, owner.disposed ? 8n : owner.dataPtr + BigInt(int(-8, 64)), 'ptr', 5]);
    scratch.push(Tensor.fromDevicePointer(ptr, shape(), dtype(), chance(0.9) ? 'cpu' : device()));
    return 'Tensor.fromDevicePointer';
  },
  construct() {
    const method = pick(METHODS);
    const list = liveParams().filter(() => chance(0.6));
    if (list.length === 0) list.push(freshParam());
    const ps = chance(0.9) ? list : pick([[], null, [list[0], list[0]], [{ params: list, lr: -1 }], 'params']);
    const o = chance(0.95) ? optimizerOptions(method) : weird();
    optimizers.push(new lib[method](ps, o));
    if (optimizers.length > 6) optimizers.shift().dispose();
    return `new ${method}`;
  },
  step() {
    const opt = pick(optimizers);
    if (!opt) return 'step (none)';
    opt.step(chance(0.9) ? undefined : pick([null, {}, { stream: 'x' }, { strem: null }, 5]));
    return `${opt.constructor.name}.step`;
  },
  changeOption() {
    const opt = pick(optimizers);
    if (!opt) return 'changeOption (none)';
    const k = pick(['lr', 'weightDecay', 'updateGap', 'density', 'betas', 'eps']);
    opt.paramGroups[0][k] = optionValue(k, chance(0.7));
    if (chance(0.5)) opt.maxGradNorm = optionValue('maxGradNorm', chance(0.7));
    opt.step();
    return `${opt.constructor.name}.step after ${k} changed`;
  },
  zeroGrad() {
    const opt = pick(optimizers);
    if (!opt) return 'zeroGrad (none)';
    opt.zeroGrad(chance(0.8) ? pick([undefined, {}, { setToNull: false }]) : pick([null, { setToNull: 'yes' }, { setToNul: true }, 3]));
    // A param whose grad was dropped gets a new one, so later steps have work to do.
    for (const p of liveParams()) if (!p.grad || p.grad.disposed) p.grad = Tensor.randn(p.shape, { seed: int(0, 99), dtype: p.dtype });
    return `${opt.constructor.name}.zeroGrad`;
  },
  stateDict() {
    const opt = pick(optimizers);
    if (!opt) return 'stateDict (none)';
    if (chance(0.5)) {
      statedicts.push(opt.stateDict());
      if (statedicts.length > 4) statedicts.shift();
      return `${opt.constructor.name}.stateDict`;
    }
    let sd = pick(statedicts) ?? opt.stateDict();
    if (chance(0.5)) {
      sd = { ...sd };
      const k = pick(['step', 'groups', 'params', 'format', 'maxGradNorm', 'optimizer']);
      sd[k] = weird();
    }
    opt.loadStateDict(chance(0.95) ? sd : weird());
    return `${opt.constructor.name}.loadStateDict`;
  },
  grassInfo() {
    const opt = pick(optimizers);
    if (!opt) return 'grassInfo (none)';
    const info = opt.grassInfo(chance(0.9) ? pick(opt.params) : anyTensor());
    scratch.push(info.indices);
    if (info.scales) scratch.push(info.scales);
    return `${opt.constructor.name}.grassInfo`;
  },
  schedule() {
    const f = pick(['constant', 'linear', 'cosineWithWarmup']);
    const o = chance(0.8) ? { totalSteps: pick([10, 0, -1, 2.5]), warmupSteps: pick([0, 2, 20, undefined]), minRatio: pick([0, 0.1, 2, undefined]) } : weird();
    const fn = lib[f](o);
    const v = fn(chance(0.8) ? int(0, 30) : weird());
    if (!Number.isFinite(v)) throw Object.assign(new Error('unrefused'), { unrefused: `${f} returned ${v}` });
    if (chance(0.5)) {
      const opt = pick(optimizers);
      const s = new lib.LRScheduler(chance(0.9) && opt ? opt : weird(), chance(0.9) ? fn : weird());
      s.step();
    }
    return `schedule.${f}`;
  },
  disposeParam() {
    // Params may be disposed between steps; the next step must refuse by name.
    const p = pick(liveParams());
    if (p && chance(0.1)) p.dispose();
    if (liveParams().length < 3) freshParam();
    return 'param.dispose';
  },
};

// ---- the contract ----

const INTERNAL = /Cannot read propert|Cannot set propert|is not a function|is not iterable|is not a constructor|undefined is not|null is not|Maximum call stack|Invalid typed array length|Cannot convert|Cannot mix BigInt/;

// A tensor's bytes, or null when it cannot be read (disposed, or a view of freed memory: those
// throw by design).
function bytesOf(t) {
  try {
    return Buffer.from(t.toArray().buffer).toString('base64');
  } catch {
    return null;
  }
}

function snapshot() {
  const all = new Set([...params, ...params.map((p) => p.grad), ...scratch].filter((t) => t && !t.disposed));
  return [...all].map((t) => ({ t, bytes: bytesOf(t) })).filter((s) => s.bytes !== null);
}

function fail(call, action, problem) {
  console.log(JSON.stringify({ ok: false, seed, call, action, problem }));
  process.exit(1);
}

// Weighted: steps and constructions are where the state lives.
const names = Object.keys(ACTIONS).flatMap((n) => Array((['step', 'construct', 'factory'].includes(n) ? 3 : 1)).fill(n));
let refused = 0;
const done = {}; // action -> [ran, refused], to show what the run exercised
for (let call = 0; call < calls; call++) {
  const name = pick(names);
  const before = snapshot();
  userCodeRan = false;
  let action = name;
  try {
    action = ACTIONS[name]() ?? name;
    (done[action] = done[action] ?? [0, 0])[0]++;
  } catch (e) {
    (done[action] = done[action] ?? [0, 0])[1]++;
    if (e && e.unrefused) fail(call, action, e.unrefused);
    refused++;
    if (!(e instanceof Error)) fail(call, action, `threw a non-Error: ${String(e)}`);
    const m = e.message;
    if (m === 'selection function: failing on purpose') {
      // the caller's own error, passed through
    } else if (typeof m !== 'string' || !/^[^\n]{1,120}?: /.test(m) || INTERNAL.test(m)) {
      fail(call, action, `refusal does not name what it refused: ${e.constructor.name}: ${m}`);
    }
    // A refusal changes no tensor, unless a selection function wrote to one itself.
    for (const { t, bytes } of before) {
      if (t.disposed || userCodeRan) continue;
      const now = bytesOf(t);
      if (now !== null && now !== bytes) fail(call, action, `refused (${m}) but changed ${t}`);
    }
  }
  if (scratch.length > 64) scratch.splice(0, 32).forEach((t) => t.dispose());
}
console.log(JSON.stringify({ ok: true, seed, calls, refused, done }));
