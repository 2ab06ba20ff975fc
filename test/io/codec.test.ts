/**
 * The file format, byte for byte: a fixed model of every part kind saves to exactly the files
 * of version 2 (test/fixtures/model_v2.json and .safetensors), and those files load, rebuild,
 * and save again unchanged. The files version 1 wrote (model_v1.*, the same model; they differ
 * only in the version and the keys of the resetAfter: false GRU) still load, and save as version 2.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Adam, GRU, GRUCell, Linear, LSTM, LSTMCell, SGD } from '../../src/index.js';
import { buildModel, loadModel, loadModelSafetensors, saveModel, saveModelSafetensors, type ModelJSON } from '../../src/io/model.js';
import { bitwiseEqual } from '../helpers/cells.js';
import { GOLDEN_METADATA, GoldenCustomModule, GoldenCustomOptimizer, goldenModel } from './golden-model.js';

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);
const goldenJSON = readFileSync(fixture('model_v2.json'), 'utf8');
const goldenBytes = new Uint8Array(readFileSync(fixture('model_v2.safetensors')));
const v1JSON = readFileSync(fixture('model_v1.json'), 'utf8');
const v1Bytes = new Uint8Array(readFileSync(fixture('model_v1.safetensors')));

/** The JSON text as the fixture stores it (one-space indent, final newline). */
const text = (json: ModelJSON): string => `${JSON.stringify(json, null, 1)}\n`;

/** Parts of the golden model's configuration with other weights, other lr and no steps. */
function freshModel() {
  const cell = new LSTMCell({ inputSize: 2, hiddenSize: 2, bias: false, seed: 11 });
  const gru = new GRU({ inputSize: 2, hiddenSize: 2, seed: 14 });
  return {
    cell,
    gcell: new GRUCell({ inputSize: 2, hiddenSize: 2, resetAfter: true, seed: 12 }),
    rnn: new LSTM({ inputSize: 2, hiddenSize: 2, numLayers: 2, bidirectional: true, seed: 13 }),
    gru,
    head: new Linear({ inFeatures: 4, outFeatures: 2, seed: 15 }),
    sgd: new SGD(cell.parameters(), { lr: 1, momentum: 0.9, dampening: 0.25, weightDecay: 0.01 }),
    adam: new Adam(gru.parameters(), { lr: 1, beta1: 0.8, eps: 1e-6, weightDecay: 0.02, decoupled: true }),
    custom: new GoldenCustomModule(),
    customOpt: new GoldenCustomOptimizer(),
  };
}

describe('format version 2, byte for byte', () => {
  it('saveModel writes the golden JSON', () => {
    expect(text(saveModel(goldenModel(), { metadata: GOLDEN_METADATA }))).toBe(goldenJSON);
  });

  it('saveModelSafetensors writes the golden bytes', () => {
    const bytes = saveModelSafetensors(goldenModel(), { metadata: GOLDEN_METADATA });
    expect(bytes.length).toBe(goldenBytes.length);
    expect(Buffer.from(bytes).equals(Buffer.from(goldenBytes))).toBe(true);
  });

  it('the golden files load into other parts of the same configuration, which then save the same files', () => {
    const fromJSON = freshModel();
    fromJSON.custom.values.fill(0);
    fromJSON.customOpt.step = 0;
    loadModel(goldenJSON, fromJSON);
    expect(text(saveModel(fromJSON, { metadata: GOLDEN_METADATA }))).toBe(goldenJSON);
    expect(fromJSON.sgd.lr).toBe(0.05);
    expect(fromJSON.adam.stepCount).toBe(2);

    const fromBytes = freshModel();
    loadModelSafetensors(goldenBytes, fromBytes);
    const again = saveModelSafetensors(fromBytes, { metadata: GOLDEN_METADATA });
    expect(Buffer.from(again).equals(Buffer.from(goldenBytes))).toBe(true);
  });

  it('the version-1 files load (the GRU of resetAfter: false under its version-2 keys) and save as version 2', () => {
    expect(v1JSON).toContain('"gru.weight_ih_l0"');
    const fromJSON = freshModel();
    loadModel(v1JSON, fromJSON);
    expect(text(saveModel(fromJSON, { metadata: GOLDEN_METADATA }))).toBe(goldenJSON);
    const fromBytes = freshModel();
    loadModelSafetensors(v1Bytes, fromBytes);
    expect(Buffer.from(saveModelSafetensors(fromBytes, { metadata: GOLDEN_METADATA })).equals(Buffer.from(goldenBytes))).toBe(true);
  });

  it('no key of a resetAfter: false GRU is one nn.GRU loads', () => {
    const keys = Object.keys((JSON.parse(goldenJSON) as ModelJSON).tensors).filter((k) => k.startsWith('gru.'));
    expect(keys).toEqual(['gru.weight_ih_l0_reset_before', 'gru.weight_hh_l0_reset_before', 'gru.bias_ih_l0_reset_before', 'gru.bias_hh_l0_reset_before']);
  });

  it('buildModel rebuilds the golden modules from either file, of either version', () => {
    const want = goldenModel();
    for (const saved of [goldenJSON, goldenBytes, v1JSON, v1Bytes]) {
      const built = buildModel(saved);
      expect(Object.keys(built)).toEqual(['cell', 'gcell', 'rnn', 'gru', 'head']);
      for (const name of ['cell', 'gcell', 'rnn', 'gru', 'head'] as const) {
        const a = want[name].stateDict(), b = built[name]!.stateDict();
        expect(Object.keys(b)).toEqual(Object.keys(a));
        for (const k of Object.keys(a)) expect(bitwiseEqual(b[k]!.data, a[k]!.data), `${name}.${k}`).toBe(true);
      }
    }
  });
});
