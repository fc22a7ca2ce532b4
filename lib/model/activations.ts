// What the forward pass keeps for the backward, and the backward's scratch, for one (batch, seq)
// shape: allocated once under the 'activations' memory category and reused every step, so the
// activation bytes memoryStats reports are exactly what training holds.
import { Device } from '../device';
import { DeviceBuffer } from './buffers';
import { ModelConfig } from './config';

export interface LayerActivations {
  xin: DeviceBuffer; // residual stream entering the layer [N, h]
  rstd1: DeviceBuffer; // [N]
  h1: DeviceBuffer; // attention norm output [N, h]
  q: DeviceBuffer; // after rotary [N, h]
  k: DeviceBuffer; // after rotary [N, h]
  v: DeviceBuffer; // [N, h]
  attn: DeviceBuffer; // attention output before o_proj [N, h]
  lse: DeviceBuffer; // [batch, heads, seq]
  xmid: DeviceBuffer; // residual after attention [N, h]
  rstd2: DeviceBuffer; // [N]
  h2: DeviceBuffer; // MLP norm output [N, h]
  gate: DeviceBuffer; // [N, f]
  up: DeviceBuffer; // [N, f]
  act: DeviceBuffer; // silu(gate) * up [N, f]
}

export interface Activations {
  batch: number;
  seq: number;
  rows: number;
  ids: DeviceBuffer; // int32 [N]
  targets: DeviceBuffer; // int32 [N]
  layers: LayerActivations[];
  xfinal: DeviceBuffer; // [N, h]
  rstdF: DeviceBuffer; // [N]
  hF: DeviceBuffer; // [N, h]
  logits: DeviceBuffer; // [N, vocab]; the backward overwrites it with d logits
  losses: DeviceBuffer; // [N]
  // backward scratch
  dx: DeviceBuffer; // gradient of the residual stream [N, h]
  dh: DeviceBuffer; // [N, h]
  dq: DeviceBuffer; // [N, h]
  dk: DeviceBuffer; // [N, h]
  dv: DeviceBuffer; // [N, h]
  dAct: DeviceBuffer; // [N, f]
  dGate: DeviceBuffer; // [N, f]
  dUp: DeviceBuffer; // [N, f]
  gathered: DeviceBuffer; // compressed-gradient gathers [N, max(h, f)]
  all: DeviceBuffer[];
}

export function allocateActivations(cfg: ModelConfig, batch: number, seq: number, device: Device): Activations {
  const all: DeviceBuffer[] = [];
  const rows = batch * seq;
  const { hidden: h, intermediate: f } = cfg;
  const f32 = (count: number) => {
    const b = DeviceBuffer.f32(device, count, 'activations');
    all.push(b);
    return b;
  };
  try {
    const layers: LayerActivations[] = [];
    for (let l = 0; l < cfg.layers; l++) {
      layers.push({
        xin: f32(rows * h), rstd1: f32(rows), h1: f32(rows * h), q: f32(rows * h), k: f32(rows * h), v: f32(rows * h),
        attn: f32(rows * h), lse: f32(rows * cfg.heads), xmid: f32(rows * h), rstd2: f32(rows), h2: f32(rows * h),
        gate: f32(rows * f), up: f32(rows * f), act: f32(rows * f),
      });
    }
    return {
      batch, seq, rows,
      ids: f32(rows), targets: f32(rows), // int32: same size as float32
      layers,
      xfinal: f32(rows * h), rstdF: f32(rows), hF: f32(rows * h), logits: f32(rows * cfg.vocab), losses: f32(rows),
      dx: f32(rows * h), dh: f32(rows * h), dq: f32(rows * h), dk: f32(rows * h), dv: f32(rows * h),
      dAct: f32(rows * f), dGate: f32(rows * f), dUp: f32(rows * f), gathered: f32(rows * Math.max(h, f)),
      all,
    };
  } catch (e) {
    for (const b of all) b.free();
    throw e;
  }
}

export function freeActivations(a: Activations): void {
  for (const b of a.all) b.free();
}
