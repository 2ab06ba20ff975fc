/**
 * LSTMCell: the long short-term memory cell of Hochreiter & Schmidhuber (1997) with the forget
 * gate of Gers, Schmidhuber & Cummins (2000), forward and backward side by side.
 *
 *   i_t = σ(W_ii x_t + b_ii + W_hi h_{t−1} + b_hi)     input gate
 *   f_t = σ(W_if x_t + b_if + W_hf h_{t−1} + b_hf)     forget gate
 *   g_t = tanh(W_ig x_t + b_ig + W_hg h_{t−1} + b_hg)  cell candidate C̃_t
 *   o_t = σ(W_io x_t + b_io + W_ho h_{t−1} + b_ho)     output gate
 *   c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t
 *   h_t = o_t ⊙ tanh(c_t)
 *
 * With projSize P (PyTorch's proj_size; Sak, Senior & Beaufays 2014): m_t = o_t ⊙ tanh(c_t) [H],
 * h_t = W_hr m_t [P], and the recurrent products read h_{t−1} [P] (W_h· [4H, P]).
 *
 * Gate blocks in the weights are i, f, g, o (PyTorch's order): rows [0,H) i, [H,2H) f, ….
 *
 * Peephole LSTM (Gers & Schmidhuber 2000), `peephole: true`: diagonal weights p_i, p_f, p_o
 * (weightPeephole [3, H], rows i, f, o) let the gates see the cell state,
 *   i_t = σ(… + p_i ⊙ c_{t−1}),  f_t = σ(… + p_f ⊙ c_{t−1}),  o_t = σ(… + p_o ⊙ c_t)
 * (ONNX's LSTM with input P, whose rows are ordered i, o, f).
 */
import { gemmTN, lstmGatesOnWasm, lstmStepOnWasm } from '../kernels/backend.js';
import { addSums, columnSums } from '../kernels/rows.js';
import { checkConfig, checkOptionalBoolean, snapshot } from '../core/validate.js';
import { sigmoid, tanh } from '../kernels/activations.js';
import { RecurrentCell, type CellOptions } from './cell.js';
import type { LSTMState } from './state.js';
import type { CellTape } from './tape.js';
import { gemmW, gemmWBackward } from './weights.js';
import { inferCellSizes } from './pytorch.js';
import {
  addPrefix, prefixedName, readPrefix, selectPrefix, snapshotTensorDict, type LoadStateDictOptions, type TensorInput,
} from '../core/tensor-input.js';

/** Options of `new LSTMCell(...)`. */
export interface LSTMCellOptions extends CellOptions {
  /**
   * PyTorch's proj_size P, an integer in 1..H−1 (0 or omitted: none). h_t = W_hr·m_t projects the
   * cell output m_t = o_t ⊙ tanh(c_t) [H] to P features: h is then [batch, P] (c stays
   * [batch, H]), weightHh is [4H, P], and weightHr [P, H] is one more parameter.
   */
  projSize?: number;
  /**
   * Peephole connections (default false): i and f see c_{t−1}, o sees c_t through diagonal
   * weights weightPeephole [3, H] (rows i, f, o). Not a PyTorch model: its stateDict() has one
   * more key, weight_peephole [3, H]; ONNX carries it (LSTM input P). Not with projSize.
   */
  peephole?: boolean;
}

/** An LSTMCell's configuration: what `config()` returns and a saved model stores. */
export interface LSTMCellConfig { kind: 'LSTMCell'; inputSize: number; hiddenSize: number; bias: boolean; projSize: number; peephole: boolean }

/**
 * @internal Rows of weightPeephole for these options (their own `peephole`, read once and
 * checked): 3 with peephole, else 0. `who` names the options in a message.
 */
export function peepholeRows(options: unknown, who = 'LSTMCell'): number {
  return checkOptionalBoolean('peephole', snapshot(`${who} options`, options, ['peephole']).peephole, false) ? 3 : 0;
}

/**
 * A long short-term memory cell. State {h, c}, each [batch, H]; with projSize P, h is [batch, P].
 *
 * ```ts
 * const cell = new LSTMCell({ inputSize: 3, hiddenSize: 16, seed: 1 });
 * const s = cell.forward(x, cell.initialState(batch), batch);   // x [batch, 3]
 * const { dx, dState } = cell.backward(s, { h: dh, c: dc });     // grads add into cell.grads
 * ```
 */
export class LSTMCell extends RecurrentCell<LSTMState> {
  /** Whether the cell has peephole connections (weightPeephole [3, H]). */
  readonly peephole: boolean;

  constructor(options: LSTMCellOptions) {
    super(options, 4, 'LSTMCell', peepholeRows(options));
    this.peephole = this.params.weightPeephole !== undefined;
    if (this.peephole && this.projSize > 0) {
      throw new RangeError(`peephole: expected no projection with peephole connections, got projSize ${this.projSize}; use one or the other`);
    }
  }

  /** The kind saved models store for this class. */
  static readonly kind = 'LSTMCell' as const;

  /** The cell's configuration, a new plain object: `LSTMCell.fromConfig` builds a cell like it. */
  config(): LSTMCellConfig {
    return {
      kind: LSTMCell.kind, inputSize: this.inputSize, hiddenSize: this.hiddenSize, bias: this.bias, projSize: this.projSize,
      peephole: this.peephole,
    };
  }

  /**
   * A cell of this configuration with freshly initialised weights (seed 0; load trained ones
   * with loadStateDict). Throws on a configuration of another kind, or a missing or bad field.
   */
  static fromConfig(config: LSTMCellConfig): LSTMCell {
    const { inputSize, hiddenSize, bias, projSize, peephole } = checkConfig(config, LSTMCell.kind, ['inputSize', 'hiddenSize', 'bias'], ['projSize', 'peephole']) as unknown as typeof config;
    return new LSTMCell({ inputSize, hiddenSize, bias, projSize, peephole });
  }

  /**
   * An LSTMCell holding the weights of a PyTorch `nn.LSTMCell` state dict (keys weight_ih
   * [4H, I], weight_hh [4H, H], bias_ih, bias_hh [4H]; sizes come from the shapes, biases from
   * their presence), read after `options.prefix` when given (other keys are ignored). Gate order
   * and equations are PyTorch's own: nothing is converted. A weight_hr [P, H] (one layer of an
   * nn.LSTM with proj_size, its `_l0` suffix removed; nn.LSTMCell has none) makes a cell with
   * projSize P and weight_hh [4H, P]. A key weight_peephole [3, H] (this library's, not
   * PyTorch's) makes a peephole cell.
   */
  static fromPyTorch(stateDict: Record<string, TensorInput>, options?: LoadStateDictOptions): LSTMCell {
    const prefix = readPrefix('LSTMCell.fromPyTorch options', options);
    // Keys and values read once: what is checked is what is loaded.
    const sd = snapshotTensorDict(prefixedName('stateDict', prefix), selectPrefix('stateDict', stateDict, prefix));
    const cell = new LSTMCell({ ...inferCellSizes(prefixedName('stateDict', prefix), sd, 4, ''), peephole: sd.weight_peephole !== undefined });
    cell.loadStateDict(addPrefix(sd, prefix), { prefix });
    return cell;
  }

  /** Both biases enter the pre-activations additively: fold b_ih + b_hh into the projection. */
  /** @internal With peepholes: weightPeephole [3, H], which the gate passes read. */
  override stepVectorSource(): Float32Array | null {
    return this.params.weightPeephole ?? null;
  }

  protected foldBias(out: Float32Array): void {
    const bi = this.params.biasIh!, bh = this.params.biasHh!;
    for (let j = 0; j < out.length; j++) out[j] = bi[j]! + bh[j]!;
  }

  /** @internal */
  forwardStep(tape: CellTape, t: number): void {
    const B = tape.batch, H = this.hiddenSize, P = this.outputSize, G4 = 4 * H, rows = tape.batchSizes[t]!;
    // gates[t] [rows, 4H] += h_{t−1} [rows, P] · W_hhᵀ  (onto the input projection x_t·W_ihᵀ)
    if (this.peephole) {
      // The peephole pass is TypeScript on every backend (never with a projection).
      gemmW(tape.gates, t * B * G4, G4, tape.h, t * B * P, P, tape.weightHh, 0, rows, G4, true);
      lstmPeepholeGatesForward(tape, t, tape.stepVector);   // p as of prepareWeights
      return;
    }
    // (on wasm with a runner's tape, the product and the gate pass in one call: same bits)
    if (!lstmStepOnWasm(tape, t, tape.weightHh)) {
      gemmW(tape.gates, t * B * G4, G4, tape.h, t * B * P, P, tape.weightHh, 0, rows, G4, true);
      if (!lstmGatesOnWasm(tape, t)) lstmGatesForward(tape, t);
    }
    // With a projection: h_t [rows, P] = m_t [rows, H] · W_hrᵀ (the kernel wrote m_t to tape.proj).
    if (tape.weightHr !== null) gemmW(tape.h, (t + 1) * B * P, P, tape.proj, t * B * H, H, tape.weightHr, 0, rows, P, false);
  }

  /** @internal */
  backwardStep(tape: CellTape, t: number): void {
    const B = tape.batch, H = this.hiddenSize, P = this.outputSize, G4 = 4 * H, rows = tape.batchSizes[t]!;
    const projected = tape.weightHr !== null;
    if (projected) {
      // dh_t [rows, P] (block (t+1) & 1): dm_t [rows, H] = dh_t · W_hr into dTemp, which the
      // kernel reads in place of dh; dW_hr [P, H] += dh_tᵀ · m_t over the active rows.
      const next = ((t + 1) & 1) * B * P;
      gemmWBackward(tape.dTemp, 0, H, tape.dh, next, P, tape.weightHr!, 0, rows, P, false);
      gemmTN(this.grads.weightHr!, 0, H, tape.dh, next, P, tape.proj, t * B * H, H, P, H, rows, true);
    }
    if (this.peephole) lstmPeepholeGatesBackward(tape, t, tape.stepVector);
    else lstmGatesBackward(tape, t);
    // dh_{t−1} [rows, P] (+)= dGates [rows, 4H] · W_hh [4H, P]; the kernel zeroed it unless projected.
    gemmWBackward(tape.dh, (t & 1) * B * P, P, tape.gates, t * B * G4, G4, tape.weightHh, 0, rows, G4, !projected);
  }

  /** @internal */
  accumulateParamGrads(tape: CellTape): void {
    const rows = tape.steps * tape.batch, H = this.hiddenSize, P = this.outputSize, I = this.inputSize, G4 = 4 * H;
    const g = this.grads;
    // dW_ih [4H, I] += Σ_rows dGatesᵀ · x ;  dW_hh [4H, P] += Σ_rows dGatesᵀ · h_{t−1}
    // (dW_hr was added step by step: dh_t is not kept.)
    gemmTN(g.weightIh, 0, I, tape.gates, 0, G4, tape.x, 0, I, G4, I, rows, true);
    gemmTN(g.weightHh, 0, P, tape.gates, 0, G4, tape.h, 0, P, G4, P, rows, true);
    if (this.bias) {
      // db_ih and db_hh += the same column sums of dGates, summed once
      const s = columnSums(tape.gates, 0, G4, rows, G4);
      addSums(g.biasIh!, s, G4);
      addSums(g.biasHh!, s, G4);
    }
    if (this.peephole) lstmPeepholeGrads(tape, g.weightPeephole!);
  }
}

/**
 * LSTM gates and state update of step t, rows 0 … batchSizes[t] − 1.
 * In: gates[t] [B, 4H] holding x·W_ihᵀ + h_{t−1}·W_hhᵀ, foldedBias [4H] = b_ih + b_hh, c_{t−1}.
 * Out: gates[t] := σ/tanh of (gates + bias) in blocks i,f,g,o; c_t, aux[t] = tanh(c_t), and
 * o ⊙ tanh(c_t) into h_t, or with a projection into proj[t] (m_t; the caller then projects).
 */
export function lstmGatesForward(tape: CellTape, t: number): void {
  const B = tape.batch, H = tape.hiddenSize, G4 = 4 * H, rows = tape.batchSizes[t]!;
  const { gates, c, aux: tanhC, foldedBias: bias } = tape;
  const gOff = t * B * G4, sPrev = t * B * H, sNext = sPrev + B * H;
  const projected = tape.proj.length > 0;
  const h = projected ? tape.proj : tape.h, hOff = projected ? sPrev - sNext : 0;   // m_t at proj[t]
  for (let b = 0; b < rows; b++) {
    // Row b: gate blocks i, f, g, o of gates, and the row's slice of each state array.
    const gi = gOff + b * G4, gf = gi + H, gg = gf + H, go = gg + H;
    const cp = sPrev + b * H, cn = sNext + b * H, ts = sPrev + b * H;
    for (let j = 0; j < H; j++) {
      const i = sigmoid(gates[gi + j]! + bias[j]!);
      const f = sigmoid(gates[gf + j]! + bias[H + j]!);
      const g = tanh(gates[gg + j]! + bias[2 * H + j]!);
      const o = sigmoid(gates[go + j]! + bias[3 * H + j]!);
      gates[gi + j] = i; gates[gf + j] = f; gates[gg + j] = g; gates[go + j] = o;
      const cNew = Math.fround(f * c[cp + j]! + i * g);   // c_t = f ⊙ c_{t−1} + i ⊙ g
      const tc = tanh(cNew);
      c[cn + j] = cNew;
      tanhC[ts + j] = tc;
      h[hOff + cn + j] = o * tc;                           // h_t (or m_t) = o ⊙ tanh(c_t)
    }
  }
}

/**
 * Backward of lstmGatesForward, step t, rows 0 … batchSizes[t] − 1. From dh, dc (tape.dh/dc
 * block (t+1) & 1, the gradient with respect to h_t, c_t; with a projection, dm_t in tape.dTemp
 * stands for dh): overwrites gates[t] (post-activation i,f,g,o) with dGates, writes dc_{t−1} and
 * the direct part of dh_{t−1} (zero: the recurrent part dGates·W_hh is added by the caller; with
 * a projection the caller writes dh_{t−1} whole) into block t & 1.
 *
 *   dc_t   = dc + dh ⊙ o ⊙ (1 − tanh²(c_t))
 *   d i    = dc_t ⊙ g ⊙ i(1−i)      d f = dc_t ⊙ c_{t−1} ⊙ f(1−f)
 *   d g    = dc_t ⊙ i ⊙ (1−g²)      d o = dh ⊙ tanh(c_t) ⊙ o(1−o)
 *   dc_{t−1} = dc_t ⊙ f
 */
export function lstmGatesBackward(tape: CellTape, t: number): void {
  const B = tape.batch, H = tape.hiddenSize, G4 = 4 * H, rows = tape.batchSizes[t]!;
  const { gates, c, aux: tanhC, dh, dc } = tape;
  const gOff = t * B * G4, sPrev = t * B * H;
  const next = ((t + 1) & 1) * B * H, prev = (t & 1) * B * H;
  const projected = tape.proj.length > 0;
  const dm = projected ? tape.dTemp : dh, dmOff = projected ? -next : 0;   // dm_t at dTemp[0]
  for (let b = 0; b < rows; b++) {
    const gi = gOff + b * G4, gf = gi + H, gg = gf + H, go = gg + H;
    const s = b * H, ts = sPrev + s, dn = next + s, dp = prev + s;
    for (let j = 0; j < H; j++) {
      const i = gates[gi + j]!, f = gates[gf + j]!, g = gates[gg + j]!, o = gates[go + j]!;
      const tc = tanhC[ts + j]!;
      const dhj = dm[dmOff + dn + j]!;
      const dct = dc[dn + j]! + dhj * o * (1 - tc * tc);
      gates[gi + j] = dct * g * i * (1 - i);
      gates[gf + j] = dct * c[ts + j]! * f * (1 - f);
      gates[gg + j] = dct * i * (1 - g * g);
      gates[go + j] = dhj * tc * o * (1 - o);
      dc[dp + j] = dct * f;
      if (!projected) dh[dp + j] = 0;
    }
  }
}

/**
 * Peephole form of lstmGatesForward (same inputs and outputs), p = weightPeephole [3, H] rows i, f, o:
 *   i = σ(a_i + p_i ⊙ c_{t−1}),  f = σ(a_f + p_f ⊙ c_{t−1}),  g = tanh(a_g),
 *   c_t = f ⊙ c_{t−1} + i ⊙ g,  o = σ(a_o + p_o ⊙ c_t),  h_t = o ⊙ tanh(c_t).
 */
export function lstmPeepholeGatesForward(tape: CellTape, t: number, p: Float32Array): void {
  const B = tape.batch, H = tape.hiddenSize, G4 = 4 * H, rows = tape.batchSizes[t]!;
  const { gates, c, aux: tanhC, h, foldedBias: bias } = tape;
  const gOff = t * B * G4, sPrev = t * B * H, sNext = sPrev + B * H;
  for (let b = 0; b < rows; b++) {
    const gi = gOff + b * G4, gf = gi + H, gg = gf + H, go = gg + H;
    const cp = sPrev + b * H, cn = sNext + b * H;
    for (let j = 0; j < H; j++) {
      const cPrev = c[cp + j]!;
      const i = sigmoid(gates[gi + j]! + bias[j]! + p[j]! * cPrev);
      const f = sigmoid(gates[gf + j]! + bias[H + j]! + p[H + j]! * cPrev);
      const g = tanh(gates[gg + j]! + bias[2 * H + j]!);
      const cNew = Math.fround(f * cPrev + i * g);
      const o = sigmoid(gates[go + j]! + bias[3 * H + j]! + p[2 * H + j]! * cNew);
      gates[gi + j] = i; gates[gf + j] = f; gates[gg + j] = g; gates[go + j] = o;
      const tc = tanh(cNew);
      c[cn + j] = cNew;
      tanhC[cp + j] = tc;
      h[cn + j] = o * tc;
    }
  }
}

/**
 * Backward of lstmPeepholeGatesForward, step t (same protocol as lstmGatesBackward):
 *   d o    = dh ⊙ tanh(c_t) ⊙ o(1−o)
 *   dc_t   = dc + dh ⊙ o ⊙ (1 − tanh²(c_t)) + d o ⊙ p_o
 *   d i    = dc_t ⊙ g ⊙ i(1−i)      d f = dc_t ⊙ c_{t−1} ⊙ f(1−f)      d g = dc_t ⊙ i ⊙ (1−g²)
 *   dc_{t−1} = dc_t ⊙ f + d i ⊙ p_i + d f ⊙ p_f
 * (d p is summed over all steps by lstmPeepholeGrads.)
 */
export function lstmPeepholeGatesBackward(tape: CellTape, t: number, p: Float32Array): void {
  const B = tape.batch, H = tape.hiddenSize, G4 = 4 * H, rows = tape.batchSizes[t]!;
  const { gates, c, aux: tanhC, dh, dc } = tape;
  const gOff = t * B * G4, sPrev = t * B * H;
  const next = ((t + 1) & 1) * B * H, prev = (t & 1) * B * H;
  for (let b = 0; b < rows; b++) {
    const gi = gOff + b * G4, gf = gi + H, gg = gf + H, go = gg + H;
    const s = b * H, ts = sPrev + s, dn = next + s, dp = prev + s;
    for (let j = 0; j < H; j++) {
      const i = gates[gi + j]!, f = gates[gf + j]!, g = gates[gg + j]!, o = gates[go + j]!;
      const tc = tanhC[ts + j]!;
      const dhj = dh[dn + j]!;
      const dO = dhj * tc * o * (1 - o);
      const dct = dc[dn + j]! + dhj * o * (1 - tc * tc) + dO * p[2 * H + j]!;
      const dI = dct * g * i * (1 - i), dF = dct * c[ts + j]! * f * (1 - f);
      gates[gi + j] = dI;
      gates[gf + j] = dF;
      gates[gg + j] = dct * i * (1 - g * g);
      gates[go + j] = dO;
      dc[dp + j] = dct * f + dI * p[j]! + dF * p[H + j]!;
      dh[dp + j] = 0;
    }
  }
}

/**
 * After the backward time loop (tape.gates holding dGates, zero in inactive rows):
 *   dp_i += Σ_{t,b} d i ⊙ c_{t−1},  dp_f += Σ d f ⊙ c_{t−1},  dp_o += Σ d o ⊙ c_t.
 */
export function lstmPeepholeGrads(tape: CellTape, dp: Float32Array): void {
  const B = tape.batch, H = tape.hiddenSize, G4 = 4 * H;
  const { gates, c } = tape;
  for (let r = 0; r < tape.steps * B; r++) {
    const gi = r * G4, go = gi + 3 * H, cp = r * H, cn = cp + B * H;
    for (let j = 0; j < H; j++) {
      dp[j] += gates[gi + j]! * c[cp + j]!;
      dp[H + j] += gates[gi + H + j]! * c[cp + j]!;
      dp[2 * H + j] += gates[go + j]! * c[cn + j]!;
    }
  }
}
