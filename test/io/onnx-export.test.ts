/**
 * exportONNX: the graph's interface (opset, IR version, input and output names, symbolic dims),
 * the weight conversions (gate orders, GRU z rows), and the arguments it refuses. That
 * onnxruntime computes what this library does is checked by `npm run test:onnx`
 * (examples/onnx/test-onnx.mjs) and by the peephole fixtures (test/onnx/peephole-fixtures.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { exportONNX, GRU, GRUCell, LSTM, LSTMCell, Linear, ONNXError } from '../../src/index.js';
import { decodeModel, tensorFloats } from '../../src/onnx/model.js';

describe('exportONNX arguments', () => {
  it('a head must take the outputs’ features; lengths are for stacks; other modules are refused', () => {
    const rnn = new LSTM({ inputSize: 2, hiddenSize: 3, bidirectional: true });
    expect(() => exportONNX(rnn, { head: new Linear({ inFeatures: 3, outFeatures: 1 }) })).toThrow(/head: expected inFeatures = 6 .*got 3/);
    expect(() => exportONNX(new LSTMCell({ inputSize: 2, hiddenSize: 3 }), { lengths: true })).toThrow(/a cell is exported as one step/);
    expect(() => exportONNX(new Linear({ inFeatures: 2, outFeatures: 3 }) as unknown as LSTM)).toThrow(/expected an LSTM, GRU, LSTMCell or GRUCell, got object/);
    expect(() => exportONNX(rnn, { initialState: 1 as unknown as boolean })).toThrow(/initialState/);
    expect(ONNXError.name).toBe('ONNXError');
  });

  it('refuses what ONNX’s LSTM cannot express: a projection (projSize)', () => {
    expect(() => exportONNX(new LSTM({ inputSize: 2, hiddenSize: 3, projSize: 2 }))).toThrow(/projSize 2 has no ONNX LSTM equivalent/);
  });

  it('batchFirst: input and output [B, T, F], transposed to and from ONNX’s time-major inside; states as ever', () => {
    const m = decodeModel(exportONNX(new GRU({ inputSize: 2, hiddenSize: 3, batchFirst: true }), { initialState: true, head: new Linear({ inFeatures: 3, outFeatures: 4 }) }));
    expect(m.graph.inputs.map((v) => v.dims)).toEqual([['B', 'T', 2], [1, 'B', 3]]);
    expect(m.graph.outputs.map((v) => v.dims)).toEqual([['B', 'T', 4], [1, 'B', 3]]);
    const transposes = m.graph.nodes.filter((n) => n.opType === 'Transpose').map((n) => n.attributes[0]!.ints);
    expect(transposes).toContainEqual([1, 0, 2]);
    expect(m.graph.nodes.find((n) => n.outputs[0] === 'output')!.opType).toBe('Transpose');
  });

  it('writes opset 14, IR 7, and the graph inputs and outputs by name with symbolic T and B', () => {
    const m = decodeModel(exportONNX(new GRU({ inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true }), { initialState: true, lengths: true }));
    expect(m.irVersion).toBe(7);
    expect(m.opsets).toEqual([{ domain: '', version: 14 }]);
    expect(m.graph.inputs).toEqual([
      { name: 'input', elemType: 1, dims: ['T', 'B', 2] }, { name: 'h0', elemType: 1, dims: [4, 'B', 3] },
      { name: 'lengths', elemType: 6, dims: ['B'] },
    ]);
    expect(m.graph.outputs).toEqual([{ name: 'output', elemType: 1, dims: ['T', 'B', 6] }, { name: 'h_n', elemType: 1, dims: [4, 'B', 3] }]);
    const grus = m.graph.nodes.filter((n) => n.opType === 'GRU');
    expect(grus).toHaveLength(2);
    expect(grus[0]!.attributes.find((a) => a.name === 'linear_before_reset')!.i).toBe(0);
    expect(grus[0]!.inputs[4]).toBe('lengths');
    const cell = decodeModel(exportONNX(new GRUCell({ inputSize: 2, hiddenSize: 3, resetAfter: true }), { initialState: true }));
    expect(cell.graph.inputs.map((v) => v.dims)).toEqual([['B', 2], ['B', 3]]);
    expect(cell.graph.nodes.find((n) => n.opType === 'GRU')!.attributes.find((a) => a.name === 'linear_before_reset')!.i).toBe(1);
  });
});

describe('exportONNX weights', () => {
  const H = 3, I = 2;
  const W = (bytes: Uint8Array, name: string): Float32Array => {
    const t = decodeModel(bytes).graph.initializers.find((x) => x.name === name)!;
    return tensorFloats(t, name);
  };
  const rows = (a: Float32Array, r0: number, r1: number, cols: number): number[] => Array.from(a.subarray(r0 * cols, r1 * cols));

  it('GRU: ONNX z = 1 − ours, so its z rows are ours negated; r and the candidate as they stand', () => {
    for (const resetAfter of [false, true]) {
      const gru = new GRU({ inputSize: I, hiddenSize: H, resetAfter, seed: 3 });
      const p = gru.cells[0]!.params, bytes = exportONNX(gru);
      const w = W(bytes, 'W_l0'), b = W(bytes, 'B_l0');
      // Ours r, z, n → ONNX z, r, h.
      expect(rows(w, 0, H, I)).toEqual(rows(p.weightIh, H, 2 * H, I).map((v) => -v));
      expect(rows(w, H, 2 * H, I)).toEqual(rows(p.weightIh, 0, H, I));
      expect(rows(w, 2 * H, 3 * H, I)).toEqual(rows(p.weightIh, 2 * H, 3 * H, I));
      expect(rows(b, 0, H, 1)).toEqual(rows(p.biasIh!, H, 2 * H, 1).map((v) => -v));
      expect(rows(b, 3 * H + 2 * H, 6 * H, 1)).toEqual(rows(p.biasHh!, 2 * H, 3 * H, 1));   // Rb_h
    }
  });

  it('LSTM: i, f, g, o → i, o, f, c; peephole i, f, o → i, o, f', () => {
    const lstm = new LSTM({ inputSize: I, hiddenSize: H, peephole: true, seed: 4 });
    const p = lstm.cells[0]!.params, bytes = exportONNX(lstm);
    const r = W(bytes, 'R_l0'), pp = W(bytes, 'P_l0');
    for (const [onnx, ours] of [[0, 0], [1, 3], [2, 1], [3, 2]] as const) {
      expect(rows(r, onnx * H, (onnx + 1) * H, H)).toEqual(rows(p.weightHh, ours * H, (ours + 1) * H, H));
    }
    expect(Array.from(pp)).toEqual([...rows(p.weightPeephole!, 0, 1, H), ...rows(p.weightPeephole!, 2, 3, H), ...rows(p.weightPeephole!, 1, 2, H)]);
  });
});
