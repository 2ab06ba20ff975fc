/**
 * LSTM and GRU modules: PyTorch's stack level. A stack of `numLayers` layers, each a
 * SequenceRunner (one direction) or a BidirectionalLayer (two), each direction one cell (cell →
 * layer → stack, as in PyTorch's RNN.cpp). Layer k > 0 takes the D·H outputs of layer k − 1;
 * the stack is a loop over its layers.
 *
 * Shapes (D = 2 when bidirectional, else 1; L = numLayers):
 *   inputs [T, B, I], outputs [T, B, D·H] (forward direction's H features, then the reverse's);
 *   states h (and c) [L·D, B, H], layer-major, forward direction before reverse (PyTorch's).
 *
 * Variable lengths follow PyTorch's packed sequences: entry b runs steps 0..lengths[b]−1, the
 * reverse direction starts at the entry's own last step, outputs past the length are zero, the
 * final state is each entry's state after its own last step, and padding is inert.
 */
import { GRUCell } from '../cells/gru.js';
import { LSTMCell, peepholeRows } from '../cells/lstm.js';
import type { RecurrentCell } from '../cells/cell.js';
import { stateBlock, type CellState, type GRUState, type LSTMState } from '../cells/state.js';
import { BidirectionalLayer } from '../layers/bidirectional.js';
import {
  RecurrentModule, type BackwardOutcome, type BackwardRequest, type ForwardOutcome, type ForwardToken, type RunRequest,
  type RunOptions, type RunResult, type BackwardInput, type BackwardResult,
} from '../layers/module.js';
import { SequenceRunner } from '../layers/sequence-runner.js';
import { Random } from '../core/random.js';
import { checkConfig } from '../core/validate.js';
import type { Parameter, Tensor } from '../core/tensor.js';
import type { TensorInput } from '../core/tensor-input.js';
import { cellsFromPyTorch, cellsToPyTorch, inferCellSizes } from '../cells/pytorch.js';
import { checkObject, checkOptionalBoolean, checkPositiveInt } from '../core/validate.js';
import { readONNXStack, type FromONNXOptions } from '../onnx/import.js';

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
  /** See GRUCellOptions.resetAfter (default false: reset before the recurrent product). */
  resetAfter?: boolean;
}

/** Options of `new LSTM(...)`. */
export interface LSTMStackOptions extends StackOptions {
  /** Peephole connections in every cell (default false); see LSTMCellOptions.peephole. */
  peephole?: boolean;
}

/**
 * An LSTM stack's configuration: what `config()` returns and a saved model stores (`peephole`
 * present, true, only for a peephole stack).
 */
export interface LSTMConfig {
  kind: 'LSTM'; inputSize: number; hiddenSize: number; bias: boolean; numLayers: number; bidirectional: boolean; peephole?: boolean;
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

/** Options of a stack's `run` and `forward` (the module interface's RunOptions). */
export type StackRunOptions<S extends CellState> = RunOptions<S>;
/** What a stack's `run` and `forward` return. */
export type StackRunResult<S extends CellState> = RunResult<S>;
/** Upstream gradients of a stack's `backward`. */
export type StackBackwardInput<S extends CellState> = BackwardInput<S>;
/** What a stack's `backward` returns. */
export type StackBackwardResult<S extends CellState> = BackwardResult<S>;

/** Base of LSTM and GRU. */
export abstract class RecurrentStack<S extends CellState> extends RecurrentModule<S> {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bidirectional: boolean;
  /** D: 2 when bidirectional, else 1. */
  readonly numDirections: number;
  readonly bias: boolean;
  readonly hasCellState: boolean;
  /** The cells, index layer·D + direction (direction 1 = reverse). */
  readonly cells: readonly RecurrentCell<S>[];
  /** The layers, first to last: SequenceRunners, or BidirectionalLayers when bidirectional. */
  readonly layers: readonly RecurrentModule<S>[];
  /** Batch of the last forward, for backward. */
  private lastBatch = 0;

  protected constructor(
    options: StackOptions, who: string,
    makeCell: (inputSize: number, seed: number) => RecurrentCell<S>,
  ) {
    super();
    checkObject(`${who} options`, options);
    this.inputSize = checkPositiveInt('inputSize', options.inputSize);
    this.hiddenSize = checkPositiveInt('hiddenSize', options.hiddenSize);
    this.numLayers = checkPositiveInt('numLayers', options.numLayers ?? 1);
    this.bidirectional = checkOptionalBoolean('bidirectional', options.bidirectional, false);
    this.bias = checkOptionalBoolean('bias', options.bias, true);
    this.numDirections = this.bidirectional ? 2 : 1;
    const rng = new Random(options.seed ?? 0);
    const cells: RecurrentCell<S>[] = [];
    const layers: RecurrentModule<S>[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const inputSize = l === 0 ? this.inputSize : this.numDirections * this.hiddenSize;
      const own = Array.from({ length: this.numDirections }, () => makeCell(inputSize, rng.nextUint32()));
      cells.push(...own);
      layers.push(own.length === 2 ? new BidirectionalLayer(own[0]!, own[1]!) : new SequenceRunner(own[0]!));
    }
    this.cells = cells;
    this.layers = layers;
    this.hasCellState = cells[0]!.hasCellState;
  }

  /** @internal */
  forwardRequest(req: RunRequest, token: ForwardToken | null): ForwardOutcome {
    const D = this.numDirections, n = req.batch * this.hiddenSize;
    const h = new Float32Array(this.numLayers * D * n), c = new Float32Array(this.hasCellState ? h.length : 0);
    let inputs = req.inputs;
    this.layers.forEach((layer, l) => {
      const initial = req.initial === null ? null : stateBlock(req.initial, l, D * n);
      const r = layer.forwardRequest({ ...req, inputs, initial }, token);
      h.set(r.final.h, l * D * n);
      if (this.hasCellState) c.set(r.final.c, l * D * n);
      inputs = r.outputs;
    });
    this.lastBatch = req.batch;
    return { outputs: inputs, final: { h, c } };
  }

  /** @internal */
  holds(token: ForwardToken): boolean {
    return this.layers.every((l) => l.holds(token));
  }

  /** @internal */
  backwardRequest(up: BackwardRequest, token: ForwardToken): BackwardOutcome {
    const size = this.numDirections * this.lastBatch * this.hiddenSize;   // state elements per layer
    const h = new Float32Array(this.numLayers * size), c = new Float32Array(this.hasCellState ? h.length : 0);
    const block = (a: Float32Array | null, l: number): Float32Array | null => (a === null ? null : a.subarray(l * size, (l + 1) * size));
    let dOutputs = up.dOutputs;
    for (let l = this.numLayers - 1; l >= 0; l--) {
      const r = this.layers[l]!.backwardRequest({ dOutputs, dh: block(up.dh, l), dc: block(up.dc, l) }, token);
      h.set(r.initial.h, l * size);
      if (this.hasCellState) c.set(r.initial.c, l * size);
      dOutputs = r.dInputs;
    }
    return { dInputs: dOutputs!, initial: { h, c } };
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
    return cellsToPyTorch(this.cells, this.suffixes(), 'params');
  }

  /** Gradients under the same keys and conventions as stateDict(). New arrays. */
  gradDict(): Record<string, Tensor> {
    return cellsToPyTorch(this.cells, this.suffixes(), 'grads');
  }

  /**
   * Loads parameters under PyTorch's keys (as stateDict() returns them). A missing, extra or
   * wrongly-shaped key throws, naming the key and both shapes, and nothing is loaded.
   */
  loadStateDict(stateDict: Record<string, TensorInput>): void {
    cellsFromPyTorch(this.cells, this.suffixes(), stateDict);
  }

  /** PyTorch's key suffix of every cell. */
  private suffixes(): string[] {
    return this.cells.map((_, k) => this.suffix(k));
  }

  /** `_l{layer}` plus `_reverse` for the second direction: PyTorch's key suffix of cell k. */
  private suffix(k: number): string {
    const l = Math.floor(k / this.numDirections), d = k % this.numDirections;
    return `_l${l}${d === 1 ? '_reverse' : ''}`;
  }

  /**
   * numLayers and directions for fromPyTorch: from the options, else from the keys
   * (weight_ih_l0 … weight_ih_l{L−1}, and weight_ih_l0_reverse); sizes from layer 0's shapes.
   */
  protected static layoutFromKeys(
    who: string, stateDict: Record<string, TensorInput>, gateCount: number, options: FromPyTorchOptions = {},
  ): { inputSize: number; hiddenSize: number; bias: boolean; numLayers: number; bidirectional: boolean } {
    const sd = checkObject('stateDict', stateDict);
    checkObject(`${who}.fromPyTorch options`, options);
    let numLayers = options.numLayers;
    if (numLayers === undefined) {
      // Count own keys only, once: a dict cannot make this loop run longer than its key list.
      const own = new Set(Object.keys(sd));
      numLayers = 0;
      while (own.has(`weight_ih_l${numLayers}`)) numLayers++;
      if (numLayers === 0) throw new RangeError('stateDict: missing key "weight_ih_l0"');
    }
    checkPositiveInt('numLayers', numLayers);
    const bidirectional = checkOptionalBoolean('bidirectional', options.bidirectional,
      Object.prototype.hasOwnProperty.call(sd, 'weight_ih_l0_reverse'));
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
  /** Whether every cell has peephole connections (each cell's weightPeephole [3, H]). */
  readonly peephole: boolean;

  constructor(options: LSTMStackOptions) {
    const peephole = peepholeRows(options) > 0;
    super(options, 'LSTM', (inputSize, seed) =>
      new LSTMCell({ inputSize, hiddenSize: options.hiddenSize, bias: options.bias ?? true, seed, peephole }));
    this.peephole = peephole;
  }

  /** The kind saved models store for this class. */
  static readonly kind = 'LSTM' as const;

  /** The stack's configuration, a new plain object: `LSTM.fromConfig` builds a stack like it. */
  config(): LSTMConfig {
    const { inputSize, hiddenSize, bias, numLayers, bidirectional } = this;
    const c: LSTMConfig = { kind: LSTM.kind, inputSize, hiddenSize, bias, numLayers, bidirectional };
    if (this.peephole) c.peephole = true;
    return c;
  }

  /**
   * A stack of this configuration with freshly initialised weights (seed 0; load trained ones
   * with loadStateDict). Throws on a configuration of another kind, or a missing or bad field.
   */
  static fromConfig(config: LSTMConfig): LSTM {
    checkConfig(config, LSTM.kind, ['inputSize', 'hiddenSize', 'bias', 'numLayers', 'bidirectional']);
    const { inputSize, hiddenSize, bias, numLayers, bidirectional, peephole } = config;
    return new LSTM({ inputSize, hiddenSize, bias, numLayers, bidirectional, peephole });
  }

  /**
   * An LSTM with the weights of a PyTorch nn.LSTM state dict (keys weight_ih_l0, weight_hh_l0,
   * bias_ih_l0, bias_hh_l0, ..., `_reverse` for the second direction). Sizes come from the
   * shapes; numLayers and bidirectional from the keys unless given. All or nothing. Keys
   * weight_peephole_l0 … (this library's, not PyTorch's) make a peephole stack.
   */
  static fromPyTorch(stateDict: Record<string, TensorInput>, options: FromPyTorchOptions = {}): LSTM {
    const layout = RecurrentStack.layoutFromKeys('LSTM', stateDict, 4, options);
    const rnn = new LSTM({ ...layout, peephole: Object.prototype.hasOwnProperty.call(stateDict, 'weight_peephole_l0') });
    rnn.loadStateDict(stateDict);
    return rnn;
  }

  /**
   * An LSTM computing what the LSTM nodes of an ONNX model compute (a file from torch.onnx.export,
   * from exportONNX, or elsewhere): one layer per node in graph order (or the one node chosen by
   * `options.node`), sizes, directions, biases and peephole weights from the nodes and their
   * initializers, gates reordered from ONNX's i,o,f,c. The bytes are untrusted: every length is
   * checked before use. Throws ONNXError for a malformed file or what this library cannot carry
   * (external data, clip, input_forget, non-default activations, weights computed by the graph).
   * @param bytes the .onnx file
   */
  static fromONNX(bytes: Uint8Array, options: FromONNXOptions = {}): LSTM {
    const { layout, stateDict } = readONNXStack('LSTM', bytes, options);
    const rnn = new LSTM(layout);
    rnn.loadStateDict(stateDict);
    return rnn;
  }
}

/**
 * GRU stack. `resetAfter: false` (default) applies the reset before the recurrent product; `GRU.fromPyTorch` builds the
 * resetAfter form with the z rows negated, which computes exactly what PyTorch's nn.GRU does.
 */
export class GRU extends RecurrentStack<GRUState> {
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

  /**
   * A GRU computing what the GRU nodes of an ONNX model compute: one layer per node in graph order
   * (or the node chosen by `options.node`); linear_before_reset = 1 gives resetAfter: true, 0 the
   * default form; gates reordered from ONNX's z,r,h (ONNX's z weights the old state, as PyTorch's
   * does: this library's z rows are their negation). Bounded and checked like `LSTM.fromONNX`.
   * @param bytes the .onnx file
   */
  static fromONNX(bytes: Uint8Array, options: FromONNXOptions = {}): GRU {
    const { layout, stateDict } = readONNXStack('GRU', bytes, options);
    const rnn = new GRU(layout);
    rnn.loadStateDict(stateDict);
    return rnn;
  }
}
