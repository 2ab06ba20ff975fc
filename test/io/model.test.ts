/**
 * saveModel/loadModel (JSON) and saveModelSafetensors/loadModelSafetensors: bit-exact round trips
 * of an LSTM stack + Linear + Adam after training, identical continued training, the GRU z-row
 * convention (resetAfter true and false), NaN/±Infinity/−0 and arbitrary float32 bits through
 * JSON, buildModel, partial loads, custom parts, and errors that change nothing.
 */
import { describe, expect, it } from 'vitest';
import {
  tensor, Adam, GRU, GRUCell, Linear, LSTM, LSTMCell, mseLoss, Random, SGD, type Tensor,
} from '../../src/index.js';
import {
  buildModel, loadModel, loadModelSafetensors, saveModel, saveModelSafetensors,
  type ModelJSON, type Savable,
} from '../../src/io/model.js';
import { loadSafetensorsMetadata, saveSafetensors } from '../../src/io/safetensors.js';
import { bitwiseEqual, randn } from '../helpers/cells.js';

const I = 3, H = 6, O = 2, T = 5, B = 2;

/** An LSTM stack, a Linear head and Adam over both. */
function makeModel(seed: number, lr = 0.01) {
  const rnn = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, seed });
  const head = new Linear({ inFeatures: H, outFeatures: O, seed: seed + 1 });
  const opt = new Adam([...rnn.parameters(), ...head.parameters()], { lr, weightDecay: 1e-3 });
  return { rnn, head, opt };
}
type Model = ReturnType<typeof makeModel>;

/** One training step on batch k (deterministic data). */
function trainStep(m: Model, k: number): number {
  const x = randn(T * B * I, 1000 + k), target = randn(T * B * O, 2000 + k);
  m.opt.zeroGrad();
  const { outputs } = m.rnn.forward(x, { batch: B });
  const f = m.head.forward(outputs, T * B);
  const dy = new Float32Array(f.y.length);
  const loss = mseLoss(f.y, target, dy);
  m.rnn.backward({ dOutputs: m.head.backward(f, dy) });
  m.opt.step();
  return loss;
}

/** JSON text and back, as a file would. */
function throughJSON(json: ModelJSON): ModelJSON {
  return JSON.parse(JSON.stringify(json)) as ModelJSON;
}

function expectDictsBitwise(a: Record<string, Tensor>, b: Record<string, Tensor>): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const k of Object.keys(a)) {
    expect(b[k]!.shape, k).toEqual(a[k]!.shape);
    expect(bitwiseEqual(a[k]!.data, b[k]!.data), k).toBe(true);
  }
}

function expectModelsBitwise(a: Model, b: Model): void {
  expectDictsBitwise(a.rnn.stateDict(), b.rnn.stateDict());
  expectDictsBitwise(a.head.stateDict(), b.head.stateDict());
  const sa = a.opt.stateDict(), sb = b.opt.stateDict();
  expect(sb.step).toBe(sa.step);
  expectDictsBitwise(sa.tensors, sb.tensors);
  expect(b.opt.lr).toBe(a.opt.lr);
}

type Format = 'json' | 'safetensors';
const save = (f: Format, parts: Record<string, Savable>) =>
  f === 'json' ? JSON.stringify(saveModel(parts)) : saveModelSafetensors(parts);
const load = (f: Format, saved: string | Uint8Array, parts: Record<string, Savable>, partial = false): void =>
  f === 'json' ? loadModel(saved as string, parts, { partial }) : loadModelSafetensors(saved as Uint8Array, parts, { partial });

describe.each<Format>(['json', 'safetensors'])('LSTM stack + Linear + Adam through %s', (format) => {
  it('round trips bit for bit after training; the loaded model trains on identically', () => {
    const a = makeModel(1);
    for (let k = 0; k < 3; k++) trainStep(a, k);
    const saved = save(format, { rnn: a.rnn, head: a.head, opt: a.opt });

    const b = makeModel(99, 0.5);   // other weights, other lr
    expect(bitwiseEqual(b.rnn.cells[0]!.params.weightIh, a.rnn.cells[0]!.params.weightIh)).toBe(false);
    load(format, saved, { rnn: b.rnn, head: b.head, opt: b.opt });
    expectModelsBitwise(a, b);
    expect(b.opt.stepCount).toBe(3);
    expect(b.opt.lr).toBe(0.01);

    for (let k = 3; k < 6; k++) expect(trainStep(b, k)).toBe(trainStep(a, k));
    expectModelsBitwise(a, b);
  });

  it('buildModel rebuilds the modules; an optimizer over them loads with partial: true', () => {
    const a = makeModel(2);
    for (let k = 0; k < 2; k++) trainStep(a, k);
    const saved = save(format, { rnn: a.rnn, head: a.head, opt: a.opt });
    const built = buildModel(format === 'json' ? JSON.parse(saved as string) as ModelJSON : saved as Uint8Array);
    expect(Object.keys(built)).toEqual(['rnn', 'head']);
    const rnn = built.rnn as LSTM, head = built.head as Linear;
    expect(rnn).toBeInstanceOf(LSTM);
    expect([rnn.numLayers, rnn.hiddenSize, rnn.inputSize, rnn.bidirectional]).toEqual([2, H, I, false]);
    expect(head).toBeInstanceOf(Linear);
    const opt = new Adam([...rnn.parameters(), ...head.parameters()], { lr: 1, weightDecay: 1e-3 });
    load(format, saved, { opt }, true);
    const b = { rnn, head, opt };
    expectModelsBitwise(a, b);
    for (let k = 2; k < 4; k++) { trainStep(a, k); trainStep(b, k); }
    expectModelsBitwise(a, b);
  });

  it('partial: true loads the weights alone; without it a missing part is an error', () => {
    const a = makeModel(3);
    trainStep(a, 0);
    const saved = save(format, { rnn: a.rnn, head: a.head, opt: a.opt });
    const b = makeModel(4);
    expect(() => load(format, saved, { rnn: b.rnn, head: b.head }))
      .toThrow('parts: missing part "opt" (saved as an Adam); pass every saved part, or { partial: true } to load only some');
    load(format, saved, { rnn: b.rnn, head: b.head }, true);
    expectDictsBitwise(a.rnn.stateDict(), b.rnn.stateDict());
    expect(b.opt.stepCount).toBe(0);
  });

  it('the GRU z convention survives: resetAfter true and false, stacks and cells, bias or not', () => {
    const parts = {
      seed: new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 5 }),
      after: new GRU({ inputSize: I, hiddenSize: H, numLayers: 1, bidirectional: true, resetAfter: true, seed: 6 }),
      cell: new GRUCell({ inputSize: I, hiddenSize: H, resetAfter: true, seed: 7 }),
      nobias: new GRUCell({ inputSize: I, hiddenSize: H, bias: false, seed: 8 }),
    };
    // A zero in a z row becomes −0 in the PyTorch convention: it must come back +0.
    parts.cell.params.weightHh[H * H] = 0;
    const saved = save(format, parts);
    const fresh = {
      seed: new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 50 }),
      after: new GRU({ inputSize: I, hiddenSize: H, numLayers: 1, bidirectional: true, resetAfter: true, seed: 60 }),
      cell: new GRUCell({ inputSize: I, hiddenSize: H, resetAfter: true, seed: 70 }),
      nobias: new GRUCell({ inputSize: I, hiddenSize: H, bias: false, seed: 80 }),
    };
    load(format, saved, fresh);
    const internal = (m: GRU | GRUCell) => (m instanceof GRU ? m.cells : [m]).flatMap((c) => c.parameters().map((p) => p.value));
    for (const k of Object.keys(parts) as (keyof typeof parts)[]) {
      const want = internal(parts[k]), got = internal(fresh[k]);
      expect(got.length).toBe(want.length);
      want.forEach((w, i) => expect(bitwiseEqual(got[i]!, w), `${k} parameter ${i}`).toBe(true));
    }
    expect(Object.is(fresh.cell.params.weightHh[H * H], 0)).toBe(true);
    // Stored in PyTorch's convention: the z rows negated.
    if (format === 'json') {
      const json = JSON.parse(saved as string) as ModelJSON;
      const stored = json.tensors['cell.weight_ih']!.data.map(Number);
      const w = parts.cell.params.weightIh;
      for (let i = 0; i < w.length; i++) {
        const zRow = i >= H * I && i < 2 * H * I;
        expect(Object.is(stored[i], zRow ? -w[i]! : w[i]!)).toBe(true);
      }
      expect(json.tensors['cell.weight_hh']!.data[H * H]).toBe('-0');
    }
  });

  it('SGD (with and without momentum), an LSTMCell and custom parts round trip', () => {
    const cell = new LSTMCell({ inputSize: 2, hiddenSize: 3, seed: 1 });
    const sgd = new SGD(cell.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
    const plain = new SGD(cell.parameters(), { lr: 0.2 });
    const custom = new CustomModule([1.5, -2, 3]);
    const customOpt = new CustomOptimizer(7, [0.25, 0.5]);
    for (const p of cell.parameters()) p.grad.set(randn(p.grad.length, 9));
    sgd.step(); sgd.step(); plain.step();
    const saved = save(format, { cell, sgd, plain, custom, customOpt });

    const cell2 = new LSTMCell({ inputSize: 2, hiddenSize: 3, seed: 2 });
    const sgd2 = new SGD(cell2.parameters(), { lr: 0.3, momentum: 0.9, nesterov: true });
    const plain2 = new SGD(cell2.parameters(), { lr: 0.4 });
    const custom2 = new CustomModule([0, 0, 0]), customOpt2 = new CustomOptimizer(0, [0, 0]);
    load(format, saved, { cell: cell2, sgd: sgd2, plain: plain2, custom: custom2, customOpt: customOpt2 });
    expectDictsBitwise(cell.stateDict(), cell2.stateDict());
    expect(sgd2.stepCount).toBe(2);
    expect(sgd2.lr).toBe(0.1);
    expectDictsBitwise(sgd.stateDict().tensors, sgd2.stateDict().tensors);
    expect(plain2.stepCount).toBe(1);
    expect(plain2.lr).toBe(0.2);
    expect(Array.from(custom2.values)).toEqual([1.5, -2, 3]);
    expect(customOpt2.step).toBe(7);
    expect(Array.from(customOpt2.buf)).toEqual([0.25, 0.5]);
  });
});

/** A module that is not one of the library's classes. */
class CustomModule {
  values: Float32Array;
  failOnLoad = false;
  constructor(v: number[]) { this.values = Float32Array.from(v); }
  stateDict(): Record<string, Tensor> {
    return { values: { dtype: 'float32', shape: [this.values.length], data: this.values.slice() } };
  }
  loadStateDict(sd: Record<string, unknown>): void {
    if (this.failOnLoad) throw new Error('CustomModule: refusing to load');
    this.values.set((sd.values as Tensor).data);
  }
}

/** An optimizer-shaped part that is not one of the library's classes. */
class CustomOptimizer {
  step: number;
  buf: Float32Array;
  constructor(step: number, buf: number[]) { this.step = step; this.buf = Float32Array.from(buf); }
  stateDict() {
    return { step: this.step, tensors: { '0.buf': { dtype: 'float32' as const, shape: [this.buf.length], data: this.buf.slice() } } };
  }
  loadStateDict(s: { step: number; tensors: Record<string, unknown> }): void {
    this.step = s.step;
    this.buf.set((s.tensors['0.buf'] as Tensor).data);
  }
}

describe('JSON numbers', () => {
  it('every float32 bit pattern but NaN round trips exactly through JSON text; NaN, ±Infinity, −0 as strings', () => {
    const n = 20000;
    const bits = new Uint32Array(n);
    const rng = new Random(42);
    for (let i = 0; i < n; i++) bits[i] = rng.nextUint32();
    // Edge patterns: ±0, smallest/largest subnormal, smallest normal, largest finite, ±Infinity, NaNs.
    bits.set([0x00000000, 0x80000000, 0x00000001, 0x007fffff, 0x00800000, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x3f800001]);
    const values = new Float32Array(bits.buffer);
    const layer = new Linear({ inFeatures: 100, outFeatures: n / 100, bias: false });
    layer.params.weight.set(values);
    const text = JSON.stringify(saveModel({ layer }));
    expect(text).toContain('"NaN"');
    expect(text).toContain('"-0"');
    expect(text).toContain('"Infinity"');
    expect(text).toContain('"-Infinity"');
    const back = new Linear({ inFeatures: 100, outFeatures: n / 100, bias: false });
    loadModel(text, { layer: back });
    const got = back.params.weight;
    let nans = 0;
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(values[i]!)) { nans++; expect(Number.isNaN(got[i]!)).toBe(true); continue; }
      expect(new Uint32Array(got.buffer, got.byteOffset, n)[i], `bits of element ${i}`).toBe(bits[i]);
    }
    expect(nans).toBeGreaterThan(2);   // random patterns include NaNs too
  });

  it('safetensors keeps even NaN payloads', () => {
    const layer = new Linear({ inFeatures: 2, outFeatures: 2, bias: false });
    const bits = Uint32Array.from([0x7fc00000, 0xffc00001, 0x7f800001, 0x80000000]);
    layer.params.weight.set(new Float32Array(bits.buffer));
    const back = new Linear({ inFeatures: 2, outFeatures: 2, bias: false });
    loadModelSafetensors(saveModelSafetensors({ layer }), { layer: back });
    expect(Array.from(new Uint32Array(back.params.weight.buffer))).toEqual(Array.from(bits));
  });

  it('writes the documented layout and metadata', () => {
    const head = new Linear({ inFeatures: 2, outFeatures: 1, seed: 1 });
    const opt = new Adam(head.parameters(), { lr: 0.5 });
    const json = saveModel({ head, opt }, { metadata: { note: 'hello' } });
    expect(json.format).toBe('recurrent-cells-model');
    expect(json.version).toBe(2);
    expect(json.parts).toEqual({
      head: { kind: 'Linear', inFeatures: 2, outFeatures: 1, bias: true },
      opt: { kind: 'Adam', lr: 0.5, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step: 0 },
    });
    expect(Object.keys(json.tensors)).toEqual(['head.weight', 'head.bias', 'opt.0.exp_avg', 'opt.1.exp_avg', 'opt.0.exp_avg_sq', 'opt.1.exp_avg_sq']);
    expect(json.tensors['head.weight']!.shape).toEqual([1, 2]);
    expect(json.metadata).toEqual({ note: 'hello' });
    const meta = loadSafetensorsMetadata(saveModelSafetensors({ head, opt }, { metadata: { note: 'hello' } }));
    expect(meta).toEqual({ note: 'hello', format: 'recurrent-cells-model', version: '2', parts: JSON.stringify(json.parts) });
  });
});

describe('errors: clear messages, nothing changed', () => {
  function trained(): { a: Model; json: ModelJSON; bytes: Uint8Array } {
    const a = makeModel(1);
    trainStep(a, 0);
    const parts = { rnn: a.rnn, head: a.head, opt: a.opt };
    return { a, json: throughJSON(saveModel(parts)), bytes: saveModelSafetensors(parts) };
  }
  function snapshot(m: Model) {
    return { rnn: m.rnn.stateDict(), head: m.head.stateDict(), opt: m.opt.stateDict(), lr: m.opt.lr };
  }
  function expectUnchanged(m: Model, s: ReturnType<typeof snapshot>): void {
    expectDictsBitwise(s.rnn, m.rnn.stateDict());
    expectDictsBitwise(s.head, m.head.stateDict());
    expect(m.opt.stateDict().step).toBe(s.opt.step);
    expectDictsBitwise(s.opt.tensors, m.opt.stateDict().tensors);
    expect(m.opt.lr).toBe(s.lr);
  }

  it.each<[string, () => Record<string, Savable>, string]>([
    ['hiddenSize', () => {
      const rnn = new LSTM({ inputSize: I, hiddenSize: 8, numLayers: 2 });
      const head = new Linear({ inFeatures: 8, outFeatures: O });
      return { rnn, head, opt: new Adam([...rnn.parameters(), ...head.parameters()]) };
    }, 'parts.rnn.hiddenSize: expected 6 (as saved), got 8'],
    ['numLayers', () => {
      const rnn = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 1 });
      const head = new Linear({ inFeatures: H, outFeatures: O });
      return { rnn, head, opt: new Adam([...rnn.parameters(), ...head.parameters()]) };
    }, 'parts.rnn.numLayers: expected 2 (as saved), got 1'],
    ['kind', () => {
      const rnn = new GRU({ inputSize: I, hiddenSize: H, numLayers: 2 });
      const head = new Linear({ inFeatures: H, outFeatures: O });
      return { rnn, head, opt: new Adam([...rnn.parameters(), ...head.parameters()]) } as Record<string, Savable>;
    }, 'parts.rnn: expected an LSTM (as saved), got GRU'],
    ['optimizer kind', () => {
      const m = makeModel(5);
      return { rnn: m.rnn, head: m.head, opt: new SGD([...m.rnn.parameters(), ...m.head.parameters()], { lr: 0.1 }) };
    }, 'parts.opt: expected an Adam (as saved), got SGD'],
    ['Adam hyperparameter', () => {
      const m = makeModel(5);
      return { rnn: m.rnn, head: m.head, opt: new Adam([...m.rnn.parameters(), ...m.head.parameters()], { beta1: 0.8, weightDecay: 1e-3 }) };
    }, 'parts.opt.beta1: expected 0.9 (as saved), got 0.8'],
    ['optimizer over other parameters', () => {
      const m = makeModel(5);
      return { rnn: m.rnn, head: m.head, opt: new Adam(m.head.parameters(), { weightDecay: 1e-3 }) };
    }, 'model.tensors: unexpected key "opt.2.exp_avg" (opt has no such tensor)'],
    ['unexpected part', () => {
      const m = makeModel(5);
      return { rnn: m.rnn, head: m.head, opt: m.opt, extra: new Linear({ inFeatures: 1, outFeatures: 1 }) };
    }, 'parts: unexpected part "extra"; the model holds "rnn", "head", "opt"'],
    ['not a part', () => {
      const m = makeModel(5);
      return { rnn: m.rnn, head: 42 as never, opt: m.opt };
    }, 'parts.head: expected a module or optimizer with stateDict() and loadStateDict(), got 42'],
  ])('a mismatched %s throws and loads nothing, from JSON and from safetensors', (_, make, message) => {
    const { json, bytes } = trained();
    const parts = make();
    const m = parts as unknown as Model;
    const snap = m.head instanceof Linear ? snapshot(m) : null;
    expect(() => loadModel(json, parts)).toThrow(message);
    expect(() => loadModelSafetensors(bytes, parts)).toThrow(message);
    if (snap !== null) expectUnchanged(m, snap);
  });

  it('resetAfter mismatch is caught', () => {
    const json = saveModel({ gru: new GRU({ inputSize: 2, hiddenSize: 3, resetAfter: true }) });
    expect(() => loadModel(json, { gru: new GRU({ inputSize: 2, hiddenSize: 3 }) }))
      .toThrow('parts.gru.resetAfter: expected true (as saved), got false');
  });

  it.each<[string, (j: ModelJSON) => void, string]>([
    ['a missing key', (j) => { delete j.tensors['head.bias']; }, 'model.tensors: missing key "head.bias" (expected shape [2])'],
    ['a wrong shape', (j) => { j.tensors['head.weight']!.shape = [6, 2]; }, 'model.tensors["head.weight"]: expected shape [2, 6], got [6, 2]'],
    ['a short data array', (j) => { j.tensors['head.bias']!.data.pop(); }, 'model.tensors["head.bias"].data: expected 2 values (the shape\'s), got 1'],
    ['a bad value', (j) => { (j.tensors['head.bias']!.data as unknown[])[1] = 'inf'; },
      'model.tensors["head.bias"].data[1]: expected a number or one of "NaN", "Infinity", "-Infinity", "-0", got string "inf"'],
    ['a key of no part', (j) => { j.tensors['tail.weight'] = { shape: [1], data: [0] }; },
      'model.tensors: key "tail.weight" belongs to no saved part; expected "<part>.<key>" with a part of "rnn", "head", "opt"'],
    ['an extra key of a part', (j) => { j.tensors['head.scale'] = { shape: [1], data: [0] }; },
      'model.tensors: unexpected key "head.scale" (head has no such tensor)'],
    ['another format', (j) => { (j as { format: string }).format = 'other'; }, 'model.format: expected "recurrent-cells-model", got string "other"'],
    ['another version', (j) => { (j as { version: number }).version = 3; }, 'model.version: expected 1 or 2, got 3'],
    ['an unknown kind', (j) => { (j.parts.head as { kind: string }).kind = 'Conv'; },
      'model.parts.head.kind: expected one of LSTMCell, GRUCell, LSTM, GRU, Linear, Embedding, SGD, Adam, module, optimizer, got string "Conv"'],
    ['a bad config field', (j) => { (j.parts.rnn as { hiddenSize: unknown }).hiddenSize = '6'; },
      'model.parts.rnn.hiddenSize: expected a non-negative integer, got string "6"'],
    ['a bad step', (j) => { (j.parts.opt as { step: number }).step = -1; }, 'model.parts.opt.step: expected a non-negative integer, got -1'],
  ])('a saved model with %s throws before anything changes', (_, corrupt, message) => {
    const { json } = trained();
    corrupt(json);
    const b = makeModel(7);
    const snap = snapshot(b);
    expect(() => loadModel(json, { rnn: b.rnn, head: b.head, opt: b.opt })).toThrow(message);
    expectUnchanged(b, snap);
  });

  it('a part that throws while loading rolls back the parts loaded before it', () => {
    const custom = new CustomModule([1, 2]);
    const a = makeModel(1);
    const withCustom = throughJSON(saveModel({ rnn: a.rnn, head: a.head, opt: a.opt, custom }));
    const b = makeModel(8);
    b.opt.lr = 0.75;
    trainStep(b, 5);
    const snap = snapshot(b);
    const c2 = new CustomModule([0, 0]);
    c2.failOnLoad = true;
    expect(() => loadModel(withCustom, { rnn: b.rnn, head: b.head, opt: b.opt, custom: c2 })).toThrow('CustomModule: refusing to load');
    expectUnchanged(b, snap);
  });

  it('safetensors files without the model metadata, or with a bad one, are refused', () => {
    const head = new Linear({ inFeatures: 2, outFeatures: 1 });
    const plain = saveSafetensors(head.stateDict());
    expect(() => loadModelSafetensors(plain, { head }))
      .toThrow('safetensors __metadata__.format: expected "recurrent-cells-model", got undefined');
    const bad = saveSafetensors({ 'head.weight': head.stateDict().weight! }, { format: 'recurrent-cells-model', version: '1', parts: '{' });
    expect(() => loadModelSafetensors(bad, { head })).toThrow('safetensors __metadata__.parts: expected the part configurations as JSON text');
    const v3 = saveSafetensors({ 'head.weight': head.stateDict().weight! }, { format: 'recurrent-cells-model', version: '3', parts: '{}' });
    expect(() => loadModelSafetensors(v3, { head })).toThrow('safetensors __metadata__.version: expected "1" or "2", got string "3"');
    expect(() => loadModelSafetensors('x' as never, { head })).toThrow('bytes: expected a Uint8Array, got string "x"');
    // A part's tensor of an integer dtype: named, with its dtype, before anything is loaded.
    const parts = JSON.stringify({ head: head.config() });
    const ints = saveSafetensors({ 'head.weight': tensor([1, 4], new BigInt64Array(4)), 'head.bias': head.stateDict().bias! },
      { format: 'recurrent-cells-model', version: '2', parts });
    expect(() => loadModelSafetensors(ints, { head })).toThrow('model.tensors["head.weight"]: expected a float tensor (F32, F16, BF16 or F64), got dtype int64');
  });

  it('bad arguments to save', () => {
    const head = new Linear({ inFeatures: 2, outFeatures: 1 });
    expect(() => saveModel({ 'a.b': head })).toThrow('parts: expected part names of letters, digits, "_" and "-", got "a.b"');
    expect(() => saveModel({})).toThrow('parts: expected at least one named part, got none');
    expect(() => saveModel({ head }, { metadata: { parts: 'x' } }))
      .toThrow('options.metadata: expected keys other than the reserved "format", "version", "parts", got "parts"');
    expect(() => saveModelSafetensors({ head }, { metadata: { n: 1 as never } })).toThrow('options.metadata["n"]: expected a string, got 1');
    expect(() => loadModel('{not json', { head })).toThrow('model: expected JSON text of a saved model');
    expect(() => loadModel(saveModel({ head }), { head }, { partial: 'yes' as never })).toThrow('options.partial: expected a boolean, got string "yes"');
  });
});

describe('buildModel with expect', () => {
  function saved() {
    const a = makeModel(3);
    trainStep(a, 0);
    const extra = new GRUCell({ inputSize: 2, hiddenSize: 2, seed: 4 });
    const parts = { rnn: a.rnn, head: a.head, opt: a.opt, extra, custom: new CustomModule([1]) };
    return { a, json: JSON.stringify(saveModel(parts)), bytes: saveModelSafetensors(parts) };
  }

  it.each<Format>(['json', 'safetensors'])('builds exactly the expected parts, typed, computing what the saved ones did (%s)', (format) => {
    const { a, json, bytes } = saved();
    const built = buildModel(format === 'json' ? json : bytes, { expect: { rnn: LSTM, head: Linear } });
    expect(Object.keys(built)).toEqual(['rnn', 'head']);   // opt, extra and custom ignored
    expect(built.rnn).toBeInstanceOf(LSTM);
    expect(built.head).toBeInstanceOf(Linear);
    expect(built.rnn.config()).toEqual(a.rnn.config());
    expectDictsBitwise(a.rnn.stateDict(), built.rnn.stateDict());
    const x = randn(T * B * I, 5);
    const want = a.rnn.run(x, { batch: B }), got = built.rnn.run(x, { batch: B });
    expect(bitwiseEqual(got.outputs, want.outputs)).toBe(true);
    expect(bitwiseEqual(built.head.forward(got.outputs, T * B).y, a.head.forward(want.outputs, T * B).y)).toBe(true);
  });

  it('a missing part, another kind, or a class it cannot build throws, naming the part and both kinds', () => {
    const { json } = saved();
    expect(() => buildModel(json, { expect: { rnn: LSTM, tail: Linear } }))
      .toThrow('options.expect.tail: expected a saved part "tail" (a Linear), got none; the model holds "rnn", "head", "opt", "extra", "custom"');
    expect(() => buildModel(json, { expect: { rnn: GRU } }))
      .toThrow(new RangeError('options.expect.rnn: expected part "rnn" saved as a GRU, got an LSTM'));
    expect(() => buildModel(json, { expect: { opt: LSTM } })).toThrow('options.expect.opt: expected part "opt" saved as an LSTM, got an Adam');
    expect(() => buildModel(json, { expect: { custom: Linear } })).toThrow('options.expect.custom: expected part "custom" saved as a Linear, got a module');
    expect(() => buildModel(json, { expect: { opt: Adam as never } }))
      .toThrow(new TypeError('options.expect.opt: expected one of the classes LSTMCell, GRUCell, LSTM, GRU, Linear, Embedding, got class Adam'));
    class MyLSTM extends LSTM {}
    expect(() => buildModel(json, { expect: { rnn: MyLSTM } }))
      .toThrow('options.expect.rnn: expected one of the classes LSTMCell, GRUCell, LSTM, GRU, Linear, Embedding, got class MyLSTM');
    expect(() => buildModel(json, { expect: { rnn: 'LSTM' as never } }))
      .toThrow('options.expect.rnn: expected one of the classes LSTMCell, GRUCell, LSTM, GRU, Linear, Embedding, got string "LSTM"');
    expect(() => buildModel(json, { expect: {} })).toThrow('options.expect: expected at least one part and its class, got none');
    expect(() => buildModel(json, { expect: { 'a.b': LSTM } })).toThrow('options.expect: expected part names of letters, digits, "_" and "-", got "a.b"');
    expect(() => buildModel(json, { expect: 3 as never })).toThrow('options.expect: expected an object, got 3');
    expect(() => buildModel(json, null as never)).toThrow('options: expected an object, got null');
  });

  it('without expect, every saved module of the library\'s classes is built, as before', () => {
    const { json } = saved();
    expect(Object.keys(buildModel(json))).toEqual(['rnn', 'head', 'extra']);
    expect(Object.keys(buildModel(json, {}))).toEqual(['rnn', 'head', 'extra']);
  });
});
