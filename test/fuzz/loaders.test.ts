/**
 * Fuzz, loaders: all or nothing (a refused load changes no module and no optimizer: weights,
 * step count, moment buffers, lr), own keys only, loaded values within float32 range, counters
 * within the safe integers, and mutated JSON model files and safetensors bytes, each loading or
 * failing with a library error and no change.
 */
import { describe, expect, it } from 'vitest';
import {
  Adam, GRU, LSTM, Linear, SGD, loadModel, loadModelSafetensors, loadSafetensors, saveModel, saveModelSafetensors,
  type ModelJSON,
} from '../../src/index.js';
import { expectLibraryError, libraryErrorOrNothing, picker } from '../helpers/fuzz.js';

/** A small model: an LSTM, a Linear head and an Adam over both, trained a few steps. */
function makeModel(seed: number) {
  const rnn = new LSTM({ inputSize: 2, hiddenSize: 3, numLayers: 2, seed });
  const head = new Linear({ inFeatures: 3, outFeatures: 1, seed });
  const opt = new Adam([...rnn.parameters(), ...head.parameters()], { lr: 0.01 });
  for (let s = 0; s < 3; s++) {
    for (const p of [...rnn.parameters(), ...head.parameters()]) p.grad.fill(0.1 * (s + 1));
    opt.step();
  }
  return { rnn, head, opt };
}

type Model = ReturnType<typeof makeModel>;

/** Every bit a load could change: weights, optimizer step, buffers and lr. */
function fingerprint(m: Model): string {
  const arrays = [...m.rnn.parameters(), ...m.head.parameters()].map((p) => Array.from(new Uint32Array(p.value.buffer, p.value.byteOffset, p.value.length)));
  const st = m.opt.stateDict();
  const bufs = Object.entries(st.tensors).map(([k, t]) => [k, Array.from(new Uint32Array(t.data.buffer))]);
  return JSON.stringify({ arrays, step: st.step, bufs, lr: m.opt.lr });
}

const source = makeModel(1);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const savedJSON: any = JSON.parse(JSON.stringify(saveModel(source))) as ModelJSON;
const savedBytes = saveModelSafetensors(source);

describe('all or nothing', () => {
  it('the audit case: a saved Adam with lr −1 changes neither step count nor exp_avg (JSON and safetensors)', () => {
    const target = makeModel(2);
    target.opt.step();
    const before = fingerprint(target);
    const bad = structuredClone(savedJSON);
    bad.parts.opt.lr = -1;
    expectLibraryError(() => loadModel(JSON.stringify(bad), target), 'model.parts.opt.lr');
    expect(fingerprint(target)).toBe(before);
    expect(target.opt.stepCount).toBe(4);
    // The same through safetensors: the configuration lives in the metadata.
    const head = JSON.parse(new TextDecoder().decode(savedBytes.subarray(8, 8 + Number(new DataView(savedBytes.buffer).getBigUint64(0, true)))));
    const parts = JSON.parse(head.__metadata__.parts);
    parts.opt.lr = -1;
    head.__metadata__.parts = JSON.stringify(parts);
    const rebuilt = rewriteHeader(savedBytes, head);
    expectLibraryError(() => loadModelSafetensors(rebuilt, target), 'model.parts.opt.lr');
    expect(fingerprint(target)).toBe(before);
  });

  it('mutated hyperparameters, step counts and tensors: refused ones change nothing', () => {
    const { pick, int } = picker(2);
    const target = makeModel(3);
    const before = fingerprint(target);
    const values = [-1, 0, 0.5, 1, 2 ** 53, 2 ** 60, 1e40, NaN, null, '1', true, -0, 1e-45];
    let refused = 0;
    for (let k = 0; k < 150; k++) {
      const m = structuredClone(savedJSON);
      const part = pick(['rnn', 'head', 'opt']);
      const fields = Object.keys(m.parts[part]).filter((f) => f !== 'kind');
      m.parts[part][pick(fields)] = pick(values);
      if (int(2) === 0) {
        const keys = Object.keys(m.tensors);
        const t = m.tensors[pick(keys)];
        t.data[int(t.data.length)] = pick([1e40, -1e39, 'inf', null, 'NaN', 3]);
      }
      const text = JSON.stringify(m);
      const threw = libraryErrorOrNothing(() => loadModel(text, target));
      if (threw) {
        refused++;
        expect(fingerprint(target)).toBe(before);
      } else {
        // A valid mutation (e.g. a new lr) loaded: put the target back for the next round.
        loadModel(JSON.stringify(savedJSON), target);
        Object.assign(target, makeModel(3));
      }
    }
    expect(refused).toBeGreaterThan(50);
  });

  it('optimizer loadStateDict: bad tensors or step change nothing; the step stays a safe integer', () => {
    const t = makeModel(4);
    const before = fingerprint(t);
    const st = t.opt.stateDict();
    for (const step of [2 ** 60, -1, 1.5, NaN, '3', null]) {
      expectLibraryError(() => t.opt.loadStateDict({ ...st, step: step as number }), 'state.step');
    }
    const keys = Object.keys(st.tensors);
    const bad = { ...st.tensors, [keys[keys.length - 1]!]: { shape: [2], data: [0, 0] } };
    expectLibraryError(() => t.opt.loadStateDict({ step: 9, tensors: bad }), 'state.tensors');
    expect(fingerprint(t)).toBe(before);
    // A step count at the edge of the safe integers: one more step is refused, nothing changes.
    t.opt.loadStateDict({ ...st, step: Number.MAX_SAFE_INTEGER });
    const edge = fingerprint(t);
    expectLibraryError(() => t.opt.step(), 'step');
    expect(fingerprint(t)).toBe(edge);
    const sgd = new SGD(t.head.parameters(), { lr: 0.1 });
    sgd.loadStateDict({ step: Number.MAX_SAFE_INTEGER, tensors: {} });
    expectLibraryError(() => sgd.step(), 'step');
  });

  it('module loadStateDict and fromPyTorch: a bad key anywhere changes nothing', () => {
    const { pick, int } = picker(3);
    const gru = new GRU({ inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, seed: 1 });
    const good = new GRU({ inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, seed: 2 }).stateDict();
    const before = JSON.stringify(gru.stateDict());
    for (let k = 0; k < 60; k++) {
      const sd: Record<string, unknown> = { ...good };
      const keys = Object.keys(good);
      const key = pick(keys);
      const what = int(4);
      if (what === 0) delete sd[key];
      else if (what === 1) sd[`${key}x`] = good[key];
      else if (what === 2) sd[key] = { shape: [1, 2], data: [1, 2] };
      else sd[key] = { shape: good[key]!.shape, data: Array.from(good[key]!.data, () => 1e39) };
      expectLibraryError(() => gru.loadStateDict(sd as never), 'stateDict');
      expect(JSON.stringify(gru.stateDict())).toBe(before);
      expectLibraryError(() => GRU.fromPyTorch(sd as never), 'stateDict');
    }
  });
});

describe('own keys only', () => {
  it('loadModel refuses tensor keys named after Object.prototype members (as it refuses rnn.foo)', () => {
    for (const key of ['rnn.constructor', 'rnn.toString', 'rnn.__proto__', 'rnn.hasOwnProperty', 'rnn.foo', 'opt.valueOf']) {
      const m = structuredClone(savedJSON);
      Object.defineProperty(m.tensors, key, { value: { shape: [1], data: [0] }, enumerable: true });
      const target = makeModel(5);
      const before = fingerprint(target);
      expectLibraryError(() => loadModel(JSON.stringify(m), target), key);
      expect(fingerprint(target)).toBe(before);
    }
  });

  it('inherited keys are not keys: a state dict whose tensors sit on its prototype is missing them', () => {
    const head = new Linear({ inFeatures: 2, outFeatures: 2 });
    const inherited = Object.create(head.stateDict()) as Record<string, never>;
    expectLibraryError(() => head.loadStateDict(inherited), 'missing key "weight"');
    expectLibraryError(() => Linear.fromPyTorch(inherited), 'missing key "weight"');
    const lstm = Object.create(new LSTM({ inputSize: 1, hiddenSize: 1 }).stateDict()) as Record<string, never>;
    expectLibraryError(() => LSTM.fromPyTorch(lstm), 'weight_ih_l0');
  });

  it('a polluted Object.prototype does not supply options, configurations or keys', () => {
    const proto = Object.prototype as Record<string, unknown>;
    try {
      proto.numLayers = 1e9;
      proto.bidirectional = true;
      proto.weight_ih_l1 = [[1]];
      const rnn = new LSTM({ inputSize: 2, hiddenSize: 2 });
      expect(rnn.numLayers).toBe(1);
      expect(rnn.bidirectional).toBe(false);
      const again = LSTM.fromPyTorch(rnn.stateDict());
      expect(again.numLayers).toBe(1);
    } finally {
      delete proto.numLayers;
      delete proto.bidirectional;
      delete proto.weight_ih_l1;
    }
  });
});

describe('values', () => {
  it('JSON numbers outside float32 range are refused; the literal strings are not', () => {
    for (const v of [1e40, -1e39, 3.5e38]) {
      const m = structuredClone(savedJSON);
      m.tensors['head.weight'].data[0] = v;
      expectLibraryError(() => loadModel(JSON.stringify(m), makeModel(6)), 'model.tensors["head.weight"].data[0]');
    }
    const m = structuredClone(savedJSON);
    m.tensors['head.weight'].data[0] = 'Infinity';
    m.tensors['head.weight'].data[1] = '-Infinity';
    m.tensors['head.weight'].data[2] = 3.4028234663852886e38;
    const t = makeModel(6);
    loadModel(JSON.stringify(m), t);
    expect(Array.from(t.head.params.weight)).toEqual([Infinity, -Infinity, 3.4028234663852886e38]);
    expectLibraryError(() => t.head.loadStateDict({ weight: [[1e40, 0, 0]], bias: [0] }), 'stateDict["weight"][0][0]');
  });

  it('safetensors metadata must be a string → string map', () => {
    const head = JSON.parse(new TextDecoder().decode(savedBytes.subarray(8, 8 + Number(new DataView(savedBytes.buffer).getBigUint64(0, true)))));
    for (const v of [1, true, null, { a: 'b' }, ['x']]) {
      const h = structuredClone(head);
      h.__metadata__.note = v;
      expectLibraryError(() => loadSafetensors(rewriteHeader(savedBytes, h)), '__metadata__');
    }
    const h = structuredClone(head);
    h.__metadata__ = ['a'];
    expectLibraryError(() => loadSafetensors(rewriteHeader(savedBytes, h)), '__metadata__');
  });
});

describe('mutated files', () => {
  it('JSON model files: random structural mutations load or fail with a library error, changing nothing', () => {
    const { pick, int } = picker(4);
    const text = JSON.stringify(savedJSON);
    const target = makeModel(7);
    for (let k = 0; k < 300; k++) {
      const m = structuredClone(savedJSON);
      mutate(m, pick, int);
      const s = int(10) === 0 ? text.slice(0, int(text.length)) : JSON.stringify(m);
      const before = fingerprint(target);
      if (libraryErrorOrNothing(() => loadModel(s, target))) expect(fingerprint(target)).toBe(before);
    }
  });

  it('safetensors model files: random byte mutations and truncations load or fail with a library error, changing nothing', () => {
    const { int } = picker(5);
    const target = makeModel(8);
    for (let k = 0; k < 300; k++) {
      const b = savedBytes.slice();
      if (k % 10 === 0) {
        const cut = b.subarray(0, int(b.length));
        const before = fingerprint(target);
        if (libraryErrorOrNothing(() => loadModelSafetensors(cut, target))) expect(fingerprint(target)).toBe(before);
        continue;
      }
      const n = 1 + int(4);
      // Mostly the header (where the structure is), sometimes the data.
      const headerEnd = 8 + Number(new DataView(b.buffer).getBigUint64(0, true));
      for (let i = 0; i < n; i++) b[int(3) === 0 ? int(b.length) : int(headerEnd)] = int(256);
      const before = fingerprint(target);
      if (libraryErrorOrNothing(() => loadModelSafetensors(b, target))) expect(fingerprint(target)).toBe(before);
    }
  });
});

/** One random structural change of a saved model object. */
function mutate(m: any, pick: <T>(xs: readonly T[]) => T, int: (n: number) => number): void {
  const junk = [null, 0, -1, 1e40, 2 ** 60, 'x', true, [], {}, [1, 2], { shape: [1], data: [0] }, 'NaN', '__proto__'];
  const paths: (() => void)[] = [
    () => { m.format = pick(junk); },
    () => { m.version = pick([0, 2, '1', null]); },
    () => { const p = pick(Object.keys(m.parts)); m.parts[p][pick(Object.keys(m.parts[p]))] = pick(junk); },
    () => { const p = pick(Object.keys(m.parts)); delete m.parts[p][pick(Object.keys(m.parts[p]))]; },
    () => { m.parts[pick(['x', '__proto__', 'a.b', ''])] = pick(junk); },
    () => { const k = pick(Object.keys(m.tensors)); m.tensors[k] = pick(junk); },
    () => { const k = pick(Object.keys(m.tensors)); m.tensors[k].shape = pick([[1], [2, 2], [-1], [1.5], [2 ** 40, 2 ** 40], 'x']); },
    () => { const k = pick(Object.keys(m.tensors)); const d = m.tensors[k].data; d[int(d.length)] = pick(junk); },
    () => { const k = pick(Object.keys(m.tensors)); m.tensors[k].data = m.tensors[k].data.slice(1); },
    () => { delete m.tensors[pick(Object.keys(m.tensors))]; },
    () => { m.tensors[`${pick(Object.keys(m.parts))}.${pick(['constructor', 'weight', 'x', '__proto__'])}`] = { shape: [1], data: [0] }; },
    () => { m.parts.opt.step = pick([2 ** 53, 2 ** 60, -1, 1.5]); },
  ];
  for (let n = 1 + int(3); n > 0; n--) pick(paths)();
}

/** The bytes of a safetensors file with its header replaced by `header` (data kept). */
function rewriteHeader(bytes: Uint8Array, header: unknown): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const json = new TextEncoder().encode(JSON.stringify(header));
  const len = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + len + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(len), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + len);
  out.set(bytes.subarray(8 + n), 8 + len);
  return out;
}
