/**
 * Untrusted ONNX files: truncations, random byte mutations (a bounded, seeded fuzz), huge declared
 * lengths and dims, deep nesting, wrong types. Each gives an ONNXError naming what was expected
 * and what was found, or (a mutation that still makes a valid file) a working model; never an
 * engine error, never a hang, never an allocation sized by the file's claims.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportONNX, GRU, LSTM, ONNXError, Random } from '../../src/index.js';
import { decodeModel, encodeModel } from '../../src/onnx/model.js';
import { ProtoWriter } from '../../src/onnx/protobuf.js';
import { reorderGates } from '../../src/onnx/gates.js';

const reorderToONNX = (w: Float32Array): Float32Array => reorderGates(w, 4, true);
import { FIXTURE_DIR } from '../helpers/fixtures.js';

const ours = exportONNX(new LSTM({ inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, peephole: true, seed: 1 }), { initialState: true, lengths: true });
const torchGru = new Uint8Array(readFileSync(join(FIXTURE_DIR, 'onnx_gru_2layer_bidir.onnx')));

/** fromONNX of bytes: 'ok' (and the model runs), or the ONNXError's message; anything else fails. */
function outcome(load: (b: Uint8Array) => LSTM | GRU, bytes: Uint8Array): string {
  let m: LSTM | GRU;
  try {
    m = load(bytes);
  } catch (e) {
    if (!(e instanceof ONNXError)) throw new Error(`not an ONNXError: ${(e as Error).name}: ${(e as Error).message}`);
    expect(e.message.length).toBeGreaterThan(10);
    return e.message;
  }
  m.run(new Float32Array(2 * m.inputSize), { batch: 1 });
  return 'ok';
}

describe('bad ONNX files', () => {
  it('every truncation of a file is refused with an ONNXError', () => {
    for (const [name, bytes, load] of [['ours', ours, LSTM.fromONNX], ['torch GRU', torchGru, GRU.fromONNX]] as const) {
      const seen = new Set<string>();
      for (let n = 0; n < bytes.length; n++) {
        const r = outcome(load, bytes.subarray(0, n));
        expect(r, `${name} cut at ${n}`).not.toBe('ok');
        seen.add(r.replace(/[0-9]+/g, 'N'));
      }
      expect(seen.size).toBeGreaterThan(2);   // different cuts, different (specific) messages
    }
  });

  it('random byte mutations (seeded): an ONNXError or a working model, never an engine error', () => {
    const rng = new Random(2026);
    const counts = { ok: 0, refused: 0 };
    for (let trial = 0; trial < 400; trial++) {
      const src = trial % 2 === 0 ? ours : torchGru;
      const b = src.slice();
      const edits = 1 + (rng.nextUint32() % 4);
      for (let e = 0; e < edits; e++) b[rng.nextUint32() % b.length] = rng.nextUint32() & 0xff;
      const r = outcome(src === ours ? LSTM.fromONNX : GRU.fromONNX, b);
      if (r === 'ok') counts.ok++; else counts.refused++;
    }
    expect(counts.refused).toBeGreaterThan(50);
    expect(counts.ok).toBeGreaterThan(10);   // mutations of weights' bytes still load
  });

  it('huge declared lengths and dims are refused before anything is allocated', () => {
    // ModelProto field 7 (graph) declaring 2^50 bytes.
    const huge = Uint8Array.from([0x08, 0x07, 0x3a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]);
    expect(() => LSTM.fromONNX(huge)).toThrow(/field 7 declares 1125899906842624 bytes at offset 3, but only 0 remain/);
    const m = decodeModel(exportONNX(new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 })));
    const w = m.graph.initializers.find((t) => t.name === 'W_l0')!;
    w.dims = [1, 12, 2 ** 40];
    expect(() => LSTM.fromONNX(encodeModel(m))).toThrow(/input W \("W_l0"\): expected shape \[1, 12, inputSize\]|expected at most 2147483647 elements/);
    w.dims = [2 ** 20, 2 ** 20, 2 ** 20];
    expect(() => LSTM.fromONNX(encodeModel(m), {})).toThrow(ONNXError);
  });

  it('maxBytes bounds the decoded weights; options are read once; a Proxy of bytes is not bytes', () => {
    const bytes = exportONNX(new LSTM({ inputSize: 2, hiddenSize: 3, numLayers: 2, seed: 1 }));
    // Layer 0: W 24·4, R 36·4, B 24·4 bytes = 336; layer 1's W pushes past 400.
    expect(() => LSTM.fromONNX(bytes, { maxBytes: 400 })).toThrow(/layer 1\).*expected weights of at most maxBytes = 400 bytes decoded, got 480 so far/);
    expect(LSTM.fromONNX(bytes, { maxBytes: 10_000 }).numLayers).toBe(2);
    expect(() => LSTM.fromONNX(bytes, { maxBytes: -1 })).toThrow(/options.maxBytes: expected a positive safe integer/);
    let reads = 0;
    const opts = { get node() { reads++; return 0; } };
    expect(LSTM.fromONNX(bytes, opts).numLayers).toBe(1);
    expect(reads).toBe(1);
    expect(() => LSTM.fromONNX(new Proxy(bytes, {}))).toThrow(/bytes: expected a Uint8Array holding an ONNX model, got object/);
  });

  it('messages nested past the limit are refused', () => {
    // A node whose attribute holds a graph whose node holds a graph … 40 deep.
    let graph = new ProtoWriter().string(2, 'leaf').finish();
    for (let k = 0; k < 40; k++) {
      const attr = new ProtoWriter().string(1, 'body').bytes(6, graph).int(20, 5).finish();
      const node = new ProtoWriter().string(4, 'If').bytes(5, attr).finish();
      graph = new ProtoWriter().bytes(1, node).finish();
    }
    const model = new ProtoWriter().int(1, 7).bytes(7, graph).bytes(8, new ProtoWriter().int(2, 14).finish()).finish();
    expect(() => LSTM.fromONNX(model)).toThrow(/expected messages nested at most 32 deep, got deeper/);
  });

  it('not a model at all: empty, text, a safetensors header, a missing opset', () => {
    expect(() => LSTM.fromONNX(new Uint8Array(0))).toThrow(/expected an ONNX model, got 0 bytes/);
    expect(() => LSTM.fromONNX(new TextEncoder().encode('{"hello": "world"}'))).toThrow(ONNXError);
    const m = decodeModel(ours);
    m.opsets = [];
    expect(() => LSTM.fromONNX(encodeModel(m))).toThrow(/opset_import: expected an opset of the default domain \(ai.onnx\), got none/);
    expect(() => LSTM.fromONNX([1, 2, 3] as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('DOUBLE weights are read (as float32); other types are refused by name', () => {
    const m = decodeModel(exportONNX(new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 })));
    const k = m.graph.initializers.findIndex((t) => t.name === 'R_l0');
    const want = LSTM.fromONNX(encodeModel(m)).stateDict().weight_hh_l0!.data;
    // R as DOUBLE raw_data: the same values widened to float64.
    const r64 = Float64Array.from(want.length === 36 ? reorderToONNX(want) : []);
    m.graph.initializers[k] = { name: 'R_l0', dims: [1, 12, 3], dataType: 11, external: false, bytes: new Uint8Array(r64.buffer), payload: [{ no: 9, wire: 2, start: 0, end: r64.byteLength }] };
    expect(LSTM.fromONNX(encodeModel(m)).stateDict().weight_hh_l0!.data).toEqual(want);
    m.graph.initializers[k] = { name: 'R_l0', dims: [1, 12, 3], dataType: 7, data: Array.from({ length: 36 }, () => 1) };
    expect(() => LSTM.fromONNX(encodeModel(m))).toThrow(/input R \("R_l0"\): expected a FLOAT or DOUBLE tensor, got INT64/);
  });
});
