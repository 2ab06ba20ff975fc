/**
 * What LSTMCell and GRUCell share: parameters in PyTorch's layout, their gradients, PyTorch's
 * default initialisation, argument checks, manual stepping (`step`, `forward`, `backward`), and
 * the internal step protocol that the layers drive. A cell maps (x, state) to the next state;
 * a layer scans a cell over time (PyTorch's cell/layer split).
 *
 * The step protocol (internal): `createTape` cuts a tape for T steps of B rows; `prepareWeights`
 * lays out the weights and folded biases for one forward; `projectInputs` runs x·W_ihᵀ for every
 * step at once; `forwardStep(tape, t)` and `backwardStep(tape, t)` do one step on the active rows
 * of the tape; `accumulateParamGrads` and `inputGrads` finish a backward with one GEMM each over
 * all T·B rows.
 */
import { Random } from '../core/random.js';
import { checkFloat32Length, checkObject, checkOptionalBoolean, describe, overlaps, ownValue, snapshot } from '../core/validate.js';
import { checkFloat32Bytes, checkSize } from '../core/limits.js';
import { CellTape } from './tape.js';
import { gemmW, gemmWBackward } from './weights.js';
import { paramList, PARAM_NAMES, type CellParams } from './params.js';
import { StateShape, type CellState } from './state.js';
import type { Parameter, Tensor } from '../core/tensor.js';
import {
  addPrefix, prefixedName, readPrefix, readTensorDict, selectPrefix,
  type LoadStateDictOptions, type StateDictOptions, type TensorInput,
} from '../core/tensor-input.js';
import { cellFromPyTorch, cellShapes, cellToPyTorch, RESET_BEFORE_TAG, type CellLayout } from './pytorch.js';

/** Options shared by the cell constructors. */
export interface CellOptions {
  /** Features per input vector, I. */
  inputSize: number;
  /** Features per hidden vector, H. */
  hiddenSize: number;
  /** Whether the cell has biases (default true). */
  bias?: boolean;
  /** Seed of the deterministic initialiser (default 0): same seed, same bits everywhere. */
  seed?: number;
}

/**
 * What `cell.forward` returns: the next state, and what `cell.backward` needs (consumed once,
 * by the cell that made it).
 */
export interface CellForward<S extends CellState> {
  /** The next state, each [batch, H]; owned by the caller. */
  readonly state: S;
  /** @internal The one-step tape. */
  readonly tape: CellTape;
}

/** What `cell.backward` returns. */
export interface CellBackward<S extends CellState> {
  /** [batch, I] gradient with respect to the step's input x. */
  dx: Float32Array;
  /** Gradient with respect to the state that was passed into forward, each [batch, H]. */
  dState: S;
}

/** One-step tapes made by `forward` and not yet consumed: a hand-made or spent tape is not among them. */
const LIVE_STEPS = new WeakSet<CellTape>();

/** Base of LSTMCell and GRUCell. */
export abstract class RecurrentCell<S extends CellState> {
  /** Input size I. */
  readonly inputSize: number;
  /** Hidden size H (features of c, and of h without a projection). */
  readonly hiddenSize: number;
  /** The LSTM's projection size P (PyTorch's proj_size): h is [batch, P]; 0 (default, GRU always): none. */
  readonly projSize: number;
  /** Features of h, P = projSize when set, else H: what the cell outputs per row. */
  readonly outputSize: number;
  /** Whether the cell has biases. */
  readonly bias: boolean;
  /**
   * Parameters, PyTorch's layout: weightIh [G·H, I], weightHh [G·H, P], biasIh, biasHh [G·H],
   * and with projSize weightHr [P, H] (P = outputSize).
   */
  readonly params: CellParams;
  /** Gradients: the same keys and shapes as params; backward adds into them. */
  readonly grads: CellParams;
  /** G: 4 for LSTM, 3 for GRU. */
  readonly gateCount: number;
  /** True for LSTM (state {h, c}), false for GRU (state {h}). */
  readonly hasCellState: boolean;
  /** @internal The state of one step: {h [batch, P], c [batch, H]} or {h [batch, H]}. */
  readonly stateShape: StateShape;
  /** The one-step workspace of `step`, kept for the last batch size. */
  private stepTape: CellTape | null = null;

  /**
   * @param peepholeRows rows of weightPeephole [rows, H]: 3 for a peephole LSTM, else 0 (none).
   */
  protected constructor(options: CellOptions, gateCount: number, who: string, peepholeRows = 0) {
    // Read once: the values checked are the values used.
    const o = snapshot(`${who} options`, options, ['inputSize', 'hiddenSize', 'bias', 'seed', 'projSize']);
    this.inputSize = checkSize('inputSize', o.inputSize);
    this.hiddenSize = checkSize('hiddenSize', o.hiddenSize);
    this.bias = checkOptionalBoolean('bias', o.bias, true);
    this.gateCount = gateCount;
    this.hasCellState = gateCount === 4;
    this.projSize = checkProjSize(o.projSize, this.hiddenSize, this.hasCellState);
    this.outputSize = this.projSize > 0 ? this.projSize : this.hiddenSize;
    const GH = gateCount * this.hiddenSize, P = this.outputSize;
    // Parameters and gradients: 2 · (G·H·(I + P + 2) + P·H + rows·H) float32 values (P·H: the
    // projection, rows·H: peephole weights, when there are any), checked before any is allocated.
    checkFloat32Bytes(`${who} parameters and gradients`,
      2 * (GH * (this.inputSize + P + 2) + (this.projSize > 0 ? P * this.hiddenSize : 0) + peepholeRows * this.hiddenSize));
    this.stateShape = new StateShape(this.hasCellState, this.hiddenSize, 1, '', this.projSize);
    const rng = new Random((o.seed === undefined ? 0 : o.seed) as number);
    const make = (): CellParams => {
      const weightIh = new Float32Array(GH * this.inputSize), weightHh = new Float32Array(GH * P);
      const hr = this.projSize > 0 ? { weightHr: new Float32Array(P * this.hiddenSize) } : {};
      const peep = peepholeRows > 0 ? { weightPeephole: new Float32Array(peepholeRows * this.hiddenSize) } : {};
      return this.bias
        ? { weightIh, weightHh, biasIh: new Float32Array(GH), biasHh: new Float32Array(GH), ...hr, ...peep }
        : { weightIh, weightHh, ...hr, ...peep };
    };
    this.params = make();
    this.grads = make();
    // PyTorch's default: every weight and bias (weight_hr and peephole weights included,
    // drawn last) uniform in [−1/√H, 1/√H].
    const k = 1 / Math.sqrt(this.hiddenSize);
    for (const v of paramList(this.params)) rng.fillUniform(v, -k, k);
  }

  /**
   * The parameters with their gradients, in a fixed order (weightIh, weightHh, biasIh, biasHh, weightHr),
   * for optimizers and gradCheck. The arrays are the cell's own (no copies).
   */
  parameters(): Parameter[] {
    const out: Parameter[] = [];
    for (const k of PARAM_NAMES) {
      const value = this.params[k], grad = this.grads[k];
      if (value !== undefined && grad !== undefined) out.push({ name: k, value, grad });
    }
    return out;
  }

  /**
   * The parameters under PyTorch's keys and conventions (weight_ih [G·H, I], weight_hh [G·H, P],
   * bias_ih, bias_hh [G·H], with projSize weight_hr [P, H]; for GRU the z rows negated, see
   * `GRUCell.fromPyTorch`), each key after `options.prefix`. An LSTMCell's equals nn.LSTMCell's
   * (projSize: one layer of nn.LSTM with proj_size, without the `_l0`) and a GRUCell's with
   * resetAfter: true nn.GRUCell's; a GRUCell with resetAfter: false (which no PyTorch module
   * computes) writes `weight_ih_reset_before`, … so that nn.GRUCell never loads it. New arrays.
   */
  stateDict(options?: StateDictOptions): Record<string, Tensor> {
    return addPrefix(cellToPyTorch(this.pytorchLayout(), this.params, ''), readPrefix('stateDict options', options));
  }

  /** The gradients under the same keys and conventions as stateDict(options). New arrays. */
  gradDict(options?: StateDictOptions): Record<string, Tensor> {
    return addPrefix(cellToPyTorch(this.pytorchLayout(), this.grads, ''), readPrefix('gradDict options', options));
  }

  /**
   * Loads parameters given under the keys of stateDict() (after `options.prefix`; other keys are
   * ignored): each a Tensor, a `{shape, data}`, a flat Float32Array or number[], or nested arrays.
   * A missing, extra or wrongly-shaped key throws, naming the key and both shapes, and nothing is
   * loaded.
   */
  loadStateDict(stateDict: Record<string, TensorInput>, options?: LoadStateDictOptions): void {
    const prefix = readPrefix('loadStateDict options', options);
    const layout = this.pytorchLayout();
    const data = readTensorDict(prefixedName('stateDict', prefix), selectPrefix('stateDict', stateDict, prefix), cellShapes(layout, ''));
    cellFromPyTorch(layout, this.params, data, '');
  }

  /** @internal Sizes and the GRU z-row convention, for the PyTorch mapping (cells/pytorch.ts). */
  pytorchLayout(): CellLayout {
    return {
      inputSize: this.inputSize, hiddenSize: this.hiddenSize, gateCount: this.gateCount, bias: this.bias, projSize: this.projSize,
      peephole: this.params.weightPeephole !== undefined,
      negatedRows: this.hasCellState ? null : [this.hiddenSize, 2 * this.hiddenSize],
      keyTag: this.pytorchExpressible() ? '' : RESET_BEFORE_TAG,
    };
  }

  /** @internal Whether a PyTorch module computes this cell's equations (false: GRU with resetAfter: false). */
  pytorchExpressible(): boolean {
    return true;
  }

  /** Sets every gradient to zero (backward only ever adds). */
  zeroGrad(): void {
    for (const g of paramList(this.grads)) g.fill(0);
  }

  /** A zero state for `batch` rows: {h [batch, P], c [batch, H]} (LSTM) or {h [batch, H]} (GRU). */
  initialState(batch: number): S {
    return this.stateShape.zeros(checkSize('batch', batch));
  }

  /**
   * One step of inference: the next state, keeping nothing for backward.
   *
   * Cost: the step's products, batch·G·H·(I + H) multiply-adds, read the weights in place (no
   * copy, so a changed parameter takes effect at the next call); a workspace for the last batch
   * size is kept and reused. With `out` no array is allocated.
   * @param x [batch, I]
   * @param state the current state: h [batch, P] (P = outputSize), c [batch, H]
   * @param out where to write the next state, shaped as state; may be `state` itself. New arrays
   *   when omitted.
   * @returns the next state (`out` when given)
   */
  step(x: Float32Array, state: S, batch: number, out?: S): S {
    checkSize('batch', batch);
    const dst = out === undefined ? null : this.stateShape.read('out', out, batch);
    if (dst !== null && dst.c.length > 0 && overlaps(dst.h, dst.c)) throw new RangeError('out.c: expected memory apart from out.h, got an overlap');
    let tape = this.stepTape;
    if (tape === null || tape.batch !== batch) tape = this.stepTape = this.createTape(1, batch, false);
    this.forwardOne(tape, x, state);
    const n = batch * this.outputSize, nc = this.stateShape.cellLength(batch);
    if (dst === null) return this.stateShape.wrap(tape.h.slice(n, 2 * n), tape.c.slice(nc, 2 * nc));
    dst.h.set(tape.h.subarray(n, 2 * n));
    dst.c.set(tape.c.subarray(nc, 2 * nc));
    return out!;
  }

  /**
   * One step that keeps its tape: `cell.backward(result, dState)` then gives the gradients.
   * Same cost as `step`, plus a one-step tape allocated per call.
   * @param x [batch, I]
   * @param state the current state: h [batch, P] (P = outputSize), c [batch, H]
   */
  forward(x: Float32Array, state: S, batch: number): CellForward<S> {
    checkSize('batch', batch);
    const tape = this.createTape(1, batch, false);
    this.forwardOne(tape, x, state);
    tape.ready = true;
    LIVE_STEPS.add(tape);
    const n = batch * this.outputSize, nc = this.stateShape.cellLength(batch);
    return { state: this.stateShape.wrap(tape.h.slice(n, 2 * n), tape.c.slice(nc, 2 * nc)), tape };
  }

  /**
   * Backward of one `forward`: adds the parameter gradients into `grads` and returns the gradients
   * with respect to the step's input and to the state passed into forward.
   * @param step what this cell's forward returned (each can be consumed once)
   * @param dState gradient with respect to the next state: h [batch, P], and c [batch, H] for LSTM;
   *   a missing member counts as zero
   */
  backward(step: CellForward<S>, dState: Partial<S>): CellBackward<S> {
    const tape = ownValue(checkObject('step', step), 'tape');   // read once
    if (!(tape instanceof CellTape) || tape.owner !== this || tape.steps !== 1) {
      throw new TypeError(`step: expected the result of this cell's forward(), got ${describe(tape)}`);
    }
    if (!tape.ready) throw new Error('backward: this step was already consumed by an earlier backward; call forward again');
    if (!LIVE_STEPS.has(tape)) throw new TypeError(`step: expected the result of this cell's forward(), got a tape made otherwise`);
    const B = tape.batch, n = B * this.outputSize, nc = this.stateShape.cellLength(B);
    const d = this.stateShape.readPartial('dState', dState, B);
    // Step 0 reads the gradient with respect to h_1 from block 1 and leaves dh_0 in block 0.
    const dhNext = tape.dh.subarray(n, 2 * n), dcNext = tape.dc.subarray(nc, 2 * nc);
    if (d.h) dhNext.set(d.h); else dhNext.fill(0);
    if (d.c) dcNext.set(d.c); else dcNext.fill(0);
    this.prepareBackward(tape);
    this.backwardStep(tape, 0);
    tape.ready = false;
    LIVE_STEPS.delete(tape);
    this.accumulateParamGrads(tape);
    const dx = new Float32Array(B * this.inputSize);
    this.inputGrads(dx, tape);
    return { dx, dState: this.stateShape.wrap(tape.dh.slice(0, n), tape.dc.slice(0, nc)) };
  }

  /** Checks x and state, then runs step 0 on a one-step tape: the new state is its h[1], c[1]. */
  private forwardOne(tape: CellTape, x: Float32Array, state: S): void {
    const B = tape.batch;
    checkFloat32Length('x', x, B * this.inputSize, 'batch*inputSize');
    const s = this.stateShape.read('state', state, B);
    tape.x.set(x);
    tape.h.set(s.h);
    tape.c.set(s.c);
    this.prepareWeights(tape);
    this.projectInputs(tape);
    this.forwardStep(tape, 0);
  }

  // ---- The step protocol (internal) ----

  /**
   * @internal A tape for `steps` steps of `batch` rows; `transposedWeights` lays the weights out
   * for many steps (see weights.ts).
   */
  createTape(steps: number, batch: number, transposedWeights: boolean): CellTape {
    return new CellTape(this, steps, batch, transposedWeights);
  }

  /**
   * @internal Lays out W_ih and W_hh for the forward products and folds the biases the steps add
   * (tape.foldedBias). Call before projectInputs/forwardStep whenever the parameters may have
   * changed (every forward does).
   */
  prepareWeights(tape: CellTape): void {
    tape.weightIh.refresh();
    tape.weightHh.refresh();
    tape.weightHr?.refresh();
    if (this.bias) this.foldBias(tape.foldedBias);
    else tape.foldedBias.fill(0);
    const v = this.stepVectorSource();
    if (v !== null) tape.stepVector.set(v);
  }

  /**
   * @internal The parameter vector the steps read as it is (not folded into foldedBias): copied
   * into tape.stepVector by prepareWeights. None by default.
   */
  stepVectorSource(): Float32Array | null {
    return null;
  }

  /**
   * @internal Before a backward's first step: the backward products read W_ih and W_hh as they
   * are now (the wasm backend packs them once per backward).
   */
  prepareBackward(tape: CellTape): void {
    tape.weightIh.refreshBackward();
    tape.weightHh.refreshBackward();
    tape.weightHr?.refreshBackward();
  }

  /**
   * @internal Input projection of every step at once, before the time loop (PyTorch's
   * pre_compute_input): tape.gates [T·B, G·H] = tape.x [T·B, I] · W_ihᵀ. The biases are added
   * inside the step, in the same pass as the activations.
   */
  projectInputs(tape: CellTape): void {
    const GH = this.gateCount * this.hiddenSize, I = this.inputSize;
    gemmW(tape.gates, 0, GH, tape.x, 0, I, tape.weightIh, 0, tape.steps * tape.batch, GH, false);
  }

  /**
   * @internal dX [T·B, I] = dGates [T·B, G·H] · W_ih, one product over all steps after the
   * backward time loop (tape.gates holds dGates by then).
   */
  inputGrads(dx: Float32Array, tape: CellTape): void {
    const GH = this.gateCount * this.hiddenSize, rows = tape.steps * tape.batch, I = this.inputSize;
    gemmWBackward(dx, 0, I, tape.gates, 0, GH, tape.weightIh, 0, rows, GH, false);
  }

  /** The biases the step adds to the pre-activations, [G·H] (all but resetAfter's b_hn). */
  protected abstract foldBias(out: Float32Array): void;

  /**
   * @internal Forward of step t on rows 0 … batchSizes[t] − 1: reads tape.gates[t] (the input
   * projection) and the state at t; writes the post-activation gates over tape.gates[t], the
   * state at t+1 and tape.aux[t].
   */
  abstract forwardStep(tape: CellTape, t: number): void;

  /**
   * @internal Backward of step t on rows 0 … batchSizes[t] − 1: from the gradient with respect
   * to the state after step t (tape.dh/dc block (t+1) & 1), writes dGates over tape.gates[t]
   * (and, by cell, tape.aux[t]) and the gradient with respect to the state before it (block t & 1).
   */
  abstract backwardStep(tape: CellTape, t: number): void;

  /** @internal After the backward time loop: dW_ih, dW_hh, db_ih, db_hh += sums over every step and row. */
  abstract accumulateParamGrads(tape: CellTape): void;
}

/** projSize: 0 when omitted; for an LSTM an integer in 0..H−1 (PyTorch's proj_size < hidden_size); a GRU takes only 0. */
function checkProjSize(v: unknown, hiddenSize: number, lstm: boolean): number {
  if (v === undefined || v === 0) return 0;
  if (!lstm) {
    throw new RangeError(`projSize: expected 0 or omitted (only an LSTM has a projection, PyTorch's proj_size; a GRU has none), got ${describe(v)}`);
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= hiddenSize) {
    throw new RangeError(`projSize: expected an integer in 0..hiddenSize−1 = ${hiddenSize - 1} (PyTorch's proj_size < hidden_size), got ${describe(v)}`);
  }
  return v;
}
