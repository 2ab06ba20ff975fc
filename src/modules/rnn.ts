/**
 * LSTM and GRU modules: PyTorch's stack level. A stack of `numLayers` layers, each a
 * SequenceRunner (one direction) or a BidirectionalLayer (two), each direction one cell (cell →
 * layer → stack, as in PyTorch's RNN.cpp). Layer k > 0 takes the D·H outputs of layer k − 1;
 * the stack is a loop over its layers.
 *
 * Shapes (D = 2 when bidirectional, else 1; L = numLayers; P = projSize when set, else H):
 *   inputs [T, B, I], outputs [T, B, D·P] (forward direction's P features, then the reverse's);
 *   states h [L·D, B, P] and c [L·D, B, H], layer-major, forward direction before reverse
 *   (PyTorch's). Layer k > 0 takes D·P inputs.
 *
 * Variable lengths follow PyTorch's packed sequences: entry b runs steps 0..lengths[b]−1, the
 * reverse direction starts at the entry's own last step, outputs past the length are zero, the
 * final state is each entry's state after its own last step, and padding is inert.
 */
import { GRUCell, type GRUCellOptions } from '../cells/gru.js';
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
import { applyMask, checkDropout, dropoutMask } from '../nn/dropout.js';
import { checkConfig } from '../core/validate.js';
import type { Parameter, Tensor } from '../core/tensor.js';
import {
  addPrefix, prefixedName, readPrefix, readTensorDict, selectPrefix, snapshotTensorDict,
  type LoadStateDictOptions, type StateDictOptions, type TensorInput,
} from '../core/tensor-input.js';
import { cellShapes, cellsFromPyTorch, cellsToPyTorch, inferCellSizes, resetBeforeHint, RESET_BEFORE_TAG } from '../cells/pytorch.js';
import { checkFloat32, checkFloat32Length, checkObject, checkOptionalBoolean, hasOwn, snapshot } from '../core/validate.js';
import { checkFloat32Bytes, checkSize, MAX_LAYERS, withMaxBytes } from '../core/limits.js';
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
  /**
   * Sequences (inputs, outputs, dOutputs, dInputs) are [B, T, F], as PyTorch's batch_first=True
   * (default false: time-major [T, B, F]). States stay [L·D, B, H] either way, as in PyTorch.
   */
  batchFirst?: boolean;
  /**
   * PyTorch's dropout: the probability p in [0, 1) of zeroing each output element of every layer
   * but the last before the next layer reads it, in training mode only (see `train()`); kept
   * elements are scaled by 1/(1 − p). Default 0 (none); no effect with one layer.
   */
  dropout?: number;
}

/** Options of `new LSTM(...)`. */
export interface LSTMStackOptions extends StackOptions {
  /**
   * PyTorch's proj_size P, an integer in 1..hiddenSize−1 (0 or omitted: none): every cell
   * projects its output to P features (see LSTMCellOptions.projSize), so h and the outputs have
   * P features per direction and c keeps H.
   */
  projSize?: number;
  /** Peephole connections in every cell (default false; not with projSize); see LSTMCellOptions.peephole. */
  peephole?: boolean;
}

/** Options of `new GRU(...)`. */
export interface GRUStackOptions extends StackOptions {
  /** See GRUCellOptions.resetAfter (default false: reset before the recurrent product). */
  resetAfter?: boolean;
}

/** Options of `new LSTM(...)`. */
/** An LSTM stack's configuration: what `config()` returns and a saved model stores. */
export interface LSTMConfig {
  kind: 'LSTM'; inputSize: number; hiddenSize: number; bias: boolean; numLayers: number; bidirectional: boolean;
  batchFirst: boolean; dropout: number; projSize: number; peephole: boolean;
}

/** A GRU stack's configuration: what `config()` returns and a saved model stores. */
export interface GRUConfig {
  kind: 'GRU'; inputSize: number; hiddenSize: number; bias: boolean; numLayers: number; bidirectional: boolean; resetAfter: boolean;
  batchFirst: boolean; dropout: number;
}

/** Options of `LSTM.fromPyTorch` / `GRU.fromPyTorch`; numLayers and bidirectional are inferred from the keys when omitted. */
export interface FromPyTorchOptions extends LoadStateDictOptions {
  /** Stacked layers (default: counted from weight_ih_l0, weight_ih_l1, …). */
  numLayers?: number;
  /** Two directions (default: whether weight_ih_l0_reverse is present). */
  bidirectional?: boolean;
  /** As StackOptions.batchFirst (PyTorch's batch_first is not in a state dict; default false). */
  batchFirst?: boolean;
  /** As StackOptions.dropout (not in a state dict either; default 0). */
  dropout?: number;
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
  readonly batchFirst: boolean;
  /** The LSTM's projection size P (0: none; a GRU's is 0). */
  readonly projSize: number;
  /** Dropout probability p between layers (0: none); applied in training mode only. */
  readonly dropout: number;
  /** The cells, index layer·D + direction (direction 1 = reverse). */
  readonly cells: readonly RecurrentCell<S>[];
  /** The layers, first to last: SequenceRunners, or BidirectionalLayers when bidirectional. */
  readonly layers: readonly RecurrentModule<S>[];
  /** Batch of the last forward, for backward. */
  private lastBatch = 0;
  /** Training mode (default true, as PyTorch's modules): dropout is applied. */
  private trainingMode = true;
  /** The generator of the dropout masks: the initialiser's, continued (see manualSeed). */
  private dropoutRng: Random;
  /**
   * The last forward's dropout masks [T, B, D·P] per layer but the last (null: none applied),
   * which its backward multiplies by again.
   */
  private masks: (Float32Array | null)[] = [];

  /** @internal */
  protected constructor(
    options: StackOptions, who: string, gateCount: number,
    makeCell: (inputSize: number, hiddenSize: number, bias: boolean, seed: number, projSize: unknown) => RecurrentCell<S>,
  ) {
    super();
    // Read once: the values checked are the values used.
    const o = snapshot(`${who} options`, options,
      ['inputSize', 'hiddenSize', 'numLayers', 'bidirectional', 'bias', 'seed', 'batchFirst', 'dropout', 'projSize']);
    this.inputSize = checkSize('inputSize', o.inputSize);
    this.hiddenSize = checkSize('hiddenSize', o.hiddenSize);
    this.numLayers = checkSize('numLayers', o.numLayers === undefined ? 1 : o.numLayers, MAX_LAYERS);
    this.bidirectional = checkOptionalBoolean('bidirectional', o.bidirectional, false);
    this.bias = checkOptionalBoolean('bias', o.bias, true);
    this.batchFirst = checkOptionalBoolean('batchFirst', o.batchFirst, false);
    this.dropout = o.dropout === undefined ? 0 : checkDropout('dropout', o.dropout);
    this.numDirections = this.bidirectional ? 2 : 1;
    const projSize = o.projSize;
    const rng = new Random((o.seed === undefined ? 0 : o.seed) as number);
    // Every cell's parameters and gradients, checked before the first is allocated (P: the
    // projection when it is a valid one; the first cell refuses any other).
    const H = this.hiddenSize, D = this.numDirections, GH = gateCount * H;
    const P = typeof projSize === 'number' && Number.isInteger(projSize) && projSize > 0 && projSize < H ? projSize : H;
    const perCell = (inputSize: number): number => 2 * (GH * (inputSize + P + 2) + (P !== H ? P * H : 0));
    checkFloat32Bytes(`${who} parameters and gradients`, D * (perCell(this.inputSize) + (this.numLayers - 1) * perCell(D * P)));
    const cells: RecurrentCell<S>[] = [];
    const layers: RecurrentModule<S>[] = [];
    // The first cell checks projSize (a GRU's refuses any but 0); layer k > 0 takes D·P inputs.
    const first = makeCell(this.inputSize, H, this.bias, rng.nextUint32(), projSize);
    this.projSize = first.projSize;
    for (let l = 0; l < this.numLayers; l++) {
      const inputSize = l === 0 ? this.inputSize : D * first.outputSize;
      const own = Array.from({ length: D },
        (_, d) => (l === 0 && d === 0 ? first : makeCell(inputSize, H, this.bias, rng.nextUint32(), this.projSize)));
      cells.push(...own);
      layers.push(own.length === 2 ? new BidirectionalLayer(own[0]!, own[1]!) : new SequenceRunner(own[0]!));
    }
    this.cells = cells;
    this.layers = layers;
    this.hasCellState = cells[0]!.hasCellState;
    this.dropoutRng = rng;
  }

  /** Training mode (true by default, as in PyTorch): dropout between layers is active in run and forward alike. */
  get training(): boolean {
    return this.trainingMode;
  }

  /**
   * Sets training mode (PyTorch's `module.train(mode)`): with `dropout` > 0, masks are drawn for
   * every run and forward while it is on. Returns this.
   */
  train(mode = true): this {
    this.trainingMode = checkOptionalBoolean('mode', mode, true);
    return this;
  }

  /** Evaluation mode (PyTorch's `module.eval()`): no dropout, deterministic outputs. Returns this. */
  eval(): this {
    this.trainingMode = false;
    return this;
  }

  /**
   * Restarts the dropout masks' generator from `seed`: the masks that follow are a function of the
   * seed alone (e.g. the same masks for every evaluation of a gradient check).
   */
  manualSeed(seed: number): void {
    this.dropoutRng = new Random(seed);
  }

  /** @internal */
  forwardRequest(req: RunRequest, token: ForwardToken | null): ForwardOutcome {
    // Per layer: h [D, B, P] and c [D, B, H].
    const D = this.numDirections, n = D * req.batch * this.cells[0]!.outputSize, nc = this.hasCellState ? D * req.batch * this.hiddenSize : 0;
    const h = new Float32Array(this.numLayers * n), c = new Float32Array(this.numLayers * nc);
    const drop = this.trainingMode && this.dropout > 0;
    let inputs = req.inputs;
    this.masks = [];
    this.layers.forEach((layer, l) => {
      const initial = req.initial === null ? null : stateBlock(req.initial, l, n, nc);
      const r = layer.forwardRequest({ ...req, inputs, initial }, token);
      h.set(r.final.h, l * n);
      c.set(r.final.c, l * nc);
      inputs = r.outputs;
      // Between layers (not after the last; the final states are never dropped): x_{l+1} = y_l ⊙ m_l.
      if (drop && l < this.numLayers - 1) {
        const mask = dropoutMask(this.dropoutRng, this.dropout, new Float32Array(inputs.length));
        applyMask(inputs, mask);
        this.masks.push(mask);
      } else {
        this.masks.push(null);
      }
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
    // State elements per layer: h [D, B, P], c [D, B, H].
    const size = this.numDirections * this.lastBatch * this.cells[0]!.outputSize;
    const cSize = this.hasCellState ? this.numDirections * this.lastBatch * this.hiddenSize : 0;
    const h = new Float32Array(this.numLayers * size), c = new Float32Array(this.numLayers * cSize);
    const block = (a: Float32Array | null, l: number, k: number): Float32Array | null => (a === null ? null : a.subarray(l * k, (l + 1) * k));
    let dOutputs = up.dOutputs;
    for (let l = this.numLayers - 1; l >= 0; l--) {
      const r = this.layers[l]!.backwardRequest({ dOutputs, dh: block(up.dh, l, size), dc: block(up.dc, l, cSize) }, token);
      h.set(r.initial.h, l * size);
      c.set(r.initial.c, l * cSize);
      dOutputs = r.dInputs;
      // dy_{l−1} = dx_l ⊙ m_{l−1}: the forward's mask (its layers still hold that forward's tapes).
      const mask = l > 0 ? this.masks[l - 1] : null;
      if (mask) applyMask(dOutputs, mask);
    }
    return { dInputs: dOutputs!, initial: { h, c } };
  }

  /**
   * Every parameter with its gradient, named `l{layer}{_reverse}.{weightIh|weightHh|biasIh|biasHh|weightHr}`
   * (values in this library's convention; see stateDict() for PyTorch's).
   */
  parameters(): Parameter[] {
    return this.cells.flatMap((c, k) => c.parameters().map((p) => ({ ...p, name: `${this.suffix(k).slice(1)}.${p.name}` })));
  }

  /**
   * Parameters under PyTorch's keys (weight_ih_l0, weight_hh_l1_reverse, ..., weight_hr_l0 with
   * projSize) and conventions, each after `options.prefix` (`{ prefix: 'rnn.' }`:
   * rnn.weight_ih_l0, …). An LSTM's equal nn.LSTM's (same numLayers, bidirectional, bias,
   * proj_size) and a GRU's with resetAfter: true nn.GRU's. A GRU with resetAfter: false (no
   * PyTorch module computes it) writes weight_ih_l0_reset_before, …, keys nn.GRU never loads.
   * New arrays.
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
   * The last layer's final state out of a run's or forward's `finalState` (h [L·D, B, P] and,
   * for an LSTM, c [L·D, B, H]; P = projSize when set, else H): the features a classifier head
   * usually takes.
   *
   * - one direction: h [B, P] (and c [B, H]), the last layer's state after each entry's last step;
   * - bidirectional: h [B, 2·P] (and c [B, 2·H]), each row the forward direction's values (after
   *   the entry's last step) then the reverse direction's (after it reached step 0), as PyTorch's
   *   `torch.cat([h_n[-2], h_n[-1]], dim=1)`.
   *
   * New arrays. Throws unless the state has this stack's shape for some batch B.
   */
  lastLayerState(finalState: S): S {
    const st = checkObject('finalState', finalState);
    const D = this.numDirections, P = this.cells[0]!.outputSize, rows = this.numLayers * D;
    const h = checkFloat32('finalState.h', st.h);
    if (h.length === 0 || h.length % (rows * P) !== 0) {
      throw new RangeError(`finalState.h: expected a multiple of numLayers*numDirections*${
        P === this.hiddenSize ? 'hiddenSize' : 'projSize'} = ${rows * P} elements, got ${h.length}`);
    }
    const B = h.length / (rows * P);
    if (!this.hasCellState) return { h: lastLayerRows(h, this.numLayers, D, B, P) } as S;
    const c = checkFloat32Length('finalState.c', st.c, rows * B * this.hiddenSize, 'numLayers*numDirections*batch*hiddenSize');
    return { h: lastLayerRows(h, this.numLayers, D, B, P), c: lastLayerRows(c, this.numLayers, D, B, this.hiddenSize) } as unknown as S;
  }

  /**
   * The backward of lastLayerState: gradients with respect to its result (h [B, D·P], and c
   * [B, D·H] for an LSTM, as lastLayerState returns them; a missing c counts as zero) placed into
   * full final-state gradients (h [L·D, B, P], c [L·D, B, H]), zero for the other layers, to pass
   * to backward as `dFinalState`. New arrays.
   *
   * ```ts
   * const dFeatures = head.backward(f, dy);                          // [B, D·P]
   * rnn.backward({ dFinalState: rnn.lastLayerStateGrad({ h: dFeatures }) });
   * ```
   */
  lastLayerStateGrad(dLast: Partial<S>): S {
    const d = checkObject('dLast', dLast);
    const D = this.numDirections, P = this.cells[0]!.outputSize, H = this.hiddenSize;
    const h = checkFloat32('dLast.h', d.h);
    if (h.length === 0 || h.length % (D * P) !== 0) {
      throw new RangeError(`dLast.h: expected a multiple of numDirections*${
        P === H ? 'hiddenSize' : 'projSize'} = ${D * P} elements, got ${h.length}`);
    }
    const B = h.length / (D * P);
    if (!this.hasCellState) return { h: placeLastLayer(h, this.numLayers, D, B, P) } as S;
    const c = d.c === undefined ? new Float32Array(B * D * H) : checkFloat32Length('dLast.c', d.c, B * D * H, 'batch*numDirections*hiddenSize');
    return { h: placeLastLayer(h, this.numLayers, D, B, P), c: placeLastLayer(c, this.numLayers, D, B, H) } as unknown as S;
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
   * (weight_ih_l0 … weight_ih_l{L−1}, and weight_ih_l0_reverse); sizes (projSize from
   * weight_hr_l0) from layer 0's shapes, peephole from weight_peephole_l0 (LSTM). The state dict's
   * keys under the prefix are read once, here.
   * @internal
   */
  protected static layoutFromKeys(
    who: string, stateDict: Record<string, TensorInput>, gateCount: number, options: FromPyTorchOptions = {},
  ): {
    layout: {
      inputSize: number; hiddenSize: number; bias: boolean; projSize: number; numLayers: number; bidirectional: boolean;
      batchFirst: boolean; dropout: number; peephole: boolean;
    };
    /** The keys under the prefix, read once, again under the prefix: what loadStateDict reads. */
    own: Record<string, unknown>; prefix: string;
  } {
    const prefix = readPrefix(`${who}.fromPyTorch options`, options);
    const what = prefixedName('stateDict', prefix);
    // Keys and values read once: what is checked is what is loaded.
    const sd = snapshotTensorDict(what, selectPrefix('stateDict', stateDict, prefix));
    const o = snapshot(`${who}.fromPyTorch options`, options, ['numLayers', 'bidirectional', 'batchFirst', 'dropout']);
    let L = o.numLayers;
    if (L === undefined) {
      // Count own keys only, once and up to MAX_LAYERS: a dict (a Proxy included) cannot make
      // this loop run longer than that.
      const own = new Set(Object.keys(sd));
      let n = 0;
      while (n < MAX_LAYERS && own.has(`weight_ih_l${n}`)) n++;
      if (n === 0) throw new RangeError(`${what}: missing key "weight_ih_l0"${resetBeforeHint(sd, 'weight_ih_l0')}`);
      L = n;
    }
    const numLayers = checkSize('numLayers', L, MAX_LAYERS);
    const bidirectional = checkOptionalBoolean('bidirectional', o.bidirectional, hasOwn(sd, 'weight_ih_l0_reverse'));
    const sizes = inferCellSizes(what, sd, gateCount, '_l0');
    const batchFirst = checkOptionalBoolean('batchFirst', o.batchFirst, false);
    const dropout = o.dropout === undefined ? 0 : checkDropout('dropout', o.dropout);
    // An LSTM stored with weight_peephole_l0 (this library's key) is a peephole LSTM.
    const peephole = gateCount === 4 && hasOwn(sd, 'weight_peephole_l0');
    // Every key and shape against the layout, before anything is built (all or nothing); layer
    // k > 0 reads D·P features. The form built is PyTorch's: no key tag.
    const D = bidirectional ? 2 : 1, P = sizes.projSize > 0 ? sizes.projSize : sizes.hiddenSize, shapes: Record<string, number[]> = {};
    for (let l = 0; l < numLayers; l++) {
      for (let d = 0; d < D; d++) {
        const layout = { ...sizes, inputSize: l === 0 ? sizes.inputSize : D * P, gateCount, negatedRows: null, keyTag: '', peephole };
        Object.assign(shapes, cellShapes(layout, `_l${l}${d === 1 ? '_reverse' : ''}`));
      }
    }
    readTensorDict(what, sd, shapes);
    return { layout: { ...sizes, numLayers, bidirectional, batchFirst, dropout, peephole }, own: addPrefix(sd, prefix), prefix };
  }
}


/** [B, D·F]: the last layer's rows of a state [L·D, B, F], each entry's directions side by side. */
function lastLayerRows(a: Float32Array, L: number, D: number, B: number, F: number): Float32Array {
  const out = new Float32Array(B * D * F), first = (L - 1) * D;
  for (let d = 0; d < D; d++) {
    for (let b = 0; b < B; b++) out.set(a.subarray(((first + d) * B + b) * F, ((first + d) * B + b + 1) * F), (b * D + d) * F);
  }
  return out;
}

/** The inverse of lastLayerRows: [B, D·F] into the last layer's rows of a zero [L·D, B, F]. */
function placeLastLayer(a: Float32Array, L: number, D: number, B: number, F: number): Float32Array {
  const out = new Float32Array(L * D * B * F), first = (L - 1) * D;
  for (let d = 0; d < D; d++) {
    for (let b = 0; b < B; b++) out.set(a.subarray((b * D + d) * F, (b * D + d + 1) * F), ((first + d) * B + b) * F);
  }
  return out;
}

/**
 * LSTM stack (PyTorch's nn.LSTM: batch_first, proj_size and dropout as batchFirst, projSize and dropout).
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
    const peephole = peepholeRows(options, 'LSTM') > 0;
    super(options, 'LSTM', 4, (inputSize, hiddenSize, bias, seed, projSize) =>
      new LSTMCell({ inputSize, hiddenSize, bias, seed, projSize: projSize as number, peephole }));
    this.peephole = peephole;
  }

  /** The kind saved models store for this class. */
  static readonly kind = 'LSTM' as const;

  /** The stack's configuration, a new plain object: `LSTM.fromConfig` builds a stack like it. */
  config(): LSTMConfig {
    const { inputSize, hiddenSize, bias, numLayers, bidirectional, batchFirst, dropout, projSize, peephole } = this;
    return { kind: LSTM.kind, inputSize, hiddenSize, bias, numLayers, bidirectional, batchFirst, dropout, projSize, peephole };
  }

  /**
   * A stack of this configuration with freshly initialised weights (seed 0; load trained ones
   * with loadStateDict). Throws on a configuration of another kind, or a missing or bad field.
   */
  static fromConfig(config: LSTMConfig): LSTM {
    const { inputSize, hiddenSize, bias, numLayers, bidirectional, batchFirst, dropout, projSize, peephole } = checkConfig(
      config, LSTM.kind, ['inputSize', 'hiddenSize', 'bias', 'numLayers', 'bidirectional'], ['batchFirst', 'dropout', 'projSize', 'peephole'],
    ) as unknown as typeof config;
    return new LSTM({ inputSize, hiddenSize, bias, numLayers, bidirectional, batchFirst, dropout, projSize, peephole });
  }

  /**
   * An LSTM with the weights of a PyTorch nn.LSTM state dict (keys weight_ih_l0, weight_hh_l0,
   * bias_ih_l0, bias_hh_l0, ..., `_reverse` for the second direction; weight_hr_l0, ... with
   * proj_size), read after `options.prefix` when given (`{ prefix: 'rnn.' }` takes
   * rnn.weight_ih_l0, … out of a whole model's state dict and ignores every other key). Sizes and
   * projSize come from the shapes; numLayers and bidirectional from the keys unless given. All or
   * nothing. Keys weight_peephole_l0 … (this library's, not PyTorch's) make a peephole stack.
   */
  static fromPyTorch(stateDict: Record<string, TensorInput>, options: FromPyTorchOptions = {}): LSTM {
    const { layout, own, prefix } = RecurrentStack.layoutFromKeys('LSTM', stateDict, 4, options);
    const rnn = new LSTM(layout);
    rnn.loadStateDict(own as Record<string, TensorInput>, { prefix });
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
    const { layout, stateDict, maxBytes } = readONNXStack('LSTM', bytes, options);
    return withMaxBytes(maxBytes, () => {
      const rnn = new LSTM(layout);
      rnn.loadStateDict(stateDict);
      return rnn;
    });
  }
}

/**
 * GRU stack. `resetAfter: false` (default) applies the reset before the recurrent product, which
 * no PyTorch module computes: its state dict keys end in `_reset_before`, so nn.GRU never loads
 * them, and toPyTorch refuses it. `resetAfter: true` is nn.GRU: `GRU.fromPyTorch` builds that form
 * with the z rows negated, which computes exactly what PyTorch's nn.GRU does. batchFirst and
 * dropout as nn.GRU's batch_first and dropout; no projSize (nn.GRU has no proj_size).
 */
export class GRU extends RecurrentStack<GRUState> {
  readonly resetAfter: boolean;

  constructor(options: GRUStackOptions) {
    const resetAfter = checkOptionalBoolean('resetAfter', snapshot('GRU options', options, ['resetAfter']).resetAfter, false);
    super(options, 'GRU', 3, (inputSize, hiddenSize, bias, seed, projSize) =>
      // A GRUCell refuses a projSize other than 0 (PyTorch's nn.GRU has none), naming it.
      new GRUCell({ inputSize, hiddenSize, bias, seed, resetAfter, projSize } as GRUCellOptions));
    this.resetAfter = resetAfter;
  }

  /** The kind saved models store for this class. */
  static readonly kind = 'GRU' as const;

  /** The stack's configuration, a new plain object: `GRU.fromConfig` builds a stack like it. */
  config(): GRUConfig {
    const { inputSize, hiddenSize, bias, numLayers, bidirectional, resetAfter, batchFirst, dropout } = this;
    return { kind: GRU.kind, inputSize, hiddenSize, bias, numLayers, bidirectional, resetAfter, batchFirst, dropout };
  }

  /**
   * A stack of this configuration with freshly initialised weights (seed 0; load trained ones
   * with loadStateDict). Throws on a configuration of another kind, or a missing or bad field.
   */
  static fromConfig(config: GRUConfig): GRU {
    const { inputSize, hiddenSize, bias, numLayers, bidirectional, resetAfter, batchFirst, dropout } = checkConfig(
      config, GRU.kind, ['inputSize', 'hiddenSize', 'bias', 'numLayers', 'bidirectional', 'resetAfter'], ['batchFirst', 'dropout'],
    ) as unknown as typeof config;
    return new GRU({ inputSize, hiddenSize, bias, numLayers, bidirectional, resetAfter, batchFirst, dropout });
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

  /**
   * A GRU computing what the GRU nodes of an ONNX model compute: one layer per node in graph order
   * (or the node chosen by `options.node`); linear_before_reset = 1 gives resetAfter: true, 0 the
   * default form; gates reordered from ONNX's z,r,h (ONNX's z weights the old state, as PyTorch's
   * does: this library's z rows are their negation). Bounded and checked like `LSTM.fromONNX`.
   * @param bytes the .onnx file
   */
  static fromONNX(bytes: Uint8Array, options: FromONNXOptions = {}): GRU {
    const { layout, stateDict, maxBytes } = readONNXStack('GRU', bytes, options);
    return withMaxBytes(maxBytes, () => {
      const rnn = new GRU(layout);
      // The reset-before form's state dict keys carry their tag (no PyTorch module computes it).
      const tag = layout.resetAfter ? '' : RESET_BEFORE_TAG;
      rnn.loadStateDict(Object.fromEntries(Object.entries(stateDict).map(([k, v]) => [`${k}${tag}`, v])));
      return rnn;
    });
  }
}
