/**
 * Peephole LSTM (Gers & Schmidhuber 2000): i and f see c_{t−1}, o sees c_t through weightPeephole
 * [3, H] (rows i, f, o). Forward against a float64 reference of the equations, hand-written
 * backward against finite differences (cell and 2-layer bidirectional stack with lengths), zero
 * peepholes equal the plain LSTM bit for bit, and the weights survive save/load and stateDict.
 */
import { describe, expect, it } from 'vitest';
import { buildModel, gradCheck, loadModel, LSTM, LSTMCell, saveModel, type GradCheckParam, type LSTMState } from '../../src/index.js';
import { bitwiseEqual, dot, randn } from '../helpers/cells.js';

const sig = (a: number): number => 1 / (1 + Math.exp(-a));

/** One step of the peephole equations in float64, from PyTorch-layout params. */
function reference(cell: LSTMCell, x: Float32Array, h: Float32Array, c: Float32Array, B: number): { h: number[]; c: number[] } {
  const I = cell.inputSize, H = cell.hiddenSize, p = cell.params;
  const P = p.weightPeephole!;
  const outH: number[] = [], outC: number[] = [];
  for (let b = 0; b < B; b++) {
    const a = (gate: number, j: number): number => {
      const r = gate * H + j;
      let s = p.biasIh![r]! + p.biasHh![r]!;
      for (let k = 0; k < I; k++) s += p.weightIh[r * I + k]! * x[b * I + k]!;
      for (let k = 0; k < H; k++) s += p.weightHh[r * H + k]! * h[b * H + k]!;
      return s;
    };
    for (let j = 0; j < H; j++) {
      const cp = c[b * H + j]!;
      const i = sig(a(0, j) + P[j]! * cp), f = sig(a(1, j) + P[H + j]! * cp), g = Math.tanh(a(2, j));
      const cn = f * cp + i * g;
      const o = sig(a(3, j) + P[2 * H + j]! * cn);
      outC.push(cn);
      outH.push(o * Math.tanh(cn));
    }
  }
  return { h: outH, c: outC };
}

describe('peephole LSTMCell', () => {
  it('one step equals the equations (float64 reference)', () => {
    const B = 3, I = 4, H = 5;
    const cell = new LSTMCell({ inputSize: I, hiddenSize: H, peephole: true, seed: 2 });
    expect(cell.peephole).toBe(true);
    expect(cell.params.weightPeephole!.length).toBe(3 * H);
    cell.params.weightPeephole!.set(randn(3 * H, 9));   // larger than the init, so the terms matter
    const x = randn(B * I, 1), h = randn(B * H, 2), c = randn(B * H, 3, 2);
    const s = cell.step(x, { h, c }, B);
    const ref = reference(cell, x, h, c, B);
    for (let k = 0; k < B * H; k++) {
      expect(Math.abs(s.h[k]! - ref.h[k]!)).toBeLessThan(2e-6);
      expect(Math.abs(s.c[k]! - ref.c[k]!)).toBeLessThan(4e-6);
    }
    // Without peepholes the result differs: the test above is not the plain LSTM's.
    const plain = new LSTMCell({ inputSize: I, hiddenSize: H, seed: 2 });
    expect(bitwiseEqual(plain.step(x, { h, c }, B).h, s.h)).toBe(false);
  });

  it('zero peephole weights compute the plain LSTM bit for bit', () => {
    const B = 2, I = 3, H = 4;
    const peep = new LSTMCell({ inputSize: I, hiddenSize: H, peephole: true, seed: 5 });
    const plain = new LSTMCell({ inputSize: I, hiddenSize: H, seed: 5 });
    // Same draws for the shared weights (peepholes are drawn last).
    expect(bitwiseEqual(peep.params.weightHh, plain.params.weightHh)).toBe(true);
    peep.params.weightPeephole!.fill(0);
    const x = randn(B * I, 1), st = { h: randn(B * H, 2), c: randn(B * H, 3) };
    const a = peep.step(x, st, B), b = plain.step(x, st, B);
    expect(bitwiseEqual(a.h, b.h) && bitwiseEqual(a.c, b.c)).toBe(true);
  });

  it('backward: every parameter, the input and the state agree with finite differences', () => {
    const B = 2, I = 3, H = 4;
    const cell = new LSTMCell({ inputSize: I, hiddenSize: H, peephole: true, seed: 6 });
    cell.params.weightPeephole!.set(randn(3 * H, 7));
    const x = randn(B * I, 1), h = randn(B * H, 2), c = randn(B * H, 3);
    const u = randn(B * H, 4), v = randn(B * H, 5);
    const dx = new Float32Array(x.length), dh = new Float32Array(h.length), dc = new Float32Array(c.length);
    const res = gradCheck({
      params: [...cell.parameters(), { name: 'x', value: x, grad: dx }, { name: 'h', value: h, grad: dh }, { name: 'c', value: c, grad: dc }],
      loss: () => { const s = cell.step(x, { h, c }, B); return dot(s.h, u) + dot(s.c, v); },
      backward: () => {
        const f = cell.forward(x, { h, c }, B);
        const g = cell.backward(f, { h: u, c: v });
        dx.set(g.dx); dh.set(g.dState.h); dc.set(g.dState.c);
      },
    });
    expect(res.failures).toEqual([]);
    expect(res.ok).toBe(true);
    expect(cell.grads.weightPeephole!.every((g) => g !== 0)).toBe(true);
  });
});

describe('peephole LSTM stack', () => {
  it('2 layers, bidirectional, lengths [5, 2, 4]: finite-difference check of every parameter, input and state', () => {
    const I = 2, H = 3, T = 5, B = 3, L = 2, D = 2, lengths = [5, 2, 4];
    const rnn = new LSTM({ inputSize: I, hiddenSize: H, numLayers: L, bidirectional: true, peephole: true, seed: 17 });
    rnn.cells.forEach((c, k) => c.params.weightPeephole!.set(randn(3 * H, 30 + k)));
    const K = L * D * B * H;
    const x = randn(T * B * I, 1), h0 = randn(K, 2, 0.5), c0 = randn(K, 3, 0.5);
    const w = randn(T * B * D * H, 4), u = randn(K, 5), v = randn(K, 6);
    const dx = new Float32Array(x.length), dh0 = new Float32Array(K), dc0 = new Float32Array(K);
    const opts = () => ({ batch: B, lengths, initialState: { h: h0, c: c0 } });
    const params: GradCheckParam[] = [
      ...rnn.parameters(), { name: 'inputs', value: x, grad: dx }, { name: 'h0', value: h0, grad: dh0 }, { name: 'c0', value: c0, grad: dc0 },
    ];
    expect(params.filter((p) => p.name.endsWith('weightPeephole'))).toHaveLength(L * D);
    const res = gradCheck({
      params,
      loss: () => { const r = rnn.run(x, opts()); return dot(r.outputs, w) + dot(r.finalState.h, u) + dot(r.finalState.c, v); },
      backward: () => {
        rnn.forward(x, opts());
        const g = rnn.backward({ dOutputs: w, dFinalState: { h: u, c: v } });
        dx.set(g.dInputs); dh0.set(g.dInitialState.h); dc0.set((g.dInitialState as LSTMState).c);
      },
    });
    expect(res.failures).toEqual([]);
    expect(res.ok).toBe(true);
    for (const p of params) expect(p.grad.some((g) => g !== 0), p.name).toBe(true);
  });

  it('config, stateDict and save/load carry the peephole weights; plain configurations are unchanged', () => {
    const rnn = new LSTM({ inputSize: 2, hiddenSize: 3, numLayers: 2, peephole: true, seed: 4 });
    expect(rnn.config()).toMatchObject({ kind: 'LSTM', inputSize: 2, hiddenSize: 3, bias: true, numLayers: 2, bidirectional: false, peephole: true });
    expect(new LSTM({ inputSize: 2, hiddenSize: 3 }).config().peephole).toBe(false);
    // A plain model's file does not name the flag (older files stay valid); a peephole one does.
    expect(JSON.stringify(saveModel({ rnn: new LSTM({ inputSize: 2, hiddenSize: 3 }) }))).not.toMatch(/peephole/);
    expect(saveModel({ rnn }).parts.rnn).toMatchObject({ peephole: true });
    expect(() => new LSTM({ inputSize: 2, hiddenSize: 3, projSize: 2, peephole: true })).toThrow(/peephole: expected no projection with peephole connections, got projSize 2/);
    const sd = rnn.stateDict();
    expect(sd.weight_peephole_l1!.shape).toEqual([3, 3]);
    expect(sd.weight_peephole_l1!.data).toEqual(rnn.cells[1]!.params.weightPeephole);
    const back = LSTM.fromPyTorch(sd);
    expect(back.peephole).toBe(true);
    const prefixed = Object.fromEntries(Object.entries(sd).map(([k, v]) => [`rnn.${k}`, v]));
    const under = LSTM.fromPyTorch(prefixed, { prefix: 'rnn.' });
    expect(under.peephole).toBe(true);
    expect(under.cells[1]!.params.weightPeephole).toEqual(rnn.cells[1]!.params.weightPeephole);
    const twin = new LSTM({ inputSize: 2, hiddenSize: 3, numLayers: 2, peephole: true, seed: 99 });
    loadModel(saveModel({ rnn }), { rnn: twin });
    expect(twin.cells[1]!.params.weightPeephole).toEqual(rnn.cells[1]!.params.weightPeephole);
    expect(() => loadModel(saveModel({ rnn }), { rnn: new LSTM({ inputSize: 2, hiddenSize: 3, numLayers: 2 }) })).toThrow(/peephole/);
    expect(() => new LSTMCell({ inputSize: 2, hiddenSize: 3, peephole: 1 as unknown as boolean })).toThrow(/peephole: expected a boolean/);
    // buildModel rebuilds a peephole stack from the file alone; a bad flag in a file is named.
    const saved = saveModel({ rnn });
    const built = buildModel(saved, { expect: { rnn: LSTM } }).rnn;
    expect(built.peephole).toBe(true);
    expect(built.cells[0]!.params.weightPeephole).toEqual(rnn.cells[0]!.params.weightPeephole);
    const bad = JSON.parse(JSON.stringify(saved)) as { parts: { rnn: { peephole: unknown } } };
    bad.parts.rnn.peephole = 'yes';
    expect(() => buildModel(bad as never)).toThrow(/parts\.rnn\.peephole: expected a boolean, got string "yes"/);
  });
});
