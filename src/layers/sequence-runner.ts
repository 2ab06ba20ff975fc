/**
 * SequenceRunner: the scan of one cell over time, forward and backward (backprop through time);
 * PyTorch's layer level, one direction.
 *
 * Forward: one GEMM projects the inputs of every step (x·W_ihᵀ) before the time loop; the loop
 * does only h_{t−1}·W_hhᵀ (added onto the projection) and the gates, biases included.
 * Backward in two phases: the time loop (from T−1 down to 0) computes the gate gradients and
 * dh_{t−1}, dc_{t−1}; then the weight gradients
 * dW_ih = Σ_t dGatesᵀ·x_t, dW_hh = Σ_t dGatesᵀ·h_{t−1} and dInputs = dGates·W_ih are one GEMM
 * each over all T·B rows. The tape is allocated once per (steps, batch) and reused; nothing is
 * allocated inside the time loop. Packed batches are sorted onto the tape by length (see
 * packing.ts), the one place that knows about padding.
 */
import type { RecurrentCell } from '../cells/cell.js';
import type { CellState } from '../cells/state.js';
import type { CellTape } from '../cells/tape.js';
import type { Parameter, Tensor } from '../core/tensor.js';
import type { TensorInput } from '../core/tensor-input.js';
import { describe } from '../core/validate.js';
import {
  RecurrentModule, REPLACED, type BackwardOutcome, type BackwardRequest, type ForwardOutcome, type ForwardToken, type RunRequest,
} from './module.js';
import {
  maskBackwardStep, maskForwardStep, packBatch, packRows, packSteps, unpackRows, unpackSteps, type Packing,
} from './packing.js';

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
 * interleaving. One backward per forward. States are [B, H] (a one-layer, one-direction module).
 */
export class SequenceRunner<S extends CellState> extends RecurrentModule<S> {
  /** The cell being unrolled. */
  readonly cell: RecurrentCell<S>;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers = 1;
  readonly numDirections = 1;
  readonly hasCellState: boolean;
  private tape: CellTape | null = null;
  private packing: Packing | null = null;
  /** The token of the forward the tape holds (null: none a backward may use). */
  private token: ForwardToken | null = null;

  constructor(cell: RecurrentCell<S>) {
    super();
    if (!cell || typeof (cell as { forwardStep?: unknown }).forwardStep !== 'function') {
      throw new TypeError(`cell: expected an LSTMCell or GRUCell, got ${describe(cell)}`);
    }
    this.cell = cell;
    this.inputSize = cell.inputSize;
    this.hiddenSize = cell.hiddenSize;
    this.hasCellState = cell.hasCellState;
  }

  /** [the cell]. */
  get cells(): readonly RecurrentCell<S>[] {
    return [this.cell];
  }

  /** Steps of the last forward or run (0 before any). */
  get steps(): number {
    return this.tape === null ? 0 : this.tape.steps;
  }

  /** The cell's parameters with their gradients. */
  parameters(): Parameter[] {
    return this.cell.parameters();
  }

  /** The cell's stateDict(). */
  stateDict(): Record<string, Tensor> {
    return this.cell.stateDict();
  }

  /** The cell's loadStateDict(). */
  loadStateDict(stateDict: Record<string, TensorInput>): void {
    this.cell.loadStateDict(stateDict);
  }

  /** @internal */
  forwardRequest(req: RunRequest, token: ForwardToken | null): ForwardOutcome {
    this.token = token;
    const cell = this.cell, T = req.steps, B = req.batch, H = this.hiddenSize, n = B * H;
    let tape = this.tape;
    if (tape === null || tape.steps !== T || tape.batch !== B) tape = this.tape = cell.createTape(T, B, true);
    const p = this.packing = packBatch(req.lengths, T, B);
    tape.batchSizes.set(p.batchSizes);
    packSteps(tape.x, req.inputs, p, this.inputSize);
    if (req.initial !== null) {
      packRows(tape.h.subarray(0, n), req.initial.h, p, H);
      if (this.hasCellState) packRows(tape.c.subarray(0, n), req.initial.c, p, H);
    } else {
      tape.h.fill(0, 0, n);
      tape.c.fill(0, 0, this.hasCellState ? n : 0);
    }
    cell.prepareWeights(tape);
    cell.projectInputs(tape);
    for (let t = 0; t < T; t++) {
      cell.forwardStep(tape, t);
      maskForwardStep(tape, t);
    }
    const outputs = new Float32Array(T * n);
    unpackSteps(outputs, tape.h.subarray(n), p, H);
    const h = new Float32Array(n), c = new Float32Array(this.hasCellState ? n : 0);
    unpackRows(h, tape.h.subarray(T * n), p, H);
    if (this.hasCellState) unpackRows(c, tape.c.subarray(T * n), p, H);
    return { outputs, final: { h, c } };
  }

  /** @internal */
  holds(token: ForwardToken): boolean {
    return this.token === token;
  }

  /** @internal */
  backwardRequest(up: BackwardRequest, token: ForwardToken): BackwardOutcome {
    if (!this.holds(token)) throw new Error(REPLACED);
    this.token = null;
    const tape = this.tape!, p = this.packing!, cell = this.cell;
    const T = tape.steps, B = tape.batch, H = this.hiddenSize, n = B * H;
    // The gradient with respect to h_T (c_T) goes into block T & 1 (see CellTape.dh).
    const last = (T & 1) * n;
    if (up.dh !== null) packRows(tape.dh.subarray(last, last + n), up.dh, p, H);
    else tape.dh.fill(0, last, last + n);
    if (up.dc !== null) packRows(tape.dc.subarray(last, last + n), up.dc, p, H);
    else tape.dc.fill(0, last, this.hasCellState ? last + n : last);
    // Upstream gradients in tape order; only the active rows of each step are read below.
    let dOut = up.dOutputs;
    if (dOut !== null && p.order !== null) {
      dOut = new Float32Array(T * n);
      packSteps(dOut, up.dOutputs!, p, H);
    }
    cell.prepareBackward(tape);
    for (let t = T - 1; t >= 0; t--) {
      if (dOut !== null) {
        const dh = tape.dh, o = t * n, d = ((t + 1) & 1) * n, e = tape.batchSizes[t]! * H;
        for (let j = 0; j < e; j++) dh[d + j] += dOut[o + j]!;
      }
      cell.backwardStep(tape, t);
      maskBackwardStep(tape, t);
    }
    cell.accumulateParamGrads(tape);
    const dx = new Float32Array(T * B * this.inputSize);
    cell.inputGrads(dx, tape);
    // Back to entry order, zero at padded positions (in place when the order is the identity).
    const dInputs = p.order === null ? dx : new Float32Array(dx.length);
    if (p.lengths !== null) unpackSteps(dInputs, dx, p, this.inputSize);
    const h = new Float32Array(n), c = new Float32Array(this.hasCellState ? n : 0);
    unpackRows(h, tape.dh.subarray(0, n), p, H);
    if (this.hasCellState) unpackRows(c, tape.dc.subarray(0, n), p, H);
    return { dInputs, initial: { h, c } };
  }
}

/**
 * The module a cell, runner or stack stands for: a cell is wrapped in a new SequenceRunner (a
 * one-layer, one-direction module); a module is itself. `name` is the argument, for messages.
 */
export function asModule<S extends CellState>(name: string, v: RecurrentCell<S> | RecurrentModule<S>): RecurrentModule<S> {
  if (v instanceof RecurrentModule) return v;
  if (v !== null && typeof v === 'object' && typeof (v as { forwardStep?: unknown }).forwardStep === 'function') {
    return new SequenceRunner(v as RecurrentCell<S>);
  }
  throw new TypeError(`${name}: expected a cell, a SequenceRunner or an LSTM/GRU stack, got ${describe(v)}`);
}
