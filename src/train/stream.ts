/**
 * Streaming inference: one input vector in, one hidden vector out, for as long as the stream
 * lasts, with every buffer allocated once up front. Each cell (one per layer) owns a one-step
 * tape holding a copy of its weights (refreshed by `syncWeights`); a step projects the input, runs
 * the cell's forward kernel, and copies the new state h[1] (and c[1]) down to h[0] (and c[0])
 * for the next step. The runner allocates no arrays per step, so memory stays flat over millions
 * of steps (measured: 1e6 steps retain < 1 KB; see test/train/stream.test.ts).
 *
 * The values are those of SequenceRunner.run (or the stack's run) over the same sequence,
 * bitwise: the runner's kernels compute each row of its T·B rows as a one-step tape does.
 * Streaming is inference: a stack's dropout is never applied (its run in eval mode).
 */
import type { RecurrentCell } from '../cells/cell.js';
import type { CellState, StateArrays, StateShape } from '../cells/state.js';
import type { CellTape } from '../cells/tape.js';
import type { RecurrentModule } from '../layers/module.js';
import { asModule } from '../layers/sequence-runner.js';
import { checkFloat32Length, snapshot } from '../core/validate.js';
import { checkFloat32Bytes, checkSize } from '../core/limits.js';

/** What StreamingRunner steps: a cell, a runner (its cell), or a unidirectional LSTM/GRU stack. */
export type StreamModule<S extends CellState> = RecurrentCell<S> | RecurrentModule<S>;

/** Options of `new StreamingRunner(...)`. */
export interface StreamingRunnerOptions<S extends CellState> {
  /** Batch size B: parallel streams stepped together (default 1). */
  batch?: number;
  /** State before the first step (and after `reset()`), each [L, B, H]; zeros when omitted. Copied. */
  initialState?: S;
  /**
   * The layout of the sequence being streamed: as TruncatedBPTTOptions.batchFirst (a cell: the
   * runner's layout; a module: omit it or give its own). A step's x [B, I] is one time step, laid
   * out the same in both layouts ([B, 1, I] = [1, B, I]), so only the check differs.
   */
  batchFirst?: boolean;
}

/**
 * Steps a cell, or the cells of a stack layer after layer, one time step per call.
 *
 * ```ts
 * const stream = new StreamingRunner(rnn);          // an LSTM/GRU stack or a cell; batch 1
 * for (const x of sensor) {                         // x: Float32Array [1, I]
 *   const h = stream.step(x);                       // [1, H], a view: valid until the next step
 *   act(head.run(h, 1));
 * }
 * stream.reset();                                   // a new stream starts from the initial state
 * ```
 * The weight matrices are copied into the runner's tapes at construction, at `reset()` and at
 * `syncWeights()`: after changing the parameters (an optimizer step, loadStateDict), call
 * `syncWeights()` to stream with the new ones. Only unidirectional stacks: a reverse direction
 * needs the whole sequence.
 */
export class StreamingRunner<S extends CellState> {
  /** The cells stepped, first layer first. */
  readonly cells: readonly RecurrentCell<S>[];
  /** Batch size B. */
  readonly batch: number;
  /** Whether the streamed sequence is batch-first (the module's batchFirst); steps are [B, I] either way. */
  readonly batchFirst: boolean;
  /** Input size I of the first layer. */
  readonly inputSize: number;
  /** Hidden size H. */
  readonly hiddenSize: number;
  /** L: layers (state rows per batch entry). */
  readonly layers: number;
  /** Whether the state has a cell part c (LSTM). */
  readonly hasCellState: boolean;
  /** One one-step tape per layer: h[0] (c[0]) hold the current state between steps. */
  private readonly tapes: CellTape[];
  /** Per layer, the view tape.h[0] [B, P] (P = projSize, else H): the layer's current hidden state (the next layer's input). */
  private readonly hViews: Float32Array[];
  private readonly shape: StateShape;
  private readonly start: StateArrays;
  private stepCount = 0;

  /**
   * @param module a cell, a SequenceRunner (its cell is stepped), or a unidirectional LSTM/GRU stack
   * @param options batch size and initial state; see StreamingRunnerOptions
   */
  constructor(module: StreamModule<S>, options: StreamingRunnerOptions<S> = {}) {
    const o = snapshot('StreamingRunner options', options, ['batch', 'initialState', 'batchFirst']);   // own keys, read once
    const batch = o.batch, init = o.initialState;
    const m = asModule('module', module, o.batchFirst);
    if (m.numDirections !== 1) {
      throw new RangeError('module: expected a unidirectional stack (a reverse direction needs the whole sequence), got bidirectional: true');
    }
    this.batchFirst = m.batchFirst;
    this.batch = checkSize('batch', batch === undefined ? 1 : batch);
    this.cells = m.cells.slice();
    this.inputSize = m.inputSize;
    this.hiddenSize = m.hiddenSize;
    this.layers = m.numLayers;
    this.hasCellState = m.hasCellState;
    this.shape = m.stateShape;
    const total = this.shape.length(this.batch), cells = this.shape.cellLength(this.batch);
    checkFloat32Bytes(`batch (the states of ${this.batch} rows)`, total + cells);
    this.start = { h: new Float32Array(total), c: new Float32Array(cells) };
    if (init !== undefined) {
      const s = this.shape.read('initialState', init, this.batch);
      this.start.h.set(s.h);
      this.start.c.set(s.c);
    }
    const n = this.batch * this.cells[0]!.outputSize;
    this.tapes = this.cells.map((c) => c.createTape(1, this.batch, true));
    this.hViews = this.tapes.map((t) => t.h.subarray(0, n));
    this.reset();
  }

  /**
   * Copies the cells' current weights into the runner (O(G·H·(I + H)) per layer). Needed after
   * the parameters change; construction and reset() do it too. The state is kept.
   */
  syncWeights(): void {
    this.cells.forEach((cell, k) => cell.prepareWeights(this.tapes[k]!));
  }

  /**
   * Advances every stream by one time step.
   * @param x [B, I] the inputs of this step
   * @returns [B, P] the last layer's new hidden state (P = projSize when set, else H): a view into an internal buffer, the same
   *   array on every call, overwritten by the next `step` or `reset` (slice() it to keep it)
   */
  step(x: Float32Array): Float32Array {
    checkFloat32Length('x', x, this.batch * this.inputSize, 'batch*inputSize');
    const n = this.batch * this.cells[0]!.outputSize, nc = this.batch * this.hiddenSize;
    let input = x;
    for (let k = 0; k < this.layers; k++) {
      const cell = this.cells[k]!, tape = this.tapes[k]!;
      tape.x.set(input);
      cell.projectInputs(tape);
      cell.forwardStep(tape, 0);
      // The new state becomes the current one: h[1] → h[0] (and c).
      tape.h.copyWithin(0, n, 2 * n);
      if (this.hasCellState) tape.c.copyWithin(0, nc, 2 * nc);
      input = this.hViews[k]!;
    }
    this.stepCount++;
    return input;
  }

  /**
   * Starts a new stream: the state goes back to the initial state (zeros unless given), steps to
   * 0, and the cells' current weights are copied in (see syncWeights).
   */
  reset(): void {
    this.syncWeights();
    this.writeState(this.start.h, this.start.c);
    this.stepCount = 0;
  }

  /** The current state, h (and c), each [L, B, H]: a copy. */
  get state(): S {
    const n = this.batch * this.cells[0]!.outputSize, nc = this.batch * this.hiddenSize;
    const h = new Float32Array(this.shape.length(this.batch)), c = new Float32Array(this.shape.cellLength(this.batch));
    this.tapes.forEach((t, k) => {
      h.set(t.h.subarray(0, n), k * n);
      if (this.hasCellState) c.set(t.c.subarray(0, nc), k * nc);
    });
    return this.shape.wrap(h, c);
  }

  /** Replaces the current state (checked, then copied in); the step count is kept. */
  set state(s: S) {
    const st = this.shape.read('state', s, this.batch);
    this.writeState(st.h, st.c);
  }

  /** Steps taken since construction or the last reset(). */
  get steps(): number {
    return this.stepCount;
  }

  private writeState(h: Float32Array, c: Float32Array): void {
    const n = this.batch * this.cells[0]!.outputSize, nc = this.batch * this.hiddenSize;
    this.tapes.forEach((t, k) => {
      t.h.set(h.subarray(k * n, (k + 1) * n));
      if (this.hasCellState) t.c.set(c.subarray(k * nc, (k + 1) * nc));
    });
  }
}
