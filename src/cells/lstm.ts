/**
 * LSTMCell: the seed's LSTM, forward and backward side by side.
 *
 *   i_t = σ(W_ii x_t + b_ii + W_hi h_{t−1} + b_hi)     input gate
 *   f_t = σ(W_if x_t + b_if + W_hf h_{t−1} + b_hf)     forget gate
 *   g_t = tanh(W_ig x_t + b_ig + W_hg h_{t−1} + b_hg)  cell candidate C̃_t
 *   o_t = σ(W_io x_t + b_io + W_ho h_{t−1} + b_ho)     output gate
 *   c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t
 *   h_t = o_t ⊙ tanh(c_t)
 *
 * Gate blocks in the weights are i, f, g, o (PyTorch's order): rows [0,H) i, [H,2H) f, ….
 */
import { gemmNN, gemmTN } from '../kernels/gemm.js';
import { addColumnSums } from '../kernels/rows.js';
import { checkConfig } from '../core/validate.js';
import { sigmoid, tanh } from '../kernels/activations.js';
import { RecurrentCell, type CellOptions, type LSTMState } from './cell.js';
import type { CellTape } from './tape.js';
import { checkObject } from '../core/validate.js';
import type { TensorInput } from '../core/tensor-input.js';
import { inferCellSizes } from '../interop/pytorch.js';

/** Options of `new LSTMCell(...)`. */
export type LSTMCellOptions = CellOptions;

/** An LSTMCell's configuration: what `config()` returns and a saved model stores. */
export interface LSTMCellConfig { kind: 'LSTMCell'; inputSize: number; hiddenSize: number; bias: boolean }

/**
 * A long short-term memory cell. State {h, c}, each [batch, H].
 *
 * ```ts
 * const cell = new LSTMCell({ inputSize: 3, hiddenSize: 16, seed: 1 });
 * const s = cell.forward(x, cell.initialState(batch), batch);   // x [batch, 3]
 * const { dx, dState } = cell.backward(s, { h: dh, c: dc });     // grads add into cell.grads
 * ```
 */
export class LSTMCell extends RecurrentCell<LSTMState> {
  readonly gateCount = 4;
  readonly hasCellState = true;

  constructor(options: LSTMCellOptions) {
    super(options, 4, 'LSTMCell');
  }

  /** The kind saved models store for this class. */
  static readonly kind = 'LSTMCell' as const;

  /** The cell's configuration, a new plain object: `LSTMCell.fromConfig` builds a cell like it. */
  config(): LSTMCellConfig {
    return { kind: LSTMCell.kind, inputSize: this.inputSize, hiddenSize: this.hiddenSize, bias: this.bias };
  }

  /**
   * A cell of this configuration with freshly initialised weights (seed 0; load trained ones
   * with loadStateDict). Throws on a configuration of another kind, or a missing or bad field.
   */
  static fromConfig(config: LSTMCellConfig): LSTMCell {
    checkConfig(config, LSTMCell.kind, ['inputSize', 'hiddenSize', 'bias']);
    const { inputSize, hiddenSize, bias } = config;
    return new LSTMCell({ inputSize, hiddenSize, bias });
  }

  /**
   * An LSTMCell holding the weights of a PyTorch `nn.LSTMCell` state dict (keys weight_ih
   * [4H, I], weight_hh [4H, H], bias_ih, bias_hh [4H]; sizes come from the shapes, biases from
   * their presence). Gate order and equations are PyTorch's own: nothing is converted.
   */
  static fromPyTorch(stateDict: Record<string, TensorInput>): LSTMCell {
    const sd = checkObject('stateDict', stateDict);
    const cell = new LSTMCell(inferCellSizes('stateDict', sd, 4, ''));
    cell.loadStateDict(stateDict);
    return cell;
  }

  /** Both biases enter the pre-activations additively: fold b_ih + b_hh into the projection. */
  protected foldBias(out: Float32Array): void {
    const bi = this.params.biasIh!, bh = this.params.biasHh!;
    for (let j = 0; j < out.length; j++) out[j] = bi[j]! + bh[j]!;
  }

  forwardStep(tape: CellTape, t: number): void {
    const B = tape.batch, H = this.hiddenSize, G4 = 4 * H;
    const gOff = t * B * G4, sPrev = t * B * H, sNext = sPrev + B * H;
    // gates[t] [B, 4H] += h_{t−1} · W_hhᵀ  (onto the input projection x_t·W_ihᵀ)
    gemmNN(tape.gates, gOff, G4, tape.h, sPrev, H, tape.weightHhT, 0, G4, B, G4, H, true);
    lstmPointwiseForward(
      tape.gates, gOff, tape.c, sNext, tape.aux, sPrev, tape.h, sNext,
      tape.foldedBias, tape.c, sPrev, tape.h, sPrev, tape, t, B, H,
    );
  }

  backwardStep(
    tape: CellTape, t: number,
    dh: Float32Array, dc: Float32Array, dhPrev: Float32Array, dcPrev: Float32Array,
  ): void {
    const B = tape.batch, H = this.hiddenSize, G4 = 4 * H;
    const gOff = t * B * G4, sPrev = t * B * H;
    lstmPointwiseBackward(tape.gates, gOff, dhPrev, dcPrev, dh, dc, tape.aux, sPrev, tape.c, sPrev, tape, t, B, H);
    // dh_{t−1} += dGates [B, 4H] · W_hh [4H, H]
    gemmNN(dhPrev, 0, H, tape.gates, gOff, G4, this.params.weightHh, 0, H, B, H, G4, true);
  }

  accumulateParamGrads(tape: CellTape): void {
    const rows = tape.steps * tape.batch, H = this.hiddenSize, I = this.inputSize, G4 = 4 * H;
    const g = this.grads;
    // dW_ih [4H, I] += Σ_rows dGatesᵀ · x ;  dW_hh [4H, H] += Σ_rows dGatesᵀ · h_{t−1}
    gemmTN(g.weightIh, 0, I, tape.gates, 0, G4, tape.x, 0, I, G4, I, rows, true);
    gemmTN(g.weightHh, 0, H, tape.gates, 0, G4, tape.h, 0, H, G4, H, rows, true);
    if (this.bias) {
      addColumnSums(g.biasIh!, 0, tape.gates, 0, G4, rows, G4);
      addColumnSums(g.biasHh!, 0, tape.gates, 0, G4, rows, G4);
    }
  }
}

/**
 * LSTM gates and state update for one step, B rows.
 * In: gates [B, 4H] holding x·W_ihᵀ + h_{t−1}·W_hhᵀ, bias [4H] = b_ih + b_hh, cPrev, hPrev [B, H].
 * Out: gates [B, 4H] := σ/tanh of (gates + bias) in blocks i,f,g,o; c, tanhC, h [B, H].
 * Inactive rows (packed sequences) carry their state over and record zero gates.
 */
export function lstmPointwiseForward(
  gates: Float32Array, gOff: number,
  c: Float32Array, cOff: number,
  tanhC: Float32Array, tcOff: number,
  h: Float32Array, hOff: number,
  bias: Float32Array,
  cPrev: Float32Array, cpOff: number,
  hPrev: Float32Array, hpOff: number,
  tape: CellTape, t: number, B: number, H: number,
): void {
  const G4 = 4 * H;
  for (let b = 0; b < B; b++) {
    // Row b: gate blocks i, f, g, o of gates, and the row's slice of each state array.
    const gi = gOff + b * G4, gf = gi + H, gg = gf + H, go = gg + H;
    const s = b * H, cs = cOff + s, ts = tcOff + s, hs = hOff + s, cps = cpOff + s, hps = hpOff + s;
    if (!tape.active(t, b)) {
      for (let j = 0; j < G4; j++) gates[gi + j] = 0;
      for (let j = 0; j < H; j++) {
        c[cs + j] = cPrev[cps + j]!;
        h[hs + j] = hPrev[hps + j]!;
        tanhC[ts + j] = 0;
      }
      continue;
    }
    for (let j = 0; j < H; j++) {
      const i = sigmoid(gates[gi + j]! + bias[j]!);
      const f = sigmoid(gates[gf + j]! + bias[H + j]!);
      const g = tanh(gates[gg + j]! + bias[2 * H + j]!);
      const o = sigmoid(gates[go + j]! + bias[3 * H + j]!);
      gates[gi + j] = i; gates[gf + j] = f; gates[gg + j] = g; gates[go + j] = o;
      const cNew = Math.fround(f * cPrev[cps + j]! + i * g);   // c_t = f ⊙ c_{t−1} + i ⊙ g
      const tc = tanh(cNew);
      c[cs + j] = cNew;
      tanhC[ts + j] = tc;
      h[hs + j] = o * tc;                                     // h_t = o ⊙ tanh(c_t)
    }
  }
}

/**
 * Backward of lstmPointwiseForward for one step, B rows. Overwrites gates [B, 4H] (post-activation
 * i,f,g,o) with dGates, the gradient with respect to the pre-activations; writes dcPrev and the
 * direct part of dhPrev (zero for active rows, the whole dh for inactive ones: the recurrent part
 * dGates·W_hh is added by the caller).
 *
 *   dc_t   = dc + dh ⊙ o ⊙ (1 − tanh²(c_t))
 *   d i    = dc_t ⊙ g ⊙ i(1−i)      d f = dc_t ⊙ c_{t−1} ⊙ f(1−f)
 *   d g    = dc_t ⊙ i ⊙ (1−g²)      d o = dh ⊙ tanh(c_t) ⊙ o(1−o)
 *   dc_{t−1} = dc_t ⊙ f
 */
export function lstmPointwiseBackward(
  gates: Float32Array, gOff: number,
  dhPrev: Float32Array, dcPrev: Float32Array,
  dh: Float32Array, dc: Float32Array,
  tanhC: Float32Array, tcOff: number,
  cPrev: Float32Array, cpOff: number,
  tape: CellTape, t: number, B: number, H: number,
): void {
  const G4 = 4 * H;
  for (let b = 0; b < B; b++) {
    const gi = gOff + b * G4, gf = gi + H, gg = gf + H, go = gg + H;
    const s = b * H, ts = tcOff + s, cps = cpOff + s;
    if (!tape.active(t, b)) {
      for (let j = 0; j < G4; j++) gates[gi + j] = 0;
      for (let j = 0; j < H; j++) { dhPrev[s + j] = dh[s + j]!; dcPrev[s + j] = dc[s + j]!; }
      continue;
    }
    for (let j = 0; j < H; j++) {
      const i = gates[gi + j]!, f = gates[gf + j]!, g = gates[gg + j]!, o = gates[go + j]!;
      const tc = tanhC[ts + j]!;
      const dhj = dh[s + j]!;
      const dct = dc[s + j]! + dhj * o * (1 - tc * tc);
      gates[gi + j] = dct * g * i * (1 - i);
      gates[gf + j] = dct * cPrev[cps + j]! * f * (1 - f);
      gates[gg + j] = dct * i * (1 - g * g);
      gates[go + j] = dhj * tc * o * (1 - o);
      dcPrev[s + j] = dct * f;
      dhPrev[s + j] = 0;
    }
  }
}
