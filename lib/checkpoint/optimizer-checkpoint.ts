// An optimizer state dict as a safetensors file: each state tensor is "params.<i>.<name>", and the
// rest (format, optimizer, step, clipping, group options with steps and RNG words, per-param
// shapes, counters and selection sizes) is JSON in the "__metadata__" strings. A load checks the
// file on its own (layout, checksums, field types, value domains) and names the file in every
// refusal; the optimizer's loadStateDict then checks that it fits.
import { describeValue, DType, DTYPES } from '../dtype';
import { checkStateDictSelf, OptimizerStateDict, ParamStateData, stateArray, StateTensorData } from '../optim/state-dict';
import {
  CHECKSUM_KEY,
  checkPath,
  encodeSafetensors,
  readSafetensorsFile,
  SafetensorsDtype,
  SafetensorsTensor,
  writeSafetensorsFile,
} from './safetensors';

const TO_FILE: Record<DType, SafetensorsDtype> = { float32: 'F32', bfloat16: 'BF16', float16: 'F16', int32: 'I32' };

type ParamMeta = Omit<ParamStateData, 'state'> & { state: Omit<StateTensorData, 'data'>[] };

function tensorName(param: number, state: string): string {
  return `params.${param}.${state}`;
}

export function saveStateDict(file: string, sd: OptimizerStateDict): void {
  checkPath(file);
  const tensors: [string, { dtype: SafetensorsDtype; shape: number[]; data: ArrayBufferView }][] = [];
  const params: ParamMeta[] = sd.params.map((p, i) => {
    for (const t of p.state) tensors.push([tensorName(i, t.name), { dtype: TO_FILE[t.dtype], shape: [t.count], data: t.data }]);
    return { shape: p.shape, counters: p.counters, state: p.state.map(({ name, dtype, count }) => ({ name, dtype, count })) };
  });
  const metadata = {
    format: sd.format,
    optimizer: sd.optimizer,
    step: String(sd.step),
    max_grad_norm: String(sd.maxGradNorm),
    groups: JSON.stringify(sd.groups),
    params: JSON.stringify(params),
    // Steps that nonFinite 'skip' turned into no-ops: a counter the user reads, so it resumes too.
    ...(sd.skippedSteps !== undefined ? { skipped_steps: String(sd.skippedSteps) } : {}),
  };
  writeSafetensorsFile(file, encodeSafetensors(tensors, metadata));
}

/** The metadata keys saveStateDict always writes, besides the reader's checksum key. */
const METADATA_KEYS = ['format', 'optimizer', 'step', 'max_grad_norm', 'groups', 'params'];
/** Keys it writes when the state dict has them (files from before them still load). */
const OPTIONAL_METADATA_KEYS = ['skipped_steps'];

// How String(n) writes a step and a norm: nothing looser ("", "1e3" for a step, " 1", "0x10").
const INTEGER_TEXT = /^(0|[1-9]\d*)$/;
const NUMBER_TEXT = /^(0|[1-9]\d*)(\.\d+)?(e[+-]\d+)?$/;

/** Reads a checkpoint back into a state dict (checked on its own: layout, checksums, types, value domains). */
export function loadStateDictFile(file: string): OptimizerStateDict {
  checkPath(file);
  const { tensors, metadata } = readSafetensorsFile(file);
  const bad = (why: string): never => {
    throw new Error(`${file}: not a valid frugal-optim checkpoint: ${why}`);
  };
  for (const key of METADATA_KEYS) {
    if (!Object.prototype.hasOwnProperty.call(metadata, key)) bad(`metadata '${key}' is missing`);
  }
  // Only the keys saveStateDict writes (the checksum key was consumed by the reader): a damaged
  // key name must not turn the checksum off unnoticed.
  for (const key of Object.keys(metadata)) {
    if (!METADATA_KEYS.includes(key) && !OPTIONAL_METADATA_KEYS.includes(key)) {
      bad(`unknown metadata key ${JSON.stringify(key)} (expected ${[...METADATA_KEYS, ...OPTIONAL_METADATA_KEYS].join(', ')} and '${CHECKSUM_KEY}')`);
    }
  }
  const skipped = metadata.skipped_steps;
  if (skipped !== undefined && !INTEGER_TEXT.test(skipped)) {
    bad(`metadata 'skipped_steps' is ${JSON.stringify(skipped)}, expected a decimal integer >= 0`);
  }
  if (!INTEGER_TEXT.test(metadata.step)) bad(`metadata 'step' is ${JSON.stringify(metadata.step)}, expected a decimal integer >= 0`);
  if (!NUMBER_TEXT.test(metadata.max_grad_norm)) {
    bad(`metadata 'max_grad_norm' is ${JSON.stringify(metadata.max_grad_norm)}, expected a finite number >= 0`);
  }
  let groups: unknown;
  let params: unknown;
  try {
    groups = JSON.parse(metadata.groups);
  } catch (e) {
    return bad(`metadata 'groups' is not JSON: ${(e as Error).message}`);
  }
  try {
    params = JSON.parse(metadata.params);
  } catch (e) {
    return bad(`metadata 'params' is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(params)) return bad(`metadata 'params' must be a list, got ${describeValue(params)}`);
  const used = new Set<string>();
  const sd = {
    format: metadata.format,
    optimizer: metadata.optimizer,
    step: Number(metadata.step),
    maxGradNorm: Number(metadata.max_grad_norm),
    ...(skipped !== undefined ? { skippedSteps: Number(skipped) } : {}),
    groups: groups as OptimizerStateDict['groups'],
    params: params.map((p: unknown, i) => {
      if (typeof p !== 'object' || p === null) return bad(`param ${i}: expected an object, got ${describeValue(p)}`);
      const meta = p as Partial<ParamMeta>;
      if (!Array.isArray(meta.state)) return bad(`param ${i}: 'state' must be a list of tensors`);
      const state = meta.state.map((s: unknown) => {
        const entry = s as Partial<Omit<StateTensorData, 'data'>> | null;
        if (typeof entry !== 'object' || entry === null || typeof entry.name !== 'string') return bad(`param ${i}: a state tensor has no name`);
        const name = tensorName(i, entry.name);
        if (!DTYPES.includes(entry.dtype as DType) || !Number.isSafeInteger(entry.count) || (entry.count as number) < 0) {
          return bad(`tensor '${name}': the metadata needs a dtype (${DTYPES.join(', ')}) and a count >= 0`);
        }
        const dtype = entry.dtype as DType;
        const count = entry.count as number;
        const t: SafetensorsTensor | undefined = tensors.get(name);
        if (!t) return bad(`tensor '${name}' is missing`);
        if (t.dtype !== TO_FILE[dtype] || t.shape.length !== 1 || t.shape[0] !== count) {
          bad(`tensor '${name}' is ${t.dtype} [${t.shape}], the metadata says ${TO_FILE[dtype]} [${count}]`);
        }
        used.add(name);
        const data = stateArray(dtype, count);
        new Uint8Array(data.buffer).set(t.data);
        return { name: entry.name, dtype, count, data };
      });
      return { shape: meta.shape, counters: meta.counters, state } as ParamStateData;
    }),
  };
  for (const name of tensors.keys()) if (!used.has(name)) bad(`tensor '${name}' is not listed in metadata 'params'`);
  try {
    checkStateDictSelf(sd);
  } catch (e) {
    bad((e as Error).message);
  }
  return sd;
}
