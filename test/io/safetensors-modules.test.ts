/**
 * safetensors with the modules: the nn.LSTM(3, 4) state dict inside test/fixtures/
 * torch_small.safetensors (written by test/fixtures/make_safetensors.py from PyTorch's tensors)
 * loads with LSTM.fromPyTorch and comes back bit for bit; and
 * saveSafetensors(rnn.stateDict()) → loadSafetensors → fromPyTorch rebuilds a module whose
 * outputs are bitwise those of the original.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  GRU, LSTM, loadSafetensorsMetadata, saveSafetensors, type LSTMState, type Tensor,
} from '../../src/index.js';
import { FIXTURE_DIR } from '../helpers/fixtures.js';
import { loadFloat32 } from '../helpers/safetensors.js';
import { bitwiseEqual, randn } from '../helpers/cells.js';

const LSTM_KEYS = ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'];

interface Golden {
  metadata: Record<string, string>;
  tensors: Record<string, { dtype: string; shape: number[]; f32_bits: number[] }>;
}

const golden = JSON.parse(readFileSync(join(FIXTURE_DIR, 'torch_small.safetensors.json'), 'utf8')) as Golden;
const fileBytes = () => new Uint8Array(readFileSync(join(FIXTURE_DIR, 'torch_small.safetensors')));

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

function fromBits(b: number[]): Float32Array {
  return new Float32Array(Uint32Array.from(b).buffer);
}

function pick(all: Record<string, Tensor>, keys: string[]): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const k of keys) out[k] = all[k]!;
  return out;
}

const sig = (a: number): number => 1 / (1 + Math.exp(-a));

/** PyTorch's nn.LSTM, one layer, in float64 from its own state dict; outputs [T, B, H]. */
function torchLstm(sd: Record<string, { data: ArrayLike<number> }>, x: Float32Array, T: number, B: number, In: number, Hd: number): Float64Array {
  const Wi = sd.weight_ih_l0!.data, Wh = sd.weight_hh_l0!.data, bi = sd.bias_ih_l0!.data, bh = sd.bias_hh_l0!.data;
  let h = new Float64Array(B * Hd), c = new Float64Array(B * Hd);
  const out = new Float64Array(T * B * Hd);
  for (let t = 0; t < T; t++) {
    const hn = new Float64Array(B * Hd), cn = new Float64Array(B * Hd);
    for (let b = 0; b < B; b++) {
      const pre = (row: number) => {
        let s = bi[row]! + bh[row]!;
        for (let k = 0; k < In; k++) s += Wi[row * In + k]! * x[(t * B + b) * In + k]!;
        for (let k = 0; k < Hd; k++) s += Wh[row * Hd + k]! * h[b * Hd + k]!;
        return s;
      };
      for (let j = 0; j < Hd; j++) {
        const i = sig(pre(j)), f = sig(pre(Hd + j)), g = Math.tanh(pre(2 * Hd + j)), o = sig(pre(3 * Hd + j));
        cn[b * Hd + j] = f * c[b * Hd + j]! + i * g;
        hn[b * Hd + j] = o * Math.tanh(cn[b * Hd + j]!);
      }
    }
    h = hn; c = cn;
    out.set(h, t * B * Hd);
  }
  return out;
}

describe('torch_small.safetensors: the nn.LSTM(3, 4) written by PyTorch', () => {
  it('holds the LSTM keys with PyTorch shapes among other tensors', () => {
    const all = loadFloat32(fileBytes());
    expect(Object.keys(all).sort()).toEqual(Object.keys(golden.tensors).sort());
    for (const k of LSTM_KEYS) expect(all[k], k).toBeDefined();
    expect(all.weight_ih_l0!.shape).toEqual([16, 3]);
    expect(all.weight_hh_l0!.shape).toEqual([16, 4]);
    expect(all.bias_ih_l0!.shape).toEqual([16]);
    expect(all.bias_hh_l0!.shape).toEqual([16]);
    expect(loadSafetensorsMetadata(fileBytes()).note).toBe('nn.LSTM(3, 4), λ ✓');
  });

  it('LSTM.fromPyTorch on the picked keys: sizes from the shapes, stateDict() reproduces the file bit for bit', () => {
    const all = loadFloat32(fileBytes());
    const rnn = LSTM.fromPyTorch(pick(all, LSTM_KEYS));
    expect([rnn.inputSize, rnn.hiddenSize, rnn.numLayers, rnn.bidirectional, rnn.bias]).toEqual([3, 4, 1, false, true]);
    const sd = rnn.stateDict();
    expect(Object.keys(sd)).toEqual(LSTM_KEYS);
    for (const k of LSTM_KEYS) {
      expect(sd[k]!.shape, k).toEqual(golden.tensors[k]!.shape);
      // Against the bit patterns PyTorch itself reported, independently of loadSafetensors.
      expect(bits(sd[k]!.data), k).toEqual(golden.tensors[k]!.f32_bits);
      expect(bits(sd[k]!.data), k).toEqual(bits(all[k]!.data));
    }
    // An LSTM is not converted: the cell holds PyTorch's numbers as they are.
    expect(bits(rnn.cells[0]!.params.weightHh)).toEqual(golden.tensors.weight_hh_l0!.f32_bits);
    // Saved again, the four tensors are what PyTorch wrote.
    const again = loadFloat32(saveSafetensors(sd));
    for (const k of LSTM_KEYS) expect(bits(again[k]!.data), k).toEqual(golden.tensors[k]!.f32_bits);
  });

  it('the loaded LSTM computes PyTorch\'s nn.LSTM equations (float64 reference, 1e-6)', () => {
    const sd = loadFloat32(fileBytes());
    const rnn = LSTM.fromPyTorch(pick(sd, LSTM_KEYS));
    const T = 6, B = 2;
    const x = randn(T * B * 3, 1);
    const ref = torchLstm(sd, x, T, B, 3, 4);
    const out = rnn.run(x, { batch: B }).outputs;
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(out[i]! - ref[i]!));
    expect(worst).toBeLessThan(1e-6);
    expect(Math.max(...Array.from(out, Math.abs))).toBeGreaterThan(0.05);   // not a trivial output
  });

  it('the whole file is not an LSTM state dict: the first foreign key is named', () => {
    const all = loadFloat32(fileBytes());
    expect(() => LSTM.fromPyTorch(all)).toThrow(/^stateDict: unexpected key "(brain|double|empty|half|scalar)"; expected keys "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"$/);
    // The file's tensors, given as the JSON's bit patterns, load the same way.
    const fromJson: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const k of LSTM_KEYS) fromJson[k] = { shape: golden.tensors[k]!.shape, data: fromBits(golden.tensors[k]!.f32_bits) };
    const a = LSTM.fromPyTorch(fromJson), b = LSTM.fromPyTorch(pick(all, LSTM_KEYS));
    a.parameters().forEach((p, i) => expect(bitwiseEqual(p.value, b.parameters()[i]!.value), p.name).toBe(true));
  });
});

describe('saveSafetensors(rnn.stateDict()) → loadSafetensors → fromPyTorch', () => {
  const cases = [
    ['LSTM', 1, false], ['LSTM', 2, true], ['GRU', 1, false], ['GRU', 2, true],
  ] as const;
  it.each(cases)('%s, numLayers %i, bidirectional %s: same parameters, outputs bitwise identical', (kind, numLayers, bidirectional) => {
    const I = 3, H = 5, T = 6, B = 3;
    const o = { inputSize: I, hiddenSize: H, numLayers, bidirectional, seed: 77 };
    // GRU.fromPyTorch gives PyTorch's (resetAfter) form, so the original is built in that form.
    const original = kind === 'LSTM' ? new LSTM(o) : new GRU({ ...o, resetAfter: true });
    // A planted -0 in a GRU z row must survive both negations and the file.
    original.cells[0]!.params.biasHh![H] = -0;
    original.cells[0]!.params.biasIh![0] = -0;
    const sd = original.stateDict();
    const bytes = saveSafetensors(sd, { format: 'pt' });
    const loaded = loadFloat32(bytes);
    expect(Object.keys(loaded).sort()).toEqual(Object.keys(sd).sort());
    for (const k of Object.keys(sd)) {
      expect(loaded[k]!.shape, k).toEqual(sd[k]!.shape);
      expect(bits(loaded[k]!.data), k).toEqual(bits(sd[k]!.data));
    }
    if (kind === 'GRU') {
      // The file holds PyTorch's convention: the z rows are the negation of the cell's own.
      const fileBias = loaded.bias_hh_l0!.data, ours = original.cells[0]!.params.biasHh!;
      for (let j = 0; j < 3 * H; j++) expect(Object.is(fileBias[j], j >= H && j < 2 * H ? -ours[j]! : ours[j]!), `bias_hh_l0[${j}]`).toBe(true);
    }
    const rebuilt = kind === 'LSTM' ? LSTM.fromPyTorch(loaded) : GRU.fromPyTorch(loaded);
    expect([rebuilt.numLayers, rebuilt.bidirectional, rebuilt.inputSize, rebuilt.hiddenSize]).toEqual([numLayers, bidirectional, I, H]);
    if (kind === 'GRU') expect((rebuilt as GRU).resetAfter).toBe(true);
    original.parameters().forEach((p, i) => expect(bitwiseEqual(rebuilt.parameters()[i]!.value, p.value), p.name).toBe(true));
    expect(Object.is(rebuilt.cells[0]!.params.biasHh![H], -0)).toBe(true);

    const D = bidirectional ? 2 : 1, K = numLayers * D;
    const x = randn(T * B * I, 5);
    const h0 = randn(K * B * H, 6, 0.5), c0 = randn(K * B * H, 7, 0.5);
    const init = kind === 'LSTM' ? { h: h0, c: c0 } : { h: h0 };
    for (const lengths of [undefined, [6, 2, 4]]) {
      const a = (original as LSTM).run(x, { batch: B, lengths, initialState: init as LSTMState });
      const b = (rebuilt as LSTM).run(x, { batch: B, lengths, initialState: init as LSTMState });
      expect(bitwiseEqual(a.outputs, b.outputs), `outputs (lengths ${JSON.stringify(lengths)})`).toBe(true);
      expect(bitwiseEqual(a.finalState.h, b.finalState.h), 'hN').toBe(true);
      if (kind === 'LSTM') expect(bitwiseEqual(a.finalState.c, b.finalState.c), 'cN').toBe(true);
      expect(a.outputs.some((v) => v !== 0)).toBe(true);
    }
  });

  it('a state dict saved from one kind does not load as the other', () => {
    const lstmFile = loadFloat32(saveSafetensors(new LSTM({ inputSize: 3, hiddenSize: 4 }).stateDict()));
    expect(() => GRU.fromPyTorch(lstmFile)).toThrow('stateDict["weight_hh_l0"]: expected shape [3*H, H], got [16, 4]');
    const gruFile = loadFloat32(saveSafetensors(new GRU({ inputSize: 3, hiddenSize: 4, resetAfter: true }).stateDict()));
    expect(() => LSTM.fromPyTorch(gruFile)).toThrow('stateDict["weight_hh_l0"]: expected shape [4*H, H] (or [4*H, projSize] with a "weight_hr_l0"), got [12, 4]');
  });
});
