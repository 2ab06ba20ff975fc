/**
 * The tape: what a forward pass over T steps keeps for the backward pass, as named views carved
 * from one allocation (llm.c's ActivationTensors). A runner allocates one per (steps, batch) and
 * reuses it; a manual `cell.forward` allocates a one-step tape.
 *
 * Shapes use G = gate count (4 LSTM, 3 GRU), H = hidden size, I = input size, B = batch,
 * T = steps; every buffer is row-major, time-major.
 *
 * Gates are kept AFTER their activation, so backward takes derivatives from outputs:
 * σ'(a) = s(1 − s), tanh'(a) = 1 − t². Backward then overwrites the gates of step t with the
 * gradient of the loss with respect to their pre-activations (llm.c reuses buffers the same way),
 * so the tape needs no second [T, B, G·H] buffer; one tape therefore serves one backward.
 */
export class CellTape {
  /** [T, B, I] the inputs, copied at forward (the weight gradient dW_ih = Σ dGatesᵀ·x needs them). */
  readonly x: Float32Array;
  /**
   * [T, B, G·H] forward: the input projection x·W_ihᵀ of every step; at step t the recurrent
   * product h_{t−1}·W_hhᵀ is added onto it, then (in place) the post-activation gates replace it,
   * blocks i,f,g,o (LSTM) or r,z,n (GRU). After backward of step t: the gradient with respect to
   * the gate pre-activations (dGates).
   */
  readonly gates: Float32Array;
  /** [T+1, B, H] hidden states: h[0] the initial state, h[t+1] the output of step t. */
  readonly h: Float32Array;
  /** [T+1, B, H] LSTM cell states, like h; length 0 for GRU. */
  readonly c: Float32Array;
  /**
   * [T, B, H] one more per-step vector, by cell: LSTM tanh(c_t); GRU (seed) r_t ⊙ h_{t−1}, the
   * input of the candidate's recurrent matmul; GRU (resetAfter) W_hn·h_{t−1} + b_hn, then after
   * backward of step t its gradient.
   */
  readonly aux: Float32Array;
  /**
   * [B, H] scratch for the one recurrent product that cannot be added onto the gates: the
   * resetAfter GRU's W_hn·h_{t−1}, which r multiplies. The other recurrent products accumulate
   * straight onto tape.gates[t].
   */
  readonly hh: Float32Array;
  /** [G·H] the biases added to each step's pre-activations (b_ih + b_hh, folded; see foldBias). */
  readonly foldedBias: Float32Array;
  /**
   * [I, G·H] and [H, G·H]: W_ihᵀ and W_hhᵀ, copied by `cell.prepareWeights(tape)` at the start of
   * a forward, so that the forward products x·W_ihᵀ and h·W_hhᵀ run as gemmNN with unit-stride
   * rows of the weights (the faster kernel shape); backward uses W_ih and W_hh as they are.
   */
  readonly weightIhT: Float32Array;
  readonly weightHhT: Float32Array;
  /** [4, B, H] backward scratch: ping-pong dh/dc and a per-step temporary (GRU: d(r ⊙ h)). */
  readonly dScratch: Float32Array;
  /** Per batch entry, the number of steps it is active (null: all T). Set by the runner. */
  lengths: Int32Array | null = null;
  /** True from a completed forward until a backward consumes the tape. */
  ready = false;

  constructor(
    /** Steps T held by this tape. */
    readonly steps: number,
    /** Batch B. */
    readonly batch: number,
    readonly inputSize: number,
    readonly hiddenSize: number,
    readonly gateCount: number,
    hasCellState: boolean,
  ) {
    const T = steps, B = batch, I = inputSize, H = hiddenSize, GH = gateCount * hiddenSize;
    const sizes = [
      T * B * I, T * B * GH, (T + 1) * B * H, hasCellState ? (T + 1) * B * H : 0, T * B * H, B * H, GH,
      I * GH, H * GH, 4 * B * H,
    ];
    const buf = new Float32Array(sizes.reduce((a, b) => a + b, 0));
    let off = 0;
    const take = (n: number): Float32Array => buf.subarray(off, (off += n));
    this.x = take(sizes[0]!);
    this.gates = take(sizes[1]!);
    this.h = take(sizes[2]!);
    this.c = take(sizes[3]!);
    this.aux = take(sizes[4]!);
    this.hh = take(sizes[5]!);
    this.foldedBias = take(sizes[6]!);
    this.weightIhT = take(sizes[7]!);
    this.weightHhT = take(sizes[8]!);
    this.dScratch = take(sizes[9]!);
  }

  /** Whether batch entry b takes part in step t (packed-sequence semantics). */
  active(t: number, b: number): boolean {
    return this.lengths === null || t < this.lengths[b]!;
  }
}
