// A LLaMA-style decoder (token embedding, RMSNorm, rotary attention, SwiGLU MLP, untied LM head,
// cross-entropy) whose forward and backward are sequences of native model ops on device
// buffers. Weights are Tensors that the optimizers step; the backward writes each weight's
// gradient where its .grad points (or a compressed gradient, for Grass), unit by unit, with
// hooks around each unit so a trainer can step and free a layer as soon as its gradients exist.
import { Device, deviceOrdinal } from '../device';
import { DType, dtypeCode } from '../dtype';
import { native } from '../native';
import { Tensor } from '../tensor';
import { Activations, allocateActivations, freeActivations } from './activations';
import { checkModelConfig, ModelConfig, parameterCount } from './config';
import { AttentionShape, ModelOps, modelOps } from './native-ops';
import { disposeParams, initParams, ModelParams, NamedParam, namedParams } from './params';

const F32 = dtypeCode('float32');

/** Grass's compressed gradient of one weight: rho * G[sigma, :] (rows) or rho * G[:, sigma] (columns). */
export interface Compression {
  orientation: 'rows' | 'columns';
  indices: bigint; // int32 device array of `count` line indices
  scales: bigint | null; // float32 device array of `count` scales, or null for 1
  count: number;
  out: Tensor; // [count, n] for rows, [m, count] for columns
}

export interface BackwardHooks {
  /** Before a unit's gradients are written; units come as 'head', 'layer<L-1>' ... 'layer0', 'embed'. */
  beforeUnit?(unit: string, params: NamedParam[]): void;
  /** After every gradient of the unit is written (its params can be stepped and the gradients freed). */
  afterUnit?(unit: string, params: NamedParam[]): void;
  /** A projectable weight whose compressed gradient replaces the full one this step, or null. */
  compression?(param: Tensor): Compression | null;
}

export interface ModelOptions {
  device?: Device;
  dtype?: DType;
  seed?: number;
}

export class LlamaModel {
  readonly config: ModelConfig;
  readonly device: Device;
  readonly dtype: DType;
  readonly params: ModelParams;
  /** Every parameter in PyTorch's named_parameters() order. */
  readonly named: NamedParam[];
  private acts: Activations | null = null;
  private readonly ord: number;
  private readonly ops: ModelOps;
  private pendingBackward = false;

  constructor(config: ModelConfig, options: ModelOptions = {}) {
    checkModelConfig(config);
    this.config = config;
    this.device = options.device ?? 'cpu';
    this.dtype = options.dtype ?? 'float32';
    if (this.dtype !== 'float32' && this.dtype !== 'bfloat16') {
      throw new Error(`model: dtype must be 'float32' or 'bfloat16', got '${this.dtype}'`);
    }
    this.ord = deviceOrdinal(this.device);
    this.ops = modelOps();
    this.params = initParams(config, options.seed ?? 0, this.device, this.dtype);
    this.named = namedParams(this.params);
  }

  get parameterCount(): { total: number; projectable: number } {
    return parameterCount(this.config);
  }

  /** Bytes of the weights. */
  get weightBytes(): number {
    return this.named.reduce((s, p) => s + p.tensor.nbytes, 0);
  }

  /** Bytes held for activations and backward scratch (0 before the first forward). */
  get activationBytes(): number {
    return this.acts ? this.acts.all.reduce((s, b) => s + b.bytes, 0) : 0;
  }

  /** Named params of one unit ('embed', 'layer<i>', 'head'). */
  unitParams(unit: string): NamedParam[] {
    return this.named.filter((p) => p.unit === unit);
  }

  /** Units in backward order. */
  get backwardUnits(): string[] {
    const units = ['head'];
    for (let l = this.config.layers - 1; l >= 0; l--) units.push(`layer${l}`);
    units.push('embed');
    return units;
  }

  /**
   * Forward pass on `batch` sequences of `seq` tokens (ids and targets row-major, batch * seq
   * each); returns the mean cross-entropy. With `train`, keeps what the backward needs and
   * leaves d loss / d logits in place of the logits.
   */
  forward(ids: Int32Array, targets: Int32Array, batch: number, seq: number, train = true): number {
    const rows = batch * seq;
    if (ids.length !== rows || targets.length !== rows) {
      throw new RangeError(`model.forward: expected ${rows} ids and targets (batch ${batch} x seq ${seq}), got ${ids.length} and ${targets.length}`);
    }
    const a = this.activations(batch, seq);
    const o = this.ops;
    const d = this.ord;
    const { hidden: h, intermediate: f, vocab: v } = this.config;
    const n = native();
    n.copyFromHost(a.ids.ptr, d, ids, 0, ids.byteLength, null);
    n.copyFromHost(a.targets.ptr, d, targets, 0, targets.byteLength, null);
    const P = this.params;
    const shape = this.attentionShape(batch, seq);

    o.embeddingForward(d, a.ids.ptr, rows, P.embed.dataPtr, dtypeCode(P.embed.dtype), v, h, a.layers.length ? a.layers[0].xin.ptr : a.xfinal.ptr);
    for (let l = 0; l < this.config.layers; l++) {
      const L = a.layers[l];
      const W = P.layers[l];
      const next = l + 1 < this.config.layers ? a.layers[l + 1].xin : a.xfinal;
      o.rmsnormForward(d, L.xin.ptr, W.attnNorm.dataPtr, dtypeCode(W.attnNorm.dtype), L.h1.ptr, L.rstd1.ptr, rows, h, this.config.normEps);
      this.linear(L.h1.ptr, W.wq, L.q.ptr, rows, 0);
      this.linear(L.h1.ptr, W.wk, L.k.ptr, rows, 0);
      this.linear(L.h1.ptr, W.wv, L.v.ptr, rows, 0);
      o.rope(d, L.q.ptr, shape, this.config.ropeTheta, false);
      o.rope(d, L.k.ptr, shape, this.config.ropeTheta, false);
      o.attentionForward(d, L.q.ptr, L.k.ptr, L.v.ptr, L.attn.ptr, L.lse.ptr, shape);
      n.copy(L.xmid.ptr, d, L.xin.ptr, d, rows * h * 4, null);
      this.linear(L.attn.ptr, W.wo, L.xmid.ptr, rows, 1);
      o.rmsnormForward(d, L.xmid.ptr, W.mlpNorm.dataPtr, dtypeCode(W.mlpNorm.dtype), L.h2.ptr, L.rstd2.ptr, rows, h, this.config.normEps);
      this.linear(L.h2.ptr, W.wGate, L.gate.ptr, rows, 0);
      this.linear(L.h2.ptr, W.wUp, L.up.ptr, rows, 0);
      o.swigluForward(d, L.gate.ptr, L.up.ptr, L.act.ptr, rows * f);
      n.copy(next.ptr, d, L.xmid.ptr, d, rows * h * 4, null);
      this.linear(L.act.ptr, W.wDown, next.ptr, rows, 1);
    }
    o.rmsnormForward(d, a.xfinal.ptr, P.finalNorm.dataPtr, dtypeCode(P.finalNorm.dtype), a.hF.ptr, a.rstdF.ptr, rows, h, this.config.normEps);
    this.linear(a.hF.ptr, P.lmHead, a.logits.ptr, rows, 0);

    const counted = countTargets(targets);
    const scale = counted > 0 ? 1 / counted : 0;
    o.crossEntropy(d, a.logits.ptr, a.targets.ptr, rows, v, a.losses.ptr, train ? a.logits.ptr : null, scale);
    this.pendingBackward = train;
    const losses = new Float32Array(rows);
    n.copyToHost(losses, 0, a.losses.ptr, d, rows * 4, null);
    let sum = 0;
    for (let i = 0; i < rows; i++) sum += losses[i];
    return counted > 0 ? sum / counted : 0;
  }

  /** Mean loss without keeping anything for a backward. */
  evaluate(ids: Int32Array, targets: Int32Array, batch: number, seq: number): number {
    return this.forward(ids, targets, batch, seq, false);
  }

  /**
   * Backward of the last training forward: writes every weight's gradient into its .grad (or
   * its compressed gradient, when hooks.compression says so), overwriting what was there.
   */
  backward(hooks: BackwardHooks = {}): void {
    if (!this.pendingBackward || !this.acts) throw new Error('model.backward: call forward(..., train = true) first');
    this.pendingBackward = false;
    const a = this.acts;
    const o = this.ops;
    const d = this.ord;
    const rows = a.rows;
    const { hidden: h, intermediate: f } = this.config;
    const P = this.params;
    const shape = this.attentionShape(a.batch, a.seq);
    const unit = (name: string, body: () => void) => {
      const params = this.unitParams(name);
      hooks.beforeUnit?.(name, params);
      body();
      hooks.afterUnit?.(name, params);
    };

    unit('head', () => {
      // a.logits now holds d loss / d logits.
      this.linearInputGrad(a.logits.ptr, P.lmHead, a.dh.ptr, rows, 0);
      this.weightGrad(P.lmHead, a.logits.ptr, a.hF.ptr, rows, hooks);
      o.rmsnormBackward(d, a.xfinal.ptr, P.finalNorm.dataPtr, dtypeCode(P.finalNorm.dtype), a.rstdF.ptr, a.dh.ptr, a.dx.ptr, false,
        gradPtr(P.finalNorm), dtypeCode(P.finalNorm.dtype), false, rows, h);
    });

    for (let l = this.config.layers - 1; l >= 0; l--) {
      unit(`layer${l}`, () => {
        const L = a.layers[l];
        const W = P.layers[l];
        // MLP: x_next = xmid + act W_down^T; a.dx holds d x_next.
        this.linearInputGrad(a.dx.ptr, W.wDown, a.dAct.ptr, rows, 0);
        this.weightGrad(W.wDown, a.dx.ptr, L.act.ptr, rows, hooks);
        o.swigluBackward(d, L.gate.ptr, L.up.ptr, a.dAct.ptr, a.dGate.ptr, a.dUp.ptr, rows * f);
        this.linearInputGrad(a.dGate.ptr, W.wGate, a.dh.ptr, rows, 0);
        this.linearInputGrad(a.dUp.ptr, W.wUp, a.dh.ptr, rows, 1);
        this.weightGrad(W.wGate, a.dGate.ptr, L.h2.ptr, rows, hooks);
        this.weightGrad(W.wUp, a.dUp.ptr, L.h2.ptr, rows, hooks);
        o.rmsnormBackward(d, L.xmid.ptr, W.mlpNorm.dataPtr, dtypeCode(W.mlpNorm.dtype), L.rstd2.ptr, a.dh.ptr, a.dx.ptr, true,
          gradPtr(W.mlpNorm), dtypeCode(W.mlpNorm.dtype), false, rows, h);
        // Attention: xmid = xin + attn W_o^T; a.dx holds d xmid.
        this.linearInputGrad(a.dx.ptr, W.wo, a.dh.ptr, rows, 0);
        this.weightGrad(W.wo, a.dx.ptr, L.attn.ptr, rows, hooks);
        o.attentionBackward(d, L.q.ptr, L.k.ptr, L.v.ptr, L.attn.ptr, L.lse.ptr, a.dh.ptr, a.dq.ptr, a.dk.ptr, a.dv.ptr, shape);
        // Gradients w.r.t. q, k before the rotation: rotate back.
        o.rope(d, a.dq.ptr, shape, this.config.ropeTheta, true);
        o.rope(d, a.dk.ptr, shape, this.config.ropeTheta, true);
        this.linearInputGrad(a.dq.ptr, W.wq, a.dh.ptr, rows, 0);
        this.linearInputGrad(a.dk.ptr, W.wk, a.dh.ptr, rows, 1);
        this.linearInputGrad(a.dv.ptr, W.wv, a.dh.ptr, rows, 1);
        this.weightGrad(W.wq, a.dq.ptr, L.h1.ptr, rows, hooks);
        this.weightGrad(W.wk, a.dk.ptr, L.h1.ptr, rows, hooks);
        this.weightGrad(W.wv, a.dv.ptr, L.h1.ptr, rows, hooks);
        o.rmsnormBackward(d, L.xin.ptr, W.attnNorm.dataPtr, dtypeCode(W.attnNorm.dtype), L.rstd1.ptr, a.dh.ptr, a.dx.ptr, true,
          gradPtr(W.attnNorm), dtypeCode(W.attnNorm.dtype), false, rows, h);
      });
    }

    unit('embed', () => {
      o.embeddingBackward(d, a.ids.ptr, rows, a.dx.ptr, gradPtr(P.embed), dtypeCode(P.embed.dtype), this.config.vocab, h, false);
    });
  }

  /** Frees the weights and activations. */
  dispose(): void {
    this.releaseActivations();
    disposeParams(this.params);
  }

  /** Frees the activation buffers (they are re-allocated by the next forward). */
  releaseActivations(): void {
    if (this.acts) freeActivations(this.acts);
    this.acts = null;
    this.pendingBackward = false;
  }

  // ---- pieces ----

  private activations(batch: number, seq: number): Activations {
    if (this.acts && (this.acts.batch !== batch || this.acts.seq !== seq)) this.releaseActivations();
    this.acts ??= allocateActivations(this.config, batch, seq, this.device);
    return this.acts;
  }

  private attentionShape(batch: number, seq: number): AttentionShape {
    const { heads, hidden } = this.config;
    return { batch, seq, heads, headDim: hidden / heads };
  }

  // y (+)= x W^T for W [out, in], x [rows, in], y [rows, out].
  private linear(x: bigint, w: Tensor, y: bigint, rows: number, beta: number): void {
    const [out, inp] = w.shape;
    this.ops.gemm(this.ord, false, true, rows, out, inp, 1, x, F32, inp, w.dataPtr, dtypeCode(w.dtype), inp, beta, y, F32, out);
  }

  // dx (+)= dy W for W [out, in], dy [rows, out], dx [rows, in].
  private linearInputGrad(dy: bigint, w: Tensor, dx: bigint, rows: number, beta: number): void {
    const [out, inp] = w.shape;
    this.ops.gemm(this.ord, false, false, rows, inp, out, 1, dy, F32, out, w.dataPtr, dtypeCode(w.dtype), inp, beta, dx, F32, inp);
  }

  // dW = dy^T x, or its compressed form: rows sigma, Gc = (rho * dy[:, sigma])^T x; columns sigma,
  // Gc = dy^T (rho * x[:, sigma]). The m x n gradient is never formed for a compressed weight.
  private weightGrad(w: Tensor, dy: bigint, x: bigint, rows: number, hooks: BackwardHooks): void {
    const [m, n] = w.shape;
    const c = hooks.compression?.(w) ?? null;
    const o = this.ops;
    const d = this.ord;
    if (c) {
      const g = this.acts!.gathered.ptr;
      const out = c.out;
      const dt = dtypeCode(out.dtype);
      if (c.orientation === 'rows') {
        o.gatherColumns(d, dy, rows, m, c.indices, c.scales, c.count, g);
        o.gemm(d, true, false, c.count, n, rows, 1, g, F32, c.count, x, F32, n, 0, out.dataPtr, dt, n);
      } else {
        o.gatherColumns(d, x, rows, n, c.indices, c.scales, c.count, g);
        o.gemm(d, true, false, m, c.count, rows, 1, dy, F32, m, g, F32, c.count, 0, out.dataPtr, dt, c.count);
      }
      return;
    }
    const grad = w.grad;
    if (!grad) throw new Error('model.backward: a weight has no .grad to write into');
    o.gemm(d, true, false, m, n, rows, 1, dy, F32, m, x, F32, n, 0, grad.dataPtr, dtypeCode(grad.dtype), n);
  }
}

function gradPtr(t: Tensor): bigint {
  if (!t.grad) throw new Error('model.backward: a weight has no .grad to write into');
  return t.grad.dataPtr;
}

function countTargets(targets: Int32Array): number {
  let c = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i] >= 0) c++;
  return c;
}

