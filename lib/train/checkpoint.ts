// Training checkpoints: a directory with the weights (model.safetensors), each optimizer's state
// (optimizer-<unit>.safetensors, through the optimizer's own state dict), and trainer.json (the
// step, the model config, the tokenizer and the options a resume must share), written last so a
// checkpoint without it is incomplete. The data order and the lr are functions of the step, so
// weights + optimizer state + step are all a resume needs to continue bit-identically on the CPU.
import * as fs from 'fs';
import * as path from 'path';
import { loadStateDictFile, saveStateDict } from '../checkpoint/optimizer-checkpoint';
import { encodeSafetensors, readSafetensorsFile, writeSafetensorsFile } from '../checkpoint/safetensors';
import { TokenizerJSON } from '../data/tokenizer';
import { ModelConfig } from '../model/config';
import { LlamaModel } from '../model/llama';
import { Tensor } from '../tensor';
import { TrainOptions } from './options';
import { OptimizerSet } from './optimizers';

const FORMAT = 'frugal-optim-train/1';

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

const unitFile = (unit: string) => `optimizer-${unit}.safetensors`;

export function saveCheckpoint(
  dir: string,
  step: number,
  model: LlamaModel,
  optimizers: OptimizerSet,
  tokenizer: TokenizerJSON,
  options: TrainOptions,
): void {
  fs.mkdirSync(dir, { recursive: true });
  // Weights as float32: exact for bf16 weights too (widening is exact, and so is the way back).
  const tensors = model.named.map(
    (p) => [p.name, { dtype: 'F32' as const, shape: p.tensor.shape.slice(), data: p.tensor.toArray() as Float32Array }] as [
      string,
      { dtype: 'F32'; shape: number[]; data: Float32Array },
    ],
  );
  writeSafetensorsFile(path.join(dir, 'model.safetensors'), encodeSafetensors(tensors, { step: String(step), dtype: model.dtype }));
  for (const [unit, opt] of optimizers.byUnit) saveStateDict(path.join(dir, unitFile(unit)), opt.stateDict());
  const state: TrainerState = {
    format: FORMAT,
    step,
    config: model.config,
    tokenizer,
    options: Object.fromEntries([...MUST_MATCH, 'steps', 'lr', 'schedule'].map((k) => [k, options[k as keyof TrainOptions]])) as TrainerState['options'],
    units: [...optimizers.byUnit.keys()],
  };
  const tmp = path.join(dir, `.trainer.json.${process.pid}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2));
  fs.renameSync(tmp, path.join(dir, 'trainer.json'));
}

/** Reads and checks trainer.json; a clear error when the directory holds no usable checkpoint. */
export function readTrainerState(dir: string, options: TrainOptions): TrainerState {
  const file = path.join(dir, 'trainer.json');
  if (!fs.existsSync(file)) throw new Error(`--resume: no checkpoint in ${dir} (trainer.json is missing)`);
  let state: TrainerState;
  try {
    state = JSON.parse(fs.readFileSync(file, 'utf8')) as TrainerState;
  } catch (e) {
    throw new Error(`--resume: ${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (state.format !== FORMAT) throw new Error(`--resume: ${file} has format '${state.format}', expected '${FORMAT}'`);
  for (const k of MUST_MATCH) {
    if (state.options[k] !== options[k]) {
      throw new Error(`--resume: the checkpoint was made with ${k} = ${JSON.stringify(state.options[k])}, this run has ${JSON.stringify(options[k])}`);
    }
  }
  if (state.step > options.steps) throw new Error(`--resume: the checkpoint is at step ${state.step}, beyond --steps ${options.steps}`);
  return state;
}

/** Loads weights and optimizer state into a freshly built model and optimizer set. */
export function restoreCheckpoint(dir: string, state: TrainerState, model: LlamaModel, optimizers: OptimizerSet): void {
  if (JSON.stringify(state.config) !== JSON.stringify(model.config)) {
    throw new Error(`--resume: the checkpoint's model ${JSON.stringify(state.config)} differs from this run's ${JSON.stringify(model.config)}`);
  }
  const weights = readSafetensorsFile(path.join(dir, 'model.safetensors'));
  for (const p of model.named) {
    const t = weights.tensors.get(p.name);
    if (!t) throw new Error(`--resume: model.safetensors has no tensor '${p.name}'`);
    if (t.dtype !== 'F32' || t.shape.join(',') !== p.tensor.shape.join(',')) {
      throw new Error(`--resume: tensor '${p.name}' is ${t.dtype} [${t.shape}], expected F32 [${p.tensor.shape}]`);
    }
  }
  const units = [...optimizers.byUnit.keys()];
  if (units.join(',') !== state.units.join(',')) {
    throw new Error(`--resume: the checkpoint has optimizers for ${state.units.join(', ')}, this run has ${units.join(', ')}`);
  }
  const dicts = units.map((u) => loadStateDictFile(path.join(dir, unitFile(u))));
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
  units.forEach((u, i) => optimizers.byUnit.get(u)!.loadStateDict(dicts[i]));
}
