/**
 * The tape: what a forward pass over T steps keeps for the backward pass, as named views carved
 * from one allocation (llm.c's ActivationTensors). A layer allocates one per (steps, batch) and
 * reuses it; a manual `cell.forward` allocates a one-step tape.
 *
 * Shapes use G = gate count (4 LSTM, 3 GRU), H = hidden size, P = features of h (the LSTM's
 * projSize when it has one, else H), I = input size, B = batch, T = steps; every buffer is
 * row-major, time-major.
 *
 * The step protocol: a cell's step kernels take (tape, t) and find their rows themselves. Step t
 * works on rows 0 … batchSizes[t] − 1 of each [B, ·] block: the layer sorts a packed batch by
 * length, longest first (PyTorch's PackedSequence), so the active rows are a prefix and the
 * kernels never see padding. The rows past the prefix are the layer's: it carries their state
 * over and zeroes their gates (see layers/packing.ts).
 *
 * Gates are kept AFTER their activation, so backward takes derivatives from outputs:
 * σ'(a) = s(1 − s), tanh'(a) = 1 − t². Backward then overwrites the gates of step t with the
 * gradient of the loss with respect to their pre-activations (llm.c reuses buffers the same way),
 * so the tape needs no second [T, B, G·H] buffer; one tape therefore serves one backward.
 */
import type { CellParams } from './params.js';
import { ForwardWeights } from './weights.js';
import { checkFloat32Bytes, checkSize } from '../core/limits.js';

/** What a tape is cut to: the cell's sizes and parameters. */
export interface TapeSpec {
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** P: features of h (projSize, else hiddenSize). */
  readonly outputSize: number;
  readonly gateCount: number;
  readonly hasCellState: boolean;
  readonly params: CellParams;
  /**
   * The parameter vector the steps read as it is rather than folded into foldedBias (a resetAfter
   * GRU's b_hh [3H], a peephole LSTM's weightPeephole [3, H]), or null.
   */
  stepVectorSource(): Float32Array | null;
}

export class CellTape {
  /** The cell that cut this tape: its step kernels alone may consume it. */
  readonly owner: TapeSpec;
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** P: features of h and dh (projSize, else H). */
  readonly outputSize: number;
  readonly gateCount: number;
  /** [T, B, I] the inputs (zero at padded positions; dW_ih = Σ dGatesᵀ·x needs them). */
  readonly x: Float32Array;
  /**
   * [T, B, G·H] forward: the input projection x·W_ihᵀ of every step; at step t the recurrent
   * product h_{t−1}·W_hhᵀ is added onto it, then (in place) the post-activation gates replace it,
   * blocks i,f,g,o (LSTM) or r,z,n (GRU). After backward of step t: the gradient with respect to
   * the gate pre-activations (dGates). Zero in rows past batchSizes[t].
   */
  readonly gates: Float32Array;
  /** [T+1, B, P] hidden states: h[0] the initial state, h[t+1] the state after step t. */
  readonly h: Float32Array;
  /** [T+1, B, H] LSTM cell states, like h; length 0 for GRU. */
  readonly c: Float32Array;
  /**
   * [T, B, H] one more per-step vector, by cell: LSTM tanh(c_t); GRU r_t ⊙ h_{t−1}, the input of
   * the candidate's recurrent product; GRU (resetAfter) W_hn·h_{t−1} + b_hn, then after backward
   * of step t its gradient. Zero in rows past batchSizes[t].
   */
  readonly aux: Float32Array;
  /**
   * [B, H] scratch for the one recurrent product that cannot be added onto the gates: the
   * resetAfter GRU's W_hn·h_{t−1}, which r multiplies.
   */
  readonly hh: Float32Array;
  /** [G·H] the biases added to each step's pre-activations (b_ih + b_hh, folded; see foldBias). */
  readonly foldedBias: Float32Array;
  /**
   * A copy of the cell's stepVectorSource() (length 0 without one), taken with foldedBias by
   * prepareWeights: the steps read it, so a stream keeps the vector of its last syncWeights.
   */
  readonly stepVector: Float32Array;
  /** W_ih [G·H, I] and W_hh [G·H, P] as the forward products read them (see weights.ts). */
  readonly weightIh: ForwardWeights;
  readonly weightHh: ForwardWeights;
  /** The LSTM's projection W_hr [P, H] as the forward product reads it; null without projSize. */
  readonly weightHr: ForwardWeights | null;
  /**
   * [T, B, H] with a projection: m_t = o_t ⊙ tanh(c_t), the cell output before h_t = m_t·W_hrᵀ
   * (dW_hr = Σ dh_tᵀ·m_t needs it); length 0 without. Zero in rows past batchSizes[t].
   */
  readonly proj: Float32Array;
  /**
   * [2, B, P] backward: the gradient with respect to h_t lives in block t & 1, so step t reads
   * block (t+1) & 1 and writes block t & 1; after the time loop block 0 holds dh_0.
   */
  readonly dh: Float32Array;
  /** [2, B, H] the same for the LSTM cell state c; length 0 for GRU. */
  readonly dc: Float32Array;
  /** [B, H] backward scratch of one step (GRU: d(r ⊙ h_{t−1}); LSTM with a projection: dm_t). */
  readonly dTemp: Float32Array;
  /** [T] rows active at step t: B for every step unless the layer packed the batch. */
  readonly batchSizes: Int32Array;
  /** One-step tapes of `cell.forward`: true from the forward until its backward consumes it. */
  ready = false;

  constructor(
    spec: TapeSpec,
    /** Steps T held by this tape. */
    readonly steps: number,
    /** Batch B. */
    readonly batch: number,
    /** Whether the forward products read transposed copies of the weights (see weights.ts). */
    transposedWeights: boolean,
  ) {
    const T = checkSize('steps', steps), B = checkSize('batch', batch);
    const I = spec.inputSize, H = spec.hiddenSize, GH = spec.gateCount * H, P = spec.outputSize;
    const C = spec.hasCellState ? 1 : 0, R = spec.params.weightHr === undefined ? 0 : 1;
    const V = spec.stepVectorSource()?.length ?? 0;
    this.owner = spec;
    this.inputSize = I;
    this.hiddenSize = H;
    this.outputSize = P;
    this.gateCount = spec.gateCount;
    const sizes = [
      T * B * I, T * B * GH, (T + 1) * B * P, C * (T + 1) * B * H, T * B * H, B * H, GH, 2 * B * P, C * 2 * B * H, B * H, R * T * B * H, V,
    ];
    const total = sizes.reduce((a, b) => a + b, 0);
    // The tape and the transposed weight copies, checked before anything is allocated.
    checkFloat32Bytes(`steps*batch (a tape of ${T} steps of ${B} rows)`, total + (transposedWeights ? GH * (I + P) + R * P * H : 0));
    const buf = new Float32Array(total);
    let off = 0, k = 0;
    const take = (): Float32Array => buf.subarray(off, (off += sizes[k++]!));
    this.x = take();
    this.gates = take();
    this.h = take();
    this.c = take();
    this.aux = take();
    this.hh = take();
    this.foldedBias = take();
    this.dh = take();
    this.dc = take();
    this.dTemp = take();
    this.proj = take();
    this.stepVector = take();
    this.weightIh = new ForwardWeights(spec.params.weightIh, GH, I, transposedWeights);
    this.weightHh = new ForwardWeights(spec.params.weightHh, GH, P, transposedWeights);
    const hr = spec.params.weightHr;
    this.weightHr = hr === undefined ? null : new ForwardWeights(hr, P, H, transposedWeights);
    this.batchSizes = new Int32Array(T).fill(B);
  }
}
