/**
 * batchFirst: a module's sequences [B, T, F] (PyTorch's batch_first=True), converted at the
 * module's boundary only. Every batch-first result is bit-identical to the time-major module's
 * on the transposed data (runner, stacks, bidirectional and packed), through TruncatedBPTT and
 * StreamingRunner too; saved in the configuration; checked like every other option. The PyTorch
 * batch_first fixtures are in test/modules/torch-fixtures.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  GRU, LSTM, LSTMCell, SequenceRunner, StreamingRunner, TruncatedBPTT, type LSTMState,
} from '../../src/index.js';
import { swapLeadingAxes } from '../../src/layers/batch-first.js';
import { buildModel, loadModel, saveModel, saveModelSafetensors } from '../../src/io/model.js';
import { bitwiseEqual, randn } from '../helpers/cells.js';

const I = 3, H = 4, T = 5, B = 3;

/** Naive [M, N, F] → [N, M, F] by index. */
function naiveSwap(src: Float32Array, M: number, N: number, F: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) for (let f = 0; f < F; f++) out[(n * M + m) * F + f] = src[(m * N + n) * F + f]!;
  return out;
}

describe('swapLeadingAxes', () => {
  it('equals the naive index formula and is its own inverse with (M, N) swapped', () => {
    const x = randn(T * B * I, 1);
    const y = swapLeadingAxes(x, T, B, I);
    expect(bitwiseEqual(y, naiveSwap(x, T, B, I))).toBe(true);
    expect(y[(2 * T + 1) * I]).toBe(x[(1 * B + 2) * I]);   // (b=2, t=1) ← (t=1, b=2)
    expect(bitwiseEqual(swapLeadingAxes(y, B, T, I), x)).toBe(true);
  });
});

type Stack = LSTM | GRU;

/** forward + backward of a module on (x, dOut) in its own layout; grads zeroed first. */
function pass(m: Stack | SequenceRunner<LSTMState>, x: Float32Array, dOut: Float32Array, lengths?: number[]) {
  m.zeroGrad();
  const init = m.initialState(B) as LSTMState;
  init.h.set(randn(init.h.length, 7, 0.5));
  const f = (m as LSTM).forward(x, { batch: B, initialState: init, lengths });
  const g = (m as LSTM).backward({ dOutputs: dOut, dFinalState: { h: randn(init.h.length, 8) } });
  return { f, g, grads: m.parameters().map((p) => p.grad.slice()) };
}

describe('batchFirst equals the time-major module on transposed data, bit for bit', () => {
  const cases: [string, () => Stack | SequenceRunner<LSTMState>, (bf: boolean) => Stack | SequenceRunner<LSTMState>][] = [
    ['SequenceRunner(LSTMCell)', () => new SequenceRunner(new LSTMCell({ inputSize: I, hiddenSize: H, seed: 3 })),
      (bf) => new SequenceRunner(new LSTMCell({ inputSize: I, hiddenSize: H, seed: 3 }), { batchFirst: bf })],
    ['LSTM 2 layers bidirectional', () => new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, seed: 3 }),
      (bf) => new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, seed: 3, batchFirst: bf })],
    ['GRU 2 layers', () => new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 3 }),
      (bf) => new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 3, batchFirst: bf })],
  ];
  for (const [name, , make] of cases) {
    for (const lengths of [undefined, [5, 2, 4]]) {
      it(`${name}${lengths ? ', packed' : ''}`, () => {
        const tm = make(false), bf = make(true);
        expect(tm.batchFirst).toBe(false);
        expect(bf.batchFirst).toBe(true);
        const D = tm.outputSize;
        const x = randn(T * B * I, 11), dOut = randn(T * B * D, 12);
        const a = pass(tm, x, dOut, lengths);
        const b = pass(bf, swapLeadingAxes(x, T, B, I), swapLeadingAxes(dOut, T, B, D), lengths);
        expect(bitwiseEqual(b.f.outputs, swapLeadingAxes(a.f.outputs, T, B, D))).toBe(true);
        expect(bitwiseEqual(b.f.finalState.h, a.f.finalState.h)).toBe(true);
        expect(bitwiseEqual(b.g.dInputs, swapLeadingAxes(a.g.dInputs, T, B, I))).toBe(true);
        expect(bitwiseEqual(b.g.dInitialState.h, a.g.dInitialState.h)).toBe(true);
        a.grads.forEach((g, k) => expect(bitwiseEqual(b.grads[k]!, g)).toBe(true));
        // run() gives the forward's values in the same layout.
        expect(bitwiseEqual((bf as LSTM).run(swapLeadingAxes(x, T, B, I), { batch: B, lengths }).outputs,
          (bf as LSTM).forward(swapLeadingAxes(x, T, B, I), { batch: B, lengths }).outputs)).toBe(true);
      });
    }
  }

  it('a batch-first module really reads [B, T, I]: entry b is a contiguous block', () => {
    const rnn = new LSTM({ inputSize: I, hiddenSize: H, seed: 2, batchFirst: true });
    const x = randn(T * B * I, 3);
    const all = rnn.run(x, { batch: B }).outputs;
    // Entry 1 alone is the block [T, I] at offset T·I.
    const one = rnn.run(x.slice(T * I, 2 * T * I), { batch: 1 }).outputs;
    expect(bitwiseEqual(all.subarray(T * H, 2 * T * H), one)).toBe(true);
  });
});

describe('batchFirst through TruncatedBPTT and StreamingRunner', () => {
  it('TruncatedBPTT over a batch-first stack equals the time-major one chunk by chunk', () => {
    const a = new TruncatedBPTT(new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 5 }), { batch: B });
    const b = new TruncatedBPTT(new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 5, batchFirst: true }), { batch: B });
    expect(b.batchFirst).toBe(true);
    for (let k = 0; k < 3; k++) {
      const x = randn(T * B * I, 20 + k), dOut = randn(T * B * H, 30 + k);
      const ra = a.forward(x), rb = b.forward(swapLeadingAxes(x, T, B, I));
      expect(bitwiseEqual(rb.outputs, swapLeadingAxes(ra.outputs, T, B, H))).toBe(true);
      const ga = a.backward({ dOutputs: dOut }), gb = b.backward({ dOutputs: swapLeadingAxes(dOut, T, B, H) });
      expect(bitwiseEqual(gb.dInputs, swapLeadingAxes(ga.dInputs, T, B, I))).toBe(true);
    }
    expect(b.steps).toBe(3 * T);
  });

  it('TruncatedBPTT over a cell takes batchFirst for the runner it makes', () => {
    const cell = new LSTMCell({ inputSize: I, hiddenSize: H, seed: 4 });
    const tb = new TruncatedBPTT(cell, { batch: B, batchFirst: true });
    expect(tb.module.batchFirst).toBe(true);
    const x = randn(T * B * I, 40);
    const want = new SequenceRunner(cell).run(x, { batch: B }).outputs;
    expect(bitwiseEqual(tb.run(swapLeadingAxes(x, T, B, I)).outputs, swapLeadingAxes(want, T, B, H))).toBe(true);
  });

  it('StreamingRunner over a batch-first stack: step t gives outputs[:, t, :] of run', () => {
    const rnn = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 6, batchFirst: true });
    const x = randn(B * T * I, 50);   // [B, T, I]
    const want = rnn.run(x, { batch: B }).outputs;   // [B, T, H]
    const stream = new StreamingRunner(rnn, { batch: B });
    expect(stream.batchFirst).toBe(true);
    for (let t = 0; t < T; t++) {
      const xt = new Float32Array(B * I), yt = new Float32Array(B * H);
      for (let b = 0; b < B; b++) {
        xt.set(x.subarray((b * T + t) * I, (b * T + t + 1) * I), b * I);
        yt.set(want.subarray((b * T + t) * H, (b * T + t + 1) * H), b * H);
      }
      expect(bitwiseEqual(stream.step(xt), yt)).toBe(true);
    }
  });

  it('a batchFirst that contradicts the module is an error naming it; a wrong type too', () => {
    const rnn = new LSTM({ inputSize: I, hiddenSize: H });
    expect(() => new TruncatedBPTT(rnn, { batch: 1, batchFirst: true }))
      .toThrow("batchFirst: expected false (the module's own; set batchFirst where the module is made), got true");
    expect(() => new StreamingRunner(rnn, { batchFirst: true })).toThrow(RangeError);
    expect(new StreamingRunner(rnn, { batchFirst: false }).batchFirst).toBe(false);
    const cell = new LSTMCell({ inputSize: I, hiddenSize: H });
    expect(() => new TruncatedBPTT(cell, { batch: 1, batchFirst: 1 as never })).toThrow('batchFirst: expected a boolean, got 1');
    expect(() => new SequenceRunner(cell, { batchFirst: 'yes' as never })).toThrow('batchFirst: expected a boolean, got string "yes"');
    expect(() => new SequenceRunner(cell, null as never)).toThrow('SequenceRunner options: expected an object, got null');
    expect(() => new LSTM({ inputSize: I, hiddenSize: H, batchFirst: null as never })).toThrow('batchFirst: expected a boolean, got null');
    expect(() => GRU.fromPyTorch(new GRU({ inputSize: I, hiddenSize: H, resetAfter: true }).stateDict(), { batchFirst: 0 as never }))
      .toThrow('batchFirst: expected a boolean, got 0');
  });
});

describe('batchFirst is saved in the configuration', () => {
  it('config, fromConfig, saveModel/loadModel and buildModel keep it', () => {
    const rnn = new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 9, batchFirst: true });
    expect(rnn.config().batchFirst).toBe(true);
    expect(GRU.fromConfig(rnn.config()).batchFirst).toBe(true);
    const built = buildModel(saveModel({ rnn }), { expect: { rnn: GRU } }).rnn;
    expect(built.batchFirst).toBe(true);
    const x = randn(B * T * I, 60);
    expect(bitwiseEqual(built.run(x, { batch: B }).outputs, rnn.run(x, { batch: B }).outputs)).toBe(true);
    expect((buildModel(saveModelSafetensors({ rnn }), { expect: { rnn: GRU } }).rnn).batchFirst).toBe(true);
    // Loading into a module of the other layout is refused, naming the field.
    expect(() => loadModel(saveModel({ rnn }), { rnn: new GRU({ inputSize: I, hiddenSize: H, numLayers: 2 }) }))
      .toThrow('parts.rnn.batchFirst: expected true (as saved), got false');
  });

  it('a file written before batchFirst existed loads as time-major', () => {
    const saved = saveModel({ rnn: new LSTM({ inputSize: I, hiddenSize: H, seed: 1 }) });
    delete (saved.parts.rnn as unknown as Record<string, unknown>).batchFirst;
    const rnn = buildModel(saved, { expect: { rnn: LSTM } }).rnn;
    expect(rnn.batchFirst).toBe(false);
    expect(LSTM.fromConfig({ kind: 'LSTM', inputSize: I, hiddenSize: H, bias: true, numLayers: 1, bidirectional: false } as never).batchFirst).toBe(false);
  });
});
