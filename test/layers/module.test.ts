/**
 * The module interface's sequencing: one backward per forward, and a backward never reads a tape
 * that a later call replaced, whether that call went to the module or to one of its layers.
 */
import { describe, expect, it } from 'vitest';
import { GRU, LSTM, SequenceRunner } from '../../src/index.js';
import { bitwiseEqual, CELL_KINDS, makeCell, randn, randomState } from '../helpers/cells.js';

const I = 3, H = 4, B = 2;

describe('backward after a layer was driven directly', () => {
  it('a stack refuses a backward whose layer tape was replaced by layer.run', () => {
    const rnn = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 1 });
    rnn.forward(randn(3 * B * I, 1), { batch: B });
    rnn.layers[0]!.run(randn(5 * B * I, 2), { batch: B });
    expect(() => rnn.backward({ dOutputs: randn(3 * B * H, 3) })).toThrow('backward: the forward tape was replaced by a later forward or run() on this layer; call forward() again');
    expect(rnn.parameters().every((p) => p.grad.every((v) => v === 0))).toBe(true);
  });

  it('a layer refuses a backward after its stack ran it again, even with the same sizes', () => {
    const rnn = new GRU({ inputSize: I, hiddenSize: H, bidirectional: true, seed: 2 });
    const layer = rnn.layers[0]!;
    layer.forward(randn(4 * B * I, 1), { batch: B });
    rnn.forward(randn(4 * B * I, 2), { batch: B });
    expect(() => layer.backward({ dOutputs: randn(4 * B * 2 * H, 3) })).toThrow('call forward() again');
    // The stack's own forward is intact.
    expect(() => rnn.backward({ dOutputs: randn(4 * B * 2 * H, 3) })).not.toThrow();
  });

  it('run() after forward() invalidates the kept forward; a new forward allows one backward', () => {
    const r = new SequenceRunner(makeCell('lstm', I, H, 3));
    const x = randn(3 * B * I, 4);
    r.forward(x, { batch: B });
    r.run(x, { batch: B });
    expect(() => r.backward({})).toThrow('backward: the last forward was already consumed by a backward (or run() replaced it); call forward() again');
    r.forward(x, { batch: B });
    r.backward({});
    expect(() => r.backward({})).toThrow('already consumed');
  });
});

describe.each(CELL_KINDS)('%s cell.step with out', (kind) => {
  it('writes the same bits as without out, into out, also when out is the state itself', () => {
    const cell = makeCell(kind, I, H, 5);
    const x = randn(B * I, 6), s0 = randomState(cell, B, 7);
    const fresh = cell.step(x, s0, B);
    const out = cell.initialState(B);
    expect(cell.step(x, s0, B, out)).toBe(out);
    const inPlace = { ...s0, h: s0.h.slice(), ...(cell.hasCellState ? { c: (s0 as { c: Float32Array }).c.slice() } : {}) };
    cell.step(x, inPlace, B, inPlace);
    for (const k of Object.keys(fresh) as (keyof typeof fresh)[]) {
      expect(bitwiseEqual(out[k], fresh[k])).toBe(true);
      expect(bitwiseEqual(inPlace[k], fresh[k])).toBe(true);
    }
    expect(() => cell.step(x, s0, B, { h: new Float32Array(3) } as never)).toThrow('out.h: expected length batch*hiddenSize = 8, got 3');
  });

  it('equals a one-step runner, bit for bit, across batch sizes (the workspace follows the batch)', () => {
    const cell = makeCell(kind, I, H, 8);
    for (const b of [3, 1, 3]) {
      const x = randn(b * I, 9 + b), s = randomState(cell, b, 10 + b);
      const viaRunner = new SequenceRunner(cell).run(x, { batch: b, initialState: s }).finalState;
      const stepped = cell.step(x, s, b);
      for (const k of Object.keys(stepped) as (keyof typeof stepped)[]) expect(bitwiseEqual(stepped[k], viaRunner[k])).toBe(true);
    }
  });
});
