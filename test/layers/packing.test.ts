/**
 * Packed sequences: padding is inert. Any value at a padded position (t ≥ lengths[b]) of the
 * inputs or of the upstream gradient, NaN and ±Infinity included, changes no output, state or
 * gradient, bit for bit; for runners and stacks (bidirectional, two layers), forward and
 * backward, whatever the order of the lengths.
 */
import { describe, expect, it } from 'vitest';
import { GRU, LSTM, SequenceRunner, type CellState, type RecurrentModule } from '../../src/index.js';
import { packBatch } from '../../src/layers/packing.js';
import { bitwiseEqual, CELL_KINDS, makeCell, randn } from '../helpers/cells.js';

const T = 6, B = 4, I = 3, H = 5;

type Maker = () => RecurrentModule<CellState>;
const modules: [string, Maker][] = [
  ...CELL_KINDS.map((k): [string, Maker] => [`${k} runner`, () => new SequenceRunner(makeCell(k, I, H, 7))]),
  ['LSTM 2 layers bidirectional', () => new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, seed: 3 }) as RecurrentModule<CellState>],
  ['GRU 2 layers', () => new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 4 }) as RecurrentModule<CellState>],
  ['GRU resetAfter bidirectional', () => new GRU({ inputSize: I, hiddenSize: H, bidirectional: true, resetAfter: true, seed: 5 }) as RecurrentModule<CellState>],
];

/** Everything a forward and backward produce, in one list of arrays. */
function pass(make: Maker, inputs: Float32Array, dOutputs: Float32Array, lengths: number[]): Float32Array[] {
  const m = make();
  const R = m.numLayers * m.numDirections;
  const initialState = (m.hasCellState ? { h: randn(R * B * H, 11, 0.5), c: randn(R * B * H, 12, 0.5) } : { h: randn(R * B * H, 11, 0.5) }) as CellState;
  const dh = randn(R * B * H, 13);
  const { outputs, finalState } = m.forward(inputs, { batch: B, lengths, initialState });
  const { dInputs, dInitialState } = m.backward({ dOutputs, dFinalState: { h: dh } });
  const grads = m.parameters().map((p) => p.grad);
  return [outputs, ...Object.values(finalState), dInputs, ...Object.values(dInitialState), ...grads];
}

/** A copy of x [T, B, F] with `v` written at every padded position. */
function poison(x: Float32Array, lengths: number[], F: number, v: number): Float32Array {
  const out = x.slice();
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) if (t >= lengths[b]!) out.fill(v, (t * B + b) * F, (t * B + b + 1) * F);
  return out;
}

describe.each(modules)('%s: padding is inert', (_name, make) => {
  for (const lengths of [[6, 4, 4, 1], [2, 6, 1, 5], [3, 3, 3, 3]]) {
    it(`lengths [${lengths}]: NaN, ±Infinity and large values at padded positions change nothing`, () => {
      const D = make().numDirections;
      const inputs = randn(T * B * I, 1), dOutputs = randn(T * B * D * H, 2);
      const clean = pass(make, poison(inputs, lengths, I, 0), poison(dOutputs, lengths, D * H, 0), lengths);
      expect(clean.every((a) => a.every(Number.isFinite))).toBe(true);
      for (const v of [NaN, Infinity, -Infinity, 3e38]) {
        const dirty = pass(make, poison(inputs, lengths, I, v), poison(dOutputs, lengths, D * H, v), lengths);
        dirty.forEach((a, k) => expect(bitwiseEqual(a, clean[k]!), `array ${k}, padding ${v}`).toBe(true));
      }
    });
  }
});

describe('packBatch', () => {
  it('sorts entries by length, longest first, stably; batchSizes count the entries still running', () => {
    const p = packBatch(Int32Array.from([2, 6, 1, 6]), 6, 4);
    expect(Array.from(p.order!)).toEqual([1, 3, 0, 2]);
    expect(Array.from(p.batchSizes)).toEqual([4, 3, 2, 2, 2, 2]);
  });
  it('no permutation when the lengths are already non-increasing, or absent', () => {
    expect(packBatch(Int32Array.from([5, 5, 2]), 5, 3).order).toBeNull();
    const none = packBatch(null, 3, 2);
    expect(none.order).toBeNull();
    expect(Array.from(none.batchSizes)).toEqual([2, 2, 2]);
  });
  it('unsorted lengths give the same outputs as the same entries sorted (runner)', () => {
    const cell = makeCell('lstm', I, H, 9);
    const lengths = [2, 6, 1, 5], order = [1, 3, 0, 2];
    const x = randn(T * B * I, 4);
    const xs = new Float32Array(x.length);
    for (let t = 0; t < T; t++) order.forEach((b, r) => xs.set(x.subarray((t * B + b) * I, (t * B + b + 1) * I), (t * B + r) * I));
    const a = new SequenceRunner(cell).run(x, { batch: B, lengths });
    const s = new SequenceRunner(cell).run(xs, { batch: B, lengths: order.map((b) => lengths[b]!) });
    for (let t = 0; t < T; t++) {
      order.forEach((b, r) => expect(bitwiseEqual(a.outputs.subarray((t * B + b) * H, (t * B + b + 1) * H),
        s.outputs.subarray((t * B + r) * H, (t * B + r + 1) * H))).toBe(true));
    }
  });
});
