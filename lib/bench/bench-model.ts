// The tensors a step benchmark updates: every parameter of a LLaMA preset (projectable 2-D
// weights and regular embeddings, norms, LM head) with a random gradient, on one device.
import { Device } from '../device';
import { LlamaConfig, llamaParams, ParamSpec, presetConfig } from '../plan/llama-presets';
import { Tensor } from '../tensor';

export type BenchDtype = 'float32' | 'bfloat16';

export interface BenchModel {
  preset: string;
  dtype: BenchDtype;
  device: Device;
  specs: ParamSpec[];
  /** Same order as specs; each has .grad set. */
  tensors: Tensor[];
  projectable: Tensor[];
  regular: Tensor[];
  /** Bytes of all gradients (= of all weights: same dtype). */
  gradBytes: number;
  dispose(): void;
}

/** `preset`: a preset name, or a label with a config of its own (tests use tiny ones). */
export function buildBenchModel(preset: string | { label: string; config: LlamaConfig }, dtype: BenchDtype, device: Device,
  seed = 1): BenchModel {
  const specs = llamaParams(typeof preset === 'string' ? presetConfig(preset) : preset.config);
  const tensors: Tensor[] = [];
  try {
    specs.forEach((s, i) => {
      const t = Tensor.randn(s.shape, { dtype, device, seed: seed + 2 * i, std: 0.02 });
      tensors.push(t);
      t.grad = Tensor.randn(s.shape, { dtype, device, seed: seed + 2 * i + 1, std: 1e-3 });
    });
  } catch (e) {
    for (const t of tensors) {
      t.grad?.dispose();
      t.dispose();
    }
    throw e;
  }
  return {
    preset: typeof preset === 'string' ? preset : preset.label,
    dtype,
    device,
    specs,
    tensors,
    projectable: tensors.filter((_t, i) => specs[i].projectable),
    regular: tensors.filter((_t, i) => !specs[i].projectable),
    gradBytes: tensors.reduce((a, t) => a + t.nbytes, 0),
    dispose() {
      for (const t of tensors) {
        t.grad?.dispose();
        t.grad = null;
        t.dispose();
      }
    },
  };
}
