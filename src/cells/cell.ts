/**
 * What LSTMCell and GRUCell share: parameters in PyTorch's layout, their gradients, PyTorch's
 * default initialisation, argument checks, and manual stepping (`step`, `forward`, `backward`)
 * built on the per-step kernels that the SequenceRunner also drives. A cell maps (x, state) to
 * the next state; the runner scans a cell over time (PyTorch's cell/layer split).
 */
import { gemmNN } from '../kernels/gemm.js';
import { transpose } from '../kernels/rows.js';
import { Random } from '../core/random.js';
import { checkFloat32Length, checkObject, checkOptionalBoolean, checkPositiveInt, describe } from '../core/validate.js';
import { CellTape } from './tape.js';
import type { Parameter, Tensor } from '../core/tensor.js';
import { readTensorDict, type TensorInput } from '../core/tensor-input.js';
import { cellFromPyTorch, cellShapes, cellToPyTorch, type CellLayout } from '../interop/pytorch.js';

/**
 * A cell's parameters (or their gradients), PyTorch's layout, G = 4 (LSTM: gate blocks i,f,g,o)
 * or 3 (GRU: r,z,n).
 */
export interface CellParams {
  /** [G·H, I] input-to-hidden weights. */
  weightIh: Float32Array;
  /** [G·H, H] hidden-to-hidden weights. */
  weightHh: Float32Array;
  /** [G·H] input-side bias (absent when the cell was built with bias: false). */
  biasIh?: Float32Array;
  /** [G·H] hidden-side bias (absent when the cell was built with bias: false). */
  biasHh?: Float32Array;
}

/** LSTM state: h and c, each [batch, H]. */
export interface LSTMState {
  h: Float32Array;
  c: Float32Array;
}

/** GRU state: h [batch, H]. */
export interface GRUState {
  h: Float32Array;
}

/** Any cell's state. */
export type CellState = LSTMState | GRUState;

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
 * What `cell.forward` returns: the next state and the one-step tape that `cell.backward` consumes
 * (once).
 */
export interface CellForward<S extends CellState> {
  /** The next state, each [batch, H]; owned by the caller. */
  readonly state: S;
  /** What backward needs; see CellTape. */
  readonly tape: CellTape;
}

/** What `cell.backward` returns. */
export interface CellBackward<S extends CellState> {
  /** [batch, I] gradient with respect to the step's input x. */
  dx: Float32Array;
  /** Gradient with respect to the state that was passed into forward, each [batch, H]. */
  dState: S;
}

/** Base of LSTMCell and GRUCell. */
export abstract class RecurrentCell<S extends CellState> {
  /** Input size I. */
  readonly inputSize: number;
  /** Hidden size H. */
  readonly hiddenSize: number;
  /** Whether the cell has biases. */
  readonly bias: boolean;
  /** Parameters, PyTorch's layout; see CellParams. */
  readonly params: CellParams;
  /** Gradients: the same keys and shapes as params; backward adds into them. */
  readonly grads: CellParams;
  /** G: 4 for LSTM, 3 for GRU. */
  abstract readonly gateCount: number;
  /** True for LSTM (state {h, c}), false for GRU (state {h}). */
  abstract readonly hasCellState: boolean;

  protected constructor(options: CellOptions, gateCount: number, who: string) {
    checkObject(`${who} options`, options);
    this.inputSize = checkPositiveInt('inputSize', options.inputSize);
    this.hiddenSize = checkPositiveInt('hiddenSize', options.hiddenSize);
    this.bias = checkOptionalBoolean('bias', options.bias, true);
    const seed = options.seed ?? 0;
    const rng = new Random(seed);
    const GH = gateCount * this.hiddenSize;
    const make = (): CellParams => {
      const p: CellParams = {
        weightIh: new Float32Array(GH * this.inputSize),
        weightHh: new Float32Array(GH * this.hiddenSize),
      };
      if (this.bias) {
        p.biasIh = new Float32Array(GH);
        p.biasHh = new Float32Array(GH);
      }
      return p;
    };
    this.params = make();
    this.grads = make();
    // PyTorch's default: every weight and bias uniform in [−1/√H, 1/√H].
    const k = 1 / Math.sqrt(this.hiddenSize);
    for (const v of paramList(this.params)) rng.fillUniform(v, -k, k);
  }

  /**
   * The parameters with their gradients, in a fixed order (weightIh, weightHh, biasIh, biasHh),
   * for optimizers and gradCheck. The arrays are the cell's own (no copies).
   */
  parameters(): Parameter[] {
    const names = ['weightIh', 'weightHh', 'biasIh', 'biasHh'] as const;
    const out: Parameter[] = [];
    for (const k of names) {
      const value = this.params[k], grad = this.grads[k];
      if (value !== undefined && grad !== undefined) out.push({ name: k, value, grad });
    }
    return out;
  }

  /**
   * The parameters under PyTorch's keys and conventions (weight_ih [G·H, I], weight_hh [G·H, H],
   * bias_ih, bias_hh [G·H]; for GRU the z rows negated, see `GRUCell.fromPyTorch`). New arrays.
   */
  stateDict(): Record<string, Tensor> {
    return cellToPyTorch(this.pytorchLayout(), this.params, '');
  }

  /** The gradients under the same keys and conventions as stateDict(). New arrays. */
  gradDict(): Record<string, Tensor> {
    return cellToPyTorch(this.pytorchLayout(), this.grads, '');
  }

  /**
   * Loads parameters given under PyTorch's keys (as stateDict() returns them): each a Tensor, a
   * `{shape, data}`, a flat Float32Array or number[], or nested arrays. A missing, extra or
   * wrongly-shaped key throws, naming the key and both shapes, and nothing is loaded.
   */
  loadStateDict(stateDict: Record<string, TensorInput>): void {
    const layout = this.pytorchLayout();
    const data = readTensorDict('stateDict', stateDict, cellShapes(layout, ''));
    cellFromPyTorch(layout, this.params, data, '');
  }

  /** Sizes and the GRU z-row convention, for the PyTorch mapping (src/interop/pytorch.ts). */
  pytorchLayout(): CellLayout {
    return {
      inputSize: this.inputSize, hiddenSize: this.hiddenSize, gateCount: this.gateCount, bias: this.bias,
      negatedRows: this.hasCellState ? null : [this.hiddenSize, 2 * this.hiddenSize],
    };
  }

  /** Sets every gradient to zero (backward only ever adds). */
  zeroGrad(): void {
    for (const g of paramList(this.grads)) g.fill(0);
  }

  /** A zero state for `batch` rows: {h, c} (LSTM) or {h} (GRU), each [batch, H]. */
  initialState(batch: number): S {
    checkPositiveInt('batch', batch);
    const n = batch * this.hiddenSize;
    return (this.hasCellState ? { h: new Float32Array(n), c: new Float32Array(n) } : { h: new Float32Array(n) }) as S;
  }

  /**
   * One step of inference: the next state, keeping nothing for backward.
   * @param x [batch, I]
   * @param state the current state, each [batch, H]
   * @returns the next state, each [batch, H], newly allocated
   */
  step(x: Float32Array, state: S, batch: number): S {
    return this.forward(x, state, batch).state;
  }

  /**
   * One step that keeps its tape: `cell.backward(result, dState)` then gives the gradients.
   * @param x [batch, I]
   * @param state the current state, each [batch, H]
   */
  forward(x: Float32Array, state: S, batch: number): CellForward<S> {
    checkPositiveInt('batch', batch);
    const I = this.inputSize, H = this.hiddenSize;
    checkFloat32Length('x', x, batch * I, 'batch*inputSize');
    this.checkState('state', state, batch);
    const tape = this.createTape(1, batch);
    tape.x.set(x);
    tape.h.set(state.h);
    if (this.hasCellState) tape.c.set((state as LSTMState).c);
    this.prepareWeights(tape);
    this.projectInputs(tape);
    this.forwardStep(tape, 0);
    tape.ready = true;
    const n = batch * H;
    const next = this.hasCellState
      ? { h: tape.h.slice(n, 2 * n), c: tape.c.slice(n, 2 * n) }
      : { h: tape.h.slice(n, 2 * n) };
    return { state: next as S, tape };
  }

  /**
   * Backward of one `forward`: adds the parameter gradients into `grads` and returns the gradients
   * with respect to the step's input and to the state passed into forward.
   * @param step what forward returned (each can be consumed once)
   * @param dState gradient with respect to the next state: h [batch, H], and c [batch, H] for LSTM;
   *   a missing member counts as zero
   */
  backward(step: CellForward<S>, dState: Partial<S>): CellBackward<S> {
    checkObject('step', step);
    const tape = step.tape;
    if (!(tape instanceof CellTape) || tape.steps !== 1 || tape.gateCount !== this.gateCount
      || tape.inputSize !== this.inputSize || tape.hiddenSize !== this.hiddenSize) {
      throw new TypeError(`step: expected the result of this cell's forward(), got ${describe(tape)}`);
    }
    if (!tape.ready) throw new Error('backward: this step was already consumed by an earlier backward; call forward again');
    const B = tape.batch, H = this.hiddenSize, n = B * H;
    checkObject('dState', dState);
    const dh = dState.h === undefined ? null : checkFloat32Length('dState.h', dState.h, n, 'batch*hiddenSize');
    const dcIn = (dState as Partial<LSTMState>).c;
    const dc = !this.hasCellState || dcIn === undefined ? null : checkFloat32Length('dState.c', dcIn, n, 'batch*hiddenSize');

    const s = tape.dScratch;
    const dhT = s.subarray(0, n), dcT = s.subarray(n, 2 * n);
    const dhPrev = new Float32Array(n), dcPrev = new Float32Array(this.hasCellState ? n : 0);
    if (dh) dhT.set(dh); else dhT.fill(0);
    if (dc) dcT.set(dc); else dcT.fill(0);
    this.backwardStep(tape, 0, dhT, dcT, dhPrev, dcPrev);
    tape.ready = false;
    this.accumulateParamGrads(tape);
    const dx = new Float32Array(B * this.inputSize);
    this.inputGrads(dx, tape);
    const dS = this.hasCellState ? { h: dhPrev, c: dcPrev } : { h: dhPrev };
    return { dx, dState: dS as S };
  }

  // ---- The per-step kernels shared with SequenceRunner (advanced use) ----

  /** Allocates a tape for `steps` steps of `batch` rows. */
  createTape(steps: number, batch: number): CellTape {
    return new CellTape(steps, batch, this.inputSize, this.hiddenSize, this.gateCount, this.hasCellState);
  }

  /**
   * Copies W_ihᵀ [I, G·H] and W_hhᵀ [H, G·H] into the tape for the forward products, and the
   * biases that the step adds to the pre-activations (tape.foldedBias). Call it before
   * projectInputs/forwardStep whenever the parameters may have changed (the runner and `forward`
   * do, at every forward).
   */
  prepareWeights(tape: CellTape): void {
    const GH = this.gateCount * this.hiddenSize;
    transpose(tape.weightIhT, this.params.weightIh, GH, this.inputSize);
    transpose(tape.weightHhT, this.params.weightHh, GH, this.hiddenSize);
    if (this.bias) this.foldBias(tape.foldedBias);
    else tape.foldedBias.fill(0);
  }

  /**
   * Input projection of every step at once, before the time loop (PyTorch's pre_compute_input):
   * tape.gates [T·B, G·H] = tape.x [T·B, I] · W_ihᵀ (W_ihᵀ from prepareWeights). The biases are
   * added inside the step, in the same pass as the activations.
   */
  projectInputs(tape: CellTape): void {
    const GH = this.gateCount * this.hiddenSize, rows = tape.steps * tape.batch, I = this.inputSize;
    gemmNN(tape.gates, 0, GH, tape.x, 0, I, tape.weightIhT, 0, GH, rows, GH, I, false);
  }

  /**
   * dX [T·B, I] = dGates [T·B, G·H] · W_ih, one product over all steps after the backward time
   * loop (tape.gates holds dGates by then).
   */
  inputGrads(dx: Float32Array, tape: CellTape): void {
    const GH = this.gateCount * this.hiddenSize, rows = tape.steps * tape.batch, I = this.inputSize;
    gemmNN(dx, 0, I, tape.gates, 0, GH, this.params.weightIh, 0, I, rows, I, GH, false);
  }

  /** The biases the step adds to the pre-activations, [G·H] (all but resetAfter's b_hn). */
  protected abstract foldBias(out: Float32Array): void;

  /**
   * Forward of step t: reads tape.gates[t] (input projection) and the state at t, writes the
   * post-activation gates over tape.gates[t], the state at t+1 and tape.aux[t].
   */
  abstract forwardStep(tape: CellTape, t: number): void;

  /**
   * Backward of step t: from dh, dc [B, H] (gradient with respect to the state after step t),
   * writes dGates over tape.gates[t] and the gradient with respect to the state before it into
   * dhPrev, dcPrev [B, H]. Entries inactive at t pass their gradient through unchanged.
   */
  abstract backwardStep(
    tape: CellTape, t: number,
    dh: Float32Array, dc: Float32Array, dhPrev: Float32Array, dcPrev: Float32Array,
  ): void;

  /** After the backward time loop: dW_ih, dW_hh, db_ih, db_hh += sums over every step and row. */
  abstract accumulateParamGrads(tape: CellTape): void;

  /** Throws unless state holds h (and c for LSTM) Float32Arrays of batch·H. */
  checkState(name: string, state: unknown, batch: number): void {
    const st = checkObject(name, state);
    const n = batch * this.hiddenSize;
    checkFloat32Length(`${name}.h`, st.h, n, 'batch*hiddenSize');
    if (this.hasCellState) checkFloat32Length(`${name}.c`, st.c, n, 'batch*hiddenSize');
  }
}

/** The parameter (or gradient) arrays in a fixed order: weightIh, weightHh, biasIh, biasHh. */
export function paramList(p: CellParams): Float32Array[] {
  const out = [p.weightIh, p.weightHh];
  if (p.biasIh) out.push(p.biasIh);
  if (p.biasHh) out.push(p.biasHh);
  return out;
}
