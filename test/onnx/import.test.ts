/**
 * LSTM.fromONNX / GRU.fromONNX (src/onnx/import.ts): torch.onnx.export files (test/fixtures/make_onnx_import.py)
 * reproduce PyTorch's float64 outputs within the fixtures' bar; exportONNX → fromONNX returns the
 * same parameters; what cannot be carried is refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportONNX, GRU, LSTM } from '../../src/index.js';
import { decodeModel, encodeModel, type Model } from '../../src/onnx/model.js';
import { expectWithinBar, f32, FIXTURE_DIR } from '../helpers/fixtures.js';

interface ImportFixture {
  name: string; module: 'LSTM' | 'GRU'; file: string; inputSize: number; hiddenSize: number; steps: number; batch: number;
  numLayers: number; bidirectional: boolean; inputs: number[]; h0: number[]; c0?: number[];
  expected: { outputs: number[]; hN: number[]; cN?: number[] }; torchFloat32Error: Record<string, number>;
}

const NAMES = ['onnx_lstm_2layer_bidir', 'onnx_gru_2layer_bidir', 'onnx_lstm_1layer'];
const load = (n: string): ImportFixture => JSON.parse(readFileSync(join(FIXTURE_DIR, `${n}.json`), 'utf8')) as ImportFixture;
const bytesOf = (fx: ImportFixture): Uint8Array => new Uint8Array(readFileSync(join(FIXTURE_DIR, fx.file)));

describe('fromONNX on torch.onnx.export files', () => {
  for (const n of NAMES) {
    it(`${n}: reproduces PyTorch's float64 outputs within the fixture bar`, () => {
      const fx = load(n);
      const rnn = fx.module === 'LSTM' ? LSTM.fromONNX(bytesOf(fx)) : GRU.fromONNX(bytesOf(fx));
      expect(rnn.numLayers).toBe(fx.numLayers);
      expect(rnn.bidirectional).toBe(fx.bidirectional);
      expect(rnn.inputSize).toBe(fx.inputSize);
      expect(rnn.hiddenSize).toBe(fx.hiddenSize);
      if (rnn instanceof GRU) expect(rnn.resetAfter).toBe(true);   // torch exports linear_before_reset = 1
      const initialState = fx.c0 ? { h: f32(fx.h0), c: f32(fx.c0) } : { h: f32(fx.h0) };
      const r = (rnn as LSTM).run(f32(fx.inputs), { batch: fx.batch, initialState: initialState as { h: Float32Array; c: Float32Array } });
      expectWithinBar(`${n} outputs`, r.outputs, fx.expected.outputs, fx.torchFloat32Error.outputs);
      expectWithinBar(`${n} hN`, r.finalState.h, fx.expected.hN, fx.torchFloat32Error.hN);
      if (fx.expected.cN) expectWithinBar(`${n} cN`, (r.finalState as { c: Float32Array }).c, fx.expected.cN, fx.torchFloat32Error.cN);
    });
  }

  it('options.node picks one node, by name or index, as a one-layer stack', () => {
    const fx = load('onnx_lstm_2layer_bidir');
    const names = decodeModel(bytesOf(fx)).graph.nodes.filter((x) => x.opType === 'LSTM').map((x) => x.name);
    expect(names).toHaveLength(2);
    const whole = LSTM.fromONNX(bytesOf(fx));
    const second = LSTM.fromONNX(bytesOf(fx), { node: 1 });
    expect(second.numLayers).toBe(1);
    expect(second.inputSize).toBe(2 * fx.hiddenSize);
    expect(second.stateDict().weight_ih_l0!.data).toEqual(whole.stateDict().weight_ih_l1!.data);
    expect(LSTM.fromONNX(bytesOf(fx), { node: names[1]! }).stateDict().weight_hh_l0_reverse!.data)
      .toEqual(whole.stateDict().weight_hh_l1_reverse!.data);
    expect(() => LSTM.fromONNX(bytesOf(fx), { node: 'nope' })).toThrow(/no LSTM node named "nope"; the graph has 2/);
    expect(() => LSTM.fromONNX(bytesOf(fx), { node: -1 })).toThrow(TypeError);
  });

  it('an LSTM file is not a GRU', () => {
    expect(() => GRU.fromONNX(bytesOf(load('onnx_lstm_1layer')))).toThrow(/expected at least one GRU node, got none \(node types: .*LSTM/);
  });
});

describe('exportONNX → fromONNX round trip', () => {
  const cases: [string, () => LSTM | GRU][] = [
    ['LSTM 2 layers bidirectional', () => new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 3 })],
    ['LSTM without bias', () => new LSTM({ inputSize: 3, hiddenSize: 4, bias: false, seed: 4 })],
    ['GRU (reset before)', () => new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 5 })],
    ['GRU (resetAfter) bidirectional', () => new GRU({ inputSize: 3, hiddenSize: 4, bidirectional: true, resetAfter: true, seed: 6 })],
  ];
  for (const [name, make] of cases) {
    it(`${name}: the same configuration and bit-identical parameters`, () => {
      const m = make();
      const back = m instanceof LSTM ? LSTM.fromONNX(exportONNX(m, { initialState: true, lengths: true })) : GRU.fromONNX(exportONNX(m));
      expect(back.config()).toEqual(m.config());
      const a = m.stateDict(), b = back.stateDict();
      expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
      for (const k of Object.keys(a)) expect(b[k]!.data, k).toEqual(a[k]!.data);
    });
  }
});

/** The decoded model of an export, edited and encoded again. */
function edited(edit: (m: Model) => void, rnn: LSTM | GRU = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 })): Uint8Array {
  const m = decodeModel(exportONNX(rnn));
  edit(m);
  return encodeModel(m);
}
const rnnNode = (m: Model) => m.graph.nodes.find((n) => n.opType === 'LSTM' || n.opType === 'GRU')!;

describe('fromONNX finds weights stored in other ways', () => {
  it('through Identity nodes and in Constant nodes', () => {
    const rnn = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 });
    const bytes = edited((m) => {
      const node = rnnNode(m);
      const r = m.graph.initializers.find((t) => t.name === 'R_l0')!;
      m.graph.initializers = m.graph.initializers.filter((t) => t !== r);
      m.graph.nodes.unshift(
        { name: 'idW', opType: 'Identity', domain: '', inputs: ['W_l0'], outputs: ['W_alias'], attributes: [] },
        { name: 'constR', opType: 'Constant', domain: '', inputs: [], outputs: ['R_const'], attributes: [{ name: 'value', type: 4, t: r }] },
      );
      node.inputs[1] = 'W_alias';
      node.inputs[2] = 'R_const';
    }, rnn);
    const back = LSTM.fromONNX(bytes);
    expect(back.stateDict().weight_ih_l0!.data).toEqual(rnn.stateDict().weight_ih_l0!.data);
    expect(back.stateDict().weight_hh_l0!.data).toEqual(rnn.stateDict().weight_hh_l0!.data);
  });
});

describe('fromONNX refuses what it cannot carry', () => {
  it('clip, input_forget, activations, activation_alpha, layout, reverse, unknown attributes', () => {
    const attr = (a: Model['graph']['nodes'][number]['attributes'][number]) => edited((m) => rnnNode(m).attributes.push(a));
    expect(() => LSTM.fromONNX(attr({ name: 'clip', type: 1, f: 3 }))).toThrow(/clip = 3 \(cell clipping\) is not supported/);
    expect(() => LSTM.fromONNX(attr({ name: 'input_forget', type: 2, i: 1 }))).toThrow(/input_forget = 1/);
    expect(() => LSTM.fromONNX(attr({ name: 'activations', type: 8, strings: ['Sigmoid', 'Relu', 'Tanh'] }))).toThrow(/activations \[Sigmoid, Relu, Tanh\] are not supported/);
    expect(LSTM.fromONNX(attr({ name: 'activations', type: 8, strings: ['Sigmoid', 'Tanh', 'Tanh'] })).hiddenSize).toBe(3);
    expect(() => LSTM.fromONNX(attr({ name: 'activation_alpha', type: 6, floats: [1] }))).toThrow(/activation_alpha is not supported/);
    expect(() => LSTM.fromONNX(attr({ name: 'layout', type: 2, i: 1 }))).toThrow(/layout = 1/);
    expect(() => LSTM.fromONNX(attr({ name: 'frobnicate', type: 2, i: 1 }))).toThrow(/unknown attribute "frobnicate"/);
    const reverse = edited((m) => { rnnNode(m).attributes.find((a) => a.name === 'direction')!.s = 'reverse'; });
    expect(() => LSTM.fromONNX(reverse)).toThrow(/direction "forward" or "bidirectional", got "reverse"/);
  });

  it('external data, missing initializers, wrong dtypes and shapes', () => {
    // data_location = EXTERNAL on W (the encoder copies a decoded tensor with its flag).
    const ext = edited((m) => { (m.graph.initializers.find((x) => x.name.startsWith('W_')) as { external: boolean }).external = true; });
    expect(() => LSTM.fromONNX(ext)).toThrow(/input W \("W_l0"\): the tensor's data is stored outside the file \(external data\)/);
    const missing = edited((m) => { m.graph.initializers = m.graph.initializers.filter((t) => !t.name.startsWith('R_')); });
    expect(() => LSTM.fromONNX(missing)).toThrow(/input R \("R_l0"\) is not an initializer or Constant.*missing initializer/);
    const int = edited((m) => {
      const t = m.graph.initializers.find((x) => x.name.startsWith('W_'))!;
      m.graph.initializers[m.graph.initializers.indexOf(t)] = { name: t.name, dims: t.dims, dataType: 6, data: new Int32Array(2 * 12) };
    });
    expect(() => LSTM.fromONNX(int)).toThrow(/input W \("W_l0"\): expected a FLOAT or DOUBLE tensor, got INT32/);
    const shape = edited((m) => { m.graph.initializers.find((x) => x.name.startsWith('R_'))!.dims = [1, 12, 2]; });
    expect(() => LSTM.fromONNX(shape)).toThrow(/input R \("R_l0"\): expected shape \[1, 12, 3\], got \[1, 12, 2\]/);
    expect(() => LSTM.fromONNX('x' as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('the data a tensor holds must match its dims', () => {
    const m = decodeModel(exportONNX(new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 })));
    const t = m.graph.initializers.find((x) => x.name.startsWith('B_'))!;
    // Re-encode with dims claiming more elements than the raw_data holds.
    const enc = encodeModel({ ...m, graph: { ...m.graph, initializers: m.graph.initializers.map((x) => (x === t
      ? { name: t.name, dims: [1, 24], dataType: 1, data: new Float32Array(20) } : x)) } });
    expect(() => LSTM.fromONNX(enc)).toThrow(/input B \("B_l0"\): expected shape \[1, 24\]|need 96 bytes of FLOAT data, got 80/);
  });
});

