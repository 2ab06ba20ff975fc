/**
 * Fuzz, careless calls: inert padding (random lengths, NaN/±Infinity at every padded position),
 * gradCheck's options and its restore on a throw, ownership of forward results, options and
 * states read once (getters, Proxies), engine messages never escaping (Proxy'd and foreign typed
 * arrays, revoked Proxies), overlapping output arrays, and the public helpers' checks.
 */
import { describe, expect, it } from 'vitest';
import {
  GRU, GRUCell, LSTM, LSTMCell, Linear, SequenceRunner, TruncatedBPTT, gradCheck, mseLoss, softmaxCrossEntropy, orthogonal,
  Adam, Embedding, SGD, clipGradNorm, Random, saveModel, saveSafetensors, type CellState, type RecurrentModule,
} from '../../src/index.js';
import * as kernels from '../../src/kernels/index.js';
import { bitwiseEqual, randn } from '../helpers/cells.js';
import { expectLibraryError, HOSTILE, picker, proxied, revoked } from '../helpers/fuzz.js';

describe('padding is inert (random shapes and lengths)', () => {
  it('NaN, ±Infinity at padded inputs and upstream gradients change no output, state or gradient', () => {
    const { pick, int } = picker(6);
    for (let k = 0; k < 24; k++) {
      const T = 1 + int(5), B = 1 + int(4), I = 1 + int(3), H = 1 + int(4);
      const lengths = Array.from({ length: B }, () => 1 + int(T));
      const seed = 10 + k;
      const make = pick<() => RecurrentModule<CellState>>([
        () => new SequenceRunner(new LSTMCell({ inputSize: I, hiddenSize: H, seed })) as RecurrentModule<CellState>,
        () => new SequenceRunner(new GRUCell({ inputSize: I, hiddenSize: H, seed, resetAfter: k % 2 === 0 })) as RecurrentModule<CellState>,
        () => new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, seed }) as RecurrentModule<CellState>,
        () => new GRU({ inputSize: I, hiddenSize: H, numLayers: 1 + (k % 2), bidirectional: k % 3 === 0, seed }) as RecurrentModule<CellState>,
      ]);
      const D = make().numDirections;
      const x = randn(T * B * I, seed), dOut = randn(T * B * D * H, seed + 1);
      const clean = pass(make, poison(x, lengths, T, B, I, 0), poison(dOut, lengths, T, B, D * H, 0), lengths, B);
      for (const v of [NaN, Infinity, -Infinity]) {
        const dirty = pass(make, poison(x, lengths, T, B, I, v), poison(dOut, lengths, T, B, D * H, v), lengths, B);
        dirty.forEach((a, i) => expect(bitwiseEqual(a, clean[i]!), `case ${k}, array ${i}, padding ${v}`).toBe(true));
        expect(dirty.every((a) => a.every(Number.isFinite))).toBe(true);
      }
    }
  });

  it('the audit case: NaN at a padded position leaves grads.weightIh finite', () => {
    const cell = new LSTMCell({ inputSize: 2, hiddenSize: 3, seed: 1 });
    const r = new SequenceRunner(cell);
    const x = randn(3 * 2 * 2, 1);
    x.fill(NaN, (2 * 2 + 1) * 2, (2 * 2 + 2) * 2);   // t = 2, b = 1: past lengths[1] = 2
    r.forward(x, { batch: 2, lengths: [3, 2] });
    r.backward({ dOutputs: randn(3 * 2 * 3, 2) });
    expect(cell.grads.weightIh.every(Number.isFinite)).toBe(true);
  });
});

/** Outputs, final state, dInputs, dInitialState and every gradient of one forward and backward. */
function pass(make: () => RecurrentModule<CellState>, x: Float32Array, dOutputs: Float32Array, lengths: number[], B: number): Float32Array[] {
  const m = make();
  const { outputs, finalState } = m.forward(x, { batch: B, lengths });
  const { dInputs, dInitialState } = m.backward({ dOutputs });
  return [outputs, ...Object.values(finalState), dInputs, ...Object.values(dInitialState), ...m.parameters().map((p) => p.grad)];
}

function poison(a: Float32Array, lengths: number[], T: number, B: number, F: number, v: number): Float32Array {
  const out = a.slice();
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) if (t >= lengths[b]!) out.fill(v, (t * B + b) * F, (t * B + b + 1) * F);
  return out;
}

describe('gradCheck', () => {
  const lin = new Linear({ inFeatures: 2, outFeatures: 1, seed: 1 });
  const x = randn(2, 3);
  const wrong = (): void => { lin.grads.weight.fill(1234); };
  const loss = (): number => lin.run(x, 1)[0]!;
  const params = () => [{ name: 'w', value: lin.params.weight, grad: lin.grads.weight }];

  it('refuses bad options, naming them (rtol −1 or samples 0 would have reported ok)', () => {
    const bad: [string, unknown][] = [
      ['rtol', -1], ['rtol', NaN], ['rtol', Infinity], ['rtol', '1'], ['atol', -1e-3], ['eps', 0], ['eps', -1e-2], ['eps', Infinity],
      ['samples', 0], ['samples', 1.5], ['samples', -1], ['samples', NaN], ['seed', NaN], ['seed', '1'],
    ];
    for (const [name, v] of bad) expectLibraryError(() => gradCheck({ params: params(), loss, backward: wrong, [name]: v }), name);
    expectLibraryError(() => gradCheck({ params: params(), loss, backward: wrong, rtol: 0, atol: 0 }), 'atol');
    expectLibraryError(() => gradCheck({ params: [{ name: 'w', value: lin.params.weight, grad: lin.params.weight }], loss, backward: wrong }), 'params[0].grad');
    expect(gradCheck({ params: params(), loss, backward: wrong }).ok).toBe(false);
  });

  it('restores every value bit for bit when loss() or backward() throws at any call', () => {
    const { int } = picker(7);
    const w = lin.params.weight;
    w[0] = NaN;   // a NaN payload survives too
    const before = new Uint32Array(w.buffer, w.byteOffset, w.length).slice();
    for (let k = 0; k < 20; k++) {
      let calls = 0;
      const failAt = int(4);
      const throwing = (): number => { if (calls++ === failAt) throw new Error('loss: boom'); return loss(); };
      expect(() => gradCheck({ params: params(), loss: throwing, backward: () => {} })).toThrow('loss: boom');
      expect(new Uint32Array(w.buffer, w.byteOffset, w.length)).toEqual(before);
    }
    expect(() => gradCheck({ params: params(), loss, backward: () => { w[1] = 7; throw new Error('backward: boom'); } })).toThrow('backward: boom');
    expect(new Uint32Array(w.buffer, w.byteOffset, w.length)).toEqual(before);
  });
});

describe('ownership: a forward result is consumed once, by its maker', () => {
  it('cells', () => {
    for (const make of [() => new LSTMCell({ inputSize: 2, hiddenSize: 3, seed: 1 }), () => new GRUCell({ inputSize: 2, hiddenSize: 3, seed: 1 })]) {
      const a = make(), b = make();
      const f = b.forward(randn(2, 1), b.initialState(1) as never, 1);
      expectLibraryError(() => a.backward(f as never, { h: randn(3, 2) }), 'step');
      const tape = (f as unknown as { tape: { constructor: new (...args: unknown[]) => unknown } }).tape;
      const forged = new tape.constructor(b, 1, 1, false) as { ready: boolean };
      forged.ready = true;
      expectLibraryError(() => b.backward({ state: f.state, tape: forged } as never, { h: randn(3, 2) }), 'step');
      b.backward(f as never, { h: randn(3, 2) });
      expectLibraryError(() => b.backward(f as never, { h: randn(3, 2) }), 'backward');
    }
  });

  it('Linear', () => {
    const a = new Linear({ inFeatures: 2, outFeatures: 2 }), b = new Linear({ inFeatures: 2, outFeatures: 2 });
    const f = b.forward(randn(2, 1), 1);
    expectLibraryError(() => a.backward(f, randn(2, 2)), 'forward');
    const Tape = (f.tape as unknown as { constructor: new (...args: unknown[]) => unknown }).constructor;
    expectLibraryError(() => b.backward({ y: f.y, tape: new Tape(b, 1000, new Float32Array(1)) } as never, randn(2000, 2)), 'forward');
    b.backward(f, randn(2, 2));
    expectLibraryError(() => b.backward(f, randn(2, 2)), 'forward');
  });

  it('Embedding', () => {
    const a = new Embedding({ numEmbeddings: 4, embeddingDim: 2 }), b = new Embedding({ numEmbeddings: 4, embeddingDim: 2 });
    const f = b.forward([0, 3], 1);
    expectLibraryError(() => a.backward(f, randn(4, 1)), 'forward');
    b.backward(f, randn(4, 1));
    expectLibraryError(() => b.backward(f, randn(4, 1)), 'forward');
    expectLibraryError(() => b.run(new Proxy(new Int32Array(2), {}) as never, 1), 'indices');
    expectLibraryError(() => b.backward(b.forward([1], 1), b.grads.weight.subarray(0, 2)), 'dy');
  });

  it('runners, stacks, TBPTT: one backward per forward', () => {
    const mods: RecurrentModule<CellState>[] = [
      new SequenceRunner(new LSTMCell({ inputSize: 2, hiddenSize: 2 })) as RecurrentModule<CellState>,
      new GRU({ inputSize: 2, hiddenSize: 2, numLayers: 2, bidirectional: true }) as RecurrentModule<CellState>,
    ];
    for (const m of mods) {
      m.forward(randn(4, 1), { batch: 1 });
      m.backward({});
      expectLibraryError(() => m.backward({}), 'backward');
    }
    const tb = new TruncatedBPTT(new LSTMCell({ inputSize: 2, hiddenSize: 2 }), { batch: 1 });
    tb.forward(randn(4, 1));
    tb.backward({});
    expectLibraryError(() => tb.backward({}), 'backward');
  });
});

describe('read once, bounded', () => {
  it('options and states with getters: each read once, the values checked are the values used', () => {
    const reads: Record<string, number> = {};
    const flip = (name: string, first: unknown, later: unknown) => ({
      get() { reads[name] = (reads[name] ?? 0) + 1; return reads[name] === 1 ? first : later; }, enumerable: true,
    });
    const opts = Object.defineProperties({}, {
      inputSize: flip('inputSize', 2, 1e9), hiddenSize: flip('hiddenSize', 3, -1), numLayers: flip('numLayers', 2, 1e9),
      bidirectional: flip('bidirectional', true, 'x'), bias: flip('bias', true, 7), seed: flip('seed', 1, NaN),
    });
    const rnn = new LSTM(opts as never);
    expect([rnn.inputSize, rnn.hiddenSize, rnn.numLayers, rnn.bidirectional]).toEqual([2, 3, 2, true]);
    expect(Object.values(reads).every((n) => n === 1)).toBe(true);
    // A state whose h changes between reads: the stack runs on the first one throughout.
    const h1 = randn(4 * 3, 5), h2 = new Float32Array(5);
    let n = 0;
    const state = { get h() { return n++ === 0 ? h1 : h2; }, c: randn(12, 6) };
    const x = randn(2 * 1 * 2, 7);
    const a = rnn.forward(x, { batch: 1, initialState: state as never });
    const b = rnn.forward(x, { batch: 1, initialState: { h: h1, c: state.c } });
    expect(bitwiseEqual(a.outputs, b.outputs)).toBe(true);
    expect(n).toBe(1);
  });

  it('a Proxy answering every weight_ih_l* key ends, with a library error', () => {
    const real = new LSTM({ inputSize: 2, hiddenSize: 2 }).stateDict();
    const every = new Proxy(real, {
      get: (t, k) => (typeof k === 'string' && k.startsWith('weight_ih_l') ? real.weight_ih_l0 : Reflect.get(t, k)),
      has: (t, k) => (typeof k === 'string' && k.startsWith('weight_ih_l')) || Reflect.has(t, k),
      getOwnPropertyDescriptor: (t, k) => (typeof k === 'string' && k.startsWith('weight_ih_l')
        ? { value: real.weight_ih_l0, enumerable: true, configurable: true, writable: true } : Reflect.getOwnPropertyDescriptor(t, k)),
    });
    const rnn = LSTM.fromPyTorch(every);   // its own keys are the real ones: one layer
    expect(rnn.numLayers).toBe(1);
    const many = new Proxy(real, { ownKeys: () => Array.from({ length: 70000 }, (_, i) => `weight_ih_l${i}`) });
    expectLibraryError(() => LSTM.fromPyTorch(many), 'stateDict');
  });
});

describe('library errors only', () => {
  it("Proxy'd, foreign and revoked values in every array argument: library errors", () => {
    const cell = new LSTMCell({ inputSize: 2, hiddenSize: 2 });
    const lin = new Linear({ inFeatures: 2, outFeatures: 2 });
    const runner = new SequenceRunner(cell);
    const calls: [string, (v: unknown) => unknown][] = [
      ['x', (v) => cell.step(v as never, cell.initialState(1), 1)],
      ['state', (v) => cell.step(randn(2, 1), v as never, 1)],
      ['state.h', (v) => cell.forward(randn(2, 1), { h: v, c: new Float32Array(2) } as never, 1)],
      ['inputs', (v) => runner.run(v as never, { batch: 1 })],
      ['options', (v) => runner.run(randn(2, 1), v as never)],
      ['lengths', (v) => runner.run(randn(2, 1), { batch: 1, lengths: v as never })],
      ['x', (v) => lin.run(v as never, 1)],
      ['pred', (v) => mseLoss(v as never, randn(2, 1))],
      ['target', (v) => mseLoss(randn(2, 1), v as never)],
      ['logits', (v) => softmaxCrossEntropy(v as never, [0], 2)],
      ['stateDict', (v) => lin.loadStateDict(v as never)],
      ['out', (v) => orthogonal(v as never, 2, 2, new Random(0))],
      ['C', (v) => kernels.gemmNN(v as never, 0, 1, randn(1, 1), 0, 1, randn(1, 1), 0, 1, 1, 1, 1, false)],
      ['x', (v) => kernels.sigmoid(v as never)],
      ['params', (v) => gradCheck({ params: v as never, loss: () => 0, backward: () => {} })],
    ];
    const values = [...HOSTILE.filter((v) => typeof v !== 'number'), proxied(2), revoked(), new Proxy([1], { get() { throw new RangeError('x: proxy'); } })];
    for (const [name, call] of calls) {
      for (const v of values) {
        let threw = false;
        try { call(v); } catch { threw = true; }
        if (threw) expectLibraryError(() => call(v));
      }
      expectLibraryError(() => call(proxied(2)), name === 'state' || name === 'options' || name === 'stateDict' || name === 'params' ? undefined : name);
    }
  });

  it("saving: Proxy'd tensor data and hostile state dicts are library errors", () => {
    expectLibraryError(() => saveSafetensors({ w: { dtype: 'float32', shape: [2], data: proxied(2) } }), 'tensors["w"].data');
    expectLibraryError(() => saveSafetensors({ w: revoked() } as never), 'tensors["w"]');
    const custom = { stateDict: () => ({ w: { dtype: 'float32', shape: [2], data: proxied(2) } }), loadStateDict: () => {} };
    expectLibraryError(() => saveModel({ custom } as never), 'parts.custom.stateDict()["w"]');
    const revokedDict = { stateDict: () => revoked(), loadStateDict: () => {} };
    expectLibraryError(() => saveModel({ custom: revokedDict } as never), 'parts.custom');
  });

  it('public helpers check their arguments', () => {
    expectLibraryError(() => kernels.sigmoid(null as never), 'x');
    expectLibraryError(() => kernels.tanh(undefined as never), 'x');
    expectLibraryError(() => kernels.gemmNN(new Float32Array(4), 0, 2, new Float32Array(4), 0, 2, new Float32Array(4), 0, 2, 3, 2, 2, false), 'C');
    const liar = Object.defineProperty(new Float32Array(4), 'length', { value: 1000 });
    expectLibraryError(() => kernels.gemmNN(liar, 0, 20, new Float32Array(400), 0, 20, new Float32Array(400), 0, 20, 20, 20, 20, false), 'C');
    expectLibraryError(() => new LSTMCell({ inputSize: 2, hiddenSize: 2 }).step(liar, new LSTMCell({ inputSize: 2, hiddenSize: 2 }).initialState(1), 1), 'got 4');
    const cell = new LSTMCell({ inputSize: 1, hiddenSize: 1 }) as unknown as { createTape(s: number, b: number, t: boolean): unknown };
    for (const [s, b] of [[-1, 1], [1, 0], [1.5, 1], [NaN, 1], [1, 2 ** 40]]) expectLibraryError(() => cell.createTape(s!, b!, false));
  });
});

describe('overlapping outputs', () => {
  it('mseLoss and softmaxCrossEntropy: a gradient array overlapping its inputs gives the same result', () => {
    const { int } = picker(8);
    for (let k = 0; k < 30; k++) {
      const n = 2 + int(6), shift = int(n);
      const buf = randn(2 * n + 1, 20 + k);
      const pred = buf.subarray(0, n), target = randn(n, 40 + k);
      const want = new Float32Array(n);
      const lossWant = mseLoss(pred.slice(), target, want);
      const d = buf.subarray(shift, shift + n);   // overlaps pred
      const lossGot = mseLoss(pred, target, d);
      expect(lossGot).toBe(lossWant);
      expect(bitwiseEqual(buf.subarray(shift, shift + n), want)).toBe(true);
    }
    const logits = randn(6, 1), copy = logits.slice(), want = new Float32Array(6);
    softmaxCrossEntropy(copy, [1, 2], 3, want);
    softmaxCrossEntropy(logits, [1, 2], 3, logits);
    expect(bitwiseEqual(logits, want)).toBe(true);
    const C = new Float32Array(8);
    expectLibraryError(() => kernels.gemmNN(C, 0, 2, C, 2, 2, randn(4, 1), 0, 2, 2, 2, 2, false), 'C');
  });
});

describe('overlapping parameters and outputs', () => {
  it('optimizers and clipGradNorm refuse values and gradients sharing memory; Linear refuses dy over its grads; step refuses out.h over out.c', () => {
    const { int } = picker(9);
    for (let k = 0; k < 40; k++) {
      const buf = new Float32Array(64);
      const n = 2 + int(3);
      // n parameters of 4 values and 4 gradients in one buffer, apart; then one of them moved onto another.
      const arrays = Array.from({ length: 2 * n }, (_, i) => buf.subarray(8 * i, 8 * i + 4));
      const params = Array.from({ length: n }, (_, i) => ({ name: `p${i}`, value: arrays[2 * i]!, grad: arrays[2 * i + 1]! }));
      expect(() => new Adam(params)).not.toThrow();
      const a = int(2 * n), b = (a + 1 + int(2 * n - 1)) % (2 * n), shift = int(4);
      const moved = buf.subarray(8 * b + shift, 8 * b + shift + 4);
      const bad = params.map((p, i) => ({ ...p, value: 2 * i === a ? moved : p.value, grad: 2 * i + 1 === a ? moved : p.grad }));
      expectLibraryError(() => new SGD(bad, { lr: 0.1 }), 'params[');
      expectLibraryError(() => clipGradNorm(bad, 1), 'expected memory apart');
    }
    const fc = new Linear({ inFeatures: 2, outFeatures: 2 });
    expectLibraryError(() => fc.backward(fc.forward(randn(2, 1), 1), fc.grads.weight.subarray(0, 2)), 'dy');
    const cell = new LSTMCell({ inputSize: 1, hiddenSize: 2 }), s = new Float32Array(3);
    expectLibraryError(() => cell.step(randn(1, 1), cell.initialState(1), 1, { h: s.subarray(0, 2), c: s.subarray(1, 3) }), 'out.c');
    // targets sharing memory with dLogits: read in full before dLogits is written.
    const logits = randn(6, 2), want = new Float32Array(6);
    const lossWant = softmaxCrossEntropy(logits, Int32Array.from([1, 2]), 3, want);
    const shared = new ArrayBuffer(24), dLogits = new Float32Array(shared), targets = new Int32Array(shared, 0, 2);
    targets.set([1, 2]);
    expect(softmaxCrossEntropy(logits, targets, 3, dLogits)).toBe(lossWant);
    expect(bitwiseEqual(dLogits, want)).toBe(true);
  });
});
