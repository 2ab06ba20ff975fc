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
import type { LoadStateDictOptions, StateDictOptions, TensorInput } from '../core/tensor-input.js';
import { checkObject, checkOptionalBoolean, describe } from '../core/validate.js';
import {
  RecurrentModule, REPLACED, type BackwardOutcome, type BackwardRequest, type ForwardOutcome, type ForwardToken, type RunRequest,
} from './module.js';
import {
  maskBackwardStep, maskForwardStep, packBatch, packRows, packSteps, unpackRows, unpackSteps, type Packing,
} from './packing.js';

/** Options of `new SequenceRunner(cell, options)`. */
export interface SequenceRunnerOptions {
  /** Sequences (inputs, outputs, dOutputs, dInputs) are [B, T, F], as PyTorch's batch_first=True (default false: [T, B, F]). */
  batchFirst?: boolean;
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
 * interleaving. One backward per forward. States are [B, H] (a one-layer, one-direction module).
 * With `{ batchFirst: true }` the sequences are [B, T, ·] (see RecurrentModule).
 */
export class SequenceRunner<S extends CellState> extends RecurrentModule<S> {
  /** The cell being unrolled. */
  readonly cell: RecurrentCell<S>;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers = 1;
  readonly numDirections = 1;
  readonly hasCellState: boolean;
  readonly batchFirst: boolean;
  private tape: CellTape | null = null;
  private packing: Packing | null = null;
  /** The token of the forward the tape holds (null: none a backward may use). */
  private token: ForwardToken | null = null;

  /**
   * @param cell the cell to unroll
   * @param options `batchFirst`: sequences are [B, T, ·] instead of [T, B, ·] (default false)
   */
  constructor(cell: RecurrentCell<S>, options: SequenceRunnerOptions = {}) {
    super();
    if (!cell || typeof (cell as { forwardStep?: unknown }).forwardStep !== 'function') {
      throw new TypeError(`cell: expected an LSTMCell or GRUCell, got ${describe(cell)}`);
    }
    this.cell = cell;
    this.inputSize = cell.inputSize;
    this.hiddenSize = cell.hiddenSize;
    this.hasCellState = cell.hasCellState;
    this.batchFirst = checkOptionalBoolean('batchFirst', checkObject('SequenceRunner options', options).batchFirst, false);
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

  /**
   * The cell's stateDict(options): nn.LSTMCell's or nn.GRUCell's keys (weight_ih, …), not
   * nn.LSTM's weight_ih_l0 (for those, use a one-layer LSTM or GRU stack).
   */
  stateDict(options?: StateDictOptions): Record<string, Tensor> {
    return this.cell.stateDict(options);
  }

  /** The cell's loadStateDict(stateDict, options). */
  loadStateDict(stateDict: Record<string, TensorInput>, options?: LoadStateDictOptions): void {
    this.cell.loadStateDict(stateDict, options);
  }

  /** @internal */
  forwardRequest(req: RunRequest, token: ForwardToken | null): ForwardOutcome {
    this.token = token;
    // h rows have P features (the cell's outputSize), c rows H.
    const cell = this.cell, T = req.steps, B = req.batch, H = this.hiddenSize, P = cell.outputSize, n = B * P;
    const nc = this.hasCellState ? B * H : 0;
    let tape = this.tape;
    if (tape === null || tape.steps !== T || tape.batch !== B) tape = this.tape = cell.createTape(T, B, true);
    const p = this.packing = packBatch(req.lengths, T, B);
    tape.batchSizes.set(p.batchSizes);
    packSteps(tape.x, req.inputs, p, this.inputSize);
    if (req.initial !== null) {
      packRows(tape.h.subarray(0, n), req.initial.h, p, P);
      if (this.hasCellState) packRows(tape.c.subarray(0, nc), req.initial.c, p, H);
    } else {
      tape.h.fill(0, 0, n);
      tape.c.fill(0, 0, nc);
    }
    cell.prepareWeights(tape);
    cell.projectInputs(tape);
    for (let t = 0; t < T; t++) {
      cell.forwardStep(tape, t);
      maskForwardStep(tape, t);
    }
    const outputs = new Float32Array(T * n);
    unpackSteps(outputs, tape.h.subarray(n), p, P);
    const h = new Float32Array(n), c = new Float32Array(nc);
    unpackRows(h, tape.h.subarray(T * n), p, P);
    if (this.hasCellState) unpackRows(c, tape.c.subarray(T * nc), p, H);
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
    const T = tape.steps, B = tape.batch, H = this.hiddenSize, P = cell.outputSize, n = B * P;
    const nc = this.hasCellState ? B * H : 0;
    // The gradient with respect to h_T (c_T) goes into block T & 1 (see CellTape.dh).
    const last = (T & 1) * n, lastC = (T & 1) * nc;
    if (up.dh !== null) packRows(tape.dh.subarray(last, last + n), up.dh, p, P);
    else tape.dh.fill(0, last, last + n);
    if (up.dc !== null) packRows(tape.dc.subarray(lastC, lastC + nc), up.dc, p, H);
    else tape.dc.fill(0, lastC, lastC + nc);
    // Upstream gradients in tape order; only the active rows of each step are read below.
    let dOut = up.dOutputs;
    if (dOut !== null && p.order !== null) {
      dOut = new Float32Array(T * n);
      packSteps(dOut, up.dOutputs!, p, P);
    }
    cell.prepareBackward(tape);
    for (let t = T - 1; t >= 0; t--) {
      if (dOut !== null) {
        const dh = tape.dh, o = t * n, d = ((t + 1) & 1) * n, e = tape.batchSizes[t]! * P;
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
    const h = new Float32Array(n), c = new Float32Array(nc);
    unpackRows(h, tape.dh.subarray(0, n), p, P);
    if (this.hasCellState) unpackRows(c, tape.dc.subarray(0, nc), p, H);
    return { dInputs, initial: { h, c } };
  }
}

/**
 * The module a cell, runner or stack stands for: a cell is wrapped in a new SequenceRunner (a
 * one-layer, one-direction module) with this `batchFirst` (default false); a module is itself,
 * and a `batchFirst` given must be its own (a module's layout is set where it is made). `name`
 * is the argument, for messages.
 */
export function asModule<S extends CellState>(
  name: string, v: RecurrentCell<S> | RecurrentModule<S>, batchFirst?: unknown,
): RecurrentModule<S> {
  if (v instanceof RecurrentModule) {
    if (checkOptionalBoolean('batchFirst', batchFirst, v.batchFirst) !== v.batchFirst) {
      throw new RangeError(`batchFirst: expected ${String(v.batchFirst)} (the ${name}'s own; set batchFirst where the module is made), got ${String(batchFirst)}`);
    }
    return v;
  }
  if (v !== null && typeof v === 'object' && typeof (v as { forwardStep?: unknown }).forwardStep === 'function') {
    return new SequenceRunner(v as RecurrentCell<S>, { batchFirst: checkOptionalBoolean('batchFirst', batchFirst, false) });
  }
  throw new TypeError(`${name}: expected a cell, a SequenceRunner or an LSTM/GRU stack, got ${describe(v)}`);
}
