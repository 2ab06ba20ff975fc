/**
 * BidirectionalLayer: two runners over the same input, one forward in time and one reversed,
 * their outputs side by side (PyTorch's bidirectional layer).
 *
 * The reverse direction runs each entry's own steps backwards: for an entry of length len, its
 * step t sees x[len − 1 − t], so it starts at the entry's last real step (PyTorch's packed
 * semantics). Shapes: inputs [T, B, I]; outputs [T, B, 2·H], forward features then reverse;
 * states [2, B, H], forward direction first.
 */
import type { RecurrentCell } from '../cells/cell.js';
import { stateBlock, type CellState } from '../cells/state.js';
import type { Parameter, Tensor } from '../core/tensor.js';
import { addPrefix, readPrefix, type LoadStateDictOptions, type StateDictOptions, type TensorInput } from '../core/tensor-input.js';
import {
  RecurrentModule, type BackwardOutcome, type BackwardRequest, type ForwardOutcome, type ForwardToken, type RunRequest,
} from './module.js';
import { SequenceRunner } from './sequence-runner.js';
import { cellsFromPyTorch, cellsToPyTorch } from '../cells/pytorch.js';

/** PyTorch's key suffixes of a one-layer bidirectional module's cells. */
const SUFFIXES = ['_l0', '_l0_reverse'];

/** A layer of two directions, each a SequenceRunner over its own cell. */
export class BidirectionalLayer<S extends CellState> extends RecurrentModule<S> {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers = 1;
  readonly numDirections = 2;
  readonly hasCellState: boolean;
  /** Time-major: a layer of a stack, which converts a batch-first layout at its own boundary. */
  readonly batchFirst = false;
  /** The forward-in-time runner, then the reverse one. */
  readonly runners: readonly [SequenceRunner<S>, SequenceRunner<S>];
  /** The last forward's sizes and lengths, for backward. */
  private last: Sequence | null = null;

  /** @param forward the cell run forward in time; @param reverse the cell run backwards (same sizes) */
  constructor(forward: RecurrentCell<S>, reverse: RecurrentCell<S>) {
    super();
    this.runners = [new SequenceRunner(forward), new SequenceRunner(reverse)];
    if (reverse.inputSize !== forward.inputSize || reverse.hiddenSize !== forward.hiddenSize
      || reverse.hasCellState !== forward.hasCellState || reverse.projSize !== forward.projSize) {
      throw new RangeError('reverse: expected a cell of the same kind and sizes as forward');
    }
    this.inputSize = forward.inputSize;
    this.hiddenSize = forward.hiddenSize;
    this.hasCellState = forward.hasCellState;
  }

  /** [forward cell, reverse cell]. */
  get cells(): readonly RecurrentCell<S>[] {
    return [this.runners[0].cell, this.runners[1].cell];
  }

  /** Both cells' parameters, the reverse's named `reverse.*`. */
  parameters(): Parameter[] {
    return [...this.runners[0].parameters(), ...this.runners[1].parameters().map((p) => ({ ...p, name: `reverse.${p.name}` }))];
  }

  /**
   * PyTorch's keys of a one-layer bidirectional module (nn.LSTM/nn.GRU with bidirectional=True):
   * weight_ih_l0, …, weight_ih_l0_reverse, …, each after `options.prefix`.
   */
  stateDict(options?: StateDictOptions): Record<string, Tensor> {
    return addPrefix(cellsToPyTorch(this.cells, SUFFIXES, 'params'), readPrefix('stateDict options', options));
  }

  /** Loads the keys of stateDict() (after `options.prefix`; other keys are ignored); all or nothing. */
  loadStateDict(stateDict: Record<string, TensorInput>, options?: LoadStateDictOptions): void {
    cellsFromPyTorch(this.cells, SUFFIXES, stateDict, readPrefix('loadStateDict options', options));
  }

  /** @internal */
  forwardRequest(req: RunRequest, token: ForwardToken | null): ForwardOutcome {
    // Per direction: outputs and h have P features (the cells' outputSize), c has H.
    const { steps: T, batch: B, lengths } = req, P = this.cells[0]!.outputSize, n = B * P;
    const nc = this.hasCellState ? B * this.hiddenSize : 0;
    const outputs = new Float32Array(T * B * 2 * P);
    const h = new Float32Array(2 * n), c = new Float32Array(2 * nc);
    for (let d = 0; d < 2; d++) {
      const inputs = d === 0 ? req.inputs : reverseWithin(req.inputs, T, B, this.inputSize, lengths);
      const initial = req.initial === null ? null : stateBlock(req.initial, d, n, nc);
      const r = this.runners[d]!.forwardRequest({ inputs, steps: T, batch: B, lengths, initial }, token);
      scatterDirection(outputs, r.outputs, d, P, req);
      h.set(r.final.h, d * n);
      c.set(r.final.c, d * nc);
    }
    this.last = { steps: T, batch: B, lengths };
    return { outputs, final: { h, c } };
  }

  /** @internal */
  holds(token: ForwardToken): boolean {
    return this.runners.every((r) => r.holds(token));
  }

  /** @internal */
  backwardRequest(up: BackwardRequest, token: ForwardToken): BackwardOutcome {
    const { steps: T, batch: B, lengths } = this.last!, P = this.cells[0]!.outputSize, n = B * P;
    const nc = this.hasCellState ? B * this.hiddenSize : 0;
    const results = this.runners.map((runner, d) => {
      let dOutputs: Float32Array | null = null;
      if (up.dOutputs !== null) {
        dOutputs = new Float32Array(T * n);
        gatherDirection(dOutputs, up.dOutputs, d, P, this.last!);
      }
      return runner.backwardRequest({
        dOutputs,
        dh: up.dh === null ? null : up.dh.subarray(d * n, (d + 1) * n),
        dc: up.dc === null ? null : up.dc.subarray(d * nc, (d + 1) * nc),
      }, token);
    });
    // dX = dX_forward + (dX_reverse un-reversed per entry)
    const dInputs = results[0]!.dInputs;
    addReversed(dInputs, results[1]!.dInputs, T, B, this.inputSize, lengths);
    const h = new Float32Array(2 * n), c = new Float32Array(2 * nc);
    results.forEach((r, d) => {
      h.set(r.initial.h, d * n);
      c.set(r.initial.c, d * nc);
    });
    return { dInputs, initial: { h, c } };
  }
}

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

/** A batch's steps, size and per-entry lengths. */
interface Sequence {
  readonly steps: number;
  readonly batch: number;
  readonly lengths: Int32Array | null;
}

/** Y[t, b, d·H : (d+1)·H] = out (the reverse direction's out un-reversed per entry); Y [T, B, 2H] (H: features per direction). */
function scatterDirection(Y: Float32Array, out: Float32Array, d: number, H: number, seq: Sequence): void {
  const { steps: T, batch: B, lengths } = seq;
  for (let b = 0; b < B; b++) {
    const len = lengths === null ? T : lengths[b]!;
    for (let t = 0; t < len; t++) {
      const src = d === 0 ? t : len - 1 - t;
      Y.set(out.subarray((src * B + b) * H, (src * B + b + 1) * H), ((t * B + b) * 2 + d) * H);
    }
  }
}

/** Adjoint of scatterDirection: dOut [T, B, H] of direction d from dY [T, B, 2H]. */
function gatherDirection(dOut: Float32Array, dY: Float32Array, d: number, H: number, seq: Sequence): void {
  const { steps: T, batch: B, lengths } = seq;
  for (let b = 0; b < B; b++) {
    const len = lengths === null ? T : lengths[b]!;
    for (let t = 0; t < len; t++) {
      const dst = d === 0 ? t : len - 1 - t;
      const src = ((t * B + b) * 2 + d) * H;
      dOut.set(dY.subarray(src, src + H), (dst * B + b) * H);
    }
  }
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
