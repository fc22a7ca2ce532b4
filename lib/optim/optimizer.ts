// The one optimizer class over the C framework. A method (AdamW, Frugal, Grass, ...) is a
// subclass that only names its MethodSpec; everything else (param groups, option changes between
// steps, caller-supplied selections, Grass's compressed path, state dicts) lives here. No math:
// it validates, arranges the params into the core's groups, and calls down.
import { checkOptionsObject } from '../arg-checks';
import { loadStateDictFile, saveStateDict } from '../checkpoint/optimizer-checkpoint';
import { Device, deviceOrdinal } from '../device';
import { describeValue, dtypeCode, dtypeFromCode, dtypeSize } from '../dtype';
import { native, NativeGroupOptions, NativeOptimizer } from '../native';
import { Stream, streamHandle } from '../stream';
import { Tensor } from '../tensor';
import { readBytes, writeBytes } from '../transfer';
import {
  checkGroupOptions,
  checkOption,
  FRAMEWORK_DEFAULTS,
  givenOnly,
  FullOptions,
  GroupOptions,
  GroupPart,
  isProjection,
  layoutKey,
  MethodSpec,
  NativeGroupContext,
  nativeOptions,
  OptimizerOptions,
  ParamGroup,
  ruleDefaults,
  SELECTION_NAMES,
  SelectionFunction,
} from './options';
import {
  blockCount,
  checkBlockIds,
  checkLike,
  checkParams,
  liveStateTensors,
  normalizeGroups,
  ParamsInput,
  selectionArrays,
} from './param-checks';

export type { ParamsInput };
import {
  checkStateDictStructure,
  decodeOptionValue,
  encodeOptions,
  OptimizerStateDict,
  stateArray,
  STATE_DICT_FORMAT,
} from './state-dict';
import { snapshotData } from './snapshot';

export interface StepOptions {
  /** Enqueue the step on this stream (default: the device's legacy default stream). */
  stream?: Stream;
}

export interface StepAsyncOptions extends StepOptions {
  /**
   * On a GPU, resolve when the step has finished on the device rather than when it is enqueued
   * (default false). On the CPU the promise always resolves when the step is done.
   */
  wait?: boolean;
}

export interface ZeroGradOptions {
  /** Drop the gradients (grad = null) instead of filling them with zeros. */
  setToNull?: boolean;
}

export interface GrassInfo {
  /** Which lines of the gradient are state-full. */
  orientation: 'rows' | 'columns';
  /**
   * The selected line indices: a copy (an owned tensor on the optimizer's device), so it stays
   * valid after the next refresh or dispose() and writing to it cannot corrupt the optimizer.
   * Dispose it when done (the GC frees it otherwise).
   */
  indices: Tensor;
  /** Importance scales rho (Grass), a copy like indices; null for plain rows/columns. */
  scales: Tensor | null;
  /** The next step re-chooses the selection and needs the full .grad. */
  nextStepIsRefresh: boolean;
}

/** The framework with every option open: selection x state-full rule x state-free rule. */
export const FRAMEWORK_SPEC: MethodSpec = {
  name: 'Optimizer',
  accepts: Object.keys(FRAMEWORK_DEFAULTS).filter((k) => k !== 'switchEvery') as (keyof GroupOptions)[],
  defaults: Object.fromEntries(Object.entries(FRAMEWORK_DEFAULTS).filter(([k]) => k !== 'switchEvery')),
  fixed: {},
};

interface ParamRecord {
  tensor: Tensor;
  index: number; // in the order the params were given
  group: number; // param group
  native: number; // the core's param index
  part: GroupPart;
  data: bigint | null; // pointers last handed to the core
  grad: bigint | null;
}

interface NativeGroupRecord {
  group: number;
  part: GroupPart;
  index: number; // the core's group index
  params: ParamRecord[];
  context: NativeGroupContext;
  pushed: string; // the native options last pushed, to push only changes
}

interface NativeBuild {
  opt: NativeOptimizer;
  groups: NativeGroupRecord[];
  records: ParamRecord[];
}

type NonFinitePolicy = NonNullable<OptimizerOptions['nonFinite']>;
const NON_FINITE_CODES: Record<NonFinitePolicy, number> = { propagate: 0, skip: 1, error: 2 };

const PARTS: GroupPart[] = ['whole', 'projected', 'regular'];

function optionsKey(o: NativeGroupOptions): string {
  return JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

export class Optimizer {
  /** The method's spec; subclasses override it. */
  static readonly spec: MethodSpec = FRAMEWORK_SPEC;

  /** Param groups with every option; change options (lr, ...) between steps by assignment. */
  readonly paramGroups: ParamGroup[];
  readonly device: Device;
  /** Global gradient-norm clipping (0: off); may change between steps. */
  maxGradNorm: number;
  /** What a step does with a NaN or Inf gradient (see OptimizerOptions.nonFinite); may change between steps. */
  nonFinite: NonFinitePolicy;

  protected readonly spec: MethodSpec;
  // Run-time private (#): the raw native optimizer takes raw pointers (setBuffers) and must not
  // be reachable from JavaScript; nor may the re-entry guard be switched off from outside.
  #opt: NativeOptimizer;
  private groups: NativeGroupRecord[];
  private records: ParamRecord[];
  private readonly layouts: Record<string, string>[];
  private pushedClip: number;
  private pushedNonFinite: NonFinitePolicy;
  private stepCount = 0;
  private lastStream: Stream | null = null;
  // True while step() runs: a selection function is user code called in the middle of a step.
  #stepping = false;
  // Which step a stepAsync() is running on a worker thread ('step 12'), null when none.
  #inFlight: string | null = null;

  constructor(params: ParamsInput, options: OptimizerOptions = {}) {
    this.spec = (new.target as unknown as { spec: MethodSpec }).spec;
    const name = this.spec.name;
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`${name}: options must be an object, got ${describeValue(options)}`);
    }
    const { maxGradNorm = 0, nonFinite = 'propagate', ...defaults } = options;
    checkOption(this.spec, 'maxGradNorm', maxGradNorm);
    checkOption(this.spec, 'nonFinite', nonFinite);
    checkGroupOptions(this.spec, defaults);
    this.maxGradNorm = maxGradNorm;
    this.nonFinite = nonFinite;
    this.pushedNonFinite = nonFinite;
    this.paramGroups = normalizeGroups(name, params).map((g, i) => {
      const { params: tensors, blockIds, ...own } = g;
      checkGroupOptions(this.spec, own, `group ${i}: `);
      const given: GroupOptions = { ...givenOnly(defaults), ...givenOnly(own) };
      // The rule's own defaults (Lion's betas) over the method's, the caller's over both.
      const group: ParamGroup = { ...this.spec.defaults, ...ruleDefaults(this.spec, given.stateFull), ...given, params: Object.freeze(tensors.slice()) };
      if (blockIds !== undefined) {
        checkBlockIds(name, i, blockIds, tensors.length);
        Object.assign(group, { blockIds: Object.freeze(blockIds.slice()) });
      }
      return group;
    });
    this.device = checkParams(name, this.paramGroups);
    const fulls = this.paramGroups.map((_g, i) => this.fullOptions(i));
    this.layouts = fulls.map((o) => layoutKey(this.spec, o));
    const built = this.buildNative(fulls, maxGradNorm);
    this.#opt = built.opt;
    this.groups = built.groups;
    this.records = built.records;
    this.pushedClip = maxGradNorm;
  }

  /** Steps taken. */
  get steps(): number {
    return this.stepCount;
  }

  get disposed(): boolean {
    return this.#opt.destroyed;
  }

  /** Every param, in the order given. */
  get params(): Tensor[] {
    return this.records.map((r) => r.tensor);
  }

  /**
   * One optimizer step on every param, enqueued on the stream with no host sync. Params and
   * grads are checked first; a rejected call changes nothing.
   */
  step(options?: StepOptions): void {
    const what = `${this.spec.name}.step`;
    // Each option is read once: a getter cannot pass the check with one value and leave another.
    const streamOption = checkOptionsObject<StepOptions>(options, ['stream'], what).stream;
    this.prepareStep(what, streamOption, (opt, stream, pinned) => {
      try {
        opt.step(stream);
      } finally {
        for (const t of pinned) t.unpin();
      }
    });
    this.lastStream = streamOption ?? null;
    this.stepCount++;
  }

  /**
   * step() off the JavaScript thread: the same checks (a rejected call changes nothing), the same
   * results bit for bit. On the CPU the step (and any SVD refresh) runs on a worker thread and the
   * promise resolves when it is done; on a GPU it resolves when the step is enqueued, or when it
   * is done with `{wait: true}`. Until it settles every other use of this optimizer (step,
   * stepAsync, zeroGrad, stateDict, load, save, dispose, ...) is refused, the params and grads it
   * reads stay pinned (Tensor.dispose() refused), and they must not be written. Option changes
   * made meanwhile apply from the next step. A failed step rejects with step()'s error.
   */
  async stepAsync(options?: StepAsyncOptions): Promise<void> {
    const what = `${this.spec.name}.stepAsync`;
    const o = checkOptionsObject<StepAsyncOptions>(options, ['stream', 'wait'], what);
    const streamOption = o.stream;
    if (o.wait !== undefined && typeof o.wait !== 'boolean') {
      throw new TypeError(`${what}: wait must be a boolean, got ${describeValue(o.wait)}`);
    }
    const number = this.stepCount + 1;
    let running: Promise<void> = Promise.resolve();
    this.prepareStep(what, streamOption, (opt, stream, pinned) => {
      try {
        running = opt.stepAsync(stream, o.wait === true);
      } catch (e) {
        for (const t of pinned) t.unpin();
        throw e;
      }
      this.#inFlight = `step ${number}`;
      // The pinned tensors are held here (and so kept from the GC) until the step is over.
      running = running.finally(() => {
        this.#inFlight = null;
        for (const t of pinned) t.unpin();
      });
    });
    await running;
    this.lastStream = streamOption ?? null;
    this.stepCount++;
  }

  /** Steps skipped for a non-finite gradient under nonFinite 'skip' (waits for enqueued steps). */
  skippedSteps(): number {
    const opt = this.live(`${this.spec.name}.skippedSteps`);
    this.waitForSteps();
    return opt.skippedSteps(null);
  }

  /** Zeroes every param's .grad (and compressedGrad), or drops them with {setToNull: true}. */
  zeroGrad(options?: ZeroGradOptions): void {
    const what = `${this.spec.name}.zeroGrad`;
    this.refuseWhileStepping(what);
    const o = checkOptionsObject<ZeroGradOptions>(options, ['setToNull'], what);
    if (o.setToNull !== undefined && typeof o.setToNull !== 'boolean') {
      throw new TypeError(`${what}: setToNull must be a boolean, got ${describeValue(o.setToNull)}`);
    }
    for (const r of this.records) {
      const t = r.tensor;
      if (o.setToNull) {
        t.grad = null;
        t.compressedGrad = null;
      } else {
        if (t.grad && !t.grad.disposed) t.grad.fill(0);
        if (t.compressedGrad && !t.compressedGrad.disposed) t.compressedGrad.fill(0);
      }
    }
  }

  /** Optimizer state bytes of one param, or of all; equal to what memoryStats counts as state. */
  stateBytes(param?: Tensor): number {
    const opt = this.live(`${this.spec.name}.stateBytes`);
    if (param === undefined) return opt.stateBytes(-1);
    return opt.stateBytes(this.recordOf(param, 'stateBytes').native);
  }

  /** Grass (and rows/columns) selections: what a caller needs to compute the compressed gradient. */
  grassInfo(param: Tensor): GrassInfo {
    const what = `${this.spec.name}.grassInfo`;
    const opt = this.live(what);
    const r = this.recordOf(param, 'grassInfo');
    this.pushOptions(opt, this.checkOptions(what)); // nextStepIsRefresh under the current updateGap
    const sel = opt.getSelection(r.native);
    const kind = SELECTION_NAMES[sel.kind];
    if (kind !== 'grass' && kind !== 'rows' && kind !== 'columns') {
      throw new Error(`${what}: param ${r.index} uses selection '${kind}'; grassInfo needs grass, rows or columns`);
    }
    const count = sel.count;
    let orientation: 'rows' | 'columns';
    if (count > 0) orientation = sel.axis === 0 ? 'rows' : 'columns';
    else orientation = this.plannedOrientation(r, kind);
    // Copies, not views: the buffers behind sel are replaced at the next refresh and freed with
    // the optimizer, and a view would outlive them.
    const stream = this.lastStream && !this.lastStream.destroyed ? streamHandle(this.lastStream, this.device, what) : null;
    const copyOf = (ptr: bigint, dtype: 'int32' | 'float32'): Tensor => {
      const t = Tensor.empty([count], { dtype, device: this.device });
      if (count > 0) native().copy(t.dataPtr, t.ordinal, ptr, t.ordinal, count * dtypeSize(dtype), stream);
      return t;
    };
    const indices = copyOf(sel.indices, 'int32');
    return {
      orientation,
      indices,
      scales: sel.scales !== 0n ? copyOf(sel.scales, 'float32') : null,
      nextStepIsRefresh: opt.needsRefresh(r.native),
    };
  }

  /** Host copies of all state: every param's state tensors and counters, options, steps and RNGs. */
  stateDict(): OptimizerStateDict {
    const opt = this.live(`${this.spec.name}.stateDict`);
    this.waitForSteps();
    const ordinal = deviceOrdinal(this.device);
    const accepts = this.spec.accepts;
    return {
      format: STATE_DICT_FORMAT,
      optimizer: this.spec.name,
      step: this.stepCount,
      maxGradNorm: this.maxGradNorm,
      skippedSteps: opt.skippedSteps(null),
      groups: this.paramGroups.map((g, i) => ({
        options: encodeOptions(g, accepts),
        native: this.groups
          .filter((ng) => ng.group === i)
          .map((ng) => {
            const s = opt.getGroupState(ng.index);
            return { part: ng.part, step: s.step, rng: s.rng.map((w) => w.toString()) };
          }),
      })),
      params: this.records.map((r) => {
        const c = opt.getCounters(r.native);
        return {
          shape: r.tensor.shape.slice(),
          counters: { ...c, kind: SELECTION_NAMES[c.kind] },
          state: liveStateTensors(opt, r.native).map((t) => {
            const dtype = dtypeFromCode(t.dtype);
            const data = stateArray(dtype, t.count);
            readBytes(t.data, ordinal, t.count * dtypeSize(dtype), data);
            return { name: t.name, dtype, count: t.count, data };
          }),
        };
      }),
    };
  }

  /**
   * Restores a stateDict(). Everything is checked, and the state rebuilt in a new native
   * optimizer, before the current one is replaced: a bad dict throws and changes nothing.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const what = `${this.spec.name}.loadStateDict`;
    this.refuseWhileStepping(what);
    this.live(what);
    const shapes = this.records.map((r) => r.tensor.shape);
    let options: Record<string, unknown>[];
    let fulls: FullOptions[];
    try {
      // Read once, then checked and used: see snapshot.ts.
      sd = snapshotData(sd);
      checkStateDictStructure(sd, this.spec.name, shapes, this.paramGroups.length);
      options = sd.groups.map((g, i) => this.decodeGroupOptions(g.options, i));
      fulls = options.map((o, i) => this.fullOptions(i, o));
      fulls.forEach((o, i) => {
        const key = layoutKey(this.spec, o);
        for (const [k, v] of Object.entries(this.layouts[i])) {
          if (key[k] !== v) throw new Error(`group ${i}: option '${k}' is '${key[k]}' in the state dict, '${v}' here`);
        }
      });
    } catch (e) {
      throw new Error(`${what}: ${(e as Error).message}`);
    }
    const built = this.buildNative(fulls, sd.maxGradNorm);
    try {
      if (sd.skippedSteps !== undefined) {
        if (!Number.isSafeInteger(sd.skippedSteps) || sd.skippedSteps < 0) {
          throw new Error(`skippedSteps must be an integer >= 0, got ${describeValue(sd.skippedSteps)}`);
        }
        built.opt.setSkippedSteps(sd.skippedSteps, null);
      }
      built.groups.forEach((ng) => {
        const saved = sd.groups[ng.group].native.filter((n) => n.part === ng.part);
        if (saved.length !== 1) throw new Error(`group ${ng.group}: the state dict has no '${ng.part}' part`);
        built.opt.setGroupState(ng.index, saved[0].step, saved[0].rng.map((w) => BigInt(w)));
      });
      const ordinal = deviceOrdinal(this.device);
      built.records.forEach((r) => {
        const p = sd.params[r.index];
        built.opt.restoreParam(r.native, { ...p.counters, kind: SELECTION_NAMES.indexOf(p.counters.kind) });
        // Checkpoints from before per-line step counters have no 'slot_step': the core then gives
        // every line the param's stateStep, as those runs counted.
        const legacy = !p.state.some((t) => t.name === 'slot_step');
        const have = liveStateTensors(built.opt, r.native).filter((t) => !(legacy && t.name === 'slot_step'));
        const names = (list: { name: string; count: number; dtype: unknown }[]) =>
          list.map((t) => `${t.name}(${t.count})`).join(', ') || 'none';
        const want = p.state;
        const same =
          have.length === want.length &&
          have.every((t, j) => t.name === want[j].name && t.count === want[j].count && dtypeFromCode(t.dtype) === want[j].dtype);
        if (!same) {
          throw new Error(`param ${r.index}: state tensors ${names(want)} do not match this optimizer's ${names(have)}`);
        }
        have.forEach((t, j) => writeBytes(t.data, ordinal, t.count * dtypeSize(want[j].dtype), want[j].data));
        built.opt.verifyState(r.native); // indices in range before this state can ever be stepped
      });
    } catch (e) {
      built.opt.destroy();
      throw new Error(`${what}: ${(e as Error).message}`);
    }
    // Commit: nothing below can fail.
    this.#opt.destroy();
    this.#opt = built.opt;
    this.groups = built.groups;
    this.records = built.records;
    this.pushedClip = sd.maxGradNorm;
    this.maxGradNorm = sd.maxGradNorm;
    this.stepCount = sd.step;
    this.paramGroups.forEach((g, i) => Object.assign(g, options[i]));
  }

  /** Writes stateDict() to a safetensors file (atomically). */
  save(file: string): void {
    const what = `${this.spec.name}.save`;
    this.live(what);
    try {
      saveStateDict(file, this.stateDict());
    } catch (e) {
      throw new Error(`${what}: ${(e as Error).message}`);
    }
  }

  /** Reads a save()d file and loads it; a truncated or mismatched file throws and changes nothing. */
  load(file: string): void {
    this.refuseWhileStepping(`${this.spec.name}.load`);
    let sd: OptimizerStateDict;
    try {
      sd = loadStateDictFile(file);
    } catch (e) {
      throw new Error(`${this.spec.name}.load: ${(e as Error).message}`);
    }
    try {
      this.loadStateDict(sd);
    } catch (e) {
      throw new Error(`${this.spec.name}.load: ${file}: ${(e as Error).message}`);
    }
  }

  /** Frees the optimizer state now (the GC would, later). */
  dispose(): void {
    this.refuseWhileStepping(`${this.spec.name}.dispose`);
    if (!this.#opt.destroyed) this.#opt.destroy();
  }

  // ---- hooks for methods ----

  /** The caller-supplied selection of a group, if any (BAdam supplies its own). */
  protected selectionFunction(group: number): SelectionFunction | null {
    const s = this.paramGroups[group].selection;
    return typeof s === 'function' ? s : null;
  }

  /** A group's options with the framework's defaults and the method's fixed settings filled in. */
  protected fullOptions(group: number, overrides: Record<string, unknown> = {}): FullOptions {
    const { params: _params, blockIds: _blockIds, ...own } = this.paramGroups[group];
    return { ...FRAMEWORK_DEFAULTS, ...this.spec.fixed, ...givenOnly(own), ...givenOnly(overrides) } as FullOptions;
  }

  // ---- internals ----

  private refuseWhileStepping(what: string): void {
    if (this.#stepping) {
      throw new Error(`${what}: refused while a step is running (called from inside a selection function); call it after step() returns`);
    }
    if (this.#inFlight !== null) {
      throw new Error(`${what}: refused while stepAsync() (${this.#inFlight}) is in flight; await it first`);
    }
  }

  // Everything step() and stepAsync() do before the native call, which `run` makes with the
  // tensors pinned; run unpins them (at once, or when an asynchronous step is over).
  private prepareStep(what: string, streamOption: Stream | undefined, run: (opt: NativeOptimizer, stream: bigint | null, pinned: Tensor[]) => void): void {
    this.refuseWhileStepping(what);
    const opt = this.live(what);
    const stream = streamHandle(streamOption, this.device, what);
    const fulls = this.checkOptions(what);
    // Options first: whether this step is a refresh (which the gradient checks depend on) follows
    // the group's current updateGap, including one the caller just changed.
    this.pushOptions(opt, fulls);
    this.checkGradients(what, opt);
    this.pushBuffers(opt);
    // Selection functions run user code mid-step: every tensor the core was handed stays pinned
    // (dispose() refused) and the optimizer refuses re-entry until the step is enqueued.
    const pinned = this.pinStepTensors();
    this.#stepping = true;
    try {
      this.supplySelections(opt, what);
      for (const t of pinned) t.assertAlive(); // a borrowed buffer detached by the callback
    } catch (e) {
      for (const t of pinned) t.unpin();
      throw e;
    } finally {
      this.#stepping = false;
    }
    run(opt, stream, pinned);
  }

  // Params, grads and compressed grads the core holds pointers to for this step, each pinned once.
  private pinStepTensors(): Tensor[] {
    const pinned = new Set<Tensor>();
    for (const r of this.records) {
      for (const t of [r.tensor, r.tensor.grad, r.tensor.compressedGrad]) if (t instanceof Tensor) pinned.add(t);
    }
    for (const t of pinned) t.pin();
    return [...pinned];
  }

  private live(what: string): NativeOptimizer {
    if (this.#inFlight !== null) throw new Error(`${what}: refused while stepAsync() (${this.#inFlight}) is in flight; await it first`);
    if (this.#opt.destroyed) throw new Error(`${what}: optimizer: disposed`);
    return this.#opt;
  }

  private recordOf(param: Tensor, method: string): ParamRecord {
    const r = this.records.find((x) => x.tensor === param);
    if (!r) throw new Error(`${this.spec.name}.${method}: the tensor is not a param of this optimizer`);
    return r;
  }

  // The core's groups: one per param group, or two where a projection splits it into the
  // projected 2-D params and the regular ones (plain AdamW).
  private buildNative(fulls: FullOptions[], maxGradNorm: number): NativeBuild {
    const opt = new (native().NativeOptimizer)(deviceOrdinal(this.device));
    const groups: NativeGroupRecord[] = [];
    const records: ParamRecord[] = [];
    try {
      let index = 0;
      const byGroup = this.paramGroups.map((g, gi) => {
        const o = fulls[gi];
        return g.params.map((t, j) => {
          const blockId = g.blockIds?.[j] ?? 0;
          // Projections need matrices; a block (BAdam's layer, with its norms) takes any tensor.
          const inSelection = t.ndim === 2 || (o.selection === 'blocks' && blockId > 0);
          const part: GroupPart = !isProjection(o) ? 'whole' : o.projectable && inSelection ? 'projected' : 'regular';
          return { tensor: t, index: index++, group: gi, part, blockId };
        });
      });
      byGroup.forEach((list, gi) => {
        for (const part of PARTS) {
          const members = list.filter((p) => p.part === part);
          if (members.length === 0) continue;
          const context = { blocks: blockCount(members.map((m) => m.blockId)) };
          const options = nativeOptions(this.spec, fulls[gi], part, context);
          const ng: NativeGroupRecord = { group: gi, part, context, index: opt.addGroup(options), params: [], pushed: optionsKey(options) };
          for (const { blockId, ...m } of members) {
            const t = m.tensor;
            let nativeIndex: number;
            try {
              nativeIndex = opt.addParam(ng.index, {
                data: t.dataPtr,
                dtype: dtypeCode(t.dtype),
                grad: null,
                gradDtype: dtypeCode(t.dtype),
                shape: t.shape,
                blockId,
              });
            } catch (e) {
              // The core names the field (an overlap with another param, a size); say which param.
              const err = e as Error;
              err.message = `${this.spec.name}: param ${m.index}: ${err.message}`;
              throw err;
            }
            const r: ParamRecord = { ...m, native: nativeIndex, data: null, grad: null };
            ng.params.push(r);
            records[m.index] = r;
          }
          groups.push(ng);
        }
      });
      opt.setClip(maxGradNorm);
      opt.setNonFinite(NON_FINITE_CODES[this.nonFinite]);
    } catch (e) {
      opt.destroy();
      throw e;
    }
    return { opt, groups, records };
  }

  // Re-checks every group's options (they may have been changed by assignment since the last step).
  private checkOptions(what: string): FullOptions[] {
    checkOption(this.spec, 'maxGradNorm', this.maxGradNorm);
    checkOption(this.spec, 'nonFinite', this.nonFinite);
    return this.paramGroups.map((g, i) => {
      checkGroupOptions(this.spec, g as unknown as Record<string, unknown>, `group ${i}: `);
      const records = this.records.filter((r) => r.group === i);
      if (g.params.length !== records.length || g.params.some((t, j) => t !== records[j].tensor)) {
        throw new Error(`${what}: group ${i}: params cannot change after construction`);
      }
      const o = this.fullOptions(i);
      const key = layoutKey(this.spec, o);
      for (const [k, v] of Object.entries(this.layouts[i])) {
        if (key[k] !== v) {
          throw new Error(`${this.spec.name}: group ${i}: option '${k}' cannot change after construction (was ${v}, now ${key[k]})`);
        }
      }
      return o;
    });
  }

  private checkGradients(what: string, opt: NativeOptimizer): void {
    for (const r of this.records) {
      const t = r.tensor;
      const label = `${what}: param ${r.index}`;
      if (t.disposed) throw new Error(`${label} is disposed (tensor: disposed)`);
      const g = t.grad;
      const gc = t.compressedGrad;
      if (g !== null && g !== undefined) checkLike(label, 'grad', g, t, t.shape);
      if (gc !== null && gc !== undefined) {
        if (!(gc instanceof Tensor)) throw new TypeError(`${label}: compressedGrad must be a Tensor, got ${describeValue(gc)}`);
        if (opt.needsRefresh(r.native)) {
          if (!g) {
            throw new Error(`${label}: this step re-chooses the selection and needs the full .grad; compressedGrad alone is not enough`);
          }
        } else {
          const sel = opt.getSelection(r.native);
          const kind = SELECTION_NAMES[sel.kind];
          if (kind !== 'grass' && kind !== 'rows' && kind !== 'columns') {
            throw new Error(`${label}: compressedGrad needs a grass, rows or columns selection, this param uses '${kind}'`);
          }
          const [m, n] = t.shape;
          // float32 for any param: rho * g then needs no rounding to the param's dtype (exact).
          checkLike(label, 'compressedGrad', gc, t, sel.axis === 0 ? [sel.count, n] : [m, sel.count], true);
        }
      }
      // A param with neither .grad nor compressedGrad is skipped this step (as torch does).
    }
  }

  private pushOptions(opt: NativeOptimizer, fulls: FullOptions[]): void {
    for (const ng of this.groups) {
      const options = nativeOptions(this.spec, fulls[ng.group], ng.part, ng.context);
      const key = optionsKey(options);
      if (key !== ng.pushed) {
        opt.setGroupOptions(ng.index, options);
        ng.pushed = key;
      }
    }
    if (this.nonFinite !== this.pushedNonFinite) {
      opt.setNonFinite(NON_FINITE_CODES[this.nonFinite]);
      this.pushedNonFinite = this.nonFinite;
    }
    if (this.maxGradNorm !== this.pushedClip) {
      opt.setClip(this.maxGradNorm);
      this.pushedClip = this.maxGradNorm;
    }
  }

  private pushBuffers(opt: NativeOptimizer): void {
    for (const r of this.records) {
      const t = r.tensor;
      const data = t.dataPtr;
      const grad = t.grad ? t.grad.dataPtr : null;
      if (data !== r.data || grad !== r.grad) {
        opt.setBuffers(r.native, data, grad);
        r.data = data;
        r.grad = grad;
      }
      // The core forgets a compressed gradient after each step, so it is handed in every step.
      const gc = t.compressedGrad;
      if (gc && !opt.needsRefresh(r.native)) opt.setCompressedGrad(r.native, gc.dataPtr, dtypeCode(gc.dtype));
    }
  }

  private supplySelections(opt: NativeOptimizer, what: string): void {
    for (const ng of this.groups) {
      if (ng.part !== 'projected') continue;
      const fn = this.selectionFunction(ng.group);
      if (!fn) continue;
      const step = opt.getGroupState(ng.index).step;
      for (const r of ng.params) {
        if (!opt.needsRefresh(r.native)) continue;
        const group = this.paramGroups[ng.group];
        const result = fn({ step, param: r.tensor, grad: r.tensor.grad, paramIndex: r.index, group });
        const { indices, scales } = selectionArrays(result, `${what}: param ${r.index}: selection function`);
        opt.setSelection(r.native, indices, scales);
      }
    }
  }

  // Work enqueued by step() on a caller's stream must finish before state is read on the host.
  private waitForSteps(): void {
    if (this.lastStream && !this.lastStream.destroyed) this.lastStream.synchronize();
    native().synchronize(deviceOrdinal(this.device), null);
  }

  private plannedOrientation(r: ParamRecord, kind: string): 'rows' | 'columns' {
    if (kind === 'rows' || kind === 'columns') return kind;
    const o = this.fullOptions(r.group);
    if (o.orientation !== 'std') return o.orientation;
    const [m, n] = r.tensor.shape;
    return m <= n ? 'rows' : 'columns';
  }

  private decodeGroupOptions(saved: Record<string, unknown>, group: number): Record<string, unknown> {
    const current = this.paramGroups[group] as unknown as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(saved)) {
      if (!(this.spec.accepts as readonly string[]).includes(name)) throw new Error(`group ${group}: unknown option '${name}'`);
      if (value === 'function') {
        if (typeof current[name] !== 'function') {
          throw new Error(`group ${group}: option '${name}' was a function when saved; give this optimizer one too`);
        }
        out[name] = current[name];
        continue;
      }
      const v = decodeOptionValue(name, value as never);
      checkOption(this.spec, name, v, `group ${group}: `);
      out[name] = v;
    }
    return out;
  }
}
