/**
 * The save/load contract every savable class keeps: a static `kind`, `config()` (a new plain
 * object, kind included) and `fromConfig` (modules: `Cls.fromConfig(config)`, optimizers:
 * `Cls.fromConfig(params, config)`). fromConfig(x.config()) has x's configuration, and with x's
 * state dict loaded computes exactly what x computes. And the registry (src/io/registry.ts):
 * parts recognised by their class, configurations read only through config() and checked
 * against the kind's schema, stored in schema order.
 */
import { describe, expect, it } from 'vitest';
import {
  Adam, GRU, GRUCell, Linear, LSTM, LSTMCell, SGD, type Parameter, type Tensor,
} from '../../src/index.js';
import { buildModel, loadModel, saveModel, type ModelJSON } from '../../src/io/model.js';
import { bitwiseEqual, randn } from '../helpers/cells.js';

/** Module cases: a module built with a seed, and what it computes on fixed inputs. */
const moduleCases = [
  {
    name: 'LSTMCell', make: () => new LSTMCell({ inputSize: 3, hiddenSize: 4, seed: 3 }),
    config: { kind: 'LSTMCell', inputSize: 3, hiddenSize: 4, bias: true, projSize: 0, peephole: false },
    rebuild: (c: unknown) => LSTMCell.fromConfig(c as never),
    out: (m: unknown) => { const c = m as LSTMCell; return c.step(randn(6, 1), c.initialState(2), 2).h; },
  },
  {
    name: 'LSTMCell without bias', make: () => new LSTMCell({ inputSize: 3, hiddenSize: 4, bias: false, seed: 3 }),
    config: { kind: 'LSTMCell', inputSize: 3, hiddenSize: 4, bias: false, projSize: 0, peephole: false },
    rebuild: (c: unknown) => LSTMCell.fromConfig(c as never),
    out: (m: unknown) => { const c = m as LSTMCell; return c.step(randn(6, 1), c.initialState(2), 2).c; },
  },
  {
    name: 'GRUCell', make: () => new GRUCell({ inputSize: 3, hiddenSize: 4, resetAfter: true, seed: 4 }),
    config: { kind: 'GRUCell', inputSize: 3, hiddenSize: 4, bias: true, resetAfter: true },
    rebuild: (c: unknown) => GRUCell.fromConfig(c as never),
    out: (m: unknown) => { const c = m as GRUCell; return c.step(randn(6, 1), c.initialState(2), 2).h; },
  },
  {
    name: 'LSTM', make: () => new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 5 }),
    config: { kind: 'LSTM', inputSize: 3, hiddenSize: 4, bias: true, numLayers: 2, bidirectional: true, batchFirst: false, dropout: 0, projSize: 0, peephole: false },
    rebuild: (c: unknown) => LSTM.fromConfig(c as never),
    out: (m: unknown) => (m as LSTM).run(randn(5 * 2 * 3, 1), { batch: 2, lengths: [5, 3] }).outputs,
  },
  {
    name: 'GRU', make: () => new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, bias: false, seed: 6 }),
    config: { kind: 'GRU', inputSize: 3, hiddenSize: 4, bias: false, numLayers: 2, bidirectional: false, resetAfter: false, batchFirst: false, dropout: 0 },
    rebuild: (c: unknown) => GRU.fromConfig(c as never),
    out: (m: unknown) => (m as GRU).run(randn(5 * 2 * 3, 1), { batch: 2 }).outputs,
  },
  {
    name: 'Linear', make: () => new Linear({ inFeatures: 3, outFeatures: 2, seed: 7 }),
    config: { kind: 'Linear', inFeatures: 3, outFeatures: 2, bias: true },
    rebuild: (c: unknown) => Linear.fromConfig(c as never),
    out: (m: unknown) => (m as Linear).forward(randn(6, 1), 2).y,
  },
];

describe('config() and fromConfig of the modules', () => {
  it.each(moduleCases)('$name: config() is a new plain object with kind; fromConfig of it computes the same with the same weights', (c) => {
    const x = c.make();
    const config = x.config();
    expect(config).toEqual(c.config);
    expect(Object.keys(config)).toEqual(Object.keys(c.config));   // the order files store them in
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
    expect(x.config()).not.toBe(config);
    (config as { inputSize?: number; inFeatures?: number }).inputSize = 99;
    (config as { inputSize?: number; inFeatures?: number }).inFeatures = 99;
    expect(x.config()).toEqual(c.config);   // the object is the caller's

    const y = c.rebuild(x.config());
    expect(y.constructor).toBe(x.constructor);
    expect(y.config()).toEqual(c.config);
    expect(bitwiseEqual(c.out(y), c.out(x))).toBe(false);   // seed 0's weights, not x's
    y.loadStateDict(x.stateDict());
    expect(bitwiseEqual(c.out(y), c.out(x))).toBe(true);
  });

  it('static kind is the kind files store', () => {
    expect([LSTMCell.kind, GRUCell.kind, LSTM.kind, GRU.kind, Linear.kind, SGD.kind, Adam.kind])
      .toEqual(['LSTMCell', 'GRUCell', 'LSTM', 'GRU', 'Linear', 'SGD', 'Adam']);
  });

  it('fromConfig refuses another kind, a missing field, a bad value', () => {
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3 }).config();
    expect(() => GRU.fromConfig(lstm as never)).toThrow('config.kind: expected "GRU", got string "LSTM"');
    expect(() => LSTM.fromConfig(42 as never)).toThrow('config: expected an object, got 42');
    const { numLayers: _, ...noLayers } = lstm;
    expect(() => LSTM.fromConfig(noLayers as never)).toThrow('config.numLayers: expected a value (the LSTM configuration\'s), got undefined');
    expect(() => LSTM.fromConfig({ ...lstm, hiddenSize: 0 })).toThrow('hiddenSize: expected a positive integer, got 0');
    expect(() => Linear.fromConfig({ kind: 'Linear', inFeatures: 2, outFeatures: 1, bias: 'yes' as never }))
      .toThrow('bias: expected a boolean, got string "yes"');
    expect(() => GRUCell.fromConfig({ kind: 'GRUCell', inputSize: 2, hiddenSize: 1, bias: true } as never))
      .toThrow('config.resetAfter: expected a value (the GRUCell configuration\'s), got undefined');
  });
});

/** Fresh parameters of fixed values (two tensors). */
function params(): Parameter[] {
  return [5, 3].map((n, i) => ({ name: `p${i}`, value: randn(n, 10 + i), grad: new Float32Array(n) }));
}

/** Sets fixed gradients (step k) and steps. */
function stepWith(opt: SGD | Adam, ps: Parameter[], k: number): void {
  ps.forEach((p, i) => p.grad.set(randn(p.grad.length, 100 * k + i)));
  opt.step();
}

const optimizerCases = [
  {
    name: 'SGD',
    make: (ps: Parameter[]) => new SGD(ps, { lr: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0.01 }),
    rebuild: (ps: Parameter[], c: unknown) => SGD.fromConfig(ps, c as never),
    config: { kind: 'SGD', lr: 0.05, momentum: 0.9, nesterov: false, weightDecay: 0.01, dampening: 0.5, step: 2 },
  },
  {
    name: 'SGD (Nesterov)',
    make: (ps: Parameter[]) => new SGD(ps, { lr: 0.1, momentum: 0.5, nesterov: true }),
    rebuild: (ps: Parameter[], c: unknown) => SGD.fromConfig(ps, c as never),
    config: { kind: 'SGD', lr: 0.05, momentum: 0.5, nesterov: true, weightDecay: 0, dampening: 0, step: 2 },
  },
  {
    name: 'Adam',
    make: (ps: Parameter[]) => new Adam(ps, { lr: 0.1, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1, decoupled: true }),
    rebuild: (ps: Parameter[], c: unknown) => Adam.fromConfig(ps, c as never),
    config: { kind: 'Adam', lr: 0.05, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1, decoupled: true, step: 2 },
  },
];

describe('config() and fromConfig of the optimizers', () => {
  it.each(optimizerCases)('$name: config() holds lr and step; fromConfig plus the state dict steps on identically', (c) => {
    const pa = params(), pb = params();
    const a = c.make(pa);
    stepWith(a, pa, 0);
    stepWith(a, pa, 1);
    a.lr = 0.05;
    const config = a.config();
    expect(config).toEqual(c.config);
    expect(Object.keys(config)).toEqual(Object.keys(c.config));
    expect(a.config()).not.toBe(config);

    const b = c.rebuild(pb, config);
    expect(b.constructor).toBe(a.constructor);
    expect(b.config()).toEqual({ ...c.config, step: 0 });   // the step count comes with the buffers
    b.loadStateDict(a.stateDict());
    expect(b.config()).toEqual(c.config);
    pb.forEach((p, i) => p.value.set(pa[i]!.value));
    for (let k = 2; k < 4; k++) { stepWith(a, pa, k); stepWith(b, pb, k); }
    pa.forEach((p, i) => expect(bitwiseEqual(pb[i]!.value, p.value)).toBe(true));
  });

  it('fromConfig refuses another kind or a missing field', () => {
    const sgd = new SGD(params(), { lr: 0.1 }).config();
    expect(() => Adam.fromConfig(params(), sgd as never)).toThrow('config.kind: expected "Adam", got string "SGD"');
    const { dampening: _, ...noDampening } = sgd;
    expect(() => SGD.fromConfig(params(), noDampening as never))
      .toThrow('config.dampening: expected a value (the SGD configuration\'s), got undefined');
    expect(() => SGD.fromConfig(params(), { ...sgd, lr: -1 })).toThrow('lr: expected a finite number >= 0, got -1');
  });
});

describe('the registry', () => {
  it('recognises a part by its class: a subclass saves as a custom module, keys and shapes only', () => {
    class Tagged extends Linear {}
    const tagged = new Tagged({ inFeatures: 2, outFeatures: 1, seed: 1 });
    const json = saveModel({ tagged });
    expect(json.parts.tagged).toEqual({ kind: 'module' });
    expect(Object.keys(buildModel(json))).toEqual([]);
    const back = new Tagged({ inFeatures: 2, outFeatures: 1, seed: 2 });
    loadModel(json, { tagged: back });
    expect(bitwiseEqual(back.params.weight, tagged.params.weight)).toBe(true);
  });

  it('an object of the right shape is a custom module or optimizer by its state dict', () => {
    const vals = { dtype: 'float32' as const, shape: [1], data: Float32Array.of(1) };
    const mod = { stateDict: (): Record<string, Tensor> => ({ w: vals }), loadStateDict: () => {} };
    const opt = { stateDict: () => ({ step: 3, tensors: { '0.m': vals } }), loadStateDict: () => {} };
    expect(saveModel({ mod, opt }).parts).toEqual({ mod: { kind: 'module' }, opt: { kind: 'optimizer', step: 3 } });
  });

  it('reads the configuration only through config(), and stores it in schema order', () => {
    const cell = new LSTMCell({ inputSize: 2, hiddenSize: 3 });
    const sgd = new SGD(cell.parameters(), { lr: 0.1 });
    // A class may build its config() any way it likes (fields renamed, in another order)…
    sgd.config = () => ({ step: 4, dampening: 0.5, weightDecay: 0, nesterov: false, momentum: 0, lr: 0.1, kind: 'SGD' });
    const text = JSON.stringify(saveModel({ cell, sgd }).parts.sgd);
    // …what is saved is config()'s values, in the schema's order.
    expect(text).toBe('{"kind":"SGD","lr":0.1,"momentum":0,"nesterov":false,"weightDecay":0,"dampening":0.5,"step":4}');
  });

  it('a config() that breaks the schema is refused at save, naming the part and the field', () => {
    const rnn = new LSTM({ inputSize: 2, hiddenSize: 3 });
    const good = rnn.config();
    rnn.config = () => ({ ...good, hiddenSize: 1.5 });
    expect(() => saveModel({ rnn })).toThrow(new TypeError('parts.rnn.hiddenSize: expected a non-negative integer, got 1.5'));
    rnn.config = () => ({ ...good, bidirectional: 1 as never });
    expect(() => saveModel({ rnn })).toThrow('parts.rnn.bidirectional: expected a boolean, got 1');
    rnn.config = () => ({ ...good, seed: 3 });
    expect(() => saveModel({ rnn }))
      .toThrow('parts.rnn.config(): expected only the fields kind, inputSize, hiddenSize, bias, numLayers, bidirectional, batchFirst, dropout, projSize, peephole of an LSTM, got also "seed"');
    rnn.config = () => ({ ...good, kind: 'GRU' as never });
    expect(() => saveModel({ rnn })).toThrow('parts.rnn.config().kind: expected "LSTM" (its class\'s kind), got string "GRU"');
    rnn.config = () => null as never;
    expect(() => saveModel({ rnn })).toThrow('parts.rnn.config(): expected an object, got null');
    const adam = new Adam(rnn.parameters());
    adam.config = () => ({ ...new Adam(rnn.parameters()).config(), eps: Infinity });
    expect(() => saveModel({ adam })).toThrow('parts.adam.eps: expected a finite number, got Infinity');
  });

  it('a saved configuration with fields the schema does not know still loads and builds', () => {
    const head = new Linear({ inFeatures: 2, outFeatures: 1, seed: 1 });
    const json = JSON.parse(JSON.stringify(saveModel({ head }))) as ModelJSON;
    (json.parts.head as unknown as Record<string, unknown>).note = 'added by hand';
    const back = new Linear({ inFeatures: 2, outFeatures: 1, seed: 2 });
    loadModel(json, { head: back });
    expect(bitwiseEqual(back.params.weight, head.params.weight)).toBe(true);
    expect(buildModel(json, { expect: { head: Linear } }).head.config()).toEqual(head.config());
  });
});
