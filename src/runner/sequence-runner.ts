/**
 * SequenceRunner: the scan of a cell over time, forward and backward (backprop through time).
 *
 * Forward: one GEMM projects the inputs of every step (x·W_ihᵀ) before the time loop; the loop
 * does only h_{t−1}·W_hhᵀ (added onto the projection) and the gates, biases included.
 * Backward in two phases: the time loop (from T−1 down to 0) computes the gate gradients and
 * dh_{t−1}, dc_{t−1}; then the weight gradients
 * dW_ih = Σ_t dGatesᵀ·x_t, dW_hh = Σ_t dGatesᵀ·h_{t−1} and dInputs = dGates·W_ih are one GEMM
 * each over all T·B rows. The tape is allocated once per (steps, batch) and reused; nothing is
 * allocated inside the time loop.
 */
import type { CellState, LSTMState, RecurrentCell } from '../cells/cell.js';
import { CellTape } from '../cells/tape.js';
import {
  checkBackwardReady, checkFloat32, checkFloat32Length, checkLengths, checkObject, checkPositiveInt, describe,
} from '../core/validate.js';

/** Options of `run` and `forward`. */
export interface RunOptions<S extends CellState> {
  /** Batch size B; `inputs.length` must be a multiple of B·inputSize. */
  batch: number;
  /** State before the first step, each [B, H]; zeros when omitted. */
  initialState?: S;
  /**
   * Optional per-entry sequence lengths, each an integer in 1..T (any order): PyTorch's packed
   * sequence semantics. Entry b runs steps 0..lengths[b]−1; its outputs after that are zero, its
   * final state is its state after its own last step, and padding gets no gradient.
   */
  lengths?: ArrayLike<number>;
}

/** What `run` and `forward` return (arrays owned by the caller). */
export interface RunResult<S extends CellState> {
  /** [T, B, H] hidden state after every step (zero past an entry's length). */
  outputs: Float32Array;
  /** State after the last step (for each entry, after its own last step), each [B, H]. */
  finalState: S;
}

/** Upstream gradients for `backward`; either may be omitted (zero). */
export interface BackwardInput<S extends CellState> {
  /** [T, B, H] gradient with respect to outputs. */
  dOutputs?: Float32Array;
  /** Gradient with respect to the final state; a missing member counts as zero. */
  dFinalState?: Partial<S>;
}

/** What `backward` returns (arrays owned by the caller). */
export interface BackwardResult<S extends CellState> {
  /** [T, B, I] gradient with respect to inputs. */
  dInputs: Float32Array;
  /** Gradient with respect to the initial state, each [B, H]. */
  dInitialState: S;
}

/**
 * Unrolls a cell over a time-major sequence [T, B, I] (index (t·B + b)·I + f).
 *
 * ```ts
 * const runner = new SequenceRunner(cell);
 * const { outputs, finalState } = runner.run(inputs, { batch });           // inference
 * runner.forward(inputs, { batch, initialState });                          // keeps the tape
 * const { dInputs, dInitialState } = runner.backward({ dOutputs });        // grads add into cell.grads
 * ```
 * Each runner owns its tape; several runners (over one cell or several) may be used in any
 * interleaving. One backward per forward.
 */
export class SequenceRunner<S extends CellState> {
  /** The cell being unrolled. */
  readonly cell: RecurrentCell<S>;
  private tape: CellTape | null = null;

  constructor(cell: RecurrentCell<S>) {
    if (!cell || typeof (cell as { forwardStep?: unknown }).forwardStep !== 'function') {
      throw new TypeError(`cell: expected an LSTMCell or GRUCell, got ${describe(cell)}`);
    }
    this.cell = cell;
  }

  /** Inference: outputs and final state. Invalidates a tape kept by an earlier `forward`. */
  run(inputs: Float32Array, options: RunOptions<S>): RunResult<S> {
    const res = this.forwardInternal(inputs, options);
    this.tape!.ready = false;
    return res;
  }

  /** Same result as `run`, and keeps the tape for one `backward`. */
  forward(inputs: Float32Array, options: RunOptions<S>): RunResult<S> {
    return this.forwardInternal(inputs, options);
  }

  /**
   * Backprop through time of the last `forward`: adds parameter gradients into `cell.grads` and
   * returns the gradients with respect to the inputs and the initial state.
   */
  backward(upstream: BackwardInput<S> = {}): BackwardResult<S> {
    const tape = this.tape;
    checkBackwardReady(tape, tape !== null && tape.ready);
    checkObject('upstream', upstream);
    const cell = this.cell;
    const T = tape.steps, B = tape.batch, H = cell.hiddenSize, n = B * H;
    const dOut = upstream.dOutputs === undefined ? null
      : checkFloat32Length('dOutputs', upstream.dOutputs, T * n, 'steps*batch*hiddenSize');
    let dhN: Float32Array | null = null, dcN: Float32Array | null = null;
    if (upstream.dFinalState !== undefined) {
      const d = checkObject('dFinalState', upstream.dFinalState);
      if (d.h !== undefined) dhN = checkFloat32Length('dFinalState.h', d.h, n, 'batch*hiddenSize');
      if (cell.hasCellState && d.c !== undefined) dcN = checkFloat32Length('dFinalState.c', d.c, n, 'batch*hiddenSize');
    }

    const s = tape.dScratch;
    let dh = s.subarray(0, n), dc = s.subarray(n, 2 * n);
    let dhPrev: Float32Array = new Float32Array(n), dcPrev: Float32Array = new Float32Array(cell.hasCellState ? n : 0);
    // The ping-pong partner buffers live in the caller's result arrays; they are returned below.
    const dhOut = dhPrev, dcOut = dcPrev;
    if (dhN) dh.set(dhN); else dh.fill(0);
    if (dcN) dc.set(dcN); else dc.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      if (dOut !== null) {
        const o = t * n;
        for (let b = 0; b < B; b++) {
          if (!tape.active(t, b)) continue;   // padding gets no gradient
          for (let j = b * H, e = j + H; j < e; j++) dh[j] += dOut[o + j]!;
        }
      }
      cell.backwardStep(tape, t, dh, dc, dhPrev, dcPrev);
      const th = dh; dh = dhPrev; dhPrev = th;
      const tc = dc; dc = dcPrev; dcPrev = tc;
    }
    tape.ready = false;
    cell.accumulateParamGrads(tape);
    const dInputs = new Float32Array(T * B * cell.inputSize);
    cell.inputGrads(dInputs, tape);
    // After the loop dh/dc hold dh_0/dc_0; make sure the returned arrays are the caller's own.
    if (dh !== dhOut) dhOut.set(dh);
    if (cell.hasCellState && dc !== dcOut) dcOut.set(dc);
    const dInitialState = (cell.hasCellState ? { h: dhOut, c: dcOut } : { h: dhOut }) as S;
    return { dInputs, dInitialState };
  }

  private forwardInternal(inputs: Float32Array, options: RunOptions<S>): RunResult<S> {
    const cell = this.cell;
    checkObject('options', options);
    const B = checkPositiveInt('batch', options.batch);
    const I = cell.inputSize, H = cell.hiddenSize, n = B * H;
    checkFloat32('inputs', inputs);
    if (inputs.length === 0 || inputs.length % (B * I) !== 0) {
      throw new RangeError(`inputs: expected a non-zero multiple of batch*inputSize = ${B * I}, got ${inputs.length}`);
    }
    const T = inputs.length / (B * I);
    if (options.initialState !== undefined) cell.checkState('initialState', options.initialState, B);
    const lengths = options.lengths === undefined ? null : checkLengths(options.lengths, T, B);

    let tape = this.tape;
    if (tape === null || tape.steps !== T || tape.batch !== B) tape = this.tape = cell.createTape(T, B);
    tape.ready = false;
    tape.lengths = lengths;
    tape.x.set(inputs);
    const h0 = tape.h.subarray(0, n), c0 = tape.c.subarray(0, cell.hasCellState ? n : 0);
    if (options.initialState !== undefined) {
      h0.set(options.initialState.h);
      if (cell.hasCellState) c0.set((options.initialState as LSTMState).c);
    } else {
      h0.fill(0);
      c0.fill(0);
    }
    cell.prepareWeights(tape);
    cell.projectInputs(tape);
    for (let t = 0; t < T; t++) cell.forwardStep(tape, t);
    tape.ready = true;

    const outputs = tape.h.slice(n, (T + 1) * n);
    if (lengths !== null) {
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) if (t >= lengths[b]!) outputs.fill(0, (t * B + b) * H, (t * B + b + 1) * H);
      }
    }
    const hN = tape.h.slice(T * n, (T + 1) * n);
    const finalState = (cell.hasCellState ? { h: hN, c: tape.c.slice(T * n, (T + 1) * n) } : { h: hN }) as S;
    return { outputs, finalState };
  }

  /** Steps of the last forward or run (0 before any). */
  get steps(): number {
    return this.tape === null ? 0 : this.tape.steps;
  }
}
