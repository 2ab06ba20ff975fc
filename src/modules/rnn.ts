/**
 * LSTM and GRU modules: PyTorch's stack level. A stack of `numLayers` layers, each one or two
 * directions, each direction one cell unrolled by its own SequenceRunner (cell → runner →
 * stack, as in PyTorch's RNN.cpp). Layer k > 0 takes the D·H outputs of layer k − 1.
 *
 * Shapes (D = 2 when bidirectional, else 1; L = numLayers):
 *   inputs [T, B, I], outputs [T, B, D·H] (forward direction's H features, then the reverse's);
 *   states h (and c) [L·D, B, H], layer-major, forward direction before reverse (PyTorch's).
 *
 * Variable lengths follow PyTorch's packed sequences: entry b runs steps 0..lengths[b]−1, the
 * reverse direction starts at the entry's own last step, outputs past the length are zero, the
 * final state is each entry's state after its own last step, and padding gets no gradient.
 */
import { GRUCell } from '../cells/gru.js';
import { LSTMCell } from '../cells/lstm.js';
import type { CellState, LSTMState, RecurrentCell } from '../cells/cell.js';
import { SequenceRunner } from '../runner/sequence-runner.js';
import { Random } from '../core/random.js';
import { checkConfig } from '../core/validate.js';
import type { Parameter, Tensor } from '../core/tensor.js';
import { readTensorDict, type TensorInput } from '../core/tensor-input.js';
import { cellFromPyTorch, cellShapes, cellToPyTorch, inferCellSizes } from '../interop/pytorch.js';
import {
  checkBackwardReady, checkFloat32, checkFloat32Length, checkLengths, checkObject, checkOptionalBoolean, checkPositiveInt,
} from '../core/validate.js';

/** Options of `new LSTM(...)` and `new GRU(...)`. */
export interface StackOptions {
  /** Features per input vector, I. */
  inputSize: number;
  /** Features per hidden vector, H. */
  hiddenSize: number;
  /** Stacked layers L (default 1). */
  numLayers?: number;
  /** Two directions per layer (default false). */
  bidirectional?: boolean;
  /** Biases in every cell (default true). */
  bias?: boolean;
  /** Seed of the deterministic initialiser (default 0). */
  seed?: number;
}

/** Options of `new GRU(...)`. */
export interface GRUStackOptions extends StackOptions {
  /** See GRUCellOptions.resetAfter (default false, the seed's GRU). */
  resetAfter?: boolean;
}

/** An LSTM stack's configuration: what `config()` returns and a saved model stores. */
export interface LSTMConfig {
  kind: 'LSTM'; inputSize: number; hiddenSize: number; bias: boolean; numLayers: number; bidirectional: boolean;
}

/** A GRU stack's configuration: what `config()` returns and a saved model stores. */
export interface GRUConfig {
  kind: 'GRU'; inputSize: number; hiddenSize: number; bias: boolean; numLayers: number; bidirectional: boolean; resetAfter: boolean;
}

/** Options of `LSTM.fromPyTorch` / `GRU.fromPyTorch`; inferred from the keys when omitted. */
export interface FromPyTorchOptions {
  numLayers?: number;
  bidirectional?: boolean;
}

/** Options of `run` and `forward`. */
export interface StackRunOptions<S extends CellState> {
  /** Batch size B. */
  batch: number;
  /** Per-entry lengths, each an integer in 1..T (any order): packed-sequence semantics. */
  lengths?: ArrayLike<number>;
  /** h (and c), each [L·D, B, H]; zeros when omitted. */
  initialState?: S;
}

/** What `run` and `forward` return (arrays owned by the caller). */
export interface StackRunResult<S extends CellState> {
  /** [T, B, D·H] last layer's outputs, zero past each entry's length. */
  outputs: Float32Array;
  /** h (and c), each [L·D, B, H]. */
  finalState: S;
}

/** Upstream gradients of `backward`; either may be omitted (zero). */
export interface StackBackwardInput<S extends CellState> {
  /** [T, B, D·H] */
  dOutputs?: Float32Array;
  /** h (and c), each [L·D, B, H]; a missing member counts as zero. */
  dFinalState?: Partial<S>;
}

/** What `backward` returns. */
export interface StackBackwardResult<S extends CellState> {
  /** [T, B, I] */
  dInputs: Float32Array;
  /** h (and c), each [L·D, B, H]. */
  dInitialState: S;
}

interface ForwardRecord {
  T: number;
  B: number;
  lengths: Int32Array | null;
}

/** Base of LSTM and GRU. */
export abstract class RecurrentStack<S extends CellState> {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bidirectional: boolean;
  /** D: 2 when bidirectional, else 1. */
  readonly numDirections: number;
  readonly bias: boolean;
  /** The cells, index layer·D + direction (direction 1 = reverse). */
  readonly cells: RecurrentCell<S>[];
  private readonly runners: SequenceRunner<S>[];
  private record: ForwardRecord | null = null;
  private ready = false;

  protected constructor(
    options: StackOptions, who: string,
    makeCell: (inputSize: number, seed: number) => RecurrentCell<S>,
  ) {
    checkObject(`${who} options`, options);
    this.inputSize = checkPositiveInt('inputSize', options.inputSize);
    this.hiddenSize = checkPositiveInt('hiddenSize', options.hiddenSize);
    this.numLayers = checkPositiveInt('numLayers', options.numLayers ?? 1);
    this.bidirectional = checkOptionalBoolean('bidirectional', options.bidirectional, false);
    this.bias = checkOptionalBoolean('bias', options.bias, true);
    this.numDirections = this.bidirectional ? 2 : 1;
    const rng = new Random(options.seed ?? 0);
    this.cells = [];
    for (let l = 0; l < this.numLayers; l++) {
      for (let d = 0; d < this.numDirections; d++) {
        this.cells.push(makeCell(l === 0 ? this.inputSize : this.numDirections * this.hiddenSize, rng.nextUint32()));
      }
    }
    this.runners = this.cells.map((c) => new SequenceRunner(c));
  }

  /** True for LSTM (state {h, c}). */
  get hasCellState(): boolean {
    return this.cells[0]!.hasCellState;
  }

  /** Inference: outputs [T, B, D·H] and final state. Invalidates a kept forward. */
  run(inputs: Float32Array, options: StackRunOptions<S>): StackRunResult<S> {
    const r = this.forwardInternal(inputs, options, false);
    this.ready = false;
    return r;
  }

  /** Same result as `run`, and keeps what one `backward` needs. */
  forward(inputs: Float32Array, options: StackRunOptions<S>): StackRunResult<S> {
    const r = this.forwardInternal(inputs, options, true);
    this.ready = true;
    return r;
  }

  /** Backprop through time and layers of the last `forward`; parameter gradients add into grads. */
  backward(upstream: StackBackwardInput<S> = {}): StackBackwardResult<S> {
    const rec = this.record;
    checkBackwardReady(rec, this.ready);
    checkObject('upstream', upstream);
    const { T, B, lengths } = rec;
    const H = this.hiddenSize, D = this.numDirections, L = this.numLayers, n = B * H;
    const dOut = upstream.dOutputs === undefined ? new Float32Array(T * B * D * H)
      : checkFloat32Length('dOutputs', upstream.dOutputs, T * B * D * H, 'steps*batch*numDirections*hiddenSize');
    let dhN: Float32Array | null = null, dcN: Float32Array | null = null;
    if (upstream.dFinalState !== undefined) {
      const d = checkObject('dFinalState', upstream.dFinalState);
      if (d.h !== undefined) dhN = checkFloat32Length('dFinalState.h', d.h, L * D * n, 'numLayers*numDirections*batch*hiddenSize');
      if (this.hasCellState && d.c !== undefined) dcN = checkFloat32Length('dFinalState.c', d.c, L * D * n, 'numLayers*numDirections*batch*hiddenSize');
    }
    this.ready = false;
    const dh0 = new Float32Array(L * D * n), dc0 = new Float32Array(this.hasCellState ? L * D * n : 0);
    let dY = dOut;
    for (let l = L - 1; l >= 0; l--) {
      const In = l === 0 ? this.inputSize : D * H;
      const dX = new Float32Array(T * B * In);
      for (let d = 0; d < D; d++) {
        const k = l * D + d;
        const dO = new Float32Array(T * n);
        gatherDirection(dO, dY, T, B, H, D, d, lengths);
        const dFinalState: { h?: Float32Array; c?: Float32Array } = {};
        if (dhN !== null) dFinalState.h = dhN.subarray(k * n, (k + 1) * n);
        if (dcN !== null) dFinalState.c = dcN.subarray(k * n, (k + 1) * n);
        const g = this.runners[k]!.backward({ dOutputs: dO, dFinalState: dFinalState as Partial<S> });
        if (d === 0) addInto(dX, g.dInputs);
        else addReversed(dX, g.dInputs, T, B, In, lengths);
        dh0.set(g.dInitialState.h, k * n);
        if (this.hasCellState) dc0.set((g.dInitialState as LSTMState).c, k * n);
      }
      dY = dX;
    }
    const dInitialState = (this.hasCellState ? { h: dh0, c: dc0 } : { h: dh0 }) as S;
    return { dInputs: dY, dInitialState };
  }

  /** Sets every cell's gradients to zero. */
  zeroGrad(): void {
    for (const c of this.cells) c.zeroGrad();
  }

  /**
   * Every parameter with its gradient, named `l{layer}{_reverse}.{weightIh|weightHh|biasIh|biasHh}`
   * (values in this library's convention; see stateDict() for PyTorch's).
   */
  parameters(): Parameter[] {
    return this.cells.flatMap((c, k) => c.parameters().map((p) => ({ ...p, name: `${this.suffix(k).slice(1)}.${p.name}` })));
  }

  /** Parameters under PyTorch's keys (weight_ih_l0, weight_hh_l1_reverse, ...) and conventions. New arrays. */
  stateDict(): Record<string, Tensor> {
    return Object.assign({}, ...this.cells.map((c, k) => cellToPyTorch(c.pytorchLayout(), c.params, this.suffix(k))));
  }

  /** Gradients under the same keys and conventions as stateDict(). New arrays. */
  gradDict(): Record<string, Tensor> {
    return Object.assign({}, ...this.cells.map((c, k) => cellToPyTorch(c.pytorchLayout(), c.grads, this.suffix(k))));
  }

  /**
   * Loads parameters under PyTorch's keys (as stateDict() returns them). A missing, extra or
   * wrongly-shaped key throws, naming the key and both shapes, and nothing is loaded.
   */
  loadStateDict(stateDict: Record<string, TensorInput>): void {
    const shapes: Record<string, number[]> = {};
    this.cells.forEach((c, k) => Object.assign(shapes, cellShapes(c.pytorchLayout(), this.suffix(k))));
    const data = readTensorDict('stateDict', stateDict, shapes);
    this.cells.forEach((c, k) => cellFromPyTorch(c.pytorchLayout(), c.params, data, this.suffix(k)));
  }

  /** `_l{layer}` plus `_reverse` for the second direction: PyTorch's key suffix of cell k. */
  private suffix(k: number): string {
    const l = Math.floor(k / this.numDirections), d = k % this.numDirections;
    return `_l${l}${d === 1 ? '_reverse' : ''}`;
  }

  private forwardInternal(inputs: Float32Array, options: StackRunOptions<S>, keep: boolean): StackRunResult<S> {
    checkObject('options', options);
    const B = checkPositiveInt('batch', options.batch);
    const I = this.inputSize, H = this.hiddenSize, D = this.numDirections, L = this.numLayers, n = B * H;
    checkFloat32('inputs', inputs);
    if (inputs.length === 0 || inputs.length % (B * I) !== 0) {
      throw new RangeError(`inputs: expected a non-zero multiple of batch*inputSize = ${B * I}, got ${inputs.length}`);
    }
    const T = inputs.length / (B * I);
    const init = options.initialState;
    if (init !== undefined) {
      const st = checkObject('initialState', init);
      checkFloat32Length('initialState.h', st.h, L * D * n, 'numLayers*numDirections*batch*hiddenSize');
      if (this.hasCellState) checkFloat32Length('initialState.c', st.c, L * D * n, 'numLayers*numDirections*batch*hiddenSize');
    }
    const lengths = options.lengths === undefined ? null : checkLengths(options.lengths, T, B);

    const hN = new Float32Array(L * D * n), cN = new Float32Array(this.hasCellState ? L * D * n : 0);
    let x = inputs;
    for (let l = 0; l < L; l++) {
      const In = l === 0 ? I : D * H;
      const Y = new Float32Array(T * B * D * H);
      for (let d = 0; d < D; d++) {
        const k = l * D + d;
        const initialState = init === undefined ? undefined : (this.hasCellState
          ? { h: init.h.subarray(k * n, (k + 1) * n), c: (init as LSTMState).c.subarray(k * n, (k + 1) * n) }
          : { h: init.h.subarray(k * n, (k + 1) * n) }) as S;
        const xd = d === 0 ? x : reverseWithin(x, T, B, In, lengths);
        const opts = { batch: B, initialState, lengths: lengths ?? undefined };
        const r = keep ? this.runners[k]!.forward(xd, opts) : this.runners[k]!.run(xd, opts);
        scatterDirection(Y, r.outputs, T, B, H, D, d, lengths);
        hN.set(r.finalState.h, k * n);
        if (this.hasCellState) cN.set((r.finalState as LSTMState).c, k * n);
      }
      x = Y;
    }
    this.record = { T, B, lengths };
    const finalState = (this.hasCellState ? { h: hN, c: cN } : { h: hN }) as S;
    return { outputs: x, finalState };
  }

  /** Builds the cells' PyTorch key check for fromPyTorch: numLayers and directions from keys or options. */
  protected static layoutFromKeys(
    who: string, stateDict: Record<string, TensorInput>, gateCount: number, options: FromPyTorchOptions = {},
  ): { inputSize: number; hiddenSize: number; bias: boolean; numLayers: number; bidirectional: boolean } {
    const sd = checkObject('stateDict', stateDict);
    checkObject(`${who}.fromPyTorch options`, options);
    let numLayers = options.numLayers;
    if (numLayers === undefined) {
      numLayers = 0;
      while (sd[`weight_ih_l${numLayers}`] !== undefined) numLayers++;
      if (numLayers === 0) throw new RangeError('stateDict: missing key "weight_ih_l0"');
    }
    checkPositiveInt('numLayers', numLayers);
    const bidirectional = checkOptionalBoolean('bidirectional', options.bidirectional, sd.weight_ih_l0_reverse !== undefined);
    const sizes = inferCellSizes('stateDict', sd, gateCount, '_l0');
    return { ...sizes, numLayers, bidirectional };
  }
}

/**
 * LSTM stack (PyTorch's nn.LSTM, time-major, no dropout).
 *
 * ```ts
 * const rnn = new LSTM({ inputSize: 8, hiddenSize: 32, numLayers: 2, bidirectional: true, seed: 1 });
 * const { outputs, finalState } = rnn.run(inputs, { batch, lengths });   // outputs [T, B, 64]
 * ```
 */
export class LSTM extends RecurrentStack<LSTMState> {
  constructor(options: StackOptions) {
    super(options, 'LSTM', (inputSize, seed) =>
      new LSTMCell({ inputSize, hiddenSize: options.hiddenSize, bias: options.bias ?? true, seed }));
  }

  /** The kind saved models store for this class. */
  static readonly kind = 'LSTM' as const;

  /** The stack's configuration, a new plain object: `LSTM.fromConfig` builds a stack like it. */
  config(): LSTMConfig {
    const { inputSize, hiddenSize, bias, numLayers, bidirectional } = this;
    return { kind: LSTM.kind, inputSize, hiddenSize, bias, numLayers, bidirectional };
  }

  /**
   * A stack of this configuration with freshly initialised weights (seed 0; load trained ones
   * with loadStateDict). Throws on a configuration of another kind, or a missing or bad field.
   */
  static fromConfig(config: LSTMConfig): LSTM {
    checkConfig(config, LSTM.kind, ['inputSize', 'hiddenSize', 'bias', 'numLayers', 'bidirectional']);
    const { inputSize, hiddenSize, bias, numLayers, bidirectional } = config;
    return new LSTM({ inputSize, hiddenSize, bias, numLayers, bidirectional });
  }

  /**
   * An LSTM with the weights of a PyTorch nn.LSTM state dict (keys weight_ih_l0, weight_hh_l0,
   * bias_ih_l0, bias_hh_l0, ..., `_reverse` for the second direction). Sizes come from the
   * shapes; numLayers and bidirectional from the keys unless given. All or nothing.
   */
  static fromPyTorch(stateDict: Record<string, TensorInput>, options: FromPyTorchOptions = {}): LSTM {
    const layout = RecurrentStack.layoutFromKeys('LSTM', stateDict, 4, options);
    const rnn = new LSTM(layout);
    rnn.loadStateDict(stateDict);
    return rnn;
  }
}

/**
 * GRU stack. `resetAfter: false` (default) is the seed's GRU; `GRU.fromPyTorch` builds the
 * resetAfter form with the z rows negated, which computes exactly what PyTorch's nn.GRU does.
 */
export class GRU extends RecurrentStack<{ h: Float32Array }> {
  readonly resetAfter: boolean;

  constructor(options: GRUStackOptions) {
    const resetAfter = checkOptionalBoolean('resetAfter', (options as GRUStackOptions | undefined)?.resetAfter, false);
    super(options, 'GRU', (inputSize, seed) =>
      new GRUCell({ inputSize, hiddenSize: options.hiddenSize, bias: options.bias ?? true, seed, resetAfter }));
    this.resetAfter = resetAfter;
  }

  /** The kind saved models store for this class. */
  static readonly kind = 'GRU' as const;

  /** The stack's configuration, a new plain object: `GRU.fromConfig` builds a stack like it. */
  config(): GRUConfig {
    const { inputSize, hiddenSize, bias, numLayers, bidirectional, resetAfter } = this;
    return { kind: GRU.kind, inputSize, hiddenSize, bias, numLayers, bidirectional, resetAfter };
  }

  /**
   * A stack of this configuration with freshly initialised weights (seed 0; load trained ones
   * with loadStateDict). Throws on a configuration of another kind, or a missing or bad field.
   */
  static fromConfig(config: GRUConfig): GRU {
    checkConfig(config, GRU.kind, ['inputSize', 'hiddenSize', 'bias', 'numLayers', 'bidirectional', 'resetAfter']);
    const { inputSize, hiddenSize, bias, numLayers, bidirectional, resetAfter } = config;
    return new GRU({ inputSize, hiddenSize, bias, numLayers, bidirectional, resetAfter });
  }

  /**
   * A GRU computing what PyTorch's nn.GRU with this state dict computes: resetAfter: true, z rows
   * negated on import (and negated back by stateDict() and gradDict()). Sizes from the shapes,
   * numLayers and bidirectional from the keys unless given. All or nothing.
   */
  static fromPyTorch(stateDict: Record<string, TensorInput>, options: FromPyTorchOptions = {}): GRU {
    const layout = RecurrentStack.layoutFromKeys('GRU', stateDict, 3, options);
    const rnn = new GRU({ ...layout, resetAfter: true });
    rnn.loadStateDict(stateDict);
    return rnn;
  }
}

// ---- time-reversal and direction gather/scatter helpers (per entry, within its length) ----

/** out[t, b] = x[len_b − 1 − t, b] for t < len_b, zero after: x [T, B, F] reversed per entry. */
function reverseWithin(x: Float32Array, T: number, B: number, F: number, lengths: Int32Array | null): Float32Array {
  const out = new Float32Array(T * B * F);
  for (let b = 0; b < B; b++) {
    const len = lengths === null ? T : lengths[b]!;
    for (let t = 0; t < len; t++) {
      const src = ((len - 1 - t) * B + b) * F;
      out.set(x.subarray(src, src + F), (t * B + b) * F);
    }
  }
  return out;
}

/** Y[t, b, d·H : (d+1)·H] = out (the reverse direction's out un-reversed per entry). */
function scatterDirection(
  Y: Float32Array, out: Float32Array, T: number, B: number, H: number, D: number, d: number, lengths: Int32Array | null,
): void {
  for (let b = 0; b < B; b++) {
    const len = lengths === null ? T : lengths[b]!;
    for (let t = 0; t < len; t++) {
      const src = d === 0 ? t : len - 1 - t;
      Y.set(out.subarray((src * B + b) * H, (src * B + b + 1) * H), ((t * B + b) * D + d) * H);
    }
  }
}

/** Adjoint of scatterDirection: dOut [T, B, H] of direction d from dY [T, B, D·H]. */
function gatherDirection(
  dOut: Float32Array, dY: Float32Array, T: number, B: number, H: number, D: number, d: number, lengths: Int32Array | null,
): void {
  for (let b = 0; b < B; b++) {
    const len = lengths === null ? T : lengths[b]!;
    for (let t = 0; t < len; t++) {
      const dst = d === 0 ? t : len - 1 - t;
      const src = ((t * B + b) * D + d) * H;
      dOut.set(dY.subarray(src, src + H), (dst * B + b) * H);
    }
  }
}

function addInto(dst: Float32Array, src: Float32Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] += src[i]!;
}

/** Adjoint of reverseWithin, accumulated: dst[len_b − 1 − t, b] += src[t, b]. */
function addReversed(dst: Float32Array, src: Float32Array, T: number, B: number, F: number, lengths: Int32Array | null): void {
  for (let b = 0; b < B; b++) {
    const len = lengths === null ? T : lengths[b]!;
    for (let t = 0; t < len; t++) {
      const s = (t * B + b) * F, o = ((len - 1 - t) * B + b) * F;
      for (let f = 0; f < F; f++) dst[o + f] += src[s + f]!;
    }
  }
}
