/**
 * Dropout between stacked layers (PyTorch's nn.LSTM/nn.GRU(dropout=p)): the masks (rate and
 * values), the stack's forward as the composition of its layers with those masks, a
 * finite-difference gradient check in training mode with the masks fixed by the seed, the
 * backward's reuse of the forward's masks, training/eval modes, p = 0 bit-identical to no
 * dropout, configuration and errors. Eval mode against PyTorch: torch_lstm_dropout_eval in
 * test/modules/torch-fixtures.test.ts (and here: training mode is not the identity on it).
 */
import { describe, expect, it } from 'vitest';
import { GRU, gradCheck, LSTM, Random, type GradCheckParam, type LSTMState } from '../../src/index.js';
import { applyMask, checkDropout, dropoutMask } from '../../src/nn/dropout.js';
import { buildModel, loadModel, saveModel } from '../../src/io/model.js';
import { bitwiseEqual, dot, randn } from '../helpers/cells.js';
import { f32, loadFixture, type TorchFixture } from '../helpers/fixtures.js';

const I = 3, H = 4, T = 5, B = 3;

describe('dropoutMask', () => {
  for (const p of [0.1, 0.3, 0.5, 0.9]) {
    it(`p = ${p}: values 0 or 1/(1 − p), keep rate within 5 binomial sigmas over 10^6 draws`, () => {
      const n = 1_000_000, m = dropoutMask(new Random(2026), p, new Float32Array(n));
      const scale = Math.fround(1 / (1 - p));
      let kept = 0;
      for (let i = 0; i < n; i++) {
        if (m[i] === scale) kept++;
        else if (m[i] !== 0) expect.fail(`mask[${i}] = ${m[i]}`);
      }
      const mean = n * (1 - p), sigma = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(kept - mean)).toBeLessThan(5 * sigma);
      // Not a constant: both values occur, and the same seed gives the same mask.
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(n);
      expect(bitwiseEqual(dropoutMask(new Random(2026), p, new Float32Array(1000)), m.subarray(0, 1000))).toBe(true);
    });
  }

  it('applyMask multiplies in place; checkDropout takes [0, 1) only', () => {
    const x = Float32Array.from([1, 2, 3]);
    applyMask(x, Float32Array.from([0, 2, 0.5]));
    expect(Array.from(x)).toEqual([0, 4, 1.5]);
    expect(checkDropout('dropout', 0)).toBe(0);
    expect(checkDropout('dropout', 0.999)).toBe(0.999);
    for (const [v, s] of [[1, '1'], [-0.1, '-0.1'], [NaN, 'NaN'], ['0.5', 'string "0.5"'], [null, 'null']] as const) {
      expect(() => checkDropout('dropout', v)).toThrow(`dropout: expected a probability in [0, 1), got ${s}`);
    }
  });
});

describe('dropout in a stack', () => {
  it('training forward = the layers composed with masks from the seeded generator, between layers only', () => {
    const p = 0.4, seed = 77;
    const rnn = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 3, bidirectional: true, dropout: p, seed: 1 });
    const x = randn(T * B * I, 2);
    rnn.manualSeed(seed);
    const got = rnn.run(x, { batch: B });
    const rng = new Random(seed);
    let inputs = x;
    const h: Float32Array[] = [];
    rnn.layers.forEach((layer, l) => {
      const r = layer.run(inputs, { batch: B });
      h.push(r.finalState.h);
      inputs = r.outputs;
      if (l < 2) applyMask(inputs, dropoutMask(rng, p, new Float32Array(inputs.length)));
    });
    expect(bitwiseEqual(got.outputs, inputs)).toBe(true);
    // Final states are the layers' own, never dropped.
    h.forEach((hl, l) => expect(bitwiseEqual(got.finalState.h.subarray(l * hl.length, (l + 1) * hl.length), hl)).toBe(true));
    // The composition differs from no dropout (the masks do something).
    expect(bitwiseEqual(got.outputs, rnn.eval().run(x, { batch: B }).outputs)).toBe(false);
  });

  it('finite-difference gradient check in training mode, masks fixed by re-seeding every evaluation', () => {
    const L = 3, D = 2, lengths = [5, 2, 4];
    const rnn = new GRU({ inputSize: I, hiddenSize: H, numLayers: L, bidirectional: true, dropout: 0.5, seed: 9 });
    const K = L * D * B * H;
    const x = randn(T * B * I, 1), h0 = randn(K, 2, 0.5), w = randn(T * B * D * H, 4), u = randn(K, 5);
    const dx = new Float32Array(x.length), dh0 = new Float32Array(K);
    const opts = () => ({ batch: B, lengths, initialState: { h: h0 } });
    const loss = () => {
      rnn.manualSeed(5);
      const r = rnn.run(x, opts());
      return dot(r.outputs, w) + dot(r.finalState.h, u);
    };
    const backward = () => {
      rnn.manualSeed(5);
      rnn.forward(x, opts());
      const g = rnn.backward({ dOutputs: w, dFinalState: { h: u } });
      dx.set(g.dInputs);
      dh0.set(g.dInitialState.h);
    };
    const params: GradCheckParam[] = [...rnn.parameters(), { name: 'inputs', value: x, grad: dx }, { name: 'h0', value: h0, grad: dh0 }];
    const res = gradCheck({ params, loss, backward });
    expect(res.failures).toEqual([]);
    expect(res.ok).toBe(true);
    expect(res.checked).toBe(params.reduce((n, q) => n + q.value.length, 0));
    for (const q of params) expect(q.grad.some((g) => g !== 0), `${q.name} has a non-zero gradient`).toBe(true);
    // The same check with backward's masks differing from the loss's fails: the masks matter.
    const wrong = gradCheck({
      params: rnn.parameters(), loss,
      backward: () => { rnn.manualSeed(6); rnn.forward(x, opts()); rnn.backward({ dOutputs: w, dFinalState: { h: u } }); },
    });
    expect(wrong.ok).toBe(false);
  });

  it('all three options at once: LSTM, projSize, batchFirst, dropout in training mode, bidirectional, packed: gradCheck', () => {
    const L = 2, D = 2, P = 2, lengths = [5, 3, 1];
    const rnn = new LSTM({ inputSize: I, hiddenSize: H, numLayers: L, bidirectional: true, projSize: P, batchFirst: true, dropout: 0.3, seed: 12 });
    const K = L * D * B * P, KC = L * D * B * H;
    const x = randn(B * T * I, 1), w = randn(B * T * D * P, 2), u = randn(K, 3), v = randn(KC, 4);
    const dx = new Float32Array(x.length);
    const loss = () => {
      rnn.manualSeed(8);
      const r = rnn.run(x, { batch: B, lengths });
      return dot(r.outputs, w) + dot(r.finalState.h, u) + dot(r.finalState.c, v);
    };
    const backward = () => {
      rnn.manualSeed(8);
      rnn.forward(x, { batch: B, lengths });
      dx.set(rnn.backward({ dOutputs: w, dFinalState: { h: u, c: v } }).dInputs);
    };
    const params: GradCheckParam[] = [...rnn.parameters(), { name: 'inputs', value: x, grad: dx }];
    const res = gradCheck({ params, loss, backward });
    expect(res.failures).toEqual([]);
    expect(res.ok).toBe(true);
    for (const q of params) expect(q.grad.some((g) => g !== 0), `${q.name} has a non-zero gradient`).toBe(true);
    // Padding, in the batch-first layout, gets exactly zero: entry 2 runs 1 step of 5.
    expect(dx.subarray((2 * T + 1) * I, 3 * T * I).every((g) => g === 0)).toBe(true);
  });

  it("backward uses the forward's masks, not new draws", () => {
    const make = () => new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, dropout: 0.3, seed: 4 });
    const a = make(), b = make();
    const x = randn(T * B * I, 1), dOut = randn(T * B * H, 2);
    a.manualSeed(1); b.manualSeed(1);
    a.forward(x, { batch: B }); b.forward(x, { batch: B });
    b.manualSeed(12345);   // would change any mask drawn from now on
    const ga = a.backward({ dOutputs: dOut }), gb = b.backward({ dOutputs: dOut });
    expect(bitwiseEqual(ga.dInputs, gb.dInputs)).toBe(true);
    a.parameters().forEach((q, k) => expect(bitwiseEqual(q.grad, b.parameters()[k]!.grad)).toBe(true));
  });

  it('the generator advances: two training forwards draw different masks; manualSeed repeats them', () => {
    const rnn = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, dropout: 0.5, seed: 4 });
    const x = randn(T * B * I, 1);
    const r1 = rnn.run(x, { batch: B }).outputs, r2 = rnn.run(x, { batch: B }).outputs;
    expect(bitwiseEqual(r1, r2)).toBe(false);
    rnn.manualSeed(3);
    const s1 = rnn.run(x, { batch: B }).outputs;
    rnn.manualSeed(3);
    expect(bitwiseEqual(rnn.run(x, { batch: B }).outputs, s1)).toBe(true);
    // Two stacks of the same seed draw the same masks (the initialiser's generator, continued).
    expect(bitwiseEqual(new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, dropout: 0.5, seed: 4 }).run(x, { batch: B }).outputs, r1)).toBe(true);
  });

  it('training by default; eval() and train() switch, return the module, and eval is exactly no dropout', () => {
    const rnn = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 3, dropout: 0.6, seed: 8 });
    const plain = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 3, seed: 8 });
    expect(rnn.training).toBe(true);
    expect(rnn.eval()).toBe(rnn);
    expect(rnn.training).toBe(false);
    const x = randn(T * B * I, 1), dOut = randn(T * B * H, 2);
    const e = rnn.forward(x, { batch: B }), gE = rnn.backward({ dOutputs: dOut });
    const q = plain.forward(x, { batch: B }), gQ = plain.backward({ dOutputs: dOut });
    expect(bitwiseEqual(e.outputs, q.outputs) && bitwiseEqual(gE.dInputs, gQ.dInputs)).toBe(true);
    expect(rnn.train()).toBe(rnn);
    expect(rnn.training).toBe(true);
    expect(rnn.train(false).training).toBe(false);
    expect(() => rnn.train('yes' as never)).toThrow('mode: expected a boolean, got string "yes"');
  });

  it('p = 0 in training mode is bit-identical to no dropout (no draws, no masks)', () => {
    const a = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, dropout: 0, seed: 6 });
    const b = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, seed: 6 });
    expect(a.training && b.training).toBe(true);
    const x = randn(T * B * I, 1), dOut = randn(T * B * 2 * H, 2);
    for (let k = 0; k < 2; k++) {
      const fa = a.forward(x, { batch: B, lengths: [5, 1, 3] }), fb = b.forward(x, { batch: B, lengths: [5, 1, 3] });
      expect(bitwiseEqual(fa.outputs, fb.outputs)).toBe(true);
      expect(bitwiseEqual(fa.finalState.c, fb.finalState.c)).toBe(true);
      const ga = a.backward({ dOutputs: dOut }), gb = b.backward({ dOutputs: dOut });
      expect(bitwiseEqual(ga.dInputs, gb.dInputs)).toBe(true);
      a.parameters().forEach((q, j) => expect(bitwiseEqual(q.grad, b.parameters()[j]!.grad)).toBe(true));
    }
  });

  it('on the PyTorch eval fixture, training mode is not the identity (the fixture tests eval)', () => {
    const fx = loadFixture<TorchFixture>('torch_lstm_dropout_eval');
    const sd: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [k, v] of Object.entries(fx.stateDict)) sd[k] = { shape: fx.stateDictShapes[k]!, data: f32(v) };
    const rnn = LSTM.fromPyTorch(sd, { dropout: fx.dropout });
    const init: LSTMState = { h: f32(fx.h0), c: f32(fx.c0!) };
    const train = rnn.run(f32(fx.inputs), { batch: fx.batch, initialState: init }).outputs;
    const evalOut = rnn.eval().run(f32(fx.inputs), { batch: fx.batch, initialState: init }).outputs;
    let worst = 0;
    for (let i = 0; i < train.length; i++) worst = Math.max(worst, Math.abs(train[i]! - fx.expected.outputs[i]!));
    expect(worst).toBeGreaterThan(1e-3);
    for (let i = 0; i < evalOut.length; i++) expect(Math.abs(evalOut[i]! - fx.expected.outputs[i]!)).toBeLessThan(1e-5);
  });
});

describe('dropout in the configuration', () => {
  it('config, fromConfig, fromPyTorch, saveModel/buildModel keep it; 0 is not written', () => {
    const rnn = new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, dropout: 0.25, seed: 2 });
    expect(rnn.config().dropout).toBe(0.25);
    expect(GRU.fromConfig(rnn.config()).dropout).toBe(0.25);
    // fromPyTorch reads nn.GRU's keys: those of the resetAfter form (the default form's end in _reset_before).
    const torchForm = new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 2, resetAfter: true });
    expect(GRU.fromPyTorch(torchForm.stateDict(), { dropout: 0.25 }).dropout).toBe(0.25);
    const built = buildModel(saveModel({ rnn }), { expect: { rnn: GRU } }).rnn;
    expect(built.dropout).toBe(0.25);
    expect(built.training).toBe(true);   // the mode is not saved: a new module trains, as in PyTorch
    expect(() => loadModel(saveModel({ rnn }), { rnn: new GRU({ inputSize: I, hiddenSize: H, numLayers: 2 }) }))
      .toThrow('parts.rnn.dropout: expected 0.25 (as saved), got 0');
    const none = saveModel({ rnn: new LSTM({ inputSize: I, hiddenSize: H }) });
    expect('dropout' in none.parts.rnn!).toBe(false);
    expect(buildModel(none, { expect: { rnn: LSTM } }).rnn.dropout).toBe(0);
  });

  it('errors name the option, what was expected and what was given', () => {
    expect(() => new LSTM({ inputSize: I, hiddenSize: H, dropout: 1 })).toThrow('dropout: expected a probability in [0, 1), got 1');
    expect(() => new GRU({ inputSize: I, hiddenSize: H, dropout: -0.5 })).toThrow('dropout: expected a probability in [0, 1), got -0.5');
    expect(() => LSTM.fromPyTorch(new LSTM({ inputSize: I, hiddenSize: H }).stateDict(), { dropout: Infinity }))
      .toThrow('dropout: expected a probability in [0, 1), got Infinity');
    const saved = saveModel({ rnn: new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, dropout: 0.5 }) });
    (saved.parts.rnn as unknown as Record<string, unknown>).dropout = 2;
    expect(() => buildModel(saved)).toThrow('dropout: expected a probability in [0, 1), got 2');
  });
});
