/**
 * The module interface: what a SequenceRunner (one layer, one direction), a BidirectionalLayer
 * and an LSTM/GRU stack all answer, so that training loops, TruncatedBPTT, StreamingRunner and
 * save/load treat them alike. A runner is a one-layer, one-direction stack.
 *
 * Shapes (L = numLayers, D = numDirections, H = hiddenSize, B = batch, T = steps; P = the LSTM's
 * projSize when set, else H; H wherever P is written, for a module without projection):
 *   inputs [T, B, I] time-major, outputs [T, B, D·P] (forward direction's P features, then the
 *   reverse's); states h [L·D, B, P] and c (LSTM) [L·D, B, H], layer-major, forward direction
 *   before reverse (PyTorch's h_n layout; [B, P] and [B, H] for a runner). With `batchFirst`, inputs, outputs,
 *   dOutputs and dInputs are [B, T, ·] instead (PyTorch's batch_first=True), converted here, at
 *   the public calls, and nowhere else (batch-first.ts); states keep their layout.
 *
 * Every public call reads its arguments once, checks them, and passes the checked snapshot down;
 * a stack's layers take that snapshot without checking it again.
 */
import type { RecurrentCell } from '../cells/cell.js';
import { StateShape, type CellState, type StateArrays } from '../cells/state.js';
import type { Parameter, Tensor } from '../core/tensor.js';
import type { LoadStateDictOptions, StateDictOptions, TensorInput } from '../core/tensor-input.js';
import { swapLeadingAxes } from './batch-first.js';
import { checkBackwardReady, checkFloat32, checkFloat32Length, checkLengths, snapshot } from '../core/validate.js';
import { checkSize } from '../core/limits.js';

/** Options of `run` and `forward`. */
export interface RunOptions<S extends CellState> {
  /** Batch size B; `inputs.length` must be a non-zero multiple of B·inputSize. */
  batch: number;
  /** State before the first step, each [L·D, B, H]; zeros when omitted. */
  initialState?: S;
  /**
   * Optional per-entry sequence lengths, each an integer in 1..T (any order): PyTorch's packed
   * sequence semantics. Entry b runs steps 0..lengths[b]−1 (the reverse direction starts at its
   * own last step); its outputs after that are zero, its final state is its state after its own
   * last step, and padding is inert: any value there changes no output, state or gradient.
   */
  lengths?: ArrayLike<number>;
}

/** What `run` and `forward` return (arrays owned by the caller). */
export interface RunResult<S extends CellState> {
  /** [T, B, D·H] ([B, T, D·H] when batchFirst) the last layer's hidden state after every step (zero past an entry's length). */
  outputs: Float32Array;
  /** State after the last step (for each entry, after its own last step), each [L·D, B, H]. */
  finalState: S;
}

/** Upstream gradients for `backward`; either may be omitted (zero). */
export interface BackwardInput<S extends CellState> {
  /** [T, B, D·H] ([B, T, D·H] when batchFirst) gradient with respect to outputs (ignored at padded positions). */
  dOutputs?: Float32Array;
  /** Gradient with respect to the final state, each [L·D, B, H]; a missing member counts as zero. */
  dFinalState?: Partial<S>;
}

/** What `backward` returns (arrays owned by the caller). */
export interface BackwardResult<S extends CellState> {
  /** [T, B, I] ([B, T, I] when batchFirst) gradient with respect to inputs (zero at padded positions). */
  dInputs: Float32Array;
  /** Gradient with respect to the initial state, each [L·D, B, H]. */
  dInitialState: S;
}

/** @internal A checked run: the inputs, sizes, lengths and initial state, read once. */
export interface RunRequest {
  readonly inputs: Float32Array;
  readonly steps: number;
  readonly batch: number;
  readonly lengths: Int32Array | null;
  /** h and c [R, B, H] (c empty without a cell state), or null for zeros. */
  readonly initial: StateArrays | null;
}

/** @internal Checked upstream gradients: null members are zero. */
export interface BackwardRequest {
  readonly dOutputs: Float32Array | null;
  readonly dh: Float32Array | null;
  readonly dc: Float32Array | null;
}

/**
 * @internal Names one kept forward. A public `forward` makes a new one and passes it down; each
 * runner stamps its tape with it and its backward refuses any other, so a backward can never
 * read a tape that a later call (on the module or on one of its layers) has overwritten.
 */
export type ForwardToken = object;

/** @internal What a forward request returns: outputs [T, B, D·H] and the final h, c [R, B, H]. */
export interface ForwardOutcome {
  outputs: Float32Array;
  final: StateArrays;
}

/** @internal What a backward request returns: dInputs [T, B, I] and dh_0, dc_0 [R, B, H]. */
export interface BackwardOutcome {
  dInputs: Float32Array;
  initial: StateArrays;
}

/** @internal Why a backward is refused when a layer's tape was overwritten after the forward. */
export const REPLACED = 'backward: the forward tape was replaced by a later forward or run() on this layer; call forward() again';

/** Base of SequenceRunner, BidirectionalLayer and the LSTM/GRU stacks. */
export abstract class RecurrentModule<S extends CellState> {
  /** Input features I. */
  abstract readonly inputSize: number;
  /** Hidden features H of each direction. */
  abstract readonly hiddenSize: number;
  /** L: stacked layers (1 for a runner or a single layer). */
  abstract readonly numLayers: number;
  /** D: 2 for a bidirectional module, else 1. */
  abstract readonly numDirections: number;
  /** True for LSTM (state {h, c}), false for GRU (state {h}). */
  abstract readonly hasCellState: boolean;
  /** The cells, index layer·D + direction (direction 1 = reverse). */
  abstract readonly cells: readonly RecurrentCell<S>[];
  /**
   * True: sequences (inputs, outputs, dOutputs, dInputs) are [B, T, F], as PyTorch's
   * batch_first=True; false (default): time-major [T, B, F]. States are [L·D, B, H] either way.
   */
  abstract readonly batchFirst: boolean;
  /** The last kept forward: its sizes and token; null after run() or once backward consumed it. */
  private kept: { steps: number; batch: number; token: ForwardToken } | null = null;
  private forwards = 0;
  private shape: StateShape | null = null;

  /** Output features per step: D·P, P = the cells' outputSize (the LSTM's projSize when set, else H). */
  get outputSize(): number {
    return this.numDirections * this.cells[0]!.outputSize;
  }

  /** @internal The state's shape: R = L·D rows per batch entry. */
  get stateShape(): StateShape {
    // Made on first use: the subclass sets the sizes after this constructor has run.
    if (this.shape === null) {
      const L = this.numLayers, D = this.numDirections;
      const name = [L > 1 ? 'numLayers' : '', D > 1 ? 'numDirections' : ''].filter((f) => f !== '').join('*');
      this.shape = new StateShape(this.hasCellState, this.hiddenSize, L * D, name, this.cells[0]!.projSize);
    }
    return this.shape;
  }

  /**
   * Inference: outputs [T, B, D·H] ([B, T, D·H] when batchFirst) and the final state. Invalidates
   * a kept forward.
   * @param inputs [T, B, I], or [B, T, I] when batchFirst
   */
  run(inputs: Float32Array, options: RunOptions<S>): RunResult<S> {
    const req = this.readRun(inputs, options);
    this.kept = null;
    return this.result(req, this.forwardRequest(req, null));
  }

  /** Same result as `run`, and keeps what one `backward` needs. */
  forward(inputs: Float32Array, options: RunOptions<S>): RunResult<S> {
    const req = this.readRun(inputs, options);
    this.kept = null;
    this.forwards++;
    const token: ForwardToken = {};
    const out = this.forwardRequest(req, token);
    this.kept = { steps: req.steps, batch: req.batch, token };
    return this.result(req, out);
  }

  /**
   * Backprop through time (and layers) of the last `forward`: adds parameter gradients into the
   * cells' grads and returns the gradients with respect to the inputs and the initial state.
   */
  backward(upstream: BackwardInput<S> = {}): BackwardResult<S> {
    checkBackwardReady(this.forwards === 0 ? null : this, this.kept !== null);
    const kept = this.kept!;
    const up = snapshot('upstream', upstream, ['dOutputs', 'dFinalState']);   // own keys, read once
    const { steps: T, batch: B } = kept;
    const shape = this.stateShape;
    const dOut = up.dOutputs;
    let dOutputs = dOut === undefined ? null
      : checkFloat32Length('dOutputs', dOut, T * B * this.outputSize, this.outputLengthName);
    const dFinal = up.dFinalState;
    const d = dFinal === undefined ? { h: null, c: null } : shape.readPartial('dFinalState', dFinal, B);
    if (!this.holds(kept.token)) throw new Error(REPLACED);
    this.kept = null;
    if (dOutputs !== null && this.batchFirst) dOutputs = swapLeadingAxes(dOutputs, B, T, this.outputSize);
    const res = this.backwardRequest({ dOutputs, dh: d.h, dc: d.c }, kept.token);
    const dInputs = this.batchFirst ? swapLeadingAxes(res.dInputs, T, B, this.inputSize) : res.dInputs;
    return { dInputs, dInitialState: shape.wrap(res.initial.h, res.initial.c) };
  }

  /** A zero state for `batch` entries: {h, c} (LSTM) or {h} (GRU), each [L·D, B, H]. */
  initialState(batch: number): S {
    return this.stateShape.zeros(checkSize('batch', batch));
  }

  /** Sets every cell's gradients to zero. */
  zeroGrad(): void {
    for (const c of this.cells) c.zeroGrad();
  }

  /** Every parameter with its gradient (the cells' own arrays). */
  abstract parameters(): Parameter[];
  /** The parameters under PyTorch's keys and conventions, after `options.prefix`. New arrays. */
  abstract stateDict(options?: StateDictOptions): Record<string, Tensor>;
  /** Loads parameters under the keys of stateDict() (after `options.prefix`); all or nothing. */
  abstract loadStateDict(stateDict: Record<string, TensorInput>, options?: LoadStateDictOptions): void;

  /**
   * @internal Forward of a checked request. With a token, its tapes are kept for the backward
   * of that token; null (run) keeps nothing that a backward may use.
   */
  abstract forwardRequest(req: RunRequest, token: ForwardToken | null): ForwardOutcome;
  /** @internal Whether every tape of this module still holds the forward made with `token`. */
  abstract holds(token: ForwardToken): boolean;
  /** @internal Backward of the forward made with `token`; throws if a later call replaced it. */
  abstract backwardRequest(up: BackwardRequest, token: ForwardToken): BackwardOutcome;

  /** How messages spell the length of outputs. */
  private get outputLengthName(): string {
    const P = this.cells[0]!.projSize > 0 ? 'projSize' : 'hiddenSize';
    return this.numDirections === 1 ? `steps*batch*${P}` : `steps*batch*numDirections*${P}`;
  }

  /** @internal Reads run/forward arguments once and checks them; the inputs come out time-major. */
  readRun(inputs: unknown, options: unknown): RunRequest {
    const o = snapshot('options', options, ['batch', 'initialState', 'lengths']);   // own keys, read once
    const batch = o.batch, init = o.initialState, lens = o.lengths;
    const B = checkSize('batch', batch);
    const I = this.inputSize;
    const x = checkFloat32('inputs', inputs);
    if (x.length === 0 || x.length % (B * I) !== 0) {
      throw new RangeError(`inputs: expected a non-zero multiple of batch*inputSize = ${B * I}, got ${x.length}`);
    }
    const T = x.length / (B * I);
    const initial = init === undefined ? null : this.stateShape.read('initialState', init, B);
    const lengths = lens === undefined ? null : checkLengths(lens, T, B);
    return { inputs: this.batchFirst ? swapLeadingAxes(x, B, T, I) : x, steps: T, batch: B, lengths, initial };
  }

  /** The public result of a forward request: outputs in the module's layout, the state wrapped. */
  private result(req: RunRequest, out: ForwardOutcome): RunResult<S> {
    const outputs = this.batchFirst ? swapLeadingAxes(out.outputs, req.steps, req.batch, this.outputSize) : out.outputs;
    return { outputs, finalState: this.stateShape.wrap(out.final.h, out.final.c) };
  }
}
