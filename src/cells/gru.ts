/**
 * GRUCell: the seed's GRU, forward and backward side by side.
 *
 *   r_t = σ(W_ir x_t + b_ir + W_hr h_{t−1} + b_hr)                  reset gate
 *   z_t = σ(W_iz x_t + b_iz + W_hz h_{t−1} + b_hz)                  update gate
 *   n_t = tanh(W_in x_t + b_in + W_hn (r_t ⊙ h_{t−1}) + b_hn)       candidate, reset BEFORE the matmul
 *   h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ n_t                           z weights the NEW candidate
 *
 * With `resetAfter: true` (cuDNN, PyTorch, Keras 2):
 *   n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t−1} + b_hn))
 *
 * Gate blocks in the weights are r, z, n (PyTorch's order). PyTorch's nn.GRU is the resetAfter
 * form with h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}; its z rows are the negation of ours (σ(−a) = 1 − σ(a)).
 */
import { gemmNN, gemmTN } from '../kernels/gemm.js';
import { addColumnSums } from '../kernels/rows.js';
import { sigmoid, tanh } from '../kernels/activations.js';
import { checkConfig, checkObject, checkOptionalBoolean } from '../core/validate.js';
import type { TensorInput } from '../core/tensor-input.js';
import { inferCellSizes } from '../interop/pytorch.js';
import { RecurrentCell, type CellOptions, type GRUState } from './cell.js';
import type { CellTape } from './tape.js';

/** Options of `new GRUCell(...)`. */
export interface GRUCellOptions extends CellOptions {
  /**
   * false (default): the seed's GRU, reset applied to h before the candidate's recurrent matmul.
   * true: reset applied after it, n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)).
   */
  resetAfter?: boolean;
}

/** A GRUCell's configuration: what `config()` returns and a saved model stores. */
export interface GRUCellConfig { kind: 'GRUCell'; inputSize: number; hiddenSize: number; bias: boolean; resetAfter: boolean }

/**
 * A gated recurrent unit. State {h}, [batch, H].
 *
 * ```ts
 * const gru = new GRUCell({ inputSize: 3, hiddenSize: 16, resetAfter: false });
 * const s = gru.forward(x, gru.initialState(batch), batch);
 * const { dx, dState } = gru.backward(s, { h: dh });
 * ```
 */
export class GRUCell extends RecurrentCell<GRUState> {
  readonly gateCount = 3;
  readonly hasCellState = false;
  /** Which candidate form the cell computes; see GRUCellOptions.resetAfter. */
  readonly resetAfter: boolean;

  /** The kind saved models store for this class. */
  static readonly kind = 'GRUCell' as const;

  constructor(options: GRUCellOptions) {
    super(options, 3, 'GRUCell');
    this.resetAfter = checkOptionalBoolean('resetAfter', options.resetAfter, false);
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
    checkConfig(config, GRUCell.kind, ['inputSize', 'hiddenSize', 'bias', 'resetAfter']);
    const { inputSize, hiddenSize, bias, resetAfter } = config;
    return new GRUCell({ inputSize, hiddenSize, bias, resetAfter });
  }

  /**
   * A GRUCell computing exactly what a PyTorch `nn.GRUCell` with this state dict computes (keys
   * weight_ih [3H, I], weight_hh [3H, H], bias_ih, bias_hh [3H]): `resetAfter: true`, and the
   * z-gate rows negated, since PyTorch's h' = (1 − z')⊙n + z'⊙h and σ(−a) = 1 − σ(a).
   * stateDict() and gradDict() negate them back.
   */
  static fromPyTorch(stateDict: Record<string, TensorInput>): GRUCell {
    const sd = checkObject('stateDict', stateDict);
    const cell = new GRUCell({ ...inferCellSizes('stateDict', sd, 3, ''), resetAfter: true });
    cell.loadStateDict(stateDict);
    return cell;
  }

  /**
   * Seed form: every bias sits outside the reset, so b_ih + b_hh folds whole.
   * resetAfter: b_hn is multiplied by r, so only the r and z blocks of b_hh fold; b_hn is added to
   * W_hn·h separately.
   */
  protected foldBias(out: Float32Array): void {
    const bi = this.params.biasIh!, bh = this.params.biasHh!;
    const folded = this.resetAfter ? 2 * this.hiddenSize : out.length;
    for (let j = 0; j < out.length; j++) out[j] = j < folded ? bi[j]! + bh[j]! : bi[j]!;
  }

  forwardStep(tape: CellTape, t: number): void {
    const B = tape.batch, H = this.hiddenSize, G3 = 3 * H;
    const gOff = t * B * G3, sPrev = t * B * H, sNext = sPrev + B * H;
    const WT = tape.weightHhT;   // W_hhᵀ [H, 3H]
    if (this.resetAfter) {
      // gates[t][:, 0:2H] += h_{t−1} · W_h{r,z}ᵀ ; hh [B, H] = h_{t−1} · W_hnᵀ (r multiplies it)
      gemmNN(tape.gates, gOff, G3, tape.h, sPrev, H, WT, 0, G3, B, 2 * H, H, true);
      gemmNN(tape.hh, 0, H, tape.h, sPrev, H, WT, 2 * H, G3, B, H, H, false);
      gruResetAfterForward(tape.gates, gOff, tape.aux, sPrev, tape.h, sNext, tape.hh, tape.foldedBias, tape.h, sPrev,
        this.bias ? this.params.biasHh! : null, tape, t, B, H);
    } else {
      // gates[t][:, 0:2H] += h_{t−1} · W_h{r,z}ᵀ ; r, z ; aux = r ⊙ h_{t−1}
      gemmNN(tape.gates, gOff, G3, tape.h, sPrev, H, WT, 0, G3, B, 2 * H, H, true);
      gruResetGates(tape.gates, gOff, tape.aux, sPrev, tape.foldedBias, tape.h, sPrev, tape, t, B, H);
      // gates[t][:, 2H:3H] += (r ⊙ h_{t−1}) · W_hnᵀ ; n ; h_t
      gemmNN(tape.gates, gOff + 2 * H, G3, tape.aux, sPrev, H, WT, 2 * H, G3, B, H, H, true);
      gruCandidateForward(tape.gates, gOff, tape.h, sNext, tape.foldedBias, tape.h, sPrev, tape, t, B, H);
    }
  }

  backwardStep(
    tape: CellTape, t: number,
    dh: Float32Array, _dc: Float32Array, dhPrev: Float32Array, _dcPrev: Float32Array,
  ): void {
    const B = tape.batch, H = this.hiddenSize, G3 = 3 * H;
    const gOff = t * B * G3, sPrev = t * B * H;
    const W = this.params.weightHh;
    if (this.resetAfter) {
      gruResetAfterBackward(tape.gates, gOff, tape.aux, sPrev, dhPrev, dh, tape.h, sPrev, tape, t, B, H);
      // dh_{t−1} += [dr, dz]·W_h{r,z} + d(W_hn h)·W_hn   (d(W_hn h) is in aux)
      gemmNN(dhPrev, 0, H, tape.gates, gOff, G3, W, 0, H, B, H, 2 * H, true);
      gemmNN(dhPrev, 0, H, tape.aux, sPrev, H, W, 2 * H * H, H, B, H, H, true);
    } else {
      const dRh = tape.dScratch.subarray(2 * B * H, 3 * B * H);
      gruCandidateBackward(tape.gates, gOff, dhPrev, dh, tape.h, sPrev, tape, t, B, H);
      // d(r ⊙ h_{t−1}) [B, H] = dn_pre [B, H] · W_hn [H, H]
      gemmNN(dRh, 0, H, tape.gates, gOff + 2 * H, G3, W, 2 * H * H, H, B, H, H, false);
      gruResetGatesBackward(tape.gates, gOff, dhPrev, dRh, tape.h, sPrev, tape, t, B, H);
      // dh_{t−1} += [dr, dz] · W_h{r,z}
      gemmNN(dhPrev, 0, H, tape.gates, gOff, G3, W, 0, H, B, H, 2 * H, true);
    }
  }

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
      addColumnSums(g.biasIh!, 0, tape.gates, 0, G3, rows, G3);
      if (this.resetAfter) {
        addColumnSums(g.biasHh!, 0, tape.gates, 0, G3, rows, 2 * H);
        addColumnSums(g.biasHh!, 2 * H, tape.aux, 0, H, rows, H);
      } else {
        addColumnSums(g.biasHh!, 0, tape.gates, 0, G3, rows, G3);
      }
    }
  }
}

// ---- Seed form (reset before the recurrent matmul) ----

/**
 * r, z for one step, B rows. gates[:, 0:2H] holds x·W_i{r,z}ᵀ + h_{t−1}·W_h{r,z}ᵀ; bias [3H] the
 * folded b_ih + b_hh. Writes r, z over gates and rh = r ⊙ h_{t−1} [B, H].
 */
export function gruResetGates(
  gates: Float32Array, gOff: number,
  rh: Float32Array, rhOff: number,
  bias: Float32Array,
  hPrev: Float32Array, hpOff: number,
  tape: CellTape, t: number, B: number, H: number,
): void {
  const G3 = 3 * H;
  for (let b = 0; b < B; b++) {
    const g = gOff + b * G3, s = b * H;
    if (!tape.active(t, b)) {
      for (let j = 0; j < 2 * H; j++) gates[g + j] = 0;
      for (let j = 0; j < H; j++) rh[rhOff + s + j] = 0;
      continue;
    }
    for (let j = 0; j < H; j++) {
      const r = sigmoid(gates[g + j]! + bias[j]!);
      const z = sigmoid(gates[g + H + j]! + bias[H + j]!);
      gates[g + j] = r;
      gates[g + H + j] = z;
      rh[rhOff + s + j] = r * hPrev[hpOff + s + j]!;
    }
  }
}

/**
 * n and h_t for one step. gates[:, 2H:3H] holds x·W_inᵀ + (r ⊙ h_{t−1})·W_hnᵀ. n = tanh(sum) over gates; h_t = (1 − z) ⊙ h_{t−1} + z ⊙ n.
 */
export function gruCandidateForward(
  gates: Float32Array, gOff: number,
  h: Float32Array, hOff: number,
  bias: Float32Array,
  hPrev: Float32Array, hpOff: number,
  tape: CellTape, t: number, B: number, H: number,
): void {
  const G3 = 3 * H;
  for (let b = 0; b < B; b++) {
    const g = gOff + b * G3, s = b * H;
    if (!tape.active(t, b)) {
      for (let j = 0; j < H; j++) { gates[g + 2 * H + j] = 0; h[hOff + s + j] = hPrev[hpOff + s + j]!; }
      continue;
    }
    for (let j = 0; j < H; j++) {
      const n = tanh(gates[g + 2 * H + j]! + bias[2 * H + j]!);
      gates[g + 2 * H + j] = n;
      const z = gates[g + H + j]!, hp = hPrev[hpOff + s + j]!;
      h[hOff + s + j] = (1 - z) * hp + z * n;
    }
  }
}

/**
 * Backward of gruCandidateForward. From dh [B, H]: dn_pre over the n block of gates, dz_pre over
 * the z block, and the direct term dhPrev = dh ⊙ (1 − z) (all of dh for inactive rows, whose
 * gate gradients are zeroed).
 *   dn_pre = dh ⊙ z ⊙ (1 − n²)     dz_pre = dh ⊙ (n − h_{t−1}) ⊙ z(1 − z)
 */
export function gruCandidateBackward(
  gates: Float32Array, gOff: number,
  dhPrev: Float32Array, dh: Float32Array,
  hPrev: Float32Array, hpOff: number,
  tape: CellTape, t: number, B: number, H: number,
): void {
  const G3 = 3 * H;
  for (let b = 0; b < B; b++) {
    const g = gOff + b * G3, s = b * H;
    if (!tape.active(t, b)) {
      for (let j = 0; j < G3; j++) gates[g + j] = 0;
      for (let j = 0; j < H; j++) dhPrev[s + j] = dh[s + j]!;
      continue;
    }
    for (let j = 0; j < H; j++) {
      const z = gates[g + H + j]!, n = gates[g + 2 * H + j]!, d = dh[s + j]!;
      gates[g + 2 * H + j] = d * z * (1 - n * n);
      gates[g + H + j] = d * (n - hPrev[hpOff + s + j]!) * z * (1 - z);
      dhPrev[s + j] = d * (1 - z);
    }
  }
}

/**
 * Backward of gruResetGates' r ⊙ h_{t−1}. dRh [B, H] = d(r ⊙ h_{t−1}) = dn_pre · W_hn. Turns the r
 * block of gates (r) into dr_pre = dRh ⊙ h_{t−1} ⊙ r(1−r) and adds dRh ⊙ r to dhPrev.
 */
export function gruResetGatesBackward(
  gates: Float32Array, gOff: number,
  dhPrev: Float32Array, dRh: Float32Array,
  hPrev: Float32Array, hpOff: number,
  tape: CellTape, t: number, B: number, H: number,
): void {
  const G3 = 3 * H;
  for (let b = 0; b < B; b++) {
    if (!tape.active(t, b)) continue;
    const g = gOff + b * G3, s = b * H;
    for (let j = 0; j < H; j++) {
      const r = gates[g + j]!, drh = dRh[s + j]!;
      gates[g + j] = drh * hPrev[hpOff + s + j]! * r * (1 - r);
      dhPrev[s + j] += drh * r;
    }
  }
}

// ---- resetAfter form (reset applied to W_hn h + b_hn) ----

/**
 * One resetAfter step, B rows. gates [B, 3H] holds x·W_ihᵀ, plus h_{t−1}·W_h{r,z}ᵀ in the r and z
 * blocks; hh [B, H] = h_{t−1}·W_hnᵀ; bias [3H] is b_ih + [b_hr, b_hz, 0]; biasHh supplies b_hn.
 * Writes r, z, n over gates, hn = W_hn h_{t−1} + b_hn into aux, and h_t.
 *   n = tanh(x_n + r ⊙ hn)     h_t = (1 − z) ⊙ h_{t−1} + z ⊙ n
 */
export function gruResetAfterForward(
  gates: Float32Array, gOff: number,
  hn: Float32Array, hnOff: number,
  h: Float32Array, hOff: number,
  hh: Float32Array,
  bias: Float32Array,
  hPrev: Float32Array, hpOff: number,
  biasHh: Float32Array | null,
  tape: CellTape, t: number, B: number, H: number,
): void {
  const G3 = 3 * H;
  for (let b = 0; b < B; b++) {
    const g = gOff + b * G3, s = b * H;
    if (!tape.active(t, b)) {
      for (let j = 0; j < G3; j++) gates[g + j] = 0;
      for (let j = 0; j < H; j++) { hn[hnOff + s + j] = 0; h[hOff + s + j] = hPrev[hpOff + s + j]!; }
      continue;
    }
    for (let j = 0; j < H; j++) {
      const r = sigmoid(gates[g + j]! + bias[j]!);
      const z = sigmoid(gates[g + H + j]! + bias[H + j]!);
      const hnj = Math.fround(hh[s + j]! + (biasHh === null ? 0 : biasHh[2 * H + j]!));
      const n = tanh(gates[g + 2 * H + j]! + bias[2 * H + j]! + r * hnj);
      gates[g + j] = r; gates[g + H + j] = z; gates[g + 2 * H + j] = n;
      hn[hnOff + s + j] = hnj;
      const hp = hPrev[hpOff + s + j]!;
      h[hOff + s + j] = (1 - z) * hp + z * n;
    }
  }
}

/**
 * Backward of gruResetAfterForward. Writes [dr_pre, dz_pre, dn_pre] over gates, d(hn) = dn_pre ⊙ r
 * over aux (the gradient of W_hn h_{t−1} + b_hn), and the direct dhPrev = dh ⊙ (1 − z).
 *   dn_pre = dh ⊙ z ⊙ (1 − n²)   dz_pre = dh ⊙ (n − h_{t−1}) ⊙ z(1 − z)   dr_pre = dn_pre ⊙ hn ⊙ r(1 − r)
 */
export function gruResetAfterBackward(
  gates: Float32Array, gOff: number,
  hn: Float32Array, hnOff: number,
  dhPrev: Float32Array, dh: Float32Array,
  hPrev: Float32Array, hpOff: number,
  tape: CellTape, t: number, B: number, H: number,
): void {
  const G3 = 3 * H;
  for (let b = 0; b < B; b++) {
    const g = gOff + b * G3, s = b * H;
    if (!tape.active(t, b)) {
      for (let j = 0; j < G3; j++) gates[g + j] = 0;
      for (let j = 0; j < H; j++) { hn[hnOff + s + j] = 0; dhPrev[s + j] = dh[s + j]!; }
      continue;
    }
    for (let j = 0; j < H; j++) {
      const r = gates[g + j]!, z = gates[g + H + j]!, n = gates[g + 2 * H + j]!;
      const d = dh[s + j]!, hnj = hn[hnOff + s + j]!;
      const dn = d * z * (1 - n * n);
      gates[g + j] = dn * hnj * r * (1 - r);
      gates[g + H + j] = d * (n - hPrev[hpOff + s + j]!) * z * (1 - z);
      gates[g + 2 * H + j] = dn;
      hn[hnOff + s + j] = dn * r;
      dhPrev[s + j] = d * (1 - z);
    }
  }
}
