/**
 * Embedding against PyTorch's nn.Embedding (test/fixtures/torch_embedding.json, padding_idx set,
 * the padding index repeated): outputs and weight gradients within the fixture bar; the padding
 * row gets no gradient; index checks; state dicts with prefixes; saved models.
 */
import { describe, expect, it } from 'vitest';
import { buildModel, Embedding, loadModel, saveModel, saveModelSafetensors, loadSafetensors, saveSafetensors, tensor } from '../../src/index.js';
import { expectWithinBar, loadFixture } from '../helpers/fixtures.js';
import { bitwiseEqual, randn } from '../helpers/cells.js';

interface EmbeddingFixture {
  numEmbeddings: number; embeddingDim: number; paddingIdx: number; steps: number; batch: number;
  indices: number[]; weight: number[];
  expected: { outputs: number[] }; upstream: { dOutputs: number[] }; gradients: { weight: number[] };
  torchFloat32Error: Record<string, number>;
}

const fx = loadFixture<EmbeddingFixture>('torch_embedding');

describe('Embedding equals nn.Embedding (torch_embedding fixture)', () => {
  const V = fx.numEmbeddings, E = fx.embeddingDim;

  for (const [what, indices] of [
    ['number[]', fx.indices],
    ['Int32Array', Int32Array.from(fx.indices)],
    ['BigInt64Array (an I64 tensor of a file)', BigInt64Array.from(fx.indices.map(BigInt))],
  ] as const) {
    it(`outputs and weight gradient within the bar, indices as ${what}`, () => {
      const emb = Embedding.fromPyTorch({ weight: { shape: [V, E], data: fx.weight } }, { paddingIdx: fx.paddingIdx });
      expect(emb.paddingIdx).toBe(fx.paddingIdx);
      const f = emb.forward(indices, fx.batch);
      expect(f.steps).toBe(fx.steps);
      expectWithinBar('outputs', f.y, fx.expected.outputs, fx.torchFloat32Error.outputs);
      emb.backward(f, Float32Array.from(fx.upstream.dOutputs));
      expectWithinBar('d weight', emb.grads.weight, fx.gradients.weight, fx.torchFloat32Error.d_weight);
      // The padding row: no gradient at all, though the fixture looks it up several times.
      expect(fx.indices.filter((i) => i === fx.paddingIdx).length).toBeGreaterThan(1);
      const pad = emb.grads.weight.subarray(fx.paddingIdx * E, (fx.paddingIdx + 1) * E);
      expect(Array.from(pad)).toEqual(new Array(E).fill(0));
    });
  }

  it('backward adds (twice the gradient after two forward/backward pairs); a forward result is consumed once; zeroGrad clears it', () => {
    const emb = Embedding.fromPyTorch({ weight: { shape: [V, E], data: fx.weight } }, { paddingIdx: fx.paddingIdx });
    const f = emb.forward(fx.indices, fx.batch), dy = Float32Array.from(fx.upstream.dOutputs);
    emb.backward(f, dy);
    const once = emb.grads.weight.slice();
    expect(() => emb.backward(f, dy)).toThrow('forward: this forward result was already consumed by a backward');
    expect(bitwiseEqual(emb.grads.weight, once)).toBe(true);
    emb.backward(emb.forward(fx.indices, fx.batch), dy);
    // The second backward adds the same rows again, in the same order, onto the first's sums.
    const want = once.slice();
    fx.indices.forEach((row, i) => {
      if (row === fx.paddingIdx) return;
      for (let e = 0; e < E; e++) want[row * E + e] = Math.fround(want[row * E + e]! + dy[i * E + e]!);
    });
    expect(bitwiseEqual(emb.grads.weight, want)).toBe(true);
    emb.zeroGrad();
    expect(emb.grads.weight.every((g) => g === 0)).toBe(true);
  });
});

describe('Embedding construction and checks', () => {
  it('initialises N(0, 1) with the padding row zero; a negative paddingIdx counts from the end', () => {
    const a = new Embedding({ numEmbeddings: 50, embeddingDim: 20, paddingIdx: -1, seed: 3 });
    expect(a.paddingIdx).toBe(49);
    expect(a.params.weight.subarray(49 * 20).every((v) => v === 0)).toBe(true);
    const body = a.params.weight.subarray(0, 49 * 20);
    const mean = body.reduce((s, v) => s + v, 0) / body.length;
    const variance = body.reduce((s, v) => s + (v - mean) ** 2, 0) / body.length;
    // 980 draws: the mean's standard error is 0.032, the variance's about 0.045.
    expect(Math.abs(mean)).toBeLessThan(0.15);
    expect(Math.abs(variance - 1)).toBeLessThan(0.25);
    const b = new Embedding({ numEmbeddings: 50, embeddingDim: 20, paddingIdx: -1, seed: 3 });
    expect(bitwiseEqual(a.params.weight, b.params.weight)).toBe(true);
    expect(new Embedding({ numEmbeddings: 3, embeddingDim: 2 }).paddingIdx).toBeNull();
  });

  it('rejects bad options, naming them', () => {
    expect(() => new Embedding(undefined as never)).toThrow('Embedding options: expected an object, got undefined');
    expect(() => new Embedding({ numEmbeddings: 0, embeddingDim: 2 })).toThrow('numEmbeddings: expected a positive integer, got 0');
    expect(() => new Embedding({ numEmbeddings: 3, embeddingDim: 2.5 })).toThrow('embeddingDim: expected a positive integer, got 2.5');
    expect(() => new Embedding({ numEmbeddings: 3, embeddingDim: 2, paddingIdx: 3 }))
      .toThrow('paddingIdx: expected an integer in −numEmbeddings..numEmbeddings−1 = -3..2, or null, got 3');
    expect(() => new Embedding({ numEmbeddings: 3, embeddingDim: 2, paddingIdx: -4 })).toThrow(RangeError);
    expect(() => new Embedding({ numEmbeddings: 3, embeddingDim: 2, paddingIdx: '0' as never })).toThrow(/paddingIdx: .* got string "0"/);
  });

  it('checks every index before looking anything up', () => {
    const emb = new Embedding({ numEmbeddings: 4, embeddingDim: 2 });
    expect(() => emb.forward([0, 1, 4, 2], 2)).toThrow('indices[2]: expected an integer in 0..numEmbeddings−1 = 3, got 4');
    expect(() => emb.forward([0, -1], 1)).toThrow('indices[1]: expected an integer in 0..numEmbeddings−1 = 3, got -1');
    expect(() => emb.forward([0, 1.5], 1)).toThrow('indices[1]: expected an integer in 0..numEmbeddings−1 = 3, got 1.5');
    expect(() => emb.forward([0, NaN], 1)).toThrow(/indices\[1\]: .* got NaN/);
    expect(() => emb.forward(['1'] as never, 1)).toThrow(/indices\[0\]: .* got string "1"/);
    expect(() => emb.forward(BigInt64Array.of(0n, 9n), 1)).toThrow('indices[1]: expected an integer in 0..numEmbeddings−1 = 3, got 9n');
    expect(() => emb.forward(new Float32Array([0, 1]) as never, 1))
      .toThrow('indices: expected an Int32Array, a number[] or another integer typed array, got Float32Array(2)');
    expect(() => emb.forward([0, 1, 2], 2)).toThrow('indices: expected a non-zero multiple of batch = 2 elements, got 3');
    expect(() => emb.forward([], 1)).toThrow(/indices: expected a non-zero multiple/);
    expect(() => emb.forward([0], 0)).toThrow('batch: expected a positive integer, got 0');
    const f = emb.forward([0, 1], 2);
    expect(() => emb.backward(f, new Float32Array(3))).toThrow('dy: expected length indices.length*embeddingDim = 4, got 3');
    expect(() => new Embedding({ numEmbeddings: 4, embeddingDim: 2 }).backward(f, new Float32Array(4)))
      .toThrow("forward: expected the result of this layer's forward(), got object");
    // The caller may change its indices after forward: the tape holds a copy.
    const idx = Int32Array.of(1, 2);
    const g = emb.forward(idx, 1);
    idx[0] = 3;
    emb.backward(g, Float32Array.of(1, 1, 1, 1));
    expect(Array.from(emb.grads.weight)).toEqual([0, 0, 1, 1, 1, 1, 0, 0]);
  });

  it('run equals forward', () => {
    const emb = new Embedding({ numEmbeddings: 6, embeddingDim: 3, seed: 2 });
    expect(bitwiseEqual(emb.run([5, 0, 3], 3), emb.forward([5, 0, 3], 3).y)).toBe(true);
  });
});

describe('Embedding state dicts and files', () => {
  it('stateDict/gradDict with a prefix; loadStateDict and fromPyTorch read their prefix only', () => {
    const emb = new Embedding({ numEmbeddings: 5, embeddingDim: 3, seed: 4 });
    const sd = emb.stateDict({ prefix: 'emb.' });
    expect(Object.keys(sd)).toEqual(['emb.weight']);
    expect(sd['emb.weight']!.shape).toEqual([5, 3]);
    expect(Object.keys(emb.gradDict({ prefix: 'x.' }))).toEqual(['x.weight']);
    const file = loadSafetensors(saveSafetensors({ ...sd, 'labels': tensor([2], BigInt64Array.of(1n, 2n)), 'head.weight': tensor([1], new Float32Array(1)) }));
    const back = Embedding.fromPyTorch(file, { prefix: 'emb.' });
    expect(bitwiseEqual(back.params.weight, emb.params.weight)).toBe(true);
    const other = new Embedding({ numEmbeddings: 5, embeddingDim: 3 });
    other.loadStateDict(file, { prefix: 'emb.' });
    expect(bitwiseEqual(other.params.weight, emb.params.weight)).toBe(true);
    expect(() => other.loadStateDict(file)).toThrow('stateDict: unexpected key "emb.weight"; expected keys "weight"');
    expect(() => other.loadStateDict(file, { prefix: 'head.' }))
      .toThrow('stateDict (prefix "head."): expected shape [5, 3], got [1]'.replace('stateDict (prefix "head.")', 'stateDict (prefix "head.")["weight"]'));
    expect(() => Embedding.fromPyTorch(file, { prefix: 'rnn.' })).toThrow('stateDict (prefix "rnn."): missing key "weight"');
    expect(() => Embedding.fromPyTorch({ weight: { shape: [5, 3], data: new Float32Array(15) } }, { prefix: 3 as never }))
      .toThrow('Embedding.fromPyTorch options.prefix: expected a string, got 3');
  });

  it('saves and loads in a model, and buildModel rebuilds it (paddingIdx included)', () => {
    const emb = new Embedding({ numEmbeddings: 7, embeddingDim: 2, paddingIdx: 1, seed: 5 });
    emb.params.weight.set(randn(14, 6));
    const json = saveModel({ emb });
    expect(json.parts.emb).toEqual({ kind: 'Embedding', numEmbeddings: 7, embeddingDim: 2, paddingIdx: 1 });
    const twin = new Embedding({ numEmbeddings: 7, embeddingDim: 2, paddingIdx: 1 });
    loadModel(json, { emb: twin });
    expect(bitwiseEqual(twin.params.weight, emb.params.weight)).toBe(true);
    const { emb: built } = buildModel(saveModelSafetensors({ emb }), { expect: { emb: Embedding } });
    expect(built.paddingIdx).toBe(1);
    expect(bitwiseEqual(built.params.weight, emb.params.weight)).toBe(true);
    const none = buildModel(saveModel({ e: new Embedding({ numEmbeddings: 2, embeddingDim: 2 }) }), { expect: { e: Embedding } });
    expect(none.e.paddingIdx).toBeNull();
    // Another paddingIdx is another configuration.
    expect(() => loadModel(json, { emb: new Embedding({ numEmbeddings: 7, embeddingDim: 2 }) }))
      .toThrow('parts.emb.paddingIdx: expected 1 (as saved), got null');
    const bad = { ...json, parts: { emb: { ...json.parts.emb, paddingIdx: -1 } } };
    expect(() => loadModel(bad as never, { emb })).toThrow('model.parts.emb.paddingIdx: expected a non-negative integer or null, got -1');
  });
});
