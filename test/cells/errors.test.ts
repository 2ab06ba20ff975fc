/**
 * Bad input: each call throws an error whose message names the argument, the expected size and
 * the size given, and leaves params and grads untouched.
 */
import { describe, expect, it } from 'vitest';
import { GRUCell, LSTMCell, SequenceRunner, type CellState, type LSTMState, type RecurrentCell } from '../../src/index.js';
import { makeCell, randn } from '../helpers/cells.js';

type AnyCell = RecurrentCell<CellState>;
function snapshot(cell: AnyCell): Float32Array[] {
  return cell.parameters().flatMap((p) => [p.value.slice(), p.grad.slice()]);
}
function expectUnchanged(cell: AnyCell, snap: Float32Array[]): void {
  const now = cell.parameters().flatMap((p) => [p.value, p.grad]);
  now.forEach((a, i) => expect(Array.from(a)).toEqual(Array.from(snap[i]!)));
}

describe('constructor arguments', () => {
  it.each([
    [{ inputSize: 0, hiddenSize: 4 }, RangeError, 'inputSize: expected a positive integer, got 0'],
    [{ inputSize: 2.5, hiddenSize: 4 }, RangeError, 'inputSize: expected a positive integer, got 2.5'],
    [{ inputSize: 3, hiddenSize: -1 }, RangeError, 'hiddenSize: expected a positive integer, got -1'],
    [{ inputSize: 3, hiddenSize: '4' }, RangeError, 'hiddenSize: expected a positive integer, got string "4"'],
    [{ inputSize: 3, hiddenSize: 4, bias: 1 }, TypeError, 'bias: expected a boolean, got 1'],
    [{ inputSize: 3, hiddenSize: 4, seed: NaN }, TypeError, 'seed: expected a finite number, got NaN'],
  ])('LSTMCell(%j) throws', (opts, type, msg) => {
    expect(() => new LSTMCell(opts as never)).toThrow(type);
    expect(() => new LSTMCell(opts as never)).toThrow(msg);
  });
  it('GRUCell checks resetAfter and the options object', () => {
    expect(() => new GRUCell({ inputSize: 3, hiddenSize: 4, resetAfter: 'yes' as never })).toThrow('resetAfter: expected a boolean, got string "yes"');
    expect(() => new GRUCell(undefined as never)).toThrow('GRUCell options: expected an object, got undefined');
  });
  it('same seed, same bits; different seed, different weights; PyTorch bound 1/√H', () => {
    const a = new LSTMCell({ inputSize: 3, hiddenSize: 16, seed: 1 }), b = new LSTMCell({ inputSize: 3, hiddenSize: 16, seed: 1 });
    const c = new LSTMCell({ inputSize: 3, hiddenSize: 16, seed: 2 });
    expect(Array.from(a.params.weightHh)).toEqual(Array.from(b.params.weightHh));
    expect(Array.from(a.params.weightHh)).not.toEqual(Array.from(c.params.weightHh));
    for (const p of a.parameters()) for (const v of p.value) expect(Math.abs(v)).toBeLessThanOrEqual(0.25);
    // First draws of seed 1 are fixed across platforms and versions.
    // (SplitMix32 stream of seed 1, scaled to [−0.25, 0.25) and rounded to float32.)
    expect(Array.from(a.params.weightIh.subarray(0, 3))).toEqual([0.04419688507914543, -0.21340550482273102, 0.04515532776713371]);
  });
});

describe.each(['lstm', 'gru'] as const)('%s cell.forward / backward', (kind) => {
  const I = 3, H = 4, B = 2;
  const fresh = () => makeCell(kind, I, H, 1);
  it('rejects bad x, state and batch, naming them', () => {
    const cell = fresh();
    const snap = snapshot(cell);
    const st = cell.initialState(B);
    expect(() => cell.forward(new Float32Array(5), st, B)).toThrow('x: expected length batch*inputSize = 6, got 5');
    expect(() => cell.forward([1, 2, 3, 4, 5, 6] as never, st, B)).toThrow(TypeError);
    expect(() => cell.forward([1, 2, 3, 4, 5, 6] as never, st, B)).toThrow('x: expected a Float32Array, got Array(6)');
    expect(() => cell.forward(new Float64Array(6) as never, st, B)).toThrow('x: expected a Float32Array, got Float64Array(6)');
    expect(() => cell.forward(new Float32Array(6), { h: new Float32Array(7) } as never, B)).toThrow('state.h: expected length batch*hiddenSize = 8, got 7');
    expect(() => cell.forward(new Float32Array(6), st, 0)).toThrow('batch: expected a positive integer, got 0');
    expect(() => cell.forward(new Float32Array(6), st, 1.5)).toThrow(RangeError);
    if (kind === 'lstm') {
      expect(() => cell.forward(new Float32Array(6), { h: new Float32Array(8) } as never, B)).toThrow('state.c: expected a Float32Array, got undefined');
    }
    expectUnchanged(cell, snap);
  });
  it('rejects bad upstream gradients and a second backward on the same step, changing nothing', () => {
    const cell = fresh();
    const s = cell.forward(randn(B * I, 1), cell.initialState(B), B);
    const snap = snapshot(cell);
    expect(() => cell.backward(s as never, { h: new Float32Array(3) })).toThrow('dState.h: expected length batch*hiddenSize = 8, got 3');
    if (kind === 'lstm') {
      expect(() => cell.backward(s as never, { h: new Float32Array(8), c: new Float32Array(9) } as never)).toThrow('dState.c: expected length batch*hiddenSize = 8, got 9');
    }
    expect(() => cell.backward({} as never, { h: new Float32Array(8) })).toThrow("step: expected the result of this cell's forward(), got undefined");
    expectUnchanged(cell, snap);
    cell.backward(s as never, { h: randn(B * H, 2) });
    const after = snapshot(cell);
    expect(() => cell.backward(s as never, { h: randn(B * H, 2) })).toThrow('backward: this step was already consumed by an earlier backward; call forward again');
    expectUnchanged(cell, after);
  });
  it('treats a missing upstream member as zero', () => {
    const cell = fresh();
    const s = cell.forward(randn(B * I, 1), cell.initialState(B), B);
    const r = cell.backward(s as never, {});
    expect(r.dx.every((v) => v === 0)).toBe(true);
    expect(cell.grads.weightIh.every((v) => v === 0)).toBe(true);
  });
});

describe.each(['lstm', 'gru'] as const)('%s SequenceRunner arguments', (kind) => {
  const I = 4, H = 3, B = 3;
  it('rejects bad inputs, batch, state and lengths, naming them, changing nothing', () => {
    const cell = makeCell(kind, I, H, 2);
    const r = new SequenceRunner(cell);
    const snap = snapshot(cell);
    expect(() => r.run(new Float32Array(50), { batch: 4 })).toThrow('inputs: expected a non-zero multiple of batch*inputSize = 16, got 50');
    expect(() => r.run(new Float32Array(0), { batch: 4 })).toThrow(RangeError);
    expect(() => r.run(new Float32Array(24), { batch: 0 })).toThrow('batch: expected a positive integer, got 0');
    expect(() => r.run(new Float32Array(24), { batch: 2.5 })).toThrow('batch: expected a positive integer, got 2.5');
    expect(() => r.run(new Float32Array(24), undefined as never)).toThrow('options: expected an object, got undefined');
    expect(() => r.run(Array(24).fill(0) as never, { batch: 3 })).toThrow('inputs: expected a Float32Array, got Array(24)');
    expect(() => r.run(new Float32Array(24), { batch: 3, initialState: { h: new Float32Array(8) } as never }))
      .toThrow('initialState.h: expected length batch*hiddenSize = 9, got 8');
    expect(() => r.run(new Float32Array(24), { batch: 3, lengths: [2, 1] })).toThrow('lengths: expected batch = 3 entries, got 2');
    expect(() => r.run(new Float32Array(24), { batch: 3, lengths: [2, 3, 1] })).toThrow('lengths[1]: expected an integer in 1..steps = 2, got 3');
    expect(() => r.run(new Float32Array(24), { batch: 3, lengths: [2, 0, 1] })).toThrow('lengths[1]: expected an integer in 1..steps = 2, got 0');
    expect(() => r.run(new Float32Array(24), { batch: 3, lengths: 5 as never })).toThrow('lengths: expected an array of 3 integers, got 5');
    expectUnchanged(cell, snap);
  });
  it('backward before forward, after run, or twice is an Error; bad upstream gradients are named', () => {
    const cell = makeCell(kind, I, H, 2);
    const r = new SequenceRunner(cell);
    expect(() => r.backward({})).toThrow('backward: no forward tape; call forward() first');
    r.forward(randn(2 * B * I, 1), { batch: B });
    const snap = snapshot(cell);
    expect(() => r.backward({ dOutputs: new Float32Array(5) })).toThrow('dOutputs: expected length steps*batch*hiddenSize = 18, got 5');
    expect(() => r.backward({ dFinalState: { h: new Float32Array(2) } as never })).toThrow('dFinalState.h: expected length batch*hiddenSize = 9, got 2');
    if (kind === 'lstm') {
      expect(() => r.backward({ dFinalState: { c: new Float64Array(9) } as never })).toThrow('dFinalState.c: expected a Float32Array, got Float64Array(9)');
    }
    expectUnchanged(cell, snap);
    r.backward({ dOutputs: randn(18, 3) });
    expect(() => r.backward({})).toThrow(/already consumed/);
    r.forward(randn(2 * B * I, 1), { batch: B });
    r.run(randn(2 * B * I, 1), { batch: B });
    expect(() => r.backward({})).toThrow(/run\(\) replaced it/);
    // A failed forward leaves the earlier tape usable.
    r.forward(randn(2 * B * I, 1), { batch: B });
    expect(() => r.forward(new Float32Array(5), { batch: B })).toThrow(RangeError);
    expect(() => r.backward({})).not.toThrow();
  });
  it('rejects something that is not a cell', () => {
    expect(() => new SequenceRunner({} as never)).toThrow('cell: expected an LSTMCell or GRUCell, got object');
  });
  it('state values survive intact: LSTM c given to run is not modified', () => {
    const cell = makeCell(kind, I, H, 2);
    const st = cell.initialState(B);
    st.h.fill(0.25);
    const copy = st.h.slice();
    new SequenceRunner(cell).run(randn(2 * B * I, 1), { batch: B, initialState: st });
    expect(Array.from(st.h)).toEqual(Array.from(copy));
    if (cell.hasCellState) expect((st as LSTMState).c.every((v) => v === 0)).toBe(true);
  });
});
