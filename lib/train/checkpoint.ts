// Training checkpoints, crash-safe. --checkpoint-dir DIR holds:
//   LATEST                  the name of the current checkpoint ("step-00000120"), switched by rename
//   step-00000120/          model.safetensors (weights), optimizer-<unit>.safetensors (each
//                           optimizer's state dict), trainer.json (step, model config, tokenizer,
//                           the options a resume must share) and manifest.json (the step, and the
//                           size and SHA-256 of every other file)
// A save writes a new directory under a temporary name (.partial-*), flushes every file and the
// directory, renames it into place, then switches LATEST (a small file written, flushed and
// renamed), and only then removes the previous checkpoint. A kill at any moment leaves LATEST
// naming a complete checkpoint; leftovers are removed by the next save or resume. A resume checks
// the manifest (every file present, unmodified, at the same step) before loading anything.
// The data order and the lr are functions of the step, so weights + optimizer state + step are
// all a resume needs to continue bit-identically on the CPU.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { loadStateDictFile, saveStateDict } from '../checkpoint/optimizer-checkpoint';
import { encodeSafetensors, fsyncPath, readSafetensorsFile, writeFileDurably } from '../checkpoint/safetensors';
import { TokenizerJSON } from '../data/tokenizer';
import { ModelConfig } from '../model/config';
import { LlamaModel } from '../model/llama';
import { Tensor } from '../tensor';
import { TrainOptions } from './options';
import { OptimizerSet } from './optimizers';

const FORMAT = 'frugal-optim-train/1';
const MANIFEST_FORMAT = 'frugal-optim-checkpoint/1';
const POINTER = 'LATEST';
const MANIFEST = 'manifest.json';
const PARTIAL_PREFIX = '.partial-';
const CHECKPOINT_NAME = /^step-\d{8}(-[a-z0-9]+)?$/;

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

/**
 * Removes what an interrupted save left behind: partial directories, temporary pointer files,
 * and checkpoint directories LATEST does not name (a finished one whose switch never happened,
 * or the previous one). Only names this module writes are touched; with no valid LATEST, only
 * the temporaries go.
 */
function removeStale(dir: string): void {
  const current = currentName(dir);
  for (const entry of fs.readdirSync(dir)) {
    const stale =
      entry.startsWith(PARTIAL_PREFIX) ||
      (entry.startsWith(`.${POINTER}.`) && entry.endsWith('.tmp')) ||
      (current !== null && entry !== current && CHECKPOINT_NAME.test(entry));
    if (stale) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
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
  fs.mkdirSync(dir, { recursive: true });
  removeStale(dir);
  const partial = path.join(dir, `${PARTIAL_PREFIX}${checkpointName(step)}-${process.pid}`);
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
  if (name === current) name += `-${Date.now().toString(36)}`;
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
  for (const name of ['model.safetensors', 'trainer.json']) {
    if (!(name in files)) throw new Error(`--resume: ${file} does not list ${name}`);
  }
  for (const [name, entry] of Object.entries(files)) {
    const f = path.join(ckpt, name);
    if (name.includes('/') || name.includes('\\') || name === MANIFEST || !isObject(entry)) throw new Error(`--resume: ${file}: bad entry '${name}'`);
    if (!fs.existsSync(f)) throw new Error(`--resume: ${f} is missing (listed in ${file})`);
    if (fs.statSync(f).size !== entry.bytes || sha256(f) !== entry.sha256) {
      throw new Error(`--resume: ${f} does not match ${file} (changed or from another step than ${m.step})`);
    }
  }
  for (const name of fs.readdirSync(ckpt)) {
    if (name !== MANIFEST && !(name in files)) throw new Error(`--resume: ${path.join(ckpt, name)} is not listed in ${file}`);
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
  return { dir: ckpt, state };
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
    try {
      return loadStateDictFile(path.join(dir, unitFile(u)));
    } catch (e) {
      throw new Error(`--resume: ${(e as Error).message}`);
    }
  });
  // Every optimizer takes its state before any weight changes: a refusal leaves the model as built.
  units.forEach((u, i) => {
    try {
      optimizers.byUnit.get(u)!.loadStateDict(dicts[i]);
    } catch (e) {
      throw new Error(`--resume: ${path.join(dir, unitFile(u))}: ${(e as Error).message}`);
    }
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
