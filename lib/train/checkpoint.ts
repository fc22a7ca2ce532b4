// Training checkpoints, crash-safe. --checkpoint-dir DIR holds:
//   LATEST                  the name of the current checkpoint ("step-00000120"), switched by rename
//   step-00000120/          model.safetensors (weights), optimizer-<unit>.safetensors (each
//                           optimizer's state dict), trainer.json (step, model config, tokenizer
//                           (llama's as its vocabulary's SHA-256), the options a resume must
//                           share) and manifest.json (the step, and the size and SHA-256 of
//                           every other file)
// A save writes a new directory under a temporary name (.partial-*), flushes every file and the
// directory, renames it into place, then switches LATEST (a small file written, flushed and
// renamed), and only then removes the previous checkpoint. A kill at any moment leaves LATEST
// naming a complete checkpoint; leftovers are removed by the next save or resume. A resume checks
// the manifest (every file present, unmodified, at the same step) before loading anything.
// Clean-up touches only names this module writes: checkpoints named exactly step-NNNNNNNN (or
// step-NNNNNNNN.<suffix>) other than the one LATEST names, and temporaries of this process or of
// processes no longer running; a user's copy (step-00000100-best) or file is never removed. The
// trainer holds the directory's lock (checkpoint-lock.ts) while it saves, so no other run writes.
// The data order and the lr are functions of the step, so weights + optimizer state + step are
// all a resume needs to continue bit-identically on the CPU.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { loadStateDictFile, saveStateDict } from '../checkpoint/optimizer-checkpoint';
import { encodeSafetensors, fsyncPath, readSafetensorsFile, writeFileDurably } from '../checkpoint/safetensors';
import { TokenizerJSON } from '../data/tokenizer';
import { ModelConfig } from '../model/config';
import { OptimizerStateDict } from '../optim/state-dict';
import { LlamaModel } from '../model/llama';
import { Tensor } from '../tensor';
import { processAlive } from './checkpoint-lock';
import { TrainOptions } from './options';
import { OptimizerSet } from './optimizers';

const FORMAT = 'frugal-optim-train/1';
const MANIFEST_FORMAT = 'frugal-optim-checkpoint/1';
const POINTER = 'LATEST';
const MANIFEST = 'manifest.json';
const PARTIAL_PREFIX = '.partial-';
/** What LATEST may name (earlier versions suffixed a clash with '-<base36>'). */
const CHECKPOINT_NAME = /^step-\d{8,}([-.][a-z0-9]+)?$/;
/** The checkpoint names this module creates, and so may remove. */
const OWN_CHECKPOINT = /^step-\d{8,}(\.[a-z0-9]+)?$/;
/** Temporaries with the PID of the process writing them. */
const TEMPORARY = [/^\.partial-step-\d{8,}-(\d+)$/, /^\.LATEST\.(\d+)\.tmp$/];

/** Options that must be the same when resuming (they shape the state or the data order). */
const MUST_MATCH = ['optimizer', 'preset', 'tokenizer', 'batch', 'seqLen', 'seed', 'dtype', 'perLayer', 'sparseBackward'] as const;

export interface TrainerState {
  format: string;
  step: number;
  config: ModelConfig;
  tokenizer: TokenizerJSON;
  options: Pick<TrainOptions, (typeof MUST_MATCH)[number]> & Record<string, unknown>;
  units: string[];
}

/** A checkpoint found and verified for --resume: its directory and its trainer state. */
export interface ResumePoint {
  dir: string;
  state: TrainerState;
  /** The flat layout of earlier versions (no manifest): each file's step is checked on load. */
  flat: boolean;
}

interface Manifest {
  format: string;
  step: number;
  files: Record<string, { bytes: number; sha256: string }>;
}

const unitFile = (unit: string) => `optimizer-${unit}.safetensors`;
const checkpointName = (step: number) => `step-${String(step).padStart(8, '0')}`;

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The checkpoint LATEST names, or null when there is none (or it is unreadable). */
function currentName(dir: string): string | null {
  try {
    const name = fs.readFileSync(path.join(dir, POINTER), 'utf8').trim();
    return CHECKPOINT_NAME.test(name) ? name : null;
  } catch {
    return null;
  }
}

/** A temporary's writer PID when `entry` is one of this module's temporaries, else null. */
function temporaryOwner(entry: string): number | null {
  for (const re of TEMPORARY) {
    const m = re.exec(entry);
    if (m) return Number(m[1]);
  }
  return null;
}

/**
 * Removes what an interrupted save left behind: this process's temporaries and those of processes
 * no longer running, and checkpoints this module named that LATEST does not name (a finished one
 * whose switch never happened, or the previous one). With no valid LATEST only temporaries go.
 */
function removeStale(dir: string): void {
  const current = currentName(dir);
  for (const entry of fs.readdirSync(dir)) {
    const owner = temporaryOwner(entry);
    const stale =
      (owner !== null && (owner === process.pid || !processAlive(owner))) ||
      (current !== null && entry !== current && OWN_CHECKPOINT.test(entry));
    if (stale) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
}

/** The step of the checkpoint in `dir` (LATEST, or the flat layout's trainer.json), or null when none. */
export function existingCheckpointStep(dir: string): number | null {
  const name = currentName(dir);
  if (name !== null) return Number(/^step-(\d+)/.exec(name)![1]);
  const flat = path.join(dir, 'trainer.json');
  if (!fs.existsSync(flat)) return null;
  try {
    const step = (JSON.parse(fs.readFileSync(flat, 'utf8')) as { step?: unknown }).step;
    return typeof step === 'number' ? step : NaN;
  } catch {
    return NaN;
  }
}

/** A run without --resume must not replace a checkpoint that is already there. */
export function refuseExistingCheckpoint(dir: string): void {
  const step = existingCheckpointStep(dir);
  if (step === null) return;
  throw new Error(
    `--checkpoint-dir ${dir} holds a checkpoint${Number.isNaN(step) ? '' : ` at step ${step}`}; ` +
      'pass --resume to continue it, or choose another directory',
  );
}

/**
 * Proves before the first step that the longest path a save writes fits the system's limits
 * (PATH_MAX, NAME_MAX): a directory and a file inside it, named as long as the save's longest.
 */
export function probeCheckpointPaths(dir: string, units: readonly string[], steps: number): void {
  const partialName = `${PARTIAL_PREFIX}${checkpointName(steps)}-${process.pid}`;
  const longestUnit = units.reduce((a, u) => (u.length > a.length ? u : a), '');
  const files = [`.${unitFile(longestUnit)}.${process.pid}.tmp`, 'model.safetensors', MANIFEST, 'trainer.json', `.${POINTER}.${process.pid}.tmp`];
  const longestFile = files.reduce((a, f) => (f.length > a.length ? f : a), '');
  const probeDir = path.join(dir, `.partial-probe-${process.pid}`.padEnd(partialName.length, 'x'));
  try {
    fs.mkdirSync(probeDir);
    fs.writeFileSync(path.join(probeDir, 'p'.padEnd(longestFile.length, 'x')), '');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENAMETOOLONG' ? `the path is too long for the checkpoint files (up to ${path.resolve(probeDir).length + 1 + longestFile.length} characters)` : err.message;
    throw new Error(`--checkpoint-dir ${dir}: cannot write a checkpoint there: ${why}`);
  } finally {
    fs.rmSync(probeDir, { recursive: true, force: true });
  }
}

export function saveCheckpoint(
  dir: string,
  step: number,
  model: LlamaModel,
  optimizers: OptimizerSet,
  tokenizer: TokenizerJSON,
  options: TrainOptions,
): void {
  const partial = path.join(dir, `${PARTIAL_PREFIX}${checkpointName(step)}-${process.pid}`);
  try {
    writeCheckpoint(dir, partial, step, model, optimizers, tokenizer, options);
  } catch (e) {
    // A full disk, a permission change...: say which save failed and what is left to resume from.
    try {
      fs.rmSync(partial, { recursive: true, force: true });
    } catch {
      // the error below is the one that matters
    }
    const current = fs.existsSync(dir) ? currentName(dir) : null;
    throw new Error(
      `--checkpoint-dir: cannot write the checkpoint of step ${step} in ${dir}: ${(e as Error).message}; ` +
        (current ? `${path.join(dir, POINTER)} names ${current}, which is intact` : 'no earlier checkpoint there'),
    );
  }
}

function writeCheckpoint(
  dir: string,
  partial: string,
  step: number,
  model: LlamaModel,
  optimizers: OptimizerSet,
  tokenizer: TokenizerJSON,
  options: TrainOptions,
): void {
  fs.mkdirSync(dir, { recursive: true });
  removeStale(dir);
  fs.mkdirSync(partial);
  // Weights as float32: exact for bf16 weights too (widening is exact, and so is the way back).
  const tensors = model.named.map(
    (p) => [p.name, { dtype: 'F32' as const, shape: p.tensor.shape.slice(), data: p.tensor.toArray() as Float32Array }] as [
      string,
      { dtype: 'F32'; shape: number[]; data: Float32Array },
    ],
  );
  writeFileDurably(path.join(partial, 'model.safetensors'), encodeSafetensors(tensors, { step: String(step), dtype: model.dtype }));
  for (const [unit, opt] of optimizers.byUnit) {
    saveStateDict(path.join(partial, unitFile(unit)), opt.stateDict()); // flushed and renamed into place
  }
  const state: TrainerState = {
    format: FORMAT,
    step,
    config: model.config,
    tokenizer,
    options: Object.fromEntries([...MUST_MATCH, 'steps', 'lr', 'schedule'].map((k) => [k, options[k as keyof TrainOptions]])) as TrainerState['options'],
    units: [...optimizers.byUnit.keys()],
  };
  writeFileDurably(path.join(partial, 'trainer.json'), JSON.stringify(state, null, 2));
  const manifest: Manifest = { format: MANIFEST_FORMAT, step, files: {} };
  for (const name of fs.readdirSync(partial).sort()) {
    const file = path.join(partial, name);
    manifest.files[name] = { bytes: fs.statSync(file).size, sha256: sha256(file) };
  }
  writeFileDurably(path.join(partial, MANIFEST), JSON.stringify(manifest, null, 2));
  fsyncPath(partial);

  // Into place under its final name (never the name LATEST holds now), then switch LATEST.
  const current = currentName(dir);
  let name = checkpointName(step);
  if (name === current) name += `.${Date.now().toString(36)}`;
  fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  fs.renameSync(partial, path.join(dir, name));
  fsyncPath(dir);
  const pointerTmp = path.join(dir, `.${POINTER}.${process.pid}.tmp`);
  writeFileDurably(pointerTmp, `${name}\n`);
  fs.renameSync(pointerTmp, path.join(dir, POINTER));
  fsyncPath(dir);
  removeStale(dir); // the previous checkpoint, now that the new one is in place
}

function readJSON(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`--resume: ${file}: cannot read: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`--resume: ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStep = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Checks that every file of the checkpoint is the one its manifest lists, at the manifest's step. */
function verifyManifest(ckpt: string): Manifest {
  const file = path.join(ckpt, MANIFEST);
  if (!fs.existsSync(file)) throw new Error(`--resume: ${file} is missing: ${ckpt} is not a complete checkpoint`);
  const m = readJSON(file);
  const files = isObject(m) ? m.files : undefined;
  if (!isObject(m) || m.format !== MANIFEST_FORMAT || !isStep(m.step) || !isObject(files)) {
    throw new Error(`--resume: ${file}: expected {format: '${MANIFEST_FORMAT}', step, files}`);
  }
  const listed = (name: string) => Object.prototype.hasOwnProperty.call(files, name);
  for (const name of ['model.safetensors', 'trainer.json']) {
    if (!listed(name)) throw new Error(`--resume: ${file} does not list ${name}`);
  }
  for (const [name, entry] of Object.entries(files)) {
    const f = path.join(ckpt, name);
    // A plain file name of this directory: no path components, nothing outside it.
    const plain = name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\\') && !name.includes('\0');
    if (!plain || name === MANIFEST || !isObject(entry)) throw new Error(`--resume: ${file}: bad entry ${JSON.stringify(name)} (expected the name of a file in ${ckpt})`);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(f);
    } catch {
      throw new Error(`--resume: ${f} is missing (listed in ${file})`);
    }
    if (!st.isFile()) throw new Error(`--resume: ${f} is not a regular file (listed in ${file})`);
    if (st.size !== entry.bytes || sha256(f) !== entry.sha256) {
      throw new Error(`--resume: ${f} does not match ${file} (changed or from another step than ${m.step})`);
    }
  }
  for (const name of fs.readdirSync(ckpt)) {
    if (name !== MANIFEST && !listed(name)) throw new Error(`--resume: ${path.join(ckpt, name)} is not listed in ${file}`);
  }
  return m as unknown as Manifest;
}

/** Checks trainer.json's fields and that the checkpoint fits this run's options. */
function checkTrainerState(file: string, s: unknown, options: TrainOptions): TrainerState {
  if (!isObject(s)) throw new Error(`--resume: ${file}: expected an object`);
  if (s.format !== FORMAT) throw new Error(`--resume: ${file} has format ${JSON.stringify(s.format)}, expected '${FORMAT}'`);
  if (!isStep(s.step)) throw new Error(`--resume: ${file}: step must be an integer >= 0, got ${JSON.stringify(s.step)}`);
  if (!isObject(s.options) || !isObject(s.config) || !isObject(s.tokenizer)) {
    throw new Error(`--resume: ${file}: expected objects 'options', 'config' and 'tokenizer'`);
  }
  if (!Array.isArray(s.units) || !s.units.every((u) => typeof u === 'string' && /^[\w.-]+$/.test(u))) {
    throw new Error(`--resume: ${file}: 'units' must be a list of optimizer unit names`);
  }
  const state = s as unknown as TrainerState;
  for (const k of MUST_MATCH) {
    if (state.options[k] !== options[k]) {
      throw new Error(`--resume: the checkpoint was made with ${k} = ${JSON.stringify(state.options[k])}, this run has ${JSON.stringify(options[k])}`);
    }
  }
  // The saved tokenizer itself, not only the option's name: its ids index the saved embedding
  // (llama's is checked against the installed vocabulary when it is restored: dataset.ts).
  if (state.tokenizer.kind !== options.tokenizer) {
    throw new Error(`--resume: ${file}: the saved tokenizer is ${JSON.stringify(state.tokenizer.kind)}, this run has ${JSON.stringify(options.tokenizer)}`);
  }
  if (state.step > options.steps) throw new Error(`--resume: the checkpoint is at step ${state.step}, beyond --steps ${options.steps}`);
  return state;
}

/**
 * Finds the checkpoint in `dir` (LATEST, or a checkpoint written before LATEST existed: the files
 * in `dir` itself), verifies it and checks it against this run; a clear error when there is none.
 */
export function openCheckpoint(dir: string, options: TrainOptions): ResumePoint {
  if (!fs.existsSync(dir)) throw new Error(`--resume: no checkpoint in ${dir} (the directory does not exist)`);
  const pointer = path.join(dir, POINTER);
  let ckpt: string;
  let manifestStep: number | null = null;
  if (fs.existsSync(pointer)) {
    const name = currentName(dir);
    if (name === null) throw new Error(`--resume: ${pointer} does not name a checkpoint (expected a line like 'step-00000120')`);
    ckpt = path.join(dir, name);
    if (!fs.existsSync(ckpt)) throw new Error(`--resume: ${pointer} names ${name}, which does not exist`);
    manifestStep = verifyManifest(ckpt).step;
  } else if (fs.existsSync(path.join(dir, 'trainer.json'))) {
    ckpt = dir; // the flat layout of earlier versions: no manifest; the model's step is checked below
  } else {
    throw new Error(`--resume: no checkpoint in ${dir} (${POINTER} and trainer.json are missing)`);
  }
  const file = path.join(ckpt, 'trainer.json');
  const state = checkTrainerState(file, readJSON(file), options);
  if (manifestStep !== null && state.step !== manifestStep) {
    throw new Error(`--resume: ${file} is at step ${state.step}, ${path.join(ckpt, MANIFEST)} at ${manifestStep}`);
  }
  // Only once the checkpoint is known good: leftovers may be all that is left if it is not.
  if (manifestStep !== null) removeStale(dir);
  return { dir: ckpt, state, flat: manifestStep === null };
}

/** Loads weights and optimizer state into a freshly built model and optimizer set. */
export function restoreCheckpoint(point: ResumePoint, model: LlamaModel, optimizers: OptimizerSet): void {
  const { dir, state } = point;
  if (JSON.stringify(state.config) !== JSON.stringify(model.config)) {
    throw new Error(`--resume: the checkpoint's model ${JSON.stringify(state.config)} differs from this run's ${JSON.stringify(model.config)}`);
  }
  const modelFile = path.join(dir, 'model.safetensors');
  const weights = readSafetensorsFile(modelFile);
  if (weights.metadata.step !== String(state.step)) {
    throw new Error(`--resume: ${modelFile} is at step ${weights.metadata.step}, trainer.json at ${state.step}: not one checkpoint`);
  }
  const names = new Set(model.named.map((p) => p.name));
  for (const name of weights.tensors.keys()) {
    if (!names.has(name)) throw new Error(`--resume: ${modelFile} has a tensor '${name}' that this model does not have`);
  }
  for (const p of model.named) {
    const t = weights.tensors.get(p.name);
    if (!t) throw new Error(`--resume: ${modelFile} has no tensor '${p.name}'`);
    if (t.dtype !== 'F32' || t.shape.join(',') !== p.tensor.shape.join(',')) {
      throw new Error(`--resume: ${modelFile}: tensor '${p.name}' is ${t.dtype} [${t.shape}], expected F32 [${p.tensor.shape}]`);
    }
  }
  const units = [...optimizers.byUnit.keys()];
  if (units.join(',') !== state.units.join(',')) {
    throw new Error(`--resume: the checkpoint has optimizers for ${state.units.join(', ')}, this run has ${units.join(', ')}`);
  }
  const dicts = units.map((u) => {
    const file = path.join(dir, unitFile(u));
    let sd: OptimizerStateDict;
    try {
      sd = loadStateDictFile(file);
    } catch (e) {
      throw new Error(`--resume: ${(e as Error).message}`);
    }
    // The flat layout has no manifest tying the files to one step: every optimizer steps once per
    // training step, so its step must be trainer.json's.
    if (point.flat && sd.step !== state.step) {
      throw new Error(`--resume: ${file} is at optimizer step ${sd.step}, ${path.join(dir, 'trainer.json')} at step ${state.step}: not one checkpoint`);
    }
    return sd;
  });
  // Every optimizer takes its state before any weight changes: a refusal leaves the model as built.
  units.forEach((u, i) => {
    const opt = optimizers.byUnit.get(u)!;
    // The rule for options on resume: those that shape the state (selection, density, rank...)
    // must match, and loadStateDict refuses a change naming the option; every other
    // hyperparameter (lr, weight decay, betas, eps, clipping...) is this run's command line,
    // re-applied over the values the file restores.
    const mine = opt.paramGroups.map((g) => ({ ...g }));
    const clip = opt.maxGradNorm;
    try {
      opt.loadStateDict(dicts[i]);
    } catch (e) {
      throw new Error(`--resume: ${path.join(dir, unitFile(u))}: ${(e as Error).message}`);
    }
    opt.paramGroups.forEach((g, j) => {
      const own = g as unknown as Record<string, unknown>;
      for (const k of Object.keys(own)) if (!(k in mine[j])) delete own[k];
      Object.assign(g, mine[j]);
    });
    opt.maxGradNorm = clip;
  });
  for (const p of model.named) {
    const t = weights.tensors.get(p.name)!;
    const values = new Float32Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 4);
    const tmp = Tensor.fromArray(values, p.tensor.shape, { dtype: p.tensor.dtype, device: p.tensor.device });
    try {
      p.tensor.copyFrom(tmp);
    } finally {
      tmp.dispose();
    }
  }
}
