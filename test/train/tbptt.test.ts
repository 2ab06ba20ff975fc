/**
 * TruncatedBPTT: chunked forward equals one pass over the whole stream (outputs and carried
 * state bitwise), each chunk's gradients equal those of a fresh forward+backward from the
 * carried state (bitwise) and differ from full BPTT (the cut is real), reset, the state
 * accessor, and argument errors. Over every cell kind, a runner, and 2-layer LSTM/GRU stacks.
 */
import { describe, expect, it } from 'vitest';
import {
  GRU, LSTM, SequenceRunner, type CellState, type LSTMState, type RecurrentStack,
} from '../../src/index.js';
import { TruncatedBPTT } from '../../src/train/tbptt.js';
import { bitwiseEqual, CELL_KINDS, makeCell, randn } from '../helpers/cells.js';

type AnyModule = SequenceRunner<CellState> | RecurrentStack<CellState>;

interface Case {
  name: string;
  /** A fresh module; same seed, same weights. */
  make: () => AnyModule;
  inputSize: number;
  hiddenSize: number;
  layers: number;
}

const I = 3, H = 5;
const CASES: Case[] = [
  ...CELL_KINDS.map((kind): Case => ({
    name: `runner over ${kind}`, make: () => new SequenceRunner(makeCell(kind, I, H, 7)), inputSize: I, hiddenSize: H, layers: 1,
  })),
  { name: '2-layer LSTM stack', make: () => new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 3 }), inputSize: I, hiddenSize: H, layers: 2 },
  { name: '2-layer GRU stack', make: () => new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 4 }) as AnyModule, inputSize: I, hiddenSize: H, layers: 2 },
  {
    name: '2-layer GRU stack (resetAfter)',
    make: () => new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 5, resetAfter: true }) as AnyModule,
    inputSize: I, hiddenSize: H, layers: 2,
  },
];

function params(m: AnyModule) {
  return m instanceof SequenceRunner ? m.cell.parameters() : m.parameters();
}
function zeroGrad(m: AnyModule): void {
  if (m instanceof SequenceRunner) m.cell.zeroGrad(); else m.zeroGrad();
}
function hasC(m: AnyModule): boolean {
  return m instanceof SequenceRunner ? m.cell.hasCellState : m.hasCellState;
}
function expectStateBitwise(a: CellState, b: CellState, withC: boolean): void {
  expect(bitwiseEqual(a.h, b.h)).toBe(true);
  if (withC) expect(bitwiseEqual((a as LSTMState).c, (b as LSTMState).c)).toBe(true);
}

const B = 2;
const LENGTHS = [4, 1, 6, 3];   // chunk lengths T, varying

describe.each(CASES)('TruncatedBPTT over a $name', (c) => {
  const total = LENGTHS.reduce((a, b) => a + b, 0);
  const stream = randn(total * B * c.inputSize, 101);
  const chunkAt = (k: number): Float32Array => {
    const t0 = LENGTHS.slice(0, k).reduce((a, b) => a + b, 0);
    return stream.subarray(t0 * B * c.inputSize, (t0 + LENGTHS[k]!) * B * c.inputSize);
  };

  it('after N chunks: outputs and carried state equal one pass over the whole stream, bitwise', () => {
    const whole = c.make().run(stream, { batch: B });
    const m = c.make();
    const tb = new TruncatedBPTT(m, { batch: B });
    const outputs = new Float32Array(total * B * c.hiddenSize);
    let at = 0;
    LENGTHS.forEach((T, k) => {
      const r = k % 2 === 0 ? tb.forward(chunkAt(k)) : tb.run(chunkAt(k));   // forward and run alike
      if (k % 2 === 0) tb.backward({ dOutputs: randn(r.outputs.length, 200 + k) });   // backward does not disturb the state
      expect(r.outputs.length).toBe(T * B * c.hiddenSize);
      outputs.set(r.outputs, at);
      at += r.outputs.length;
      expectStateBitwise(tb.state, r.finalState, hasC(m));
    });
    expect(bitwiseEqual(outputs, whole.outputs)).toBe(true);
    expectStateBitwise(tb.state, whole.finalState, hasC(m));
    expect(tb.steps).toBe(total);
  });

  it("chunk k's gradients equal a fresh forward+backward from the carried state, bitwise", () => {
    const m = c.make();
    const tb = new TruncatedBPTT(m, { batch: B });
    const ref = c.make();   // same weights, its own tape and grads
    for (let k = 0; k < LENGTHS.length; k++) {
      const x = chunkAt(k);
      const carried = tb.state;
      const dOutputs = randn(LENGTHS[k]! * B * c.hiddenSize, 300 + k);
      const dFinalState = { h: randn(c.layers * B * c.hiddenSize, 400 + k) } as Partial<CellState>;

      zeroGrad(m);
      tb.forward(x);
      const got = tb.backward({ dOutputs, dFinalState });

      zeroGrad(ref);
      ref.forward(x, { batch: B, initialState: carried });
      const want = ref.backward({ dOutputs, dFinalState });

      expect(bitwiseEqual(got.dInputs, want.dInputs)).toBe(true);
      expectStateBitwise(got.dInitialState, want.dInitialState, hasC(m));
      const pg = params(m), pr = params(ref);
      expect(pg.length).toBe(pr.length);
      pg.forEach((p, i) => expect(bitwiseEqual(p.grad, pr[i]!.grad), p.name).toBe(true));
      expect(pg.some((p) => p.grad.some((v) => v !== 0))).toBe(true);
    }
  });

  it('the gradient stops at the boundary: chunk 2 alone differs from full BPTT of the same loss', () => {
    // Loss on chunk 1's outputs only. Full BPTT over chunks 0..1 also sends gradient into chunk 0.
    const T0 = LENGTHS[0]!, T1 = LENGTHS[1]!;
    const x01 = stream.subarray(0, (T0 + T1) * B * c.inputSize);
    const d1 = randn(T1 * B * c.hiddenSize, 501);
    const full = c.make();
    full.forward(x01, { batch: B });
    zeroGrad(full);
    const dOutFull = new Float32Array((T0 + T1) * B * c.hiddenSize);
    dOutFull.set(d1, T0 * B * c.hiddenSize);
    const gFull = full.backward({ dOutputs: dOutFull });

    const m = c.make();
    const tb = new TruncatedBPTT(m, { batch: B });
    tb.forward(chunkAt(0));
    tb.forward(chunkAt(1));   // drops chunk 0's tape: only chunk 1 is backpropagated
    zeroGrad(m);
    tb.backward({ dOutputs: d1 });

    // Full BPTT put gradient on chunk 0's inputs; TBPTT's parameter gradients miss that part.
    expect(gFull.dInputs.subarray(0, T0 * B * c.inputSize).some((v) => v !== 0)).toBe(true);
    const differs = params(m).some((p, i) => !bitwiseEqual(p.grad, params(full)[i]!.grad));
    expect(differs).toBe(true);
  });

  it('reset() goes back to zeros (or to the given initial state) and allows no backward', () => {
    const m = c.make();
    const n = c.layers * B * c.hiddenSize;
    const tb = new TruncatedBPTT(m, { batch: B });
    tb.forward(chunkAt(0));
    expect(tb.state.h.some((v) => v !== 0)).toBe(true);
    tb.reset();
    expect(tb.state.h).toEqual(new Float32Array(n));
    if (hasC(m)) expect((tb.state as LSTMState).c).toEqual(new Float32Array(n));
    expect(tb.steps).toBe(0);
    expect(() => tb.backward()).toThrow('backward: no chunk to backpropagate; call forward() first');

    // With an initial state: reset returns to it; the option was copied.
    const init = (hasC(m) ? { h: randn(n, 601), c: randn(n, 602) } : { h: randn(n, 601) }) as CellState;
    const keep = init.h.slice();
    const tb2 = new TruncatedBPTT(c.make(), { batch: B, initialState: init });
    init.h.fill(9);
    expect(bitwiseEqual(tb2.state.h, keep)).toBe(true);
    const first = tb2.run(chunkAt(0));
    tb2.reset();
    expect(bitwiseEqual(tb2.state.h, keep)).toBe(true);
    expect(bitwiseEqual(tb2.run(chunkAt(0)).outputs, first.outputs)).toBe(true);
  });

  it('state: the getter copies; the setter checks and copies, and the next chunk starts from it', () => {
    const m = c.make();
    const n = c.layers * B * c.hiddenSize;
    const tb = new TruncatedBPTT(m, { batch: B });
    tb.run(chunkAt(0));
    const s = tb.state;
    s.h.fill(7);
    expect(tb.state.h[0]).not.toBe(7);

    const given = (hasC(m) ? { h: randn(n, 701), c: randn(n, 702) } : { h: randn(n, 701) }) as CellState;
    tb.state = given;
    given.h.fill(0);   // copied: later changes do not leak in
    const want = c.make().run(chunkAt(1), {
      batch: B,
      initialState: (hasC(m) ? { h: randn(n, 701), c: randn(n, 702) } : { h: randn(n, 701) }) as CellState,
    });
    expect(bitwiseEqual(tb.run(chunkAt(1)).outputs, want.outputs)).toBe(true);

    const what = c.layers === 1 ? 'batch*hiddenSize' : 'numLayers*batch*hiddenSize';
    const before = tb.state;
    expect(() => { tb.state = { h: new Float32Array(n + 1) } as CellState; }).toThrow(`state.h: expected length ${what} = ${n}, got ${n + 1}`);
    if (hasC(m)) {
      expect(() => { tb.state = { h: new Float32Array(n) } as CellState; }).toThrow('state.c: expected a Float32Array, got undefined');
    }
    expectStateBitwise(tb.state, before, hasC(m));   // a failed set changes nothing
  });
});

describe('TruncatedBPTT: other behaviour and errors', () => {
  it('takes a cell directly (wrapping it in a runner)', () => {
    const cell = makeCell('lstm', 2, 3, 9);
    const tb = new TruncatedBPTT(cell, { batch: 1 });
    expect(tb.module).toBeInstanceOf(SequenceRunner);
    expect((tb.module as SequenceRunner<CellState>).cell).toBe(cell);
    const x = randn(8 * 2, 10);
    const whole = new SequenceRunner(cell).run(x, { batch: 1 });
    const a = tb.run(x.subarray(0, 10)), b = tb.run(x.subarray(10));
    expect(bitwiseEqual(Float32Array.from([...a.outputs, ...b.outputs]), whole.outputs)).toBe(true);
  });

  it('each forward allows one backward; run() leaves none', () => {
    const tb = new TruncatedBPTT(makeCell('gru', 2, 3), { batch: 1 });
    tb.forward(randn(4, 1));
    tb.backward();
    expect(() => tb.backward()).toThrow('backward: no chunk to backpropagate');
    tb.forward(randn(4, 2));
    tb.run(randn(4, 3));
    expect(() => tb.backward()).toThrow('backward: no chunk to backpropagate');
  });

  it('rejects bidirectional stacks, non-modules and bad options', () => {
    expect(() => new TruncatedBPTT(new LSTM({ inputSize: 2, hiddenSize: 3, bidirectional: true }), { batch: 1 }))
      .toThrow('module: expected a unidirectional stack (a reverse direction needs the whole stream), got bidirectional: true');
    expect(() => new TruncatedBPTT({} as never, { batch: 1 }))
      .toThrow('module: expected a cell, a SequenceRunner or an LSTM/GRU stack, got object');
    const cell = makeCell('lstm', 2, 3);
    expect(() => new TruncatedBPTT(cell, undefined as never)).toThrow('TruncatedBPTT options: expected an object, got undefined');
    expect(() => new TruncatedBPTT(cell, { batch: 0 })).toThrow('batch: expected a positive integer, got 0');
    expect(() => new TruncatedBPTT(cell, { batch: 2, initialState: { h: new Float32Array(6), c: new Float32Array(5) } }))
      .toThrow('initialState.c: expected length batch*hiddenSize = 6, got 5');
  });

  it('a bad chunk throws before the carried state changes', () => {
    const tb = new TruncatedBPTT(makeCell('lstm', 2, 3), { batch: 2 });
    tb.run(randn(3 * 2 * 2, 1));
    const before = tb.state;
    expect(() => tb.forward(new Float32Array(5))).toThrow('inputs: expected a non-zero multiple of batch*inputSize = 4, got 5');
    expect(() => tb.forward(new Float64Array(4) as never)).toThrow('inputs: expected a Float32Array, got Float64Array(4)');
    expectStateBitwise(tb.state, before, true);
    expect(tb.steps).toBe(3);
  });
});
