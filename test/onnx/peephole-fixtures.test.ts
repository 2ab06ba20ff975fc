/**
 * Peephole LSTM against onnxruntime (PyTorch has no peephole LSTM): the .onnx files and
 * onnxruntime's outputs made by test/fixtures/make_onnx_peephole.mjs. Importing the file and
 * running it here gives onnxruntime's outputs within 1e-5 · max(1, max|output|), and exporting the
 * imported model gives the very same file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportONNX, LSTM } from '../../src/index.js';
import { f32, FIXTURE_DIR } from '../helpers/fixtures.js';

interface PeepholeFixture {
  name: string; file: string; inputSize: number; hiddenSize: number; numLayers: number; bidirectional: boolean;
  steps: number; batch: number; lengths: number[]; inputs: number[]; h0: number[]; c0: number[];
  expected: { outputs: number[]; hN: number[]; cN: number[] };
}

function expectClose(what: string, got: Float32Array, want: number[]): void {
  expect(got.length, what).toBe(want.length);
  let diff = 0, scale = 1;
  for (let k = 0; k < want.length; k++) { diff = Math.max(diff, Math.abs(got[k]! - want[k]!)); scale = Math.max(scale, Math.abs(want[k]!)); }
  expect(diff, `${what}: max |ours − onnxruntime|`).toBeLessThanOrEqual(1e-5 * scale);
}

describe.each(['onnx_peephole_lstm_2layer_bidir', 'onnx_peephole_lstm_1layer'])('%s (onnxruntime reference)', (name) => {
  const fx = JSON.parse(readFileSync(join(FIXTURE_DIR, `${name}.json`), 'utf8')) as PeepholeFixture;
  const bytes = new Uint8Array(readFileSync(join(FIXTURE_DIR, fx.file)));

  it('fromONNX then run reproduces onnxruntime’s outputs, with lengths and initial states', () => {
    const rnn = LSTM.fromONNX(bytes);
    expect(rnn.config()).toMatchObject({
      kind: 'LSTM', inputSize: fx.inputSize, hiddenSize: fx.hiddenSize, bias: true, numLayers: fx.numLayers,
      bidirectional: fx.bidirectional, peephole: true,
    });
    const r = rnn.run(f32(fx.inputs), { batch: fx.batch, lengths: fx.lengths, initialState: { h: f32(fx.h0), c: f32(fx.c0) } });
    expectClose('outputs', r.outputs, fx.expected.outputs);
    expectClose('hN', r.finalState.h, fx.expected.hN);
    expectClose('cN', r.finalState.c, fx.expected.cN);
  });

  it('exportONNX of the imported model is the same file, byte for byte', () => {
    expect(exportONNX(LSTM.fromONNX(bytes), { initialState: true, lengths: true })).toEqual(bytes);
  });
});
