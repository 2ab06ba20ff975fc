/**
 * StreamingRunner: step-by-step outputs equal SequenceRunner.run / the stack's run bitwise, the
 * returned view, reset, the state accessor, syncWeights, errors, and a million steps of a tiny
 * LSTM with the heap measured after forced garbage collections (retained memory must stay flat).
 */
import { describe, expect, it } from 'vitest';
import {
  GRU, GRUCell, LSTM, LSTMCell, SequenceRunner, type CellState, type LSTMState, type RecurrentCell, type RecurrentStack,
} from '../../src/index.js';
import { StreamingRunner } from '../../src/train/stream.js';
import { TruncatedBPTT } from '../../src/train/tbptt.js';
import { bitwiseEqual, CELL_KINDS, makeCell, randn } from '../helpers/cells.js';
import { exposeGc } from '../helpers/gc.js';

type AnyModule = RecurrentCell<CellState> | RecurrentStack<CellState>;

interface Case { name: string; make: () => AnyModule; layers: number }
const I = 3, H = 5;
const CASES: Case[] = [
  ...CELL_KINDS.map((kind): Case => ({ name: kind, make: () => makeCell(kind, I, H, 7), layers: 1 })),
  { name: '3-layer LSTM stack', make: () => new LSTM({ inputSize: I, hiddenSize: H, numLayers: 3, seed: 3 }), layers: 3 },
  { name: '2-layer GRU stack', make: () => new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 4 }) as AnyModule, layers: 2 },
  {
    name: '2-layer GRU stack (resetAfter)',
    make: () => new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 5, resetAfter: true }) as AnyModule, layers: 2,
  },
];

function runWhole(m: AnyModule, x: Float32Array, batch: number, initialState?: CellState) {
  return m instanceof LSTM || m instanceof GRU
    ? (m as RecurrentStack<CellState>).run(x, { batch, initialState })
    : new SequenceRunner(m as RecurrentCell<CellState>).run(x, { batch, initialState });
}
function hasC(m: AnyModule): boolean {
  return m.hasCellState;
}
function randomState(m: AnyModule, layers: number, batch: number, seed: number): CellState {
  const n = layers * batch * H;
  return (hasC(m) ? { h: randn(n, seed, 0.5), c: randn(n, seed + 1, 0.5) } : { h: randn(n, seed, 0.5) }) as CellState;
}

describe.each(CASES)('StreamingRunner over $name', (c) => {
  it.each([1, 3])('step by step equals one run over the sequence, bitwise (batch %i)', (B) => {
    const T = 9;
    const m = c.make();
    const x = randn(T * B * I, 11);
    const s0 = randomState(m, c.layers, B, 12);
    const whole = runWhole(m, x, B, s0);
    const stream = new StreamingRunner(m, { batch: B, initialState: s0 });
    for (let t = 0; t < T; t++) {
      const h = stream.step(x.subarray(t * B * I, (t + 1) * B * I));
      expect(h.length).toBe(B * H);
      expect(bitwiseEqual(h, whole.outputs.subarray(t * B * H, (t + 1) * B * H)), `step ${t}`).toBe(true);
    }
    const st = stream.state;
    expect(bitwiseEqual(st.h, whole.finalState.h)).toBe(true);
    if (hasC(m)) expect(bitwiseEqual((st as LSTMState).c, (whole.finalState as LSTMState).c)).toBe(true);
    expect(stream.steps).toBe(T);
  });

  it('returns the same view every step; reset() restarts from the initial state', () => {
    const m = c.make();
    const stream = new StreamingRunner(m);
    const x = randn(4 * I, 21);
    const h0 = stream.step(x.subarray(0, I));
    const first = h0.slice();
    const h1 = stream.step(x.subarray(I, 2 * I));
    expect(h1).toBe(h0);                         // one buffer, overwritten
    expect(bitwiseEqual(h0, first)).toBe(false);
    stream.reset();
    expect(stream.steps).toBe(0);
    expect(stream.state.h).toEqual(new Float32Array(c.layers * H));
    expect(bitwiseEqual(stream.step(x.subarray(0, I)), first)).toBe(true);
  });

  it('state: getter copies, setter checks then copies', () => {
    const m = c.make();
    const stream = new StreamingRunner(m, { batch: 2 });
    const x = randn(6 * 2 * I, 31);
    const s = randomState(m, c.layers, 2, 32);
    stream.state = s;
    const want = runWhole(m, x, 2, randomState(m, c.layers, 2, 32));
    s.h.fill(0);
    let last: Float32Array = new Float32Array(0);
    for (let t = 0; t < 6; t++) last = stream.step(x.subarray(t * 2 * I, (t + 1) * 2 * I));
    expect(bitwiseEqual(last, want.outputs.subarray(5 * 2 * H))).toBe(true);
    const got = stream.state;
    got.h.fill(3);
    expect(stream.state.h[0]).not.toBe(3);
    const n = c.layers * 2 * H;
    const what = c.layers === 1 ? 'batch*hiddenSize' : 'numLayers*batch*hiddenSize';
    const before = stream.state;
    expect(() => { stream.state = { h: new Float32Array(n - 1) } as CellState; }).toThrow(`state.h: expected length ${what} = ${n}, got ${n - 1}`);
    expect(bitwiseEqual(stream.state.h, before.h)).toBe(true);
  });
});

describe('StreamingRunner: weights, errors', () => {
  it('uses the weights of construction/reset/syncWeights; syncWeights picks up new ones', () => {
    const cell = makeCell('lstm', 2, 3, 1);
    const x = randn(2, 41);
    const stream = new StreamingRunner(cell);
    const before = stream.step(x).slice();
    cell.params.weightIh.fill(0.5);
    stream.state = cell.initialState(1) as CellState;
    expect(bitwiseEqual(stream.step(x), before)).toBe(true);   // snapshot still in use
    stream.state = cell.initialState(1) as CellState;
    stream.syncWeights();
    const want = new SequenceRunner(cell).run(x, { batch: 1 }).outputs;
    expect(bitwiseEqual(stream.step(x), want)).toBe(true);
    expect(bitwiseEqual(want, before)).toBe(false);
  });

  it('takes a SequenceRunner (steps its cell)', () => {
    const cell = makeCell('gru', 2, 3, 2);
    const stream = new StreamingRunner(new SequenceRunner(cell));
    expect(stream.cells[0]).toBe(cell);
  });

  it('rejects bidirectional stacks, non-modules, bad options and inputs', () => {
    expect(() => new StreamingRunner(new GRU({ inputSize: 2, hiddenSize: 3, bidirectional: true })))
      .toThrow('module: expected a unidirectional stack (a reverse direction needs the whole sequence), got bidirectional: true');
    expect(() => new StreamingRunner(null as never)).toThrow('module: expected a cell, a SequenceRunner or an LSTM/GRU stack, got null');
    const cell = makeCell('lstm', 2, 3);
    expect(() => new StreamingRunner(cell, { batch: 1.5 })).toThrow('batch: expected a positive integer, got 1.5');
    expect(() => new StreamingRunner(cell, { initialState: { h: new Float32Array(3) } as never }))
      .toThrow('initialState.c: expected a Float32Array, got undefined');
    const stream = new StreamingRunner(cell, { batch: 2 });
    expect(() => stream.step(new Float32Array(2))).toThrow('x: expected length batch*inputSize = 4, got 2');
    expect(() => stream.step([1, 2, 3, 4] as never)).toThrow('x: expected a Float32Array, got Array(4)');
    expect(stream.steps).toBe(0);
  });
});

const gc = exposeGc();

/** JS heap plus ArrayBuffer backing stores in use after two full collections: what is retained. */
function retainedHeap(collect: () => void): number {
  collect();
  collect();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('StreamingRunner: a million steps', () => {
  const STEPS = 1_000_000;
  const LIMIT = 2 * 1024 * 1024;   // retaining even 3 bytes per step would exceed this

  it.skipIf(gc === null)('1e6 steps of an LSTM (I=2, H=4): retained heap grows < 2 MB; the state matches a chunked run', () => {
    const collect = gc!;
    // The measurement can see retention: keeping 1e5 small arrays shows up as > 2 MB.
    const base = retainedHeap(collect);
    const kept: Float32Array[] = [];
    for (let i = 0; i < 100_000; i++) kept.push(new Float32Array(4));
    expect(retainedHeap(collect) - base).toBeGreaterThan(LIMIT);
    kept.length = 0;

    const cell = makeCell('lstm', 2, 4, 5);
    const stream = new StreamingRunner(cell);
    const x = new Float32Array(2);
    const input = (t: number, out: Float32Array, at: number): void => {
      out[at] = Math.sin(t * 0.001);
      out[at + 1] = ((t * 7919) % 1000) / 500 - 1;
    };
    for (let t = 0; t < 10_000; t++) { input(t, x, 0); stream.step(x); }   // warm up the JIT
    stream.reset();

    const before = retainedHeap(collect);
    const t0 = performance.now();
    for (let t = 0; t < STEPS; t++) {
      input(t, x, 0);
      stream.step(x);
    }
    const ms = performance.now() - t0;
    const growth = retainedHeap(collect) - before;
    console.log(`StreamingRunner: ${STEPS} LSTM steps (I=2, H=4) in ${ms.toFixed(0)} ms; retained heap growth ${growth} bytes`);
    expect(growth).toBeLessThan(LIMIT);
    expect(stream.steps).toBe(STEPS);

    // Same stream through TruncatedBPTT.run in chunks of 1000 steps: same final state, bitwise.
    const tb = new TruncatedBPTT(cell, { batch: 1 });
    const chunk = new Float32Array(1000 * 2);
    for (let k = 0; k < STEPS / 1000; k++) {
      for (let j = 0; j < 1000; j++) input(k * 1000 + j, chunk, 2 * j);
      tb.run(chunk);
    }
    const a = stream.state as LSTMState, b = tb.state as LSTMState;
    expect(bitwiseEqual(a.h, b.h)).toBe(true);
    expect(bitwiseEqual(a.c, b.c)).toBe(true);
    expect(a.h.every(Number.isFinite)).toBe(true);
  }, 60_000);
});

describe('StreamingRunner: every parameter from the last syncWeights', () => {
  it.each([
    ['a resetAfter GRU (b_hn is added inside the reset)', () => new GRUCell({ inputSize: 2, hiddenSize: 3, resetAfter: true, seed: 4 }), 'biasHh'],
    ['a peephole LSTM (the gates read weightPeephole)', () => new LSTMCell({ inputSize: 2, hiddenSize: 3, peephole: true, seed: 4 }), 'weightPeephole'],
  ] as const)('%s', (_, make, name) => {
    const cell = make();
    const x = randn(2, 43);
    const stream = new StreamingRunner(cell);
    const before = stream.step(x).slice();
    (cell.params as unknown as Record<string, Float32Array>)[name]!.fill(0.75);
    stream.state = cell.initialState(1) as CellState;
    expect(bitwiseEqual(stream.step(x), before)).toBe(true);   // the snapshot still in use
    stream.state = cell.initialState(1) as CellState;
    stream.syncWeights();
    const want = new SequenceRunner(cell).run(x, { batch: 1 }).outputs;
    expect(bitwiseEqual(stream.step(x), want)).toBe(true);
    expect(bitwiseEqual(want, before)).toBe(false);
  });
});
