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
 * Shapes: a chunk is time-major [T, B, I] (T may change from chunk to chunk, B is fixed); the
 * carried state is h (and c for LSTM), each [L, B, H] with L = 1 for a cell or runner and
 * L = numLayers for a stack (unidirectional only: a reverse direction needs the whole stream).
 */
import { RecurrentCell, type CellState, type LSTMState } from '../cells/cell.js';
import { RecurrentStack } from '../modules/rnn.js';
import {
  SequenceRunner, type BackwardInput, type BackwardResult, type RunResult,
} from '../runner/sequence-runner.js';
import { checkFloat32Length, checkObject, checkPositiveInt, describe } from '../core/validate.js';

/** What TruncatedBPTT unrolls: a cell (wrapped in its own SequenceRunner), a runner, or a stack. */
export type TBPTTModule<S extends CellState> = RecurrentCell<S> | SequenceRunner<S> | RecurrentStack<S>;

/** Options of `new TruncatedBPTT(...)`. */
export interface TruncatedBPTTOptions<S extends CellState> {
  /** Batch size B: the number of parallel streams, fixed for the life of the object. */
  batch: number;
  /** State before the first chunk (and after `reset()`), each [L, B, H]; zeros when omitted. Copied. */
  initialState?: S;
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
  readonly module: SequenceRunner<S> | RecurrentStack<S>;
  /** Batch size B. */
  readonly batch: number;
  /** L: state rows per batch entry (numLayers for a stack, else 1). */
  readonly layers: number;
  /** Hidden size H. */
  readonly hiddenSize: number;
  /** Whether the state has a cell part c (LSTM). */
  readonly hasCellState: boolean;
  private readonly start: { h: Float32Array; c: Float32Array };
  private readonly carried: { h: Float32Array; c: Float32Array };
  private pending = false;
  private stepCount = 0;

  /**
   * @param module a cell, a SequenceRunner, or an LSTM/GRU stack (not bidirectional)
   * @param options batch size and optional initial state; see TruncatedBPTTOptions
   */
  constructor(module: TBPTTModule<S>, options: TruncatedBPTTOptions<S>) {
    if (module instanceof RecurrentCell) {
      this.module = new SequenceRunner(module);
    } else if (module instanceof SequenceRunner || module instanceof RecurrentStack) {
      this.module = module;
    } else {
      throw new TypeError(`module: expected a cell, a SequenceRunner or an LSTM/GRU stack, got ${describe(module)}`);
    }
    if (this.module instanceof RecurrentStack && this.module.bidirectional) {
      throw new RangeError('module: expected a unidirectional stack (a reverse direction needs the whole stream), got bidirectional: true');
    }
    checkObject('TruncatedBPTT options', options);
    this.batch = checkPositiveInt('batch', options.batch);
    const m = this.module;
    this.layers = m instanceof RecurrentStack ? m.numLayers : 1;
    this.hiddenSize = m instanceof RecurrentStack ? m.hiddenSize : m.cell.hiddenSize;
    this.hasCellState = m instanceof RecurrentStack ? m.hasCellState : m.cell.hasCellState;
    const n = this.stateLength;
    this.start = { h: new Float32Array(n), c: new Float32Array(this.hasCellState ? n : 0) };
    this.carried = { h: new Float32Array(n), c: new Float32Array(this.hasCellState ? n : 0) };
    if (options.initialState !== undefined) this.copyStateInto(this.start, 'initialState', options.initialState);
    this.reset();
  }

  /** Elements of h (and of c): L·B·H. */
  private get stateLength(): number {
    return this.layers * this.batch * this.hiddenSize;
  }

  /**
   * Forward of the next chunk from the carried state; keeps the tape for one `backward`, then
   * carries the chunk's final state on to the next chunk.
   * @param chunk [T, B, I] time-major inputs, T ≥ 1
   * @returns outputs [T, B, H] and the final state (each [L, B, H]); arrays owned by the caller
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
   * @param chunk [T, B, I]
   * @returns outputs [T, B, H] and the final state (each [L, B, H]); arrays owned by the caller
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
   * @param upstream dOutputs [T, B, H] and/or dFinalState (each [L, B, H]); missing means zero
   * @returns dInputs [T, B, I] and the dropped dInitialState (each [L, B, H])
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
    this.carried.h.set(this.start.h);
    this.carried.c.set(this.start.c);
    this.pending = false;
    this.stepCount = 0;
  }

  /** The carried state, h (and c), each [L, B, H]: a copy. */
  get state(): S {
    const s = this.hasCellState ? { h: this.carried.h.slice(), c: this.carried.c.slice() } : { h: this.carried.h.slice() };
    return s as S;
  }

  /**
   * Replaces the carried state (copied in, checked first): the next chunk starts from it. Any
   * gradient still kept from the last forward remains valid for that chunk.
   */
  set state(s: S) {
    this.copyStateInto(this.carried, 'state', s);
  }

  /** Time steps fed since construction or the last reset(). */
  get steps(): number {
    return this.stepCount;
  }

  /** The carried buffers as the module's initialState (the module copies them into its tape). */
  private carriedView(): S {
    return (this.hasCellState ? { h: this.carried.h, c: this.carried.c } : { h: this.carried.h }) as S;
  }

  private advance(res: RunResult<S>, chunk: Float32Array): void {
    this.carried.h.set(res.finalState.h);
    if (this.hasCellState) this.carried.c.set((res.finalState as LSTMState).c);
    const inputSize = this.module instanceof RecurrentStack ? this.module.inputSize : this.module.cell.inputSize;
    this.stepCount += chunk.length / (this.batch * inputSize);
  }

  private copyStateInto(dst: { h: Float32Array; c: Float32Array }, name: string, s: unknown): void {
    const st = checkObject(name, s);
    const n = this.stateLength, what = this.layers === 1 ? 'batch*hiddenSize' : 'numLayers*batch*hiddenSize';
    const h = checkFloat32Length(`${name}.h`, st.h, n, what);
    const c = this.hasCellState ? checkFloat32Length(`${name}.c`, st.c, n, what) : null;
    dst.h.set(h);
    if (c !== null) dst.c.set(c);
  }
}
