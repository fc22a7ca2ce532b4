// The training loop of the bench: data, model, optimizers and memory modes put together; a
// progress bar, validation every N steps, checkpoints, metrics.jsonl and a final summary with
// losses, perplexity, speed and measured memory.
import * as fs from 'fs';
import * as path from 'path';
import { checkDevice, cudaDeviceCount, Device } from '../device';
import { loadBrown, splitDocuments } from '../data/brown';
import { BatchSampler, makeTokenizerSteps, tokenize } from '../data/dataset';
import { describeTokenCache, tokenizeCached } from '../data/token-cache';
import { Tokenizer } from '../data/tokenizer';
import { modelConfig, parameterCount } from '../model/config';
import { LlamaModel } from '../model/llama';
import { native } from '../native';
import { constant, cosineWithWarmup, linear, LRLambda } from '../schedule';
import { setNumThreads } from '../threads';
import { openCheckpoint, probeCheckpointPaths, refuseExistingCheckpoint, restoreCheckpoint, ResumePoint, saveCheckpoint } from './checkpoint';
import { lockCheckpointDir } from './checkpoint-lock';
import { GradientManager } from './gradients';
import { MemoryFigures, memorySnapshot, maxFigures, resetPeak, ZERO_FIGURES } from './memory-report';
import { MetricsLog } from './metrics';
import { MethodName, TrainOptions } from './options';
import { OptimizerSet } from './optimizers';
import { prepareOutputDir } from './output-dirs';
import { Progress } from './progress';

export interface TrainResult {
  method: MethodName;
  device: Device;
  preset: string;
  parameters: number;
  steps: number;
  tokens: number;
  /** Mean training loss over the last 10% of steps (at least 1, at most 50). */
  trainLoss: number;
  trainPerplexity: number;
  valLoss: number;
  valPerplexity: number;
  tokensPerSec: number;
  trainSeconds: number;
  wallSeconds: number;
  optimizerStateBytes: number;
  /** Peak of each category and of the total, over all steps. */
  peak: MemoryFigures;
  /** The same over steps that did not re-choose a Grass selection (sparse backward only). */
  peakOrdinary: MemoryFigures;
  /** [step, validation loss] pairs. */
  valCurve: [number, number][];
  outDir: string;
}

/** 'auto' is the first CUDA device when the addon has CUDA and a GPU is present, else the CPU. */
export function resolveDevice(name: string): Device {
  if (name === 'auto') return native().builtWithCuda && cudaDeviceCount() > 0 ? 'cuda:0' : 'cpu';
  return checkDevice(name, '--device');
}

export function scheduleFor(o: TrainOptions): LRLambda {
  const warmupSteps = o.warmup ?? Math.round(o.steps * 0.1);
  if (o.schedule === 'constant') return constant({ warmupSteps });
  const decay = { warmupSteps, totalSteps: o.steps, minRatio: o.minLrRatio };
  return o.schedule === 'linear' ? linear(decay) : cosineWithWarmup(decay);
}

export interface TrainHooks {
  /** After every training step, with its loss (tests use it to compare runs). */
  onStep?(step: number, loss: number): void;
  /** Stop after this many steps (and their checkpoint), as if interrupted (tests of resume). */
  stopAfter?: number;
  /**
   * Asked between steps: a reason (e.g. 'SIGINT') ends the run there with TrainingInterrupted,
   * after a checkpoint of the last step when there is a checkpoint directory.
   */
  stopRequested?(): string | null;
}

/** A run stopped by TrainHooks.stopRequested; `checkpoint` is where its last step was saved. */
export class TrainingInterrupted extends Error {
  constructor(
    readonly reason: string,
    readonly step: number,
    readonly checkpoint: string | null,
  ) {
    super(
      `interrupted by ${reason} after step ${step}; ` +
        (checkpoint
          ? `checkpoint at step ${step} in ${checkpoint} (continue with --resume)`
          : step === 0 ? 'nothing to save before the first step' : 'no --checkpoint-dir, nothing saved'),
    );
    this.name = 'TrainingInterrupted';
  }
}

/** Trains one model with one optimizer (options.optimizer) and returns the summary. */
export function train(o: TrainOptions, hooks: TrainHooks = {}): TrainResult {
  const run = trainSteps(o, hooks);
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
  }
}

/**
 * train(), returning to the event loop between steps so that signal handlers (and with them
 * hooks.stopRequested) can run; the CLI uses it.
 */
export async function trainAsync(o: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  const run = trainSteps(o, hooks);
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The run as a generator that yields before every step: train() and trainAsync() drive it. */
function* trainSteps(o: TrainOptions, hooks: TrainHooks): Generator<void, TrainResult, void> {
  const wallStart = process.hrtime.bigint();
  // The CPU pool's size, for the model ops and the optimizer's loops alike (and for the rest of the process).
  if (o.threads !== undefined) setNumThreads(o.threads);
  const device = resolveDevice(o.device);
  const outDir = o.outDir ?? path.join('runs', o.optimizer);
  const ckDir = o.checkpointDir;
  // Before any work: a directory that cannot be written fails now, not after training.
  prepareOutputDir(outDir, '--out');
  let unlock: (() => void) | null = null;
  if (ckDir && !(o.resume && !fs.existsSync(ckDir))) {
    prepareOutputDir(ckDir, '--checkpoint-dir');
    unlock = lockCheckpointDir(ckDir); // one run per directory, until this one ends
  }
  try {
    return yield* trainLocked(o, hooks, wallStart, device, outDir);
  } finally {
    unlock?.();
  }
}

/** The rest of the run, with the checkpoint directory (if any) locked. */
function* trainLocked(o: TrainOptions, hooks: TrainHooks, wallStart: bigint, device: Device, outDir: string): Generator<void, TrainResult, void> {
  const method = o.optimizer;
  const resumePoint: ResumePoint | null = o.resume ? openCheckpoint(o.checkpointDir as string, o) : null;
  const resumeState = resumePoint?.state ?? null;
  if (o.checkpointDir && !o.resume) refuseExistingCheckpoint(o.checkpointDir);

  // Loading and tokenizing take seconds: a signal between the stages ends the run there.
  const stopBeforeTraining = function* (): Generator<void, void, void> {
    yield;
    const stop = hooks.stopRequested?.() ?? null;
    if (stop !== null) throw new TrainingInterrupted(stop, resumeState?.step ?? 0, resumeState ? (o.checkpointDir as string) : null);
  };
  yield* stopBeforeTraining();
  const split = splitDocuments(loadBrown());
  yield* stopBeforeTraining();
  const training = makeTokenizerSteps(o.tokenizer, split, o.vocabSize, resumeState?.tokenizer);
  let tokenizer: Tokenizer;
  for (;;) {
    const r = training.next();
    if (r.done) {
      tokenizer = r.value;
      break;
    }
    yield* stopBeforeTraining(); // between merges of a BPE vocabulary
  }
  yield* stopBeforeTraining();
  // LLaMA's tokenizer takes seconds over the corpus: its ids are cached on disk (token-cache.ts).
  const cached = tokenizer.kind === 'llama' ? tokenizeCached(split, tokenizer) : null;
  const corpus = cached ? cached.corpus : tokenize(split, tokenizer);
  yield* stopBeforeTraining();
  const sampler = new BatchSampler(corpus, o.batch, o.seqLen, o.seed);
  const config = modelConfig(o.preset, tokenizer.vocabSize, o.model);
  if (config.vocab !== tokenizer.vocabSize) {
    throw new RangeError(`model: vocab ${config.vocab} must be the tokenizer's vocabulary size (${o.tokenizer}: ${tokenizer.vocabSize})`);
  }
  const schedule = scheduleFor(o);
  const progress = new Progress({ quiet: o.quiet, logEvery: o.logEvery, label: method });
  if (cached) progress.line(describeTokenCache(cached));
  const params = parameterCount(config).total;
  progress.line(
    `${o.preset} model, ${(params / 1e6).toFixed(2)}M params (vocab ${config.vocab}, ${o.tokenizer} tokens), ` +
      `${device}, ${o.dtype}, batch ${o.batch} x ${o.seqLen}, ${o.steps} steps` +
      (o.perLayer ? ', per-layer updates' : '') + (o.sparseBackward ? ', sparse backward' : ''),
  );
  if (o.maxGradNorm > 0 && (o.perLayer || o.sparseBackward)) {
    progress.line('gradient clipping is off: it needs every full gradient at once, which this memory mode never holds');
  }
  let model: LlamaModel | null = null;
  let optimizers: OptimizerSet | null = null;
  let grads: GradientManager | null = null;
  let metrics: MetricsLog | null = null;
  try {
    model = new LlamaModel(config, { device, dtype: o.dtype === 'bf16' ? 'bfloat16' : 'float32', seed: o.seed });
    optimizers = new OptimizerSet(model, o, method);
    grads = new GradientManager(model, optimizers, o.sparseBackward);
    if (o.checkpointDir) probeCheckpointPaths(o.checkpointDir, [...optimizers.byUnit.keys()], o.steps);
    let start = 0;
    if (resumePoint && resumeState) {
      restoreCheckpoint(resumePoint, model, optimizers);
      start = resumeState.step;
      progress.line(`resumed from ${o.checkpointDir} at step ${start}`);
    }
    metrics = new MetricsLog(path.join(outDir, 'metrics.jsonl'), resumeState ? start : undefined);
    const valBatches = sampler.validationBatches(o.evalBatches);
    const validate = (m: LlamaModel) => valBatches.reduce((s, b) => s + m.evaluate(b.ids, b.targets, o.batch, o.seqLen), 0) / valBatches.length;

    const tokensPerStep = o.batch * o.seqLen;
    const losses: number[] = [];
    const valCurve: [number, number][] = [];
    let trainNs = 0n;
    let peak = ZERO_FIGURES;
    let peakOrdinary = ZERO_FIGURES;
    let lastVal: number | undefined;
    let savedStep = start;
    for (let step = start; step < o.steps; step++) {
      yield;
      const stop = hooks.stopRequested?.() ?? null;
      if (stop !== null) {
        if (o.checkpointDir && savedStep !== step) saveCheckpoint(o.checkpointDir, step, model, optimizers, tokenizer.toJSON(), o);
        throw new TrainingInterrupted(stop, step, o.checkpointDir && step > 0 ? o.checkpointDir : null);
      }
      const factor = schedule(step);
      optimizers.setLrFactor(factor);
      const batch = sampler.trainBatch(step);
      resetPeak(device);
      const t0 = process.hrtime.bigint();
      const loss = model.forward(batch.ids, batch.targets, o.batch, o.seqLen);
      if (!Number.isFinite(loss)) throw new Error(`training diverged: the loss is ${loss} at step ${step + 1}; try a smaller --lr`);
      grads.backwardAndStep();
      const dt = process.hrtime.bigint() - t0;
      trainNs += dt;
      const mem = memorySnapshot(device).peak;
      peak = maxFigures(peak, mem);
      if (!grads.refreshStep) peakOrdinary = maxFigures(peakOrdinary, mem);
      losses.push(loss);
      hooks.onStep?.(step + 1, loss);

      const done = step + 1;
      const seconds = Number(trainNs) / 1e9;
      const tokensPerSec = ((done - start) * tokensPerStep) / seconds;
      metrics.write({
        type: 'train', step: done, loss, lr: optimizers.peakLr * factor, tokensPerSec, elapsed: seconds, peakBytes: mem.total,
      });
      if ((o.evalEvery > 0 && done % o.evalEvery === 0) || done === o.steps) {
        lastVal = validate(model);
        valCurve.push([done, lastVal]);
        metrics.write({ type: 'val', step: done, loss: lastVal, perplexity: Math.exp(lastVal) });
        progress.line(`step ${done}: train loss ${loss.toFixed(4)}, validation loss ${lastVal.toFixed(4)} (perplexity ${Math.exp(lastVal).toFixed(2)})`);
      }
      progress.update({
        step: done, total: o.steps, loss, valLoss: lastVal, tokensPerSec,
        etaSeconds: ((o.steps - done) * seconds) / (done - start),
      });
      if (o.checkpointDir && ((o.checkpointEvery > 0 && done % o.checkpointEvery === 0) || done === o.steps)) {
        saveCheckpoint(o.checkpointDir, done, model, optimizers, tokenizer.toJSON(), o);
        savedStep = done;
        progress.line(`checkpoint at step ${done} in ${o.checkpointDir}`);
      }
      if (hooks.stopAfter === done) break;
    }
    progress.done();
    if (lastVal === undefined) {
      // Nothing validated yet (stopped early, or resumed at the end): validate once for the summary.
      lastVal = validate(model);
    }

    const tail = losses.slice(-Math.max(1, Math.min(50, Math.round(losses.length * 0.1))));
    const trainLoss = tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : NaN;
    const trainSeconds = Number(trainNs) / 1e9;
    const result: TrainResult = {
      method, device, preset: o.preset, parameters: params, steps: start + losses.length,
      tokens: losses.length * tokensPerStep,
      trainLoss, trainPerplexity: Math.exp(trainLoss), valLoss: lastVal, valPerplexity: Math.exp(lastVal),
      tokensPerSec: trainSeconds > 0 ? (losses.length * tokensPerStep) / trainSeconds : 0,
      trainSeconds,
      wallSeconds: Number(process.hrtime.bigint() - wallStart) / 1e9,
      optimizerStateBytes: optimizers.stateBytes(),
      peak, peakOrdinary: o.sparseBackward ? peakOrdinary : peak, valCurve, outDir,
    };
    metrics.write({ type: 'summary', ...result });
    fs.writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(result, null, 2) + '\n');
    return result;
  } finally {
    progress.done(); // a run that fails or is interrupted ends its bar too
    metrics?.close();
    grads?.dispose();
    optimizers?.dispose();
    model?.dispose();
  }
}
