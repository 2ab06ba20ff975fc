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
import { LSTMCell } from '../cells/lstm.js';
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
import {
  addPrefix, prefixedName, readPrefix, selectPrefix, type LoadStateDictOptions, type StateDictOptions, type TensorInput,
} from '../core/tensor-input.js';
import { cellsFromPyTorch, cellsToPyTorch, inferCellSizes } from '../cells/pytorch.js';
import { checkFloat32, checkFloat32Length, checkObject, checkOptionalBoolean, checkPositiveInt } from '../core/validate.js';

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

/** An LSTM stack's configuration: what `config()` returns and a saved model stores. */
export interface LSTMConfig {
  kind: 'LSTM'; inputSize: number; hiddenSize: number; bias: boolean; numLayers: number; bidirectional: boolean;
}

/** A GRU stack's configuration: what `config()` returns and a saved model stores. */
export interface GRUConfig {
  kind: 'GRU'; inputSize: number; hiddenSize: number; bias: boolean; numLayers: number; bidirectional: boolean; resetAfter: boolean;
}

/** Options of `LSTM.fromPyTorch` / `GRU.fromPyTorch`; numLayers and bidirectional are inferred from the keys when omitted. */
export interface FromPyTorchOptions extends LoadStateDictOptions {
  /** Stacked layers (default: counted from weight_ih_l0, weight_ih_l1, …). */
  numLayers?: number;
  /** Two directions (default: whether weight_ih_l0_reverse is present). */
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

  /**
   * Parameters under PyTorch's keys (weight_ih_l0, weight_hh_l1_reverse, ...) and conventions,
   * each after `options.prefix` (`{ prefix: 'rnn.' }`: rnn.weight_ih_l0, …). An LSTM's equal
   * nn.LSTM's (same numLayers, bidirectional, bias) and a GRU's with resetAfter: true nn.GRU's.
   * A GRU with resetAfter: false (no PyTorch module computes it) writes weight_ih_l0_reset_before,
   * …, keys nn.GRU never loads. New arrays.
   */
  stateDict(options?: StateDictOptions): Record<string, Tensor> {
    return addPrefix(cellsToPyTorch(this.cells, this.suffixes(), 'params'), readPrefix('stateDict options', options));
  }

  /** Gradients under the same keys and conventions as stateDict(options). New arrays. */
  gradDict(options?: StateDictOptions): Record<string, Tensor> {
    return addPrefix(cellsToPyTorch(this.cells, this.suffixes(), 'grads'), readPrefix('gradDict options', options));
  }

  /**
   * Loads parameters under the keys stateDict() writes, after `options.prefix` (keys without it
   * are ignored, whatever their dtype). A missing, extra or wrongly-shaped key under the prefix
   * throws, naming the key and both shapes, and nothing is loaded.
   */
  loadStateDict(stateDict: Record<string, TensorInput>, options?: LoadStateDictOptions): void {
    cellsFromPyTorch(this.cells, this.suffixes(), stateDict, readPrefix('loadStateDict options', options));
  }

  /**
   * The last layer's final state out of a run's or forward's `finalState` (h, and c for an LSTM,
   * each [L·D, B, H]): the features a classifier head usually takes.
   *
   * - one direction: h (and c) [B, H], the last layer's state after each entry's last step;
   * - bidirectional: [B, 2·H], each row the forward direction's H values (after the entry's last
   *   step) then the reverse direction's H (after it reached step 0), as PyTorch's
   *   `torch.cat([h_n[-2], h_n[-1]], dim=1)`.
   *
   * New arrays. Throws unless the state has this stack's shape for some batch B.
   */
  lastLayerState(finalState: S): S {
    const st = checkObject('finalState', finalState);
    const D = this.numDirections, H = this.hiddenSize, rows = this.numLayers * D;
    const h = checkFloat32('finalState.h', st.h);
    if (h.length === 0 || h.length % (rows * H) !== 0) {
      throw new RangeError(`finalState.h: expected a multiple of numLayers*numDirections*hiddenSize = ${rows * H} elements, got ${h.length}`);
    }
    const B = h.length / (rows * H);
    const pick = (a: Float32Array): Float32Array => {
      const out = new Float32Array(B * D * H), first = (this.numLayers - 1) * D;
      for (let d = 0; d < D; d++) {
        for (let b = 0; b < B; b++) out.set(a.subarray(((first + d) * B + b) * H, ((first + d) * B + b + 1) * H), (b * D + d) * H);
      }
      return out;
    };
    if (!this.hasCellState) return { h: pick(h) } as S;
    const c = checkFloat32Length('finalState.c', st.c, h.length, 'length of finalState.h');
    return { h: pick(h), c: pick(c) } as unknown as S;
  }

  /**
   * The backward of lastLayerState: gradients with respect to its result (h, and c for an LSTM,
   * each [B, D·H] as lastLayerState returns them; a missing member counts as zero) placed into
   * full final-state gradients [L·D, B, H], zero for the other layers, to pass to backward as
   * `dFinalState`. New arrays.
   *
   * ```ts
   * const dFeatures = head.backward(f, dy);                          // [B, D·H]
   * rnn.backward({ dFinalState: rnn.lastLayerStateGrad({ h: dFeatures }) });
   * ```
   */
  lastLayerStateGrad(dLast: Partial<S>): S {
    const d = checkObject('dLast', dLast);
    const D = this.numDirections, H = this.hiddenSize;
    const h = checkFloat32('dLast.h', d.h);
    if (h.length === 0 || h.length % (D * H) !== 0) {
      throw new RangeError(`dLast.h: expected a multiple of numDirections*hiddenSize = ${D * H} elements, got ${h.length}`);
    }
    const B = h.length / (D * H), first = (this.numLayers - 1) * D;
    const place = (a: Float32Array): Float32Array => {
      const out = new Float32Array(this.numLayers * D * B * H);
      for (let dir = 0; dir < D; dir++) {
        for (let b = 0; b < B; b++) out.set(a.subarray((b * D + dir) * H, (b * D + dir + 1) * H), ((first + dir) * B + b) * H);
      }
      return out;
    };
    if (!this.hasCellState) return { h: place(h) } as S;
    const c = d.c === undefined ? new Float32Array(h.length) : checkFloat32Length('dLast.c', d.c, h.length, 'length of dLast.h');
    return { h: place(h), c: place(c) } as unknown as S;
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
   * The state dict's keys under the prefix are read once, here.
   */
  protected static layoutFromKeys(
    who: string, stateDict: Record<string, TensorInput>, gateCount: number, options: FromPyTorchOptions = {},
  ): {
    layout: { inputSize: number; hiddenSize: number; bias: boolean; numLayers: number; bidirectional: boolean };
    /** The keys under the prefix, read once, again under the prefix: what loadStateDict reads. */
    own: Record<string, unknown>; prefix: string;
  } {
    const prefix = readPrefix(`${who}.fromPyTorch options`, options);
    const sd = selectPrefix('stateDict', stateDict, prefix);
    const what = prefixedName('stateDict', prefix);
    let numLayers = options.numLayers;
    if (numLayers === undefined) {
      // Count own keys only, once: a dict cannot make this loop run longer than its key list.
      const own = new Set(Object.keys(sd));
      numLayers = 0;
      while (own.has(`weight_ih_l${numLayers}`)) numLayers++;
      if (numLayers === 0) throw new RangeError(`${what}: missing key "weight_ih_l0"`);
    }
    checkPositiveInt('numLayers', numLayers);
    const bidirectional = checkOptionalBoolean('bidirectional', options.bidirectional,
      Object.prototype.hasOwnProperty.call(sd, 'weight_ih_l0_reverse'));
    const sizes = inferCellSizes(what, sd, gateCount, '_l0');
    return { layout: { ...sizes, numLayers, bidirectional }, own: addPrefix(sd, prefix), prefix };
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
   * bias_ih_l0, bias_hh_l0, ..., `_reverse` for the second direction), read after
   * `options.prefix` when given (`{ prefix: 'rnn.' }` takes rnn.weight_ih_l0, … out of a whole
   * model's state dict and ignores every other key). Sizes come from the shapes; numLayers and
   * bidirectional from the keys unless given. All or nothing.
   */
  static fromPyTorch(stateDict: Record<string, TensorInput>, options: FromPyTorchOptions = {}): LSTM {
    const { layout, own, prefix } = RecurrentStack.layoutFromKeys('LSTM', stateDict, 4, options);
    const rnn = new LSTM(layout);
    rnn.loadStateDict(own as Record<string, TensorInput>, { prefix });
    return rnn;
  }
}

/**
 * GRU stack. `resetAfter: false` (default) applies the reset before the recurrent product, which
 * no PyTorch module computes: its state dict keys end in `_reset_before`, so nn.GRU never loads
 * them, and toPyTorch refuses it. `resetAfter: true` is nn.GRU: `GRU.fromPyTorch` builds that form
 * with the z rows negated, which computes exactly what PyTorch's nn.GRU does.
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
   * negated on import (and negated back by stateDict() and gradDict()). Keys as LSTM.fromPyTorch
   * reads them (`options.prefix` included). Sizes from the shapes, numLayers and bidirectional
   * from the keys unless given. All or nothing.
   */
  static fromPyTorch(stateDict: Record<string, TensorInput>, options: FromPyTorchOptions = {}): GRU {
    const { layout, own, prefix } = RecurrentStack.layoutFromKeys('GRU', stateDict, 3, options);
    const rnn = new GRU({ ...layout, resetAfter: true });
    rnn.loadStateDict(own as Record<string, TensorInput>, { prefix });
    return rnn;
  }
}
