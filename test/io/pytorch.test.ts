/**
 * Whole PyTorch models in and out. In: test/fixtures/torch_nested_model.safetensors, written from
 * a PyTorch Embedding → LSTM → Linear model's state_dict() with int64 and bool tensors beside it,
 * is loaded part by part by prefix and reproduces PyTorch's logits, outputs, final state and every
 * parameter gradient within the fixture bar. Out: toPyTorch({ emb, rnn, head }) gives exactly the
 * keys, shapes and bits of that state_dict() (what load_state_dict(strict=True) checks; the
 * fixture script's --check mode loads such a file into the PyTorch model itself). A GRU with
 * resetAfter: false is never written under nn.GRU's keys.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Embedding, GRU, GRUCell, Linear, LSTM, LSTMCell, loadSafetensors, saveSafetensors, tensor, toPyTorch,
  SequenceRunner, type AnyTensor, type LSTMState,
} from '../../src/index.js';
import { expectWithinBar, FIXTURE_DIR, loadFixture } from '../helpers/fixtures.js';
import { bitwiseEqual } from '../helpers/cells.js';

interface NestedFixture {
  sizes: {
    numEmbeddings: number; embeddingDim: number; paddingIdx: number; hiddenSize: number; numLayers: number;
    bidirectional: boolean; classes: number; steps: number; batch: number;
  };
  stateDictKeys: string[];
  stateDictShapes: Record<string, number[]>;
  fileTensors: Record<string, string>;
  tokens: number[];
  labels: number[];
  expected: { logits: number[]; outputs: number[]; hN: number[]; cN: number[] };
  upstream: { dLogits: number[] };
  gradients: Record<string, number[]>;
  torchFloat32Error: Record<string, number>;
}

const fx = loadFixture<NestedFixture>('torch_nested_model');
const fileBytes = new Uint8Array(readFileSync(join(FIXTURE_DIR, 'torch_nested_model.safetensors')));

/** The model built part by part from the whole file, each part by its prefix. */
function loadModelParts(file: Record<string, AnyTensor>) {
  const emb = Embedding.fromPyTorch(file, { prefix: 'emb.', paddingIdx: fx.sizes.paddingIdx });
  const rnn = LSTM.fromPyTorch(file, { prefix: 'rnn.' });
  const head = Linear.fromPyTorch(file, { prefix: 'head.' });
  return { emb, rnn, head };
}

describe('a PyTorch model (Embedding → LSTM → Linear) from one safetensors file, by prefix', () => {
  const file = loadSafetensors(fileBytes);

  it('the file holds int64 and bool tensors beside the float32 weights, read into their arrays', () => {
    expect(Object.fromEntries(Object.entries(file).map(([k, t]) => [k, t.dtype])))
      .toEqual({ ...fx.fileTensors, labels: 'int64', tokens: 'int64', step: 'int64', mask: 'bool' });
    const { tokens, labels, step, mask } = file;
    expect(tokens!.dtype === 'int64' && Array.from(tokens!.data, Number)).toEqual(fx.tokens);
    expect(labels!.dtype === 'int64' && Array.from(labels!.data, Number)).toEqual(fx.labels);
    expect(step!.dtype === 'int64' && step!.shape.length === 0 && step!.data[0]).toBe(1234567890123n);
    expect(mask!.dtype === 'bool' && Array.from(mask!.data)).toEqual(fx.tokens.map((t) => (t === fx.sizes.paddingIdx ? 0 : 1)));
  });

  it('reproduces the logits, outputs, final state and every parameter gradient within the bar', () => {
    const { emb, rnn, head } = loadModelParts(file);
    const { batch: B, hiddenSize: H, numLayers: L } = fx.sizes;
    expect([rnn.numLayers, rnn.bidirectional, rnn.inputSize, rnn.hiddenSize]).toEqual([L, true, fx.sizes.embeddingDim, H]);
    const tokens = file.tokens!;
    if (tokens.dtype !== 'int64') throw new Error('tokens: expected int64');
    const e = emb.forward(tokens.data, B);                         // [T, B, E]
    const r = rnn.forward(e.y, { batch: B });
    const last = rnn.lastLayerState(r.finalState);                 // h [B, 2H]: cat(h_n[-2], h_n[-1])
    const o = head.forward(last.h, B);
    const err = fx.torchFloat32Error;
    expectWithinBar('logits', o.y, fx.expected.logits, err.logits);
    expectWithinBar('outputs', r.outputs, fx.expected.outputs, err.outputs);
    expectWithinBar('hN', r.finalState.h, fx.expected.hN, err.hN);
    expectWithinBar('cN', r.finalState.c, fx.expected.cN, err.cN);

    // Backward: the head's input gradient goes to the last layer's final h of both directions.
    const dFeat = head.backward(o, Float32Array.from(fx.upstream.dLogits));   // [B, 2H]
    const dh = new Float32Array(L * 2 * B * H);
    for (let d = 0; d < 2; d++) {
      for (let b = 0; b < B; b++) {
        dh.set(dFeat.subarray((b * 2 + d) * H, (b * 2 + d + 1) * H), (((L - 1) * 2 + d) * B + b) * H);
      }
    }
    const placed = rnn.lastLayerStateGrad({ h: dFeat });   // the same, by the helper
    expect(bitwiseEqual(placed.h, dh) && placed.c.length === dh.length && placed.c.every((v) => v === 0)).toBe(true);
    const back = rnn.backward({ dFinalState: placed });
    emb.backward(e, back.dInputs);
    const grads = { ...emb.gradDict({ prefix: 'emb.' }), ...rnn.gradDict({ prefix: 'rnn.' }), ...head.gradDict({ prefix: 'head.' }) };
    expect(Object.keys(grads)).toEqual(fx.stateDictKeys);
    for (const k of fx.stateDictKeys) expectWithinBar(`d ${k}`, grads[k]!.data, fx.gradients[k]!, err[`d_${k}`]);
  });

  it('toPyTorch gives exactly the state_dict() keys, shapes and bits of the PyTorch model', () => {
    const { emb, rnn, head } = loadModelParts(file);
    const out = toPyTorch({ emb, rnn, head });
    expect(Object.keys(out)).toEqual(fx.stateDictKeys);
    for (const k of fx.stateDictKeys) {
      const t = out[k]!, want = file[k]!;
      expect(t.shape, k).toEqual(fx.stateDictShapes[k]);
      expect(t.dtype).toBe('float32');
      expect(want.dtype === 'float32' && bitwiseEqual(t.data, want.data), k).toBe(true);
    }
    // Written and read back: the same file content for these keys (make_interop.py --check F loads
    // such a file into the PyTorch model with strict=True).
    const again = loadSafetensors(saveSafetensors(out));
    expect(Object.keys(again).sort()).toEqual([...fx.stateDictKeys].sort());
  });

  it('a key missing or unexpected under the prefix is still an error; a float32 loader names another dtype', () => {
    const { 'rnn.bias_hh_l1': _dropped, ...missing } = file;
    expect(() => LSTM.fromPyTorch(missing, { prefix: 'rnn.' })).toThrow('stateDict (prefix "rnn."): missing key "bias_hh_l1" (expected shape [20])');
    const extra = { ...file, 'rnn.weight_xx_l0': file['rnn.weight_hh_l0']! };
    expect(() => LSTM.fromPyTorch(extra, { prefix: 'rnn.' })).toThrow('stateDict (prefix "rnn."): unexpected key "weight_xx_l0"');
    const rnn = LSTM.fromPyTorch(file, { prefix: 'rnn.' });
    const before = rnn.stateDict();
    expect(() => rnn.loadStateDict(extra, { prefix: 'rnn.' })).toThrow(/unexpected key "weight_xx_l0"/);
    for (const [k, t] of Object.entries(rnn.stateDict())) expect(bitwiseEqual(t.data, before[k]!.data), k).toBe(true);
    // Without a prefix every key is the module's: the other parts' keys are unexpected.
    expect(() => LSTM.fromPyTorch(file)).toThrow('stateDict: missing key "weight_ih_l0"');
    expect(() => rnn.loadStateDict(file)).toThrow(/stateDict: unexpected key "(emb.weight|labels|mask|step|tokens|head.weight)"/);
    // An int64 tensor where a parameter is expected: named, with its dtype.
    const ints = { 'head.weight': file.tokens!, 'head.bias': file['head.bias']! };
    expect(() => Linear.fromPyTorch(ints, { prefix: 'head.' }))
      .toThrow('stateDict (prefix "head.")["weight"]: expected a float32 tensor (parameters are float32), got dtype "int64"');
    // Keys outside the prefix are ignored whatever their dtype: tokens, labels, step, mask.
    expect(() => Linear.fromPyTorch(file, { prefix: 'head.' })).not.toThrow();
  });

  it('fromPyTorch reads each key of the state dict once (sizes and values come from the same read)', () => {
    for (const [prefix, build] of [
      ['rnn.', (d: Record<string, AnyTensor>) => LSTM.fromPyTorch(d, { prefix: 'rnn.' })],
      ['head.', (d: Record<string, AnyTensor>) => Linear.fromPyTorch(d, { prefix: 'head.' })],
      ['emb.', (d: Record<string, AnyTensor>) => Embedding.fromPyTorch(d, { prefix: 'emb.' })],
    ] as const) {
      const reads = new Map<string, number>();
      const counted: Record<string, AnyTensor> = {};
      for (const [k, t] of Object.entries(file)) {
        Object.defineProperty(counted, k, { enumerable: true, get: () => { reads.set(k, (reads.get(k) ?? 0) + 1); return t; } });
      }
      build(counted);
      const own = [...reads].filter(([k]) => k.startsWith(prefix));
      expect(own.length).toBeGreaterThan(0);
      for (const [k, n] of own) expect(n, k).toBe(1);
    }
  });

  it('prefix options are checked', () => {
    expect(() => LSTM.fromPyTorch(file, { prefix: 5 as never })).toThrow('LSTM.fromPyTorch options.prefix: expected a string, got 5');
    const rnn = LSTM.fromPyTorch(file, { prefix: 'rnn.' });
    expect(() => rnn.loadStateDict(file, null as never)).toThrow('loadStateDict options: expected an object, got null');
    expect(() => rnn.stateDict({ prefix: [] as never })).toThrow('stateDict options.prefix: expected a string, got Array(0)');
  });
});

describe('stateDict({ prefix }) round trips for every module', () => {
  it('cells, stacks, layers and Linear write prefixed keys that their loaders read back', () => {
    const parts = [
      new LSTMCell({ inputSize: 3, hiddenSize: 2, seed: 1 }),
      new GRUCell({ inputSize: 3, hiddenSize: 2, seed: 2, resetAfter: true }),
      new GRU({ inputSize: 3, hiddenSize: 2, numLayers: 2, bidirectional: true, seed: 3 }),
      new SequenceRunner(new LSTMCell({ inputSize: 3, hiddenSize: 2, seed: 4 })),
      new Linear({ inFeatures: 3, outFeatures: 2, seed: 5 }),
    ];
    for (const p of parts) {
      const sd = p.stateDict({ prefix: 'm.sub.' });
      const plain = p.stateDict();
      expect(Object.keys(sd)).toEqual(Object.keys(plain).map((k) => `m.sub.${k}`));
      if (!(p instanceof SequenceRunner)) {
        expect(Object.keys(p.gradDict({ prefix: 'g.' }))).toEqual(Object.keys(plain).map((k) => `g.${k}`));
      }
      p.loadStateDict({ ...sd, 'other.x': tensor([1], BigInt64Array.of(1n)) }, { prefix: 'm.sub.' });
      for (const [k, t] of Object.entries(p.stateDict())) expect(bitwiseEqual(t.data, plain[k]!.data)).toBe(true);
    }
    // The cells' fromPyTorch by prefix, beside another cell's keys.
    const a = parts[0] as LSTMCell, b = parts[1] as GRUCell;
    const both = { ...a.stateDict({ prefix: 'a.' }), ...b.stateDict({ prefix: 'b.' }) };
    const a2 = LSTMCell.fromPyTorch(both, { prefix: 'a.' }), b2 = GRUCell.fromPyTorch(both, { prefix: 'b.' });
    expect([a2.inputSize, a2.hiddenSize, b2.resetAfter]).toEqual([3, 2, true]);
    expect(bitwiseEqual(a2.params.weightHh, a.params.weightHh) && bitwiseEqual(b2.params.biasHh!, b.params.biasHh!)).toBe(true);
    expect(() => LSTMCell.fromPyTorch(both, { prefix: 'b.' }))
      .toThrow('stateDict (prefix "b.")["weight_hh"]: expected shape [4*H, H] (or [4*H, projSize] with a "weight_hr"), got [6, 2]');
  });
});

describe('a GRU with resetAfter: false never sits under the keys nn.GRU loads', () => {
  it('its state dict keys end in _reset_before; PyTorch-form GRUs keep nn.GRU\'s keys', () => {
    const gru = new GRU({ inputSize: 3, hiddenSize: 2, bidirectional: true });
    expect(Object.keys(gru.stateDict())).toEqual([
      'weight_ih_l0_reset_before', 'weight_hh_l0_reset_before', 'bias_ih_l0_reset_before', 'bias_hh_l0_reset_before',
      'weight_ih_l0_reverse_reset_before', 'weight_hh_l0_reverse_reset_before', 'bias_ih_l0_reverse_reset_before',
      'bias_hh_l0_reverse_reset_before',
    ]);
    expect(Object.keys(new GRUCell({ inputSize: 3, hiddenSize: 2 }).gradDict())).toEqual(
      ['weight_ih_reset_before', 'weight_hh_reset_before', 'bias_ih_reset_before', 'bias_hh_reset_before']);
    expect(Object.keys(new GRU({ inputSize: 3, hiddenSize: 2, resetAfter: true }).stateDict()))
      .toEqual(['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']);
  });

  it('an nn.GRU state dict does not load into it, nor its state dict into GRU.fromPyTorch', () => {
    const torchForm = new GRU({ inputSize: 3, hiddenSize: 2, resetAfter: true }).stateDict();
    const ours = new GRU({ inputSize: 3, hiddenSize: 2 });
    expect(() => ours.loadStateDict(torchForm)).toThrow('stateDict: unexpected key "weight_ih_l0"');
    expect(() => GRU.fromPyTorch(ours.stateDict())).toThrow('stateDict: missing key "weight_ih_l0"');
    // Its own keys round-trip.
    const twin = new GRU({ inputSize: 3, hiddenSize: 2, seed: 9 });
    twin.loadStateDict(ours.stateDict());
    for (const [k, t] of Object.entries(twin.stateDict())) expect(bitwiseEqual(t.data, ours.stateDict()[k]!.data)).toBe(true);
  });

  it('toPyTorch refuses it, naming resetAfter', () => {
    const head = new Linear({ inFeatures: 2, outFeatures: 1 });
    expect(() => toPyTorch({ rnn: new GRU({ inputSize: 3, hiddenSize: 2 }), head }))
      .toThrow('parts["rnn"].resetAfter: expected true (the form nn.GRU computes), got false; PyTorch has no GRU that applies the reset before the recurrent product');
    expect(() => toPyTorch({ cell: new GRUCell({ inputSize: 3, hiddenSize: 2 }) })).toThrow(/parts\["cell"\].resetAfter: expected true/);
    const ok = toPyTorch({ rnn: new GRU({ inputSize: 3, hiddenSize: 2, resetAfter: true }), head });
    expect(Object.keys(ok)).toEqual(['rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'head.weight', 'head.bias']);
  });

  it('toPyTorch checks its parts and names', () => {
    const head = new Linear({ inFeatures: 2, outFeatures: 1 });
    expect(() => toPyTorch(null as never)).toThrow('parts: expected an object, got null');
    expect(() => toPyTorch({ r: new SequenceRunner(new LSTMCell({ inputSize: 1, hiddenSize: 1 })) } as never))
      .toThrow('parts["r"]: expected an LSTM, GRU, LSTMCell, GRUCell, Linear or Embedding, got object');
    expect(() => toPyTorch({ '': head })).toThrow('parts[""]: expected a PyTorch attribute path (names joined by "."), got ""');
    expect(() => toPyTorch({ 'a.': head })).toThrow(/expected a PyTorch attribute path/);
    expect(Object.keys(toPyTorch({ 'encoder.head': head }))).toEqual(['encoder.head.weight', 'encoder.head.bias']);
    expect(() => toPyTorch({ 'a.weight': new Linear({ inFeatures: 1, outFeatures: 1, bias: false }), a: new Embedding({ numEmbeddings: 1, embeddingDim: 1 }) } as never))
      .not.toThrow();   // a.weight.weight and a.weight: different keys
  });
});

describe('lastLayerState', () => {
  it('one direction: the last layer\'s rows; bidirectional: forward then reverse per entry', () => {
    const B = 2, H = 3;
    for (const bidirectional of [false, true]) {
      const D = bidirectional ? 2 : 1;
      const rnn = new LSTM({ inputSize: 2, hiddenSize: H, numLayers: 2, bidirectional, seed: 1 });
      const h = Float32Array.from({ length: 2 * D * B * H }, (_, i) => i);
      const c = h.map((v) => -v);
      const last = rnn.lastLayerState({ h, c });
      expect(last.h.length).toBe(B * D * H);
      for (let b = 0; b < B; b++) {
        for (let d = 0; d < D; d++) {
          for (let j = 0; j < H; j++) {
            expect(last.h[(b * D + d) * H + j]).toBe(h[((1 * D + d) * B + b) * H + j]);
            expect(last.c[(b * D + d) * H + j]).toBe(-h[((1 * D + d) * B + b) * H + j]!);
          }
        }
      }
    }
    const gru = new GRU({ inputSize: 2, hiddenSize: H, numLayers: 3 });
    const s = gru.run(new Float32Array(4 * B * 2).fill(0.5), { batch: B }).finalState;
    const last = gru.lastLayerState(s);
    expect(Object.keys(last)).toEqual(['h']);
    expect(bitwiseEqual(last.h, s.h.subarray(2 * B * H))).toBe(true);
  });

  it('lastLayerStateGrad puts the gradients back where lastLayerState took the values from', () => {
    const B = 3, H = 2;
    for (const bidirectional of [false, true]) {
      const rnn = new LSTM({ inputSize: 2, hiddenSize: H, numLayers: 3, bidirectional });
      const n = rnn.numLayers * rnn.numDirections * B * H;
      const h = Float32Array.from({ length: n }, (_, i) => i + 1), c = h.map((v) => -v);
      const last = rnn.lastLayerState({ h, c });
      const back = rnn.lastLayerStateGrad(last);
      // Exactly the last layer's entries come back; every other entry is zero.
      const lastRows = (rnn.numLayers - 1) * rnn.numDirections * B * H;
      expect(Array.from(back.h)).toEqual(Array.from(h, (v, i) => (i >= lastRows ? v : 0)));
      expect(Array.from(back.c)).toEqual(Array.from(c, (v, i) => (i >= lastRows ? v : 0)));
    }
    const gru = new GRU({ inputSize: 2, hiddenSize: H });
    expect(Object.keys(gru.lastLayerStateGrad({ h: new Float32Array(B * H) }))).toEqual(['h']);
    expect(() => gru.lastLayerStateGrad({ h: new Float32Array(3) })).toThrow('dLast.h: expected a multiple of numDirections*hiddenSize = 2 elements, got 3');
    expect(() => gru.lastLayerStateGrad({})).toThrow('dLast.h: expected a Float32Array, got undefined');
  });

  it('with projSize: h [B, D·P] from h_n [L·D, B, P], c [B, D·H] from c_n [L·D, B, H]', () => {
    const B = 2, H = 4, P = 2;
    const rnn = new LSTM({ inputSize: 3, hiddenSize: H, projSize: P, numLayers: 2, bidirectional: true, seed: 5 });
    const { finalState } = rnn.run(Float32Array.from({ length: 3 * B * 3 }, (_, i) => Math.sin(i)), { batch: B });
    expect([finalState.h.length, finalState.c.length]).toEqual([4 * B * P, 4 * B * H]);
    const last = rnn.lastLayerState(finalState);
    expect([last.h.length, last.c.length]).toEqual([B * 2 * P, B * 2 * H]);
    // Entry 1's reverse direction: row (L−1)·D + 1 = 3 of h_n.
    expect(Array.from(last.h.subarray((1 * 2 + 1) * P, (1 * 2 + 2) * P))).toEqual(Array.from(finalState.h.subarray((3 * B + 1) * P, (3 * B + 2) * P)));
    const back = rnn.lastLayerStateGrad(last);
    expect([back.h.length, back.c.length]).toEqual([finalState.h.length, finalState.c.length]);
    expect(Array.from(back.h.subarray(2 * B * P))).toEqual(Array.from(finalState.h.subarray(2 * B * P)));
    expect(back.h.subarray(0, 2 * B * P).every((v) => v === 0)).toBe(true);
    expect(() => rnn.lastLayerState({ h: finalState.h, c: finalState.h })).toThrow(
      `finalState.c: expected length numLayers*numDirections*batch*hiddenSize = ${4 * B * H}, got ${4 * B * P}`);
    expect(() => rnn.lastLayerStateGrad({ h: new Float32Array(3) })).toThrow('dLast.h: expected a multiple of numDirections*projSize = 4 elements, got 3');
  });

  it('checks the state', () => {
    const rnn = new LSTM({ inputSize: 2, hiddenSize: 3, numLayers: 2 });
    expect(() => rnn.lastLayerState({ h: new Float32Array(7), c: new Float32Array(7) }))
      .toThrow('finalState.h: expected a multiple of numLayers*numDirections*hiddenSize = 6 elements, got 7');
    expect(() => rnn.lastLayerState({ h: new Float32Array(6) } as LSTMState))
      .toThrow('finalState.c: expected a Float32Array, got undefined');
    expect(() => rnn.lastLayerState(null as never)).toThrow('finalState: expected an object, got null');
  });
});

describe('toPyTorch refuses what its PyTorch module cannot hold', () => {
  it('an LSTMCell with projSize (nn.LSTMCell has no proj_size)', () => {
    const cell = new LSTMCell({ inputSize: 3, hiddenSize: 4, projSize: 2, seed: 1 });
    expect(() => toPyTorch({ c: cell })).toThrow(/parts\["c"\]\.projSize: expected 0 \(nn\.LSTMCell has no projection/);
    expect(Object.keys(toPyTorch({ c: new LSTMCell({ inputSize: 3, hiddenSize: 4, seed: 1 }) }))).toContain('c.weight_hh');
  });

  it('fromPyTorch on the state dict of a reset-before GRU names the _reset_before keys', () => {
    const gru = new GRU({ inputSize: 3, hiddenSize: 4, seed: 1 });
    expect(() => GRU.fromPyTorch(gru.stateDict())).toThrow(/missing key "weight_ih_l0" \(the dict has "weight_ih_l0_reset_before"/);
    const cell = new GRUCell({ inputSize: 3, hiddenSize: 4, seed: 1 });
    expect(() => GRUCell.fromPyTorch(cell.stateDict())).toThrow(/the dict has "weight_ih_reset_before"/);
  });
});

describe('toPyTorch refuses a peephole LSTM (no PyTorch module has one)', () => {
  it('LSTM and LSTMCell', () => {
    expect(() => toPyTorch({ rnn: new LSTM({ inputSize: 3, hiddenSize: 4, peephole: true, seed: 1 }) }))
      .toThrow(/parts\["rnn"\]\.peephole: expected false/);
    expect(() => toPyTorch({ c: new LSTMCell({ inputSize: 3, hiddenSize: 4, peephole: true, seed: 1 }) }))
      .toThrow(/parts\["c"\]\.peephole: expected false/);
  });
});
