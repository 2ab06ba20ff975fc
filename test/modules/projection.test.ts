/**
 * projSize (PyTorch's proj_size) on LSTMCell and LSTM: h_t = W_hr (o ⊙ tanh c_t), h [·, P],
 * c [·, H], weight_hh [4H, P], weight_hr [P, H]. Finite-difference gradient checks (cell step,
 * packed bidirectional 2-layer stack), the one-step cell API against the runner, streaming and
 * TBPTT, the PyTorch mapping, save/load, and the errors. The PyTorch proj_size fixtures (1 and
 * 2 layers, bidirectional, packed batch-first) are in test/modules/torch-fixtures.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  GRU, GRUCell, gradCheck, LSTM, LSTMCell, SequenceRunner, StreamingRunner, TruncatedBPTT,
  type GradCheckParam, type LSTMState,
} from '../../src/index.js';
import { buildModel, loadModel, saveModel, saveModelSafetensors } from '../../src/io/model.js';
import { bitwiseEqual, dot, randn } from '../helpers/cells.js';

const I = 3, H = 5, P = 2;

describe('LSTMCell with projSize', () => {
  it('has the PyTorch shapes: h [B, P], c [B, H], weight_hh [4H, P], weight_hr [P, H]', () => {
    const cell = new LSTMCell({ inputSize: I, hiddenSize: H, projSize: P, seed: 1 });
    expect(cell.projSize).toBe(P);
    expect(cell.outputSize).toBe(P);
    expect(cell.params.weightHh.length).toBe(4 * H * P);
    expect(cell.params.weightHr!.length).toBe(P * H);
    expect(cell.parameters().map((p) => p.name)).toEqual(['weightIh', 'weightHh', 'biasIh', 'biasHh', 'weightHr']);
    const s = cell.initialState(3);
    expect([s.h.length, s.c.length]).toEqual([3 * P, 3 * H]);
    const sd = cell.stateDict();
    expect(Object.keys(sd)).toEqual(['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh', 'weight_hr']);
    expect(sd.weight_hh!.shape).toEqual([4 * H, P]);
    expect(sd.weight_hr!.shape).toEqual([P, H]);
    // Without projSize nothing changes: no weightHr, h [B, H].
    const plain = new LSTMCell({ inputSize: I, hiddenSize: H, seed: 1 });
    expect(plain.projSize).toBe(0);
    expect(plain.params.weightHr).toBeUndefined();
    expect(Object.keys(plain.stateDict())).toEqual(['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']);
  });

  it('h = W_hr (o ⊙ tanh c): the projection of the unprojected cell with the same gates', () => {
    // A cell with projSize whose weight_hh columns are all used, against a naive float64 step.
    const B = 2, cell = new LSTMCell({ inputSize: I, hiddenSize: H, projSize: P, seed: 2 });
    const x = randn(B * I, 3), h0 = randn(B * P, 4, 0.5), c0 = randn(B * H, 5, 0.5);
    const s = cell.step(x, { h: h0, c: c0 }, B);
    const p = cell.params, sig = (v: number) => 1 / (1 + Math.exp(-v));
    for (let b = 0; b < B; b++) {
      const m = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const pre = (g: number) => {
          let a = p.biasIh![g * H + j]! + p.biasHh![g * H + j]!;
          for (let k = 0; k < I; k++) a += p.weightIh[(g * H + j) * I + k]! * x[b * I + k]!;
          for (let k = 0; k < P; k++) a += p.weightHh[(g * H + j) * P + k]! * h0[b * P + k]!;
          return a;
        };
        const c = sig(pre(1)) * c0[b * H + j]! + sig(pre(0)) * Math.tanh(pre(2));
        expect(Math.abs(s.c[b * H + j]! - c)).toBeLessThan(1e-6);
        m[j] = sig(pre(3)) * Math.tanh(c);
      }
      for (let q = 0; q < P; q++) {
        let h = 0;
        for (let j = 0; j < H; j++) h += p.weightHr![q * H + j]! * m[j]!;
        expect(Math.abs(s.h[b * P + q]! - h)).toBeLessThan(1e-6);
      }
    }
  });

  it('cell.forward/backward equals a one-step runner, bit for bit', () => {
    const B = 3, a = new LSTMCell({ inputSize: I, hiddenSize: H, projSize: P, seed: 6 });
    const b = new LSTMCell({ inputSize: I, hiddenSize: H, projSize: P, seed: 6 });
    const x = randn(B * I, 7), s0 = { h: randn(B * P, 8), c: randn(B * H, 9) }, dS = { h: randn(B * P, 10), c: randn(B * H, 11) };
    const f = a.forward(x, s0, B), g = a.backward(f, dS);
    const r = new SequenceRunner(b), rf = r.forward(x, { batch: B, initialState: s0 });
    const rg = r.backward({ dFinalState: dS });
    expect(bitwiseEqual(f.state.h, rf.finalState.h) && bitwiseEqual(f.state.c, rf.finalState.c)).toBe(true);
    expect(bitwiseEqual(g.dx, rg.dInputs)).toBe(true);
    expect(bitwiseEqual(g.dState.h, rg.dInitialState.h) && bitwiseEqual(g.dState.c, rg.dInitialState.c)).toBe(true);
    a.parameters().forEach((p, k) => expect(bitwiseEqual(p.grad, b.parameters()[k]!.grad)).toBe(true));
    expect(a.parameters()[4]!.grad.some((v) => v !== 0)).toBe(true);
  });
});

describe('projSize: finite-difference gradient check', () => {
  it('LSTM, 2 layers, bidirectional, lengths [5, 2, 4]: every parameter (weight_hr too), input and initial state', () => {
    const T = 5, B = 3, L = 2, D = 2, lengths = [5, 2, 4];
    const rnn = new LSTM({ inputSize: I, hiddenSize: H, projSize: P, numLayers: L, bidirectional: true, seed: 17 });
    expect(rnn.cells[2]!.inputSize).toBe(D * P);   // layer 1 reads D·P features
    expect(rnn.outputSize).toBe(D * P);
    const K = L * D * B * P, KC = L * D * B * H;
    const x = randn(T * B * I, 1), h0 = randn(K, 2, 0.5), c0 = randn(KC, 3, 0.5);
    const w = randn(T * B * D * P, 4), u = randn(K, 5), v = randn(KC, 6);
    const dx = new Float32Array(x.length), dh0 = new Float32Array(K), dc0 = new Float32Array(KC);
    const opts = () => ({ batch: B, lengths, initialState: { h: h0, c: c0 } });
    const loss = () => {
      const r = rnn.run(x, opts());
      return dot(r.outputs, w) + dot(r.finalState.h, u) + dot(r.finalState.c, v);
    };
    const backward = () => {
      rnn.forward(x, opts());
      const g = rnn.backward({ dOutputs: w, dFinalState: { h: u, c: v } });
      dx.set(g.dInputs);
      dh0.set(g.dInitialState.h);
      dc0.set(g.dInitialState.c);
    };
    const params: GradCheckParam[] = [
      ...rnn.parameters(),
      { name: 'inputs', value: x, grad: dx }, { name: 'h0', value: h0, grad: dh0 }, { name: 'c0', value: c0, grad: dc0 },
    ];
    expect(params.length).toBe(5 * L * D + 3);
    const res = gradCheck({ params, loss, backward });
    expect(res.failures).toEqual([]);
    expect(res.ok).toBe(true);
    expect(res.checked).toBe(params.reduce((n, p) => n + p.value.length, 0));
    for (const p of params) expect(p.grad.some((g) => g !== 0), `${p.name} has a non-zero gradient`).toBe(true);
  });

  it('gradCheck catches a corrupted weight_hr gradient (the check is not vacuous)', () => {
    const T = 4, B = 2, cell = new LSTMCell({ inputSize: I, hiddenSize: H, projSize: P, seed: 3 });
    const r = new SequenceRunner(cell), x = randn(T * B * I, 1), w = randn(T * B * P, 2);
    const res = gradCheck({
      params: cell.parameters(),
      loss: () => dot(r.run(x, { batch: B }).outputs, w),
      backward: () => { r.forward(x, { batch: B }); r.backward({ dOutputs: w }); cell.grads.weightHr![1]! *= 1.1; },
    });
    expect(res.ok).toBe(false);
    expect(res.failures.every((f) => f.param === 'weightHr' && f.index === 1)).toBe(true);
  });
});

describe('projSize through streaming, TBPTT and batch-first', () => {
  it('StreamingRunner and TruncatedBPTT over a projected stack give its run, bit for bit', () => {
    const T = 6, B = 2;
    const rnn = new LSTM({ inputSize: I, hiddenSize: H, projSize: P, numLayers: 2, seed: 4 });
    const x = randn(T * B * I, 5);
    const want = rnn.run(x, { batch: B });
    const stream = new StreamingRunner(rnn, { batch: B });
    for (let t = 0; t < T; t++) {
      expect(bitwiseEqual(stream.step(x.subarray(t * B * I, (t + 1) * B * I)), want.outputs.subarray(t * B * P, (t + 1) * B * P))).toBe(true);
    }
    expect(bitwiseEqual(stream.state.h, want.finalState.h) && bitwiseEqual(stream.state.c, want.finalState.c)).toBe(true);
    const tb = new TruncatedBPTT(rnn, { batch: B });
    tb.forward(x.subarray(0, 2 * B * I));
    const last = tb.forward(x.subarray(2 * B * I));
    expect(bitwiseEqual(last.outputs, want.outputs.subarray(2 * B * P))).toBe(true);
    expect(bitwiseEqual(tb.state.c, want.finalState.c)).toBe(true);
    const g = tb.backward({ dOutputs: randn(4 * B * P, 6) });
    expect([g.dInitialState.h.length, g.dInitialState.c.length]).toEqual([2 * B * P, 2 * B * H]);
  });

  it('a state of the wrong size names its expected length', () => {
    const rnn = new LSTM({ inputSize: I, hiddenSize: H, projSize: P, numLayers: 2 });
    const x = randn(2 * I, 1);
    expect(() => rnn.run(x, { batch: 1, initialState: { h: new Float32Array(2 * H), c: new Float32Array(2 * H) } }))
      .toThrow(`initialState.h: expected length numLayers*batch*projSize = ${2 * P}, got ${2 * H}`);
    expect(() => rnn.run(x, { batch: 1, initialState: { h: new Float32Array(2 * P), c: new Float32Array(2 * P) } }))
      .toThrow(`initialState.c: expected length numLayers*batch*hiddenSize = ${2 * H}, got ${2 * P}`);
    rnn.forward(x, { batch: 1 });
    expect(() => rnn.backward({ dOutputs: new Float32Array(2 * H) })).toThrow(`dOutputs: expected length steps*batch*projSize = ${2 * P}, got ${2 * H}`);
  });
});

describe('projSize and PyTorch, configurations and files', () => {
  it('fromPyTorch infers projSize from weight_hr_l0 and stateDict/gradDict give it back', () => {
    const rnn = new LSTM({ inputSize: I, hiddenSize: H, projSize: P, numLayers: 2, bidirectional: true, seed: 8 });
    const sd = rnn.stateDict();
    expect(sd.weight_hr_l1_reverse!.shape).toEqual([P, H]);
    expect(sd.weight_ih_l1!.shape).toEqual([4 * H, 2 * P]);
    const back = LSTM.fromPyTorch(sd);
    expect(back.projSize).toBe(P);
    expect(back.config()).toEqual(rnn.config());
    const x = randn(4 * 2 * I, 9);
    expect(bitwiseEqual(back.run(x, { batch: 2 }).outputs, rnn.run(x, { batch: 2 }).outputs)).toBe(true);
    expect(Object.keys(rnn.gradDict())).toEqual(Object.keys(sd));
    // One layer of it as a cell: the keys without their suffix.
    const one: Record<string, (typeof sd)[string]> = {};
    for (const k of ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh', 'weight_hr']) one[k] = sd[`${k}_l0`]!;
    expect(LSTMCell.fromPyTorch(one).projSize).toBe(P);
  });

  it('config, fromConfig, saveModel/loadModel (JSON and safetensors) and buildModel keep projSize', () => {
    const rnn = new LSTM({ inputSize: I, hiddenSize: H, projSize: P, numLayers: 2, seed: 9 });
    const cell = new LSTMCell({ inputSize: I, hiddenSize: H, projSize: 3, seed: 10 });
    expect(rnn.config().projSize).toBe(P);
    expect(cell.config()).toEqual({ kind: 'LSTMCell', inputSize: I, hiddenSize: H, bias: true, projSize: 3, peephole: false });
    const x = randn(3 * 2 * I, 11);
    for (const saved of [saveModel({ rnn, cell }), saveModelSafetensors({ rnn, cell })]) {
      const built = buildModel(saved, { expect: { rnn: LSTM, cell: LSTMCell } });
      expect(built.rnn.projSize).toBe(P);
      expect(built.cell.projSize).toBe(3);
      expect(bitwiseEqual(built.rnn.run(x, { batch: 2 }).outputs, rnn.run(x, { batch: 2 }).outputs)).toBe(true);
    }
    const other = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2 });
    expect(() => loadModel(saveModel({ rnn }), { rnn: other })).toThrow('parts.rnn.projSize: expected 2 (as saved), got 0');
    expect((saveModel({ cell: new LSTMCell({ inputSize: 1, hiddenSize: 2 }) }).parts.cell as unknown as Record<string, unknown>).projSize)
      .toBeUndefined();   // 0 is what a file without the field means: not written
  });

  it('errors: projSize out of range, on a GRU, or a weight_hr for a GRU', () => {
    expect(() => new LSTMCell({ inputSize: I, hiddenSize: H, projSize: H }))
      .toThrow(`projSize: expected an integer in 0..hiddenSize−1 = ${H - 1} (PyTorch's proj_size < hidden_size), got ${H}`);
    expect(() => new LSTM({ inputSize: I, hiddenSize: H, projSize: 1.5 })).toThrow('projSize: expected an integer in 0..hiddenSize−1');
    expect(() => new LSTM({ inputSize: I, hiddenSize: H, projSize: -1 })).toThrow(RangeError);
    expect(() => new GRU({ inputSize: I, hiddenSize: H, projSize: 2 } as never))
      .toThrow('projSize: expected 0 or omitted (only an LSTM has a projection, PyTorch\'s proj_size; a GRU has none), got 2');
    expect(() => new GRUCell({ inputSize: I, hiddenSize: H, projSize: 2 } as never)).toThrow('projSize: expected 0 or omitted');
    const sd: Record<string, unknown> = { ...new GRU({ inputSize: I, hiddenSize: H, resetAfter: true }).stateDict(), weight_hr_l0: { shape: [2, H], data: new Float32Array(2 * H) } };
    expect(() => GRU.fromPyTorch(sd as never))
      .toThrow('stateDict["weight_hr_l0"]: unexpected key: only an LSTM has a projection (proj_size), a GRU has none');
    const lsd: Record<string, unknown> = { ...new LSTM({ inputSize: I, hiddenSize: H, projSize: P }).stateDict() };
    lsd.weight_hr_l0 = new Float32Array(P * H);
    expect(() => LSTM.fromPyTorch(lsd as never))
      .toThrow(`stateDict["weight_hr_l0"]: expected a tensor of shape [projSize, hiddenSize] with projSize < hiddenSize, got ${P * H} elements without a shape`);
    lsd.weight_hr_l0 = { shape: [P, H + 1], data: new Float32Array(P * (H + 1)) };
    expect(() => LSTM.fromPyTorch(lsd as never)).toThrow(`stateDict["weight_hh_l0"]: expected shape [${4 * (H + 1)}, ${P}] (4*hiddenSize, projSize), got [${4 * H}, ${P}]`);
    // A projected state dict into an LSTM without projection: the extra key is named.
    expect(() => new LSTM({ inputSize: I, hiddenSize: H }).loadStateDict(new LSTM({ inputSize: I, hiddenSize: H, projSize: P }).stateDict()))
      .toThrow(/weight_h/);
  });
});

describe('projSize leaves models without it unchanged', () => {
  it('an LSTM without projSize computes what it did: h and c [L, B, H]', () => {
    const rnn = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 3 });
    const r = rnn.run(randn(4 * 2 * I, 1), { batch: 2 });
    expect([r.outputs.length, r.finalState.h.length, (r.finalState as LSTMState).c.length]).toEqual([4 * 2 * H, 2 * 2 * H, 2 * 2 * H]);
  });
});
