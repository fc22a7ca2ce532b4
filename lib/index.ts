// frugal-optim: memory-efficient LLM optimizers (FRUGAL, Grass, GaLore, BAdam, AdamW, SGD,
// signSGD) stepping tensors on the CPU or a CUDA GPU through a native core.
export { DType, DTYPES, dtypeSize } from './dtype';
export { Device, DeviceInfo, devices, cudaDeviceCount, cudaMathStatus, cudaUnavailableReason } from './device';
export { MemoryByCategory, MemoryStats, memoryStats, releaseWorkspace, resetPeakMemory } from './memory';
export { Stream, synchronize } from './stream';
export { setNumThreads, numThreads } from './threads';
export { Event } from './event';
export { Tensor, TensorOptions, RandnOptions, RandOptions, HostArray } from './tensor';
// The raw addon (lib/native.ts) is internal: its functions take raw pointers and cannot check
// them. Raw pointers enter only through the documented borrowing entry points
// (Tensor.fromDevicePointer, Tensor.fromArrayBuffer), which validate what can be validated.
import { native } from './native';
import { checkCudaBackendAtImport } from './missing-cuda';
export {
  GroupOptions,
  OptimizerOptions,
  ParamGroup,
  ParamGroupInput,
  SelectionContext,
  SelectionFunction,
  SelectionKind,
  SelectionName,
  SelectionResult,
} from './optim/options';
export { Optimizer, ParamsInput, StepOptions, StepAsyncOptions, ZeroGradOptions, GrassInfo } from './optim/optimizer';
export { OptimizerStateDict, StateTensorData, ParamStateData, GroupStateData } from './optim/state-dict';
export { AdamW, AdamWOptions, AdamWGroupOptions } from './optim/adamw';
export { SGD, SGDOptions, SGDGroupOptions } from './optim/sgd';
export { SignSGD, SignSGDOptions, SignSGDGroupOptions } from './optim/signsgd';
export { Frugal, FrugalOptions, FrugalGroupOptions } from './optim/frugal';
export { GaLore, GaLoreOptions, GaLoreGroupOptions } from './optim/galore';
export { BAdam, BAdamOptions, BAdamGroupOptions, BAdamParams } from './optim/badam';
export { Grass, GrassOptions, GrassGroupOptions } from './optim/grass';
export { Lion, LionOptions, LionGroupOptions } from './optim/lion';
export { LRLambda, LRScheduler, constant, cosineWithWarmup, linear } from './schedule';
export { encodeSafetensors, decodeSafetensors, SafetensorsTensor, SafetensorsDtype } from './checkpoint/safetensors';

/** The version of the native core. */
export function version(): string {
  return native().version();
}

// A GPU driver with an addon built without CUDA is worth a warning at import, not at first use;
// without a driver the addon stays unloaded until then.
checkCudaBackendAtImport(native);
