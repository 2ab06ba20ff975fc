/**
 * GRUCell: the gated recurrent unit of Cho et al. (2014), forward and backward side by side.
 *
 *   r_t = σ(W_ir x_t + b_ir + W_hr h_{t−1} + b_hr)                  reset gate
 *   z_t = σ(W_iz x_t + b_iz + W_hz h_{t−1} + b_hz)                  update gate
 *   n_t = tanh(W_in x_t + b_in + W_hn (r_t ⊙ h_{t−1}) + b_hn)       candidate, reset BEFORE the product
 *   h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ n_t                           z weights the NEW candidate
 *
 * With `resetAfter: true` (cuDNN, PyTorch, Keras 2):
 *   n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t−1} + b_hn))
 *
 * Gate blocks in the weights are r, z, n (PyTorch's order). PyTorch's nn.GRU is the resetAfter
 * form with h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}; its z rows are the negation of ours (σ(−a) = 1 − σ(a)).
 */
import { gemmTN, gruGatesOnWasm, gruStepOnWasm } from '../kernels/backend.js';
import { addColumnSums, addSums, columnSums } from '../kernels/rows.js';
import { sigmoid, tanh } from '../kernels/activations.js';
import { checkConfig, checkOptionalBoolean, snapshot } from '../core/validate.js';
import { inferCellSizes } from './pytorch.js';
import {
  addPrefix, prefixedName, readPrefix, selectPrefix, snapshotTensorDict, type LoadStateDictOptions, type TensorInput,
} from '../core/tensor-input.js';
import { RecurrentCell, type CellOptions } from './cell.js';
import type { GRUState } from './state.js';
import type { CellTape } from './tape.js';
import { gemmW, gemmWBackward } from './weights.js';

/** Options of `new GRUCell(...)`. */
export interface GRUCellOptions extends CellOptions {
  /**
   * false (default): reset applied to h before the candidate's recurrent product (Cho et al.).
   * true: reset applied after it, n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)) (PyTorch's form).
   */
  resetAfter?: boolean;
}

/** A GRUCell's configuration: what `config()` returns and a saved model stores. */
export interface GRUCellConfig { kind: 'GRUCell'; inputSize: number; hiddenSize: number; bias: boolean; resetAfter: boolean }

/**
 * A gated recurrent unit. State {h}, [batch, H]. With resetAfter: true it is PyTorch's nn.GRUCell
 * (see fromPyTorch); with resetAfter: false (the default) no PyTorch module computes it, and its
 * state dict keys end in `_reset_before` so that nn.GRUCell never loads them.
 *
 * ```ts
 * const gru = new GRUCell({ inputSize: 3, hiddenSize: 16, resetAfter: false });
 * const s = gru.forward(x, gru.initialState(batch), batch);
 * const { dx, dState } = gru.backward(s, { h: dh });
 * ```
 */
export class GRUCell extends RecurrentCell<GRUState> {
  /** Which candidate form the cell computes; see GRUCellOptions.resetAfter. */
  readonly resetAfter: boolean;

  /** The kind saved models store for this class. */
  static readonly kind = 'GRUCell' as const;

  constructor(options: GRUCellOptions) {
    super(options, 3, 'GRUCell');
    this.resetAfter = checkOptionalBoolean('resetAfter', snapshot('GRUCell options', options, ['resetAfter']).resetAfter, false);
  }

  /** The cell's configuration, a new plain object: `GRUCell.fromConfig` builds a cell like it. */
  config(): GRUCellConfig {
    return { kind: GRUCell.kind, inputSize: this.inputSize, hiddenSize: this.hiddenSize, bias: this.bias, resetAfter: this.resetAfter };
  }

  /**
   * A cell of this configuration with freshly initialised weights (seed 0; load trained ones
   * with loadStateDict). Throws on a configuration of another kind, or a missing or bad field.
   */
  static fromConfig(config: GRUCellConfig): GRUCell {
    const { inputSize, hiddenSize, bias, resetAfter } = checkConfig(config, GRUCell.kind, ['inputSize', 'hiddenSize', 'bias', 'resetAfter']) as unknown as typeof config;
    return new GRUCell({ inputSize, hiddenSize, bias, resetAfter });
  }

  /**
   * A GRUCell computing exactly what a PyTorch `nn.GRUCell` with this state dict computes (keys
   * weight_ih [3H, I], weight_hh [3H, H], bias_ih, bias_hh [3H], after `options.prefix` when
   * given; other keys are ignored): `resetAfter: true`, and the z-gate rows negated, since
   * PyTorch's h' = (1 − z')⊙n + z'⊙h and σ(−a) = 1 − σ(a). stateDict() and gradDict() negate
   * them back.
   */
  static fromPyTorch(stateDict: Record<string, TensorInput>, options?: LoadStateDictOptions): GRUCell {
    const prefix = readPrefix('GRUCell.fromPyTorch options', options);
    // Keys and values read once: what is checked is what is loaded.
    const sd = snapshotTensorDict(prefixedName('stateDict', prefix), selectPrefix('stateDict', stateDict, prefix));
    const cell = new GRUCell({ ...inferCellSizes(prefixedName('stateDict', prefix), sd, 3, ''), resetAfter: true });
    cell.loadStateDict(addPrefix(sd, prefix), { prefix });
    return cell;
  }

  /** @internal PyTorch computes only the resetAfter form. */
  override pytorchExpressible(): boolean {
    return this.resetAfter;
  }

  /**
   * Reset before the product: every bias sits outside the reset, so b_ih + b_hh folds whole.
   * resetAfter: b_hn is multiplied by r, so only the r and z blocks of b_hh fold; b_hn is added to
   * W_hn·h separately.
   */
  /** @internal resetAfter with biases: b_hh [3H] (its b_hn block is added inside the reset). */
  override stepVectorSource(): Float32Array | null {
    return this.resetAfter && this.bias ? this.params.biasHh! : null;
  }

  protected foldBias(out: Float32Array): void {
    const bi = this.params.biasIh!, bh = this.params.biasHh!;
    const folded = this.resetAfter ? 2 * this.hiddenSize : out.length;
    for (let j = 0; j < out.length; j++) out[j] = j < folded ? bi[j]! + bh[j]! : bi[j]!;
  }

  /** @internal */
  forwardStep(tape: CellTape, t: number): void {
    const B = tape.batch, H = this.hiddenSize, G3 = 3 * H, rows = tape.batchSizes[t]!;
    const gOff = t * B * G3, sPrev = t * B * H;
    // On wasm with a runner's tape the whole step below is one call (wasmGruStep): same bits.
    if (gruStepOnWasm(tape, t, tape.weightHh, this.resetAfter, this.resetAfter && this.bias ? tape.stepVector : null)) return;
    // gates[t][:, 0:2H] += h_{t−1} · W_h{r,z}ᵀ
    gemmW(tape.gates, gOff, G3, tape.h, sPrev, H, tape.weightHh, 0, rows, 2 * H, true);
    if (this.resetAfter) {
      // hh [rows, H] = h_{t−1} · W_hnᵀ (r multiplies it, so it cannot go onto the gates)
      gemmW(tape.hh, 0, H, tape.h, sPrev, H, tape.weightHh, 2 * H, rows, H, false);
      const biasHh = this.bias ? tape.stepVector : null;   // b_hh as of prepareWeights
      if (!gruGatesOnWasm(tape, t, 'resetAfter', biasHh)) gruResetAfterForward(tape, t, biasHh);
    } else {
      // r, z ; aux = r ⊙ h_{t−1} ; gates[t][:, 2H:3H] += (r ⊙ h_{t−1}) · W_hnᵀ ; n ; h_t
      if (!gruGatesOnWasm(tape, t, 'reset', null)) gruResetForward(tape, t);
      gemmW(tape.gates, gOff + 2 * H, G3, tape.aux, sPrev, H, tape.weightHh, 2 * H, rows, H, true);
      if (!gruGatesOnWasm(tape, t, 'candidate', null)) gruCandidateForward(tape, t);
    }
  }

  /** @internal */
  backwardStep(tape: CellTape, t: number): void {
    const B = tape.batch, H = this.hiddenSize, G3 = 3 * H, rows = tape.batchSizes[t]!;
    const gOff = t * B * G3, sPrev = t * B * H, dPrev = (t & 1) * B * H;
    const W = tape.weightHh;
    if (this.resetAfter) {
      gruResetAfterBackward(tape, t);
      // dh_{t−1} += [dr, dz]·W_h{r,z} + d(W_hn h)·W_hn   (d(W_hn h) is in aux)
      gemmWBackward(tape.dh, dPrev, H, tape.gates, gOff, G3, W, 0, rows, 2 * H, true);
      gemmWBackward(tape.dh, dPrev, H, tape.aux, sPrev, H, W, 2 * H, rows, H, true);
    } else {
      gruCandidateBackward(tape, t);
      // dTemp = d(r ⊙ h_{t−1}) [rows, H] = dn_pre [rows, H] · W_hn [H, H]
      gemmWBackward(tape.dTemp, 0, H, tape.gates, gOff + 2 * H, G3, W, 2 * H, rows, H, false);
      gruResetBackward(tape, t);
      // dh_{t−1} += [dr, dz] · W_h{r,z}
      gemmWBackward(tape.dh, dPrev, H, tape.gates, gOff, G3, W, 0, rows, 2 * H, true);
    }
  }

  /** @internal */
  accumulateParamGrads(tape: CellTape): void {
    const rows = tape.steps * tape.batch, H = this.hiddenSize, I = this.inputSize, G3 = 3 * H;
    const g = this.grads;
    // dW_ih [3H, I] += Σ_rows dGatesᵀ · x
    gemmTN(g.weightIh, 0, I, tape.gates, 0, G3, tape.x, 0, I, G3, I, rows, true);
    // dW_h{r,z} [2H, H] += Σ_rows d{r,z}ᵀ · h_{t−1}
    gemmTN(g.weightHh, 0, H, tape.gates, 0, G3, tape.h, 0, H, 2 * H, H, rows, true);
    if (this.resetAfter) {
      // dW_hn += Σ d(W_hn h)ᵀ · h_{t−1}; db_hn = Σ d(W_hn h)
      gemmTN(g.weightHh, 2 * H * H, H, tape.aux, 0, H, tape.h, 0, H, H, H, rows, true);
    } else {
      // dW_hn += Σ dn_preᵀ · (r ⊙ h_{t−1})
      gemmTN(g.weightHh, 2 * H * H, H, tape.gates, 2 * H, G3, tape.aux, 0, H, H, H, rows, true);
    }
    if (this.bias) {
      // db_ih += Σ dGates; db_hh += the same sums (resetAfter: its r, z blocks; db_hn = Σ d(W_hn h))
      const s = columnSums(tape.gates, 0, G3, rows, G3);
      addSums(g.biasIh!, s, G3);
      if (this.resetAfter) {
        addSums(g.biasHh!, s, 2 * H);
        addColumnSums(g.biasHh!.subarray(2 * H), tape.aux, 0, H, rows, H);
      } else {
        addSums(g.biasHh!, s, G3);
      }
    }
  }
}

// ---- Reset before the recurrent product (resetAfter: false) ----

/**
 * r, z of step t, rows 0 … batchSizes[t] − 1. gates[t][:, 0:2H] holds x·W_i{r,z}ᵀ + h_{t−1}·W_h{r,z}ᵀ;
 * foldedBias [3H] is b_ih + b_hh. Writes r, z over gates and aux[t] = r ⊙ h_{t−1} [B, H].
 */
export function gruResetForward(tape: CellTape, t: number): void {
  const B = tape.batch, H = tape.hiddenSize, G3 = 3 * H, rows = tape.batchSizes[t]!;
  const { gates, aux: rh, h, foldedBias: bias } = tape;
  const gOff = t * B * G3, sPrev = t * B * H;
  for (let b = 0; b < rows; b++) {
    const g = gOff + b * G3, s = sPrev + b * H;
    for (let j = 0; j < H; j++) {
      const r = sigmoid(gates[g + j]! + bias[j]!);
      const z = sigmoid(gates[g + H + j]! + bias[H + j]!);
      gates[g + j] = r;
      gates[g + H + j] = z;
      rh[s + j] = r * h[s + j]!;
    }
  }
}

/**
 * n and h_t of step t. gates[t][:, 2H:3H] holds x·W_inᵀ + (r ⊙ h_{t−1})·W_hnᵀ.
 *   n = tanh(that + b_in + b_hn)     h_t = (1 − z) ⊙ h_{t−1} + z ⊙ n
 */
export function gruCandidateForward(tape: CellTape, t: number): void {
  const B = tape.batch, H = tape.hiddenSize, G3 = 3 * H, rows = tape.batchSizes[t]!;
  const { gates, h, foldedBias: bias } = tape;
  const gOff = t * B * G3, sPrev = t * B * H, sNext = sPrev + B * H;
  for (let b = 0; b < rows; b++) {
    const g = gOff + b * G3, sp = sPrev + b * H, sn = sNext + b * H;
    for (let j = 0; j < H; j++) {
      const n = tanh(gates[g + 2 * H + j]! + bias[2 * H + j]!);
      gates[g + 2 * H + j] = n;
      const z = gates[g + H + j]!, hp = h[sp + j]!;
      h[sn + j] = (1 - z) * hp + z * n;
    }
  }
}

/**
 * Backward of gruCandidateForward. From dh (block (t+1) & 1): dn_pre over the n block of
 * gates[t], dz_pre over the z block, and the direct term dh_{t−1} = dh ⊙ (1 − z) (block t & 1).
 *   dn_pre = dh ⊙ z ⊙ (1 − n²)     dz_pre = dh ⊙ (n − h_{t−1}) ⊙ z(1 − z)
 */
export function gruCandidateBackward(tape: CellTape, t: number): void {
  const B = tape.batch, H = tape.hiddenSize, G3 = 3 * H, rows = tape.batchSizes[t]!;
  const { gates, h, dh } = tape;
  const gOff = t * B * G3, sPrev = t * B * H;
  const next = ((t + 1) & 1) * B * H, prev = (t & 1) * B * H;
  for (let b = 0; b < rows; b++) {
    const g = gOff + b * G3, s = b * H, sp = sPrev + s;
    for (let j = 0; j < H; j++) {
      const z = gates[g + H + j]!, n = gates[g + 2 * H + j]!, d = dh[next + s + j]!;
      gates[g + 2 * H + j] = d * z * (1 - n * n);
      gates[g + H + j] = d * (n - h[sp + j]!) * z * (1 - z);
      dh[prev + s + j] = d * (1 - z);
    }
  }
}

/**
 * Backward of gruResetForward's r ⊙ h_{t−1}, with tape.dTemp [B, H] = d(r ⊙ h_{t−1}) = dn_pre · W_hn.
 * Turns the r block of gates[t] (r) into dr_pre = dTemp ⊙ h_{t−1} ⊙ r(1−r) and adds dTemp ⊙ r to
 * dh_{t−1} (block t & 1).
 */
export function gruResetBackward(tape: CellTape, t: number): void {
  const B = tape.batch, H = tape.hiddenSize, G3 = 3 * H, rows = tape.batchSizes[t]!;
  const { gates, h, dh, dTemp: dRh } = tape;
  const gOff = t * B * G3, sPrev = t * B * H, prev = (t & 1) * B * H;
  for (let b = 0; b < rows; b++) {
    const g = gOff + b * G3, s = b * H, sp = sPrev + s;
    for (let j = 0; j < H; j++) {
      const r = gates[g + j]!, drh = dRh[s + j]!;
      gates[g + j] = drh * h[sp + j]! * r * (1 - r);
      dh[prev + s + j] += drh * r;
    }
  }
}

// ---- resetAfter form (reset applied to W_hn h + b_hn) ----

/**
 * Step t of the resetAfter form, rows 0 … batchSizes[t] − 1. gates[t] [B, 3H] holds x·W_ihᵀ, plus
 * h_{t−1}·W_h{r,z}ᵀ in the r and z blocks; tape.hh [B, H] = h_{t−1}·W_hnᵀ; foldedBias [3H] is
 * b_ih + [b_hr, b_hz, 0]; biasHh (null without biases) supplies b_hn. Writes r, z, n over gates,
 * hn = W_hn h_{t−1} + b_hn into aux[t], and h_t.
 *   n = tanh(x_n + r ⊙ hn)     h_t = (1 − z) ⊙ h_{t−1} + z ⊙ n
 */
export function gruResetAfterForward(tape: CellTape, t: number, biasHh: Float32Array | null): void {
  const B = tape.batch, H = tape.hiddenSize, G3 = 3 * H, rows = tape.batchSizes[t]!;
  const { gates, aux: hn, h, hh, foldedBias: bias } = tape;
  const gOff = t * B * G3, sPrev = t * B * H, sNext = sPrev + B * H;
  for (let b = 0; b < rows; b++) {
    const g = gOff + b * G3, s = b * H, sp = sPrev + s, sn = sNext + s;
    for (let j = 0; j < H; j++) {
      const r = sigmoid(gates[g + j]! + bias[j]!);
      const z = sigmoid(gates[g + H + j]! + bias[H + j]!);
      const hnj = Math.fround(hh[s + j]! + (biasHh === null ? 0 : biasHh[2 * H + j]!));
      const n = tanh(gates[g + 2 * H + j]! + bias[2 * H + j]! + r * hnj);
      gates[g + j] = r; gates[g + H + j] = z; gates[g + 2 * H + j] = n;
      hn[sp + j] = hnj;
      const hp = h[sp + j]!;
      h[sn + j] = (1 - z) * hp + z * n;
    }
  }
}

/**
 * Backward of gruResetAfterForward. From dh (block (t+1) & 1): writes [dr_pre, dz_pre, dn_pre]
 * over gates[t], d(hn) = dn_pre ⊙ r over aux[t] (the gradient of W_hn h_{t−1} + b_hn), and the
 * direct dh_{t−1} = dh ⊙ (1 − z) (block t & 1).
 *   dn_pre = dh ⊙ z ⊙ (1 − n²)   dz_pre = dh ⊙ (n − h_{t−1}) ⊙ z(1 − z)   dr_pre = dn_pre ⊙ hn ⊙ r(1 − r)
 */
export function gruResetAfterBackward(tape: CellTape, t: number): void {
  const B = tape.batch, H = tape.hiddenSize, G3 = 3 * H, rows = tape.batchSizes[t]!;
  const { gates, aux: hn, h, dh } = tape;
  const gOff = t * B * G3, sPrev = t * B * H;
  const next = ((t + 1) & 1) * B * H, prev = (t & 1) * B * H;
  for (let b = 0; b < rows; b++) {
    const g = gOff + b * G3, s = b * H, sp = sPrev + s;
    for (let j = 0; j < H; j++) {
      const r = gates[g + j]!, z = gates[g + H + j]!, n = gates[g + 2 * H + j]!;
      const d = dh[next + s + j]!, hnj = hn[sp + j]!;
      const dn = d * z * (1 - n * n);
      gates[g + j] = dn * hnj * r * (1 - r);
      gates[g + H + j] = d * (n - h[sp + j]!) * z * (1 - z);
      gates[g + 2 * H + j] = dn;
      hn[sp + j] = dn * r;
      dh[prev + s + j] = d * (1 - z);
    }
  }
}
