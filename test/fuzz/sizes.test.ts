/**
 * Fuzz, sizes: every size from options or a file is a safe integer within a documented limit, and
 * the bytes a constructor or file implies are checked before anything is allocated (RangeError,
 * not an engine message nor an out-of-memory abort).
 */
import { describe, expect, it } from 'vitest';
import {
  Embedding, GRU, GRUCell, LSTM, LSTMCell, Linear, SequenceRunner, StreamingRunner, TruncatedBPTT, buildModel, loadModel, saveModel,
  saveModelSafetensors,
} from '../../src/index.js';
import { DEFAULT_MAX_BYTES, MAX_LAYERS, MAX_SIZE } from '../../src/core/limits.js';
import { expectLibraryError, HOSTILE, picker } from '../helpers/fuzz.js';

describe('sizes: constructors', () => {
  it('the audit cases: numLayers 1e9, hiddenSize 2^16, a 2^14 × 2^14 Linear', () => {
    expectLibraryError(() => new GRU({ inputSize: 2, hiddenSize: 2, numLayers: 1e9 }), 'numLayers');
    expectLibraryError(() => new LSTM({ inputSize: 2, hiddenSize: 2, numLayers: MAX_LAYERS + 1 }), `at most ${MAX_LAYERS}`);
    const e = expectLibraryError(() => new LSTMCell({ inputSize: 1, hiddenSize: 2 ** 16 }), 'LSTMCell parameters and gradients');
    expect(e).toBeInstanceOf(RangeError);
    expectLibraryError(() => new Linear({ inFeatures: 2 ** 14, outFeatures: 2 ** 14 }), `maxBytes = ${DEFAULT_MAX_BYTES}`);
    expectLibraryError(() => new GRUCell({ inputSize: MAX_SIZE + 1, hiddenSize: 1 }), 'inputSize');
    const sd = new LSTM({ inputSize: 2, hiddenSize: 2 }).stateDict();
    expectLibraryError(() => LSTM.fromPyTorch(sd, { numLayers: 1e9 }), 'numLayers');
    expectLibraryError(() => GRU.fromPyTorch(new GRU({ inputSize: 2, hiddenSize: 2, resetAfter: true }).stateDict(), { numLayers: 3 }), 'weight_ih_l1');
  });

  it('hostile values of every size option throw a library error naming the option', () => {
    const makers: [string, (v: unknown) => unknown][] = [
      ['inputSize', (v) => new LSTMCell({ inputSize: v as number, hiddenSize: 2 })],
      ['hiddenSize', (v) => new GRUCell({ inputSize: 2, hiddenSize: v as number })],
      ['numLayers', (v) => new LSTM({ inputSize: 2, hiddenSize: 2, numLayers: v as number })],
      ['hiddenSize', (v) => new GRU({ inputSize: 2, hiddenSize: v as number })],
      ['inFeatures', (v) => new Linear({ inFeatures: v as number, outFeatures: 2 })],
      ['outFeatures', (v) => new Linear({ inFeatures: 2, outFeatures: v as number })],
      ['batch', (v) => new LSTMCell({ inputSize: 2, hiddenSize: 2 }).initialState(v as number)],
      ['projSize', (v) => new LSTM({ inputSize: 2, hiddenSize: 4, projSize: v as number })],
      ['projSize', (v) => new LSTMCell({ inputSize: 2, hiddenSize: 4, projSize: v as number })],
      ['dropout', (v) => new GRU({ inputSize: 2, hiddenSize: 4, numLayers: 2, dropout: v as number })],
      ['numEmbeddings', (v) => new Embedding({ numEmbeddings: v as number, embeddingDim: 2 })],
      ['embeddingDim', (v) => new Embedding({ numEmbeddings: 3, embeddingDim: v as number })],
      ['batch', (v) => new StreamingRunner(new GRUCell({ inputSize: 2, hiddenSize: 2 }), { batch: v as number })],
      ['batch', (v) => new TruncatedBPTT(new LSTMCell({ inputSize: 2, hiddenSize: 2 }), { batch: v as number })],
      ['batch', (v) => new SequenceRunner(new LSTMCell({ inputSize: 2, hiddenSize: 2 })).run(new Float32Array(4), { batch: v as number })],
    ];
    for (const [name, make] of makers) {
      for (const v of HOSTILE) {
        if (name === 'numLayers' && v === undefined) continue;
        const ok = typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 2 ** 31 && (name !== 'batch' || v === 1);
        if (ok && v !== 2 ** 31 && v !== 1e9) continue;
        if ((name === 'projSize' || name === 'dropout') && v === 0) continue;   // 0: none
        expectLibraryError(() => make(v), name);
      }
    }
  });

  it('a forward whose tape would pass maxBytes is refused before allocating', () => {
    const cell = new LSTMCell({ inputSize: 1, hiddenSize: 4096 });
    // T·B·4H·4 bytes of gates alone: 2^16 steps · 4 · 16384 · 4 > 1 GiB.
    const x = new Float32Array(2 ** 16);
    expectLibraryError(() => new SequenceRunner(cell).run(x, { batch: 1 }), 'maxBytes');
    expectLibraryError(() => (cell as unknown as { createTape(a: number, b: number, c: boolean): unknown }).createTape(-1, 1, false), 'steps');
  });
});

describe('sizes: files', () => {
  const saved = saveModel({ rnn: new LSTM({ inputSize: 2, hiddenSize: 2 }) });

  it('the 338-byte file declaring numLayers 1e9 throws a RangeError at once', () => {
    const s = JSON.parse(JSON.stringify(saved));
    s.parts.rnn.numLayers = 1e9;
    const text = JSON.stringify(s);
    const e = expectLibraryError(() => buildModel(text), 'numLayers');
    expect(e).toBeInstanceOf(RangeError);
  });

  it('a declared configuration is checked against the tensors before any module is built', () => {
    const head = new Linear({ inFeatures: 2, outFeatures: 2 });
    const s = JSON.parse(JSON.stringify(saveModel({ head })));
    s.parts.head.inFeatures = 2 ** 14;
    s.parts.head.outFeatures = 2 ** 14;
    expectLibraryError(() => buildModel(JSON.stringify(s)), 'head.weight');
    // Declared sizes that agree with (large) tensors: refused by maxBytes, before building.
    const big = new Linear({ inFeatures: 64, outFeatures: 64 });
    const bytes = saveModelSafetensors({ head: big });
    expectLibraryError(() => buildModel(bytes, { maxBytes: 4096 }), 'maxBytes');
    expect(buildModel(bytes, { maxBytes: 1 << 20 }).head).toBeInstanceOf(Linear);
    expectLibraryError(() => loadModel(JSON.stringify(saveModel({ head: big })), { head: big }, { maxBytes: 1000 }), 'maxBytes');
  });

  it('random size fields of a saved stack: each loads, or throws a library error naming the field', () => {
    const { pick } = picker(1);
    const fields = ['inputSize', 'hiddenSize', 'numLayers'];
    for (let k = 0; k < 200; k++) {
      const s = JSON.parse(JSON.stringify(saved));
      const f = pick(fields);
      s.parts.rnn[f] = pick([0, 1, 2, 3, -1, 1.5, 1e9, 2 ** 53, 2 ** 60, '2', null, true, 1e308]);
      try {
        buildModel(JSON.stringify(s));
      } catch {
        expectLibraryError(() => buildModel(JSON.stringify(s)));
      }
    }
  });

  it('maxBytes itself is checked', () => {
    for (const v of [0, -1, 1.5, NaN, '1', null]) expectLibraryError(() => buildModel(JSON.stringify(saved), { maxBytes: v as number }), 'options.maxBytes');
  });
});

describe('sizes: past what one typed array holds', () => {
  it('a raised maxBytes still gives a library RangeError, not the engine message', async () => {
    const { Linear, Embedding, withMaxBytes, MAX_ELEMENTS } = await import('../../src/index.js');
    const e = expectLibraryError(() => withMaxBytes(2 ** 40, () => new Linear({ inFeatures: 2 ** 16, outFeatures: 2 ** 17 })));
    expect(e.message).toContain(`at most ${MAX_ELEMENTS} float32 values`);
    expectLibraryError(() => withMaxBytes(2 ** 40, () => new Embedding({ numEmbeddings: 2 ** 24, embeddingDim: 2 ** 10 })));
  });
});
