/**
 * Truncated backprop through time (TBPTT) over a long stream: the stream is fed in chunks, the
 * state is carried from one chunk to the next (the final state of chunk k becomes the initial
 * state of chunk k + 1), and the gradient stops at every chunk boundary: the carried state is a
 * constant of chunk k + 1, so a chunk's backward reaches back to its own first step and no
 * further (Williams & Peng's TBPTT(k, k); PyTorch's `hidden = hidden.detach()` between chunks).
 *
 * Forward values are those of one pass over the whole stream (bitwise: a runner's chunked run
 * equals its whole run); only the gradients are truncated.
 *
 * Shapes: a chunk is time-major [T, B, I], or [B, T, I] with batchFirst (T may change from chunk
 * to chunk, B is fixed); the
 * carried state is h (and c for LSTM), each [L, B, H] with L = 1 for a cell or runner and
 * L = numLayers for a stack (unidirectional only: a reverse direction needs the whole stream);
 * with an LSTM's projSize P, h and the outputs have P features instead of H.
 */
import type { RecurrentCell } from '../cells/cell.js';
import type { CellState, StateArrays, StateShape } from '../cells/state.js';
import type { BackwardInput, BackwardResult, RecurrentModule, RunResult } from '../layers/module.js';
import { asModule } from '../layers/sequence-runner.js';
import { snapshot } from '../core/validate.js';
import { checkFloat32Bytes, checkSize } from '../core/limits.js';

/** What TruncatedBPTT unrolls: a cell (wrapped in its own SequenceRunner), a runner, or a stack. */
export type TBPTTModule<S extends CellState> = RecurrentCell<S> | RecurrentModule<S>;

/** Options of `new TruncatedBPTT(...)`. */
export interface TruncatedBPTTOptions<S extends CellState> {
  /** Batch size B: the number of parallel streams, fixed for the life of the object. */
  batch: number;
  /** State before the first chunk (and after `reset()`), each [L, B, H]; zeros when omitted. Copied. */
  initialState?: S;
  /**
   * Chunks, outputs, dOutputs and dInputs are [B, T, ·] (PyTorch's batch_first=True) instead of
   * [T, B, ·]. For a cell: the layout of the runner made for it (default false). For a runner or
   * a stack: omit it (the module's own layout is used) or give the module's own batchFirst.
   */
  batchFirst?: boolean;
}

/**
 * Feeds a long stream through a recurrent module chunk by chunk, carrying the state and cutting
 * the gradient at chunk boundaries.
 *
 * ```ts
 * const tb = new TruncatedBPTT(new LSTM({ inputSize: 3, hiddenSize: 32, numLayers: 2 }), { batch: 4 });
 * for (const chunk of chunks) {                       // each [T, 4, 3]
 *   opt.zeroGrad();
 *   const { outputs } = tb.forward(chunk);            // [T, 4, 32], state carried on
 *   const loss = mseLoss(outputs, target, dOutputs);
 *   tb.backward({ dOutputs });                        // gradients of this chunk only
 *   opt.step();
 * }
 * tb.reset();                                         // next stream starts from zeros
 * ```
 * One `backward` per `forward`; a new `forward` drops the previous chunk's tape. The module may
 * be shared with other code, but nothing else should run `forward` on it between this object's
 * `forward` and `backward` (the module keeps a single tape).
 */
export class TruncatedBPTT<S extends CellState> {
  /** The unrolled module: the runner or stack given, or a new SequenceRunner over the cell given. */
  readonly module: RecurrentModule<S>;
  /** Batch size B. */
  readonly batch: number;
  /** Whether chunks are [B, T, I] (the module's batchFirst). */
  readonly batchFirst: boolean;
  /** L: state rows per batch entry (numLayers for a stack, else 1). */
  readonly layers: number;
  /** Hidden size H. */
  readonly hiddenSize: number;
  /** Whether the state has a cell part c (LSTM). */
  readonly hasCellState: boolean;
  private readonly shape: StateShape;
  private readonly start: StateArrays;
  private readonly carried: StateArrays;
  private pending = false;
  private stepCount = 0;

  /**
   * @param module a cell, a SequenceRunner, or an LSTM/GRU stack (not bidirectional)
   * @param options batch size and optional initial state; see TruncatedBPTTOptions
   */
  constructor(module: TBPTTModule<S>, options: TruncatedBPTTOptions<S>) {
    const o = snapshot('TruncatedBPTT options', options, ['batch', 'initialState', 'batchFirst']);   // own keys, read once
    const batch = o.batch, init = o.initialState;
    const m = this.module = asModule('module', module, o.batchFirst);
    if (m.numDirections !== 1) {
      throw new RangeError('module: expected a unidirectional stack (a reverse direction needs the whole stream), got bidirectional: true');
    }
    this.batch = checkSize('batch', batch);
    this.batchFirst = m.batchFirst;
    this.layers = m.numLayers;
    this.hiddenSize = m.hiddenSize;
    this.hasCellState = m.hasCellState;
    this.shape = m.stateShape;
    const n = this.shape.length(this.batch), nc = this.shape.cellLength(this.batch);
    checkFloat32Bytes(`batch (the carried states of ${this.batch} rows)`, 2 * (n + nc));
    this.start = { h: new Float32Array(n), c: new Float32Array(nc) };
    this.carried = { h: new Float32Array(n), c: new Float32Array(nc) };
    if (init !== undefined) copyInto(this.start, this.shape.read('initialState', init, this.batch));
    this.reset();
  }

  /**
   * Forward of the next chunk from the carried state; keeps the tape for one `backward`, then
   * carries the chunk's final state on to the next chunk.
   * @param chunk [T, B, I] time-major inputs ([B, T, I] when batchFirst), T ≥ 1
   * @returns outputs [T, B, H] ([B, T, H] when batchFirst) and the final state (each [L, B, H]); arrays owned by the caller
   */
  forward(chunk: Float32Array): RunResult<S> {
    const res = this.module.forward(chunk, { batch: this.batch, initialState: this.carriedView() });
    this.advance(res, chunk);
    this.pending = true;
    return res;
  }

  /**
   * Inference on the next chunk from the carried state (no tape; drops one kept by `forward`),
   * then carries the final state on. Same values as `forward`.
   * @param chunk [T, B, I] ([B, T, I] when batchFirst)
   * @returns outputs [T, B, H] ([B, T, H] when batchFirst) and the final state (each [L, B, H]); arrays owned by the caller
   */
  run(chunk: Float32Array): RunResult<S> {
    const res = this.module.run(chunk, { batch: this.batch, initialState: this.carriedView() });
    this.advance(res, chunk);
    this.pending = false;
    return res;
  }

  /**
   * Backprop through time within the last chunk given to `forward`: parameter gradients add into
   * the module's grads. The gradient stops at the chunk's start: the returned `dInitialState` is
   * what flowed into the carried state, reported and then dropped (not passed to earlier chunks).
   * @param upstream dOutputs [T, B, H] ([B, T, H] when batchFirst) and/or dFinalState (each
   *   [L, B, H]); missing means zero
   * @returns dInputs [T, B, I] ([B, T, I] when batchFirst) and the dropped dInitialState (each [L, B, H])
   */
  backward(upstream: BackwardInput<S> = {}): BackwardResult<S> {
    if (!this.pending) {
      throw new Error('backward: no chunk to backpropagate; call forward() first (each forward allows one backward)');
    }
    const res = this.module.backward(upstream);
    this.pending = false;
    return res;
  }

  /**
   * Starts a new stream: the carried state goes back to the initial state (zeros unless one was
   * given to the constructor) and the step count to 0; a kept chunk can no longer be backpropagated.
   */
  reset(): void {
    copyInto(this.carried, this.start);
    this.pending = false;
    this.stepCount = 0;
  }

  /** The carried state, h (and c), each [L, B, H]: a copy. */
  get state(): S {
    return this.shape.wrap(this.carried.h.slice(), this.carried.c.slice());
  }

  /**
   * Replaces the carried state (copied in, checked first): the next chunk starts from it. Any
   * gradient still kept from the last forward remains valid for that chunk.
   */
  set state(s: S) {
    copyInto(this.carried, this.shape.read('state', s, this.batch));
  }

  /** Time steps fed since construction or the last reset(). */
  get steps(): number {
    return this.stepCount;
  }

  /** The carried buffers as the module's initialState (the module copies them into its tape). */
  private carriedView(): S {
    return this.shape.wrap(this.carried.h, this.carried.c);
  }

  private advance(res: RunResult<S>, chunk: Float32Array): void {
    const f = res.finalState as Partial<StateArrays>;
    this.carried.h.set(f.h!);
    if (this.hasCellState) this.carried.c.set(f.c!);
    this.stepCount += chunk.length / (this.batch * this.module.inputSize);
  }
}

function copyInto(dst: StateArrays, src: StateArrays): void {
  dst.h.set(src.h);
  dst.c.set(src.c);
}
