// An optimizer state dict as a safetensors file: each state tensor is "params.<i>.<name>", and the
// rest (format, optimizer, step, clipping, group options with steps and RNG words, per-param
// shapes, counters and selection sizes) is JSON in the "__metadata__" strings.
import { DType } from '../dtype';
import { OptimizerStateDict, ParamStateData, stateArray, StateTensorData } from '../optim/state-dict';
import {
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
  };
  writeSafetensorsFile(file, encodeSafetensors(tensors, metadata));
}

/** Reads a checkpoint back into a state dict; loadStateDict then checks it against the optimizer. */
export function loadStateDictFile(file: string): OptimizerStateDict {
  const { tensors, metadata } = readSafetensorsFile(file);
  const bad = (why: string): never => {
    throw new Error(`${file}: not a frugal-optim checkpoint: ${why}`);
  };
  for (const key of ['format', 'optimizer', 'step', 'max_grad_norm', 'groups', 'params']) {
    if (typeof metadata[key] !== 'string') bad(`metadata '${key}' is missing`);
  }
  let groups: OptimizerStateDict['groups'];
  let params: ParamMeta[];
  try {
    groups = JSON.parse(metadata.groups);
    params = JSON.parse(metadata.params);
  } catch (e) {
    return bad(`corrupt metadata: ${(e as Error).message}`);
  }
  if (!Array.isArray(params)) bad('metadata "params" is not a list');
  return {
    format: metadata.format,
    optimizer: metadata.optimizer,
    step: Number(metadata.step),
    maxGradNorm: Number(metadata.max_grad_norm),
    groups,
    params: params.map((p, i) => ({
      ...p,
      state: (Array.isArray(p.state) ? p.state : []).map((s) => {
        const name = tensorName(i, s.name);
        const t: SafetensorsTensor | undefined = tensors.get(name);
        if (!t) return bad(`tensor '${name}' is missing`);
        if (t.dtype !== TO_FILE[s.dtype] || t.shape.length !== 1 || t.shape[0] !== s.count) {
          bad(`tensor '${name}' is ${t.dtype} [${t.shape}], the metadata says ${s.dtype} [${s.count}]`);
        }
        const data = stateArray(s.dtype, s.count);
        new Uint8Array(data.buffer).set(t.data);
        return { ...s, data };
      }),
    })),
  };
}
