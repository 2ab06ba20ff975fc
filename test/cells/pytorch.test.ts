/**
 * PyTorch interop of cells and stacks: stateDict() → loadStateDict()/fromPyTorch() round trips
 * bit for bit under PyTorch's exact keys and shapes; the GRU z-row convention (negated on import,
 * negated back on export, gradients too) and its equivalence with PyTorch's own GRU equations in
 * float64; every accepted input form; and all-or-nothing loading with messages that name the key
 * and both shapes.
 */
import { describe, expect, it } from 'vitest';
import {
  GRU, GRUCell, LSTM, LSTMCell, SequenceRunner, type Parameter, type Tensor, type TensorInput,
} from '../../src/index.js';
import { loadFixture, type TorchFixture } from '../helpers/fixtures.js';
import { randn } from '../helpers/cells.js';

// ---------------------------------------------------------------- helpers

interface Loadable {
  stateDict(): Record<string, Tensor>;
  loadStateDict(sd: Record<string, TensorInput>): void;
  parameters(): Parameter[];
}

type Kind = 'LSTMCell' | 'GRUCell' | 'LSTM' | 'GRU';
const KINDS: Kind[] = ['LSTMCell', 'GRUCell', 'LSTM', 'GRU'];
const I = 3, H = 4;

/** Cells: plain; stacks: 2 layers, bidirectional. GRUs in PyTorch's (resetAfter) form. */
function make(kind: Kind, seed: number, bias = true): Loadable {
  switch (kind) {
    case 'LSTMCell': return new LSTMCell({ inputSize: I, hiddenSize: H, bias, seed });
    case 'GRUCell': return new GRUCell({ inputSize: I, hiddenSize: H, bias, seed, resetAfter: true });
    case 'LSTM': return new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, bias, seed });
    case 'GRU': return new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, bias, seed, resetAfter: true });
  }
}

function fromPyTorch(kind: Kind, sd: Record<string, TensorInput>): Loadable {
  switch (kind) {
    case 'LSTMCell': return LSTMCell.fromPyTorch(sd);
    case 'GRUCell': return GRUCell.fromPyTorch(sd);
    case 'LSTM': return LSTM.fromPyTorch(sd);
    case 'GRU': return GRU.fromPyTorch(sd);
  }
}

/** PyTorch's state-dict keys and shapes, in PyTorch's order. */
function pytorchShapes(kind: Kind, bias: boolean, inputSize = I, hiddenSize = H): [string, number[]][] {
  const G = kind.startsWith('LSTM') ? 4 : 3, GH = G * hiddenSize;
  const cell = (suffix: string, In: number): [string, number[]][] => [
    [`weight_ih${suffix}`, [GH, In]],
    [`weight_hh${suffix}`, [GH, hiddenSize]],
    ...(bias ? [[`bias_ih${suffix}`, [GH]], [`bias_hh${suffix}`, [GH]]] as [string, number[]][] : []),
  ];
  if (kind.endsWith('Cell')) return cell('', inputSize);
  return [...cell('_l0', inputSize), ...cell('_l0_reverse', inputSize),
    ...cell('_l1', 2 * hiddenSize), ...cell('_l1_reverse', 2 * hiddenSize)];
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

function expectSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  expect(bits(actual), `${what}: bits`).toEqual(bits(expected));
}

/** Deep copies of every parameter value and gradient. */
function snapshot(m: Loadable): Float32Array[] {
  return m.parameters().flatMap((p) => [p.value.slice(), p.grad.slice()]);
}

function expectUnchanged(m: Loadable, snap: Float32Array[], what: string): void {
  const now = m.parameters().flatMap((p) => [p.value, p.grad]);
  expect(now.length).toBe(snap.length);
  now.forEach((a, i) => expectSameBits(a, snap[i]!, `${what}: array ${i}`));
}

/** Random PyTorch-style tensors for the given keys and shapes (values in ±0.5, float32). */
function randomStateDict(shapes: [string, number[]][], seed: number): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  shapes.forEach(([k, shape], i) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = randn(n, seed * 100 + i, 0.3);
    out[k] = { dtype: 'float32', shape: shape.slice(), data };
  });
  return out;
}

/** A copy of sd with each tensor's data copied (so tests may mutate it). */
function cloneSd(sd: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(sd)) out[k] = { dtype: 'float32', shape: t.shape.slice(), data: t.data.slice() };
  return out;
}

/** Rows [H, 2H) negated, other rows copied; `cols` per row. */
function negateZRows(data: Float32Array, cols: number, hidden: number): Float32Array {
  const out = data.slice();
  for (let i = hidden * cols; i < 2 * hidden * cols; i++) out[i] = -out[i]!;
  return out;
}

function nested(t: Tensor): number[] | number[][] {
  if (t.shape.length === 1) return Array.from(t.data);
  const [rows, cols] = t.shape as [number, number];
  return Array.from({ length: rows }, (_, r) => Array.from(t.data.subarray(r * cols, (r + 1) * cols)));
}

// ---------------------------------------------------------------- round trips

describe.each(KINDS)('%s stateDict round trip', (kind) => {
  for (const bias of [true, false]) {
    it(`keys and shapes are PyTorch's, in PyTorch's order (bias: ${bias})`, () => {
      const m = make(kind, 1, bias);
      const sd = m.stateDict();
      const want = pytorchShapes(kind, bias);
      expect(Object.keys(sd)).toEqual(want.map(([k]) => k));
      for (const [k, shape] of want) {
        expect(sd[k]!.shape, k).toEqual(shape);
        expect(sd[k]!.dtype).toBe('float32');
        expect(sd[k]!.data).toBeInstanceOf(Float32Array);
        expect(sd[k]!.data.length, k).toBe(shape.reduce((a, b) => a * b, 1));
      }
      if (!bias) expect(Object.keys(sd).some((k) => k.startsWith('bias'))).toBe(false);
    });

    it(`loadStateDict and fromPyTorch reproduce the parameters bit for bit, -0 included (bias: ${bias})`, () => {
      const a = make(kind, 1, bias);
      // Plant signed zeros and a subnormal in every tensor: in the first gate block, and at the
      // start of rows [H, 2H) (the GRU z rows, negated on the way through).
      const G = kind.startsWith('LSTM') ? 4 : 3;
      for (const p of a.parameters()) {
        const cols = p.value.length / (G * H);
        p.value[0] = -0;
        p.value[H * cols] = -0;
        p.value[H * cols + 1] = 0;
        p.value[H * cols + 2] = -1e-40;
        p.value[p.value.length - 1] = 1e-40;
      }
      const sd = a.stateDict();
      const b = make(kind, 99, bias);
      expect(bits(b.parameters()[0]!.value)).not.toEqual(bits(a.parameters()[0]!.value));
      b.loadStateDict(sd);
      const pa = a.parameters(), pb = b.parameters();
      expect(pb.map((p) => p.name)).toEqual(pa.map((p) => p.name));
      pa.forEach((p, i) => expectSameBits(pb[i]!.value, p.value, `loadStateDict ${p.name}`));
      const sdB = b.stateDict();
      for (const k of Object.keys(sd)) expectSameBits(sdB[k]!.data, sd[k]!.data, `stateDict ${k}`);

      const c = fromPyTorch(kind, sd);
      const pc = c.parameters();
      expect(pc.map((p) => p.name)).toEqual(pa.map((p) => p.name));
      pa.forEach((p, i) => expectSameBits(pc[i]!.value, p.value, `fromPyTorch ${p.name}`));
      const sdC = c.stateDict();
      expect(Object.keys(sdC)).toEqual(Object.keys(sd));
      for (const k of Object.keys(sd)) {
        expect(sdC[k]!.shape).toEqual(sd[k]!.shape);
        expectSameBits(sdC[k]!.data, sd[k]!.data, `fromPyTorch → stateDict ${k}`);
      }
      if (kind === 'LSTM' || kind === 'GRU') {
        const s = c as LSTM | GRU;
        expect([s.numLayers, s.bidirectional, s.bias, s.inputSize, s.hiddenSize]).toEqual([2, true, bias, I, H]);
      } else {
        const s = c as LSTMCell | GRUCell;
        expect([s.bias, s.inputSize, s.hiddenSize]).toEqual([bias, I, H]);
      }
    });
  }

  it('stateDict returns new arrays, and loadStateDict copies its input', () => {
    const m = make(kind, 2);
    const before = snapshot(m);
    const sd = m.stateDict();
    for (const t of Object.values(sd)) t.data.fill(7);
    expectUnchanged(m, before, 'after mutating a stateDict result');
    const src = make(kind, 3).stateDict();
    m.loadStateDict(src);
    const loaded = snapshot(m);
    for (const t of Object.values(src)) t.data.fill(-7);
    expectUnchanged(m, loaded, 'after mutating the loaded dict');
  });

  if (kind.startsWith('GRU')) it('a signed zero in a GRU z row flips inside and flips back on export', () => {
    const shapes = pytorchShapes(kind, true);
    const sd = randomStateDict(shapes, 5);
    const key = kind === 'GRU' ? 'bias_hh_l1_reverse' : 'bias_hh';
    sd[key]!.data[H] = -0;        // z row
    sd[key]!.data[H + 1] = 0;     // z row
    sd[key]!.data[0] = -0;        // r row
    const m = fromPyTorch(kind, sd);
    const cellParams = kind === 'GRU' ? (m as GRU).cells[3]!.params : (m as GRUCell).params;
    expect(Object.is(cellParams.biasHh![H], 0)).toBe(true);
    expect(Object.is(cellParams.biasHh![H + 1], -0)).toBe(true);
    expect(Object.is(cellParams.biasHh![0], -0)).toBe(true);
    const back = m.stateDict()[key]!.data;
    expect(Object.is(back[H], -0)).toBe(true);
    expect(Object.is(back[H + 1], 0)).toBe(true);
    expect(Object.is(back[0], -0)).toBe(true);
  });
});

describe("keys and shapes equal those of real PyTorch modules (torch fixtures' state dicts)", () => {
  it.each([
    ['torch_lstm_2layer_bidir', 'LSTM'],
    ['torch_gru_2layer_bidir', 'GRU'],
    ['torch_lstmcell', 'LSTMCell'],
    ['torch_grucell', 'GRUCell'],
  ] as const)('%s', (name, kind) => {
    const fx = loadFixture<TorchFixture>(name);
    const sizes = { inputSize: fx.inputSize, hiddenSize: fx.hiddenSize };
    const stack = { ...sizes, numLayers: fx.numLayers, bidirectional: fx.bidirectional };
    const m = kind === 'LSTM' ? new LSTM(stack) : kind === 'GRU' ? new GRU({ ...stack, resetAfter: true })
      : kind === 'LSTMCell' ? new LSTMCell(sizes) : new GRUCell({ ...sizes, resetAfter: true });
    const sd = m.stateDict();
    expect(Object.keys(sd)).toEqual(Object.keys(fx.stateDict));
    for (const k of Object.keys(sd)) expect(sd[k]!.shape, k).toEqual(fx.stateDictShapes[k]);
  });
});

// ---------------------------------------------------------------- the GRU convention

describe('GRU z-row convention', () => {
  it('GRUCell.fromPyTorch: resetAfter true, rows [H, 2H) of all four tensors negated, others identical', () => {
    const sd = randomStateDict(pytorchShapes('GRUCell', true), 11);
    const cell = GRUCell.fromPyTorch(sd);
    expect(cell.resetAfter).toBe(true);
    const pairs: [string, Float32Array, number][] = [
      ['weight_ih', cell.params.weightIh, I], ['weight_hh', cell.params.weightHh, H],
      ['bias_ih', cell.params.biasIh!, 1], ['bias_hh', cell.params.biasHh!, 1],
    ];
    for (const [k, ours, cols] of pairs) {
      const theirs = sd[k]!.data;
      for (let row = 0; row < 3 * H; row++) {
        for (let c = 0; c < cols; c++) {
          const i = row * cols + c;
          const want = row >= H && row < 2 * H ? -theirs[i]! : theirs[i]!;
          expect(Object.is(ours[i], want), `${k}[${row}, ${c}]`).toBe(true);
        }
      }
      expect(bits(ours)).toEqual(bits(negateZRows(theirs, cols, H)));
      expect(bits(ours)).not.toEqual(bits(theirs));
    }
    const back = cell.stateDict();
    for (const k of Object.keys(sd)) expectSameBits(back[k]!.data, sd[k]!.data, `stateDict ${k}`);
  });

  it('GRU.fromPyTorch negates the z rows of every cell, both layers and directions', () => {
    const shapes = pytorchShapes('GRU', true);
    const sd = randomStateDict(shapes, 12);
    const rnn = GRU.fromPyTorch(sd);
    expect(rnn.resetAfter).toBe(true);
    expect(rnn.cells.every((c) => (c as GRUCell).resetAfter)).toBe(true);
    const suffixes = ['_l0', '_l0_reverse', '_l1', '_l1_reverse'];
    rnn.cells.forEach((c, k) => {
      const s = suffixes[k]!;
      expectSameBits(c.params.weightIh, negateZRows(sd[`weight_ih${s}`]!.data, c.inputSize, H), `weight_ih${s}`);
      expectSameBits(c.params.weightHh, negateZRows(sd[`weight_hh${s}`]!.data, H, H), `weight_hh${s}`);
      expectSameBits(c.params.biasIh!, negateZRows(sd[`bias_ih${s}`]!.data, 1, H), `bias_ih${s}`);
      expectSameBits(c.params.biasHh!, negateZRows(sd[`bias_hh${s}`]!.data, 1, H), `bias_hh${s}`);
    });
    const back = rnn.stateDict();
    for (const k of Object.keys(sd)) expectSameBits(back[k]!.data, sd[k]!.data, `stateDict ${k}`);
  });

  it('an LSTM is not converted: LSTMCell.fromPyTorch copies every row as is', () => {
    const sd = randomStateDict(pytorchShapes('LSTMCell', true), 13);
    const cell = LSTMCell.fromPyTorch(sd);
    expectSameBits(cell.params.weightIh, sd.weight_ih!.data, 'weight_ih');
    expectSameBits(cell.params.weightHh, sd.weight_hh!.data, 'weight_hh');
    expectSameBits(cell.params.biasIh!, sd.bias_ih!.data, 'bias_ih');
    expectSameBits(cell.params.biasHh!, sd.bias_hh!.data, 'bias_hh');
  });

  it('gradDict negates the z rows of the gradients (cells and stacks), and only those', () => {
    const cell = GRUCell.fromPyTorch(randomStateDict(pytorchShapes('GRUCell', true), 14));
    const B = 2;
    const s = cell.forward(randn(B * I, 1), { h: randn(B * H, 2, 0.5) }, B);
    cell.zeroGrad();
    cell.backward(s, { h: randn(B * H, 3) });
    const gd = cell.gradDict();
    expect(Object.keys(gd)).toEqual(['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']);
    expectSameBits(gd.weight_ih!.data, negateZRows(cell.grads.weightIh, I, H), 'd weight_ih');
    expectSameBits(gd.weight_hh!.data, negateZRows(cell.grads.weightHh, H, H), 'd weight_hh');
    expectSameBits(gd.bias_ih!.data, negateZRows(cell.grads.biasIh!, 1, H), 'd bias_ih');
    expectSameBits(gd.bias_hh!.data, negateZRows(cell.grads.biasHh!, 1, H), 'd bias_hh');
    // The z-row gradients are non-zero, so the negation is visible.
    expect(cell.grads.biasIh!.subarray(H, 2 * H).some((v) => v !== 0)).toBe(true);
    // Returned arrays are copies.
    gd.bias_ih!.data.fill(0);
    expect(cell.grads.biasIh!.some((v) => v !== 0)).toBe(true);

    const rnn = GRU.fromPyTorch(randomStateDict(pytorchShapes('GRU', true), 15));
    const T = 3;
    rnn.forward(randn(T * B * I, 4), { batch: B });
    rnn.zeroGrad();
    rnn.backward({ dOutputs: randn(T * B * 2 * H, 5) });
    const gs = rnn.gradDict();
    expect(Object.keys(gs)).toEqual(pytorchShapes('GRU', true).map(([k]) => k));
    const suffixes = ['_l0', '_l0_reverse', '_l1', '_l1_reverse'];
    rnn.cells.forEach((c, k) => {
      const sfx = suffixes[k]!;
      expect(gs[`weight_ih${sfx}`]!.shape).toEqual([3 * H, c.inputSize]);
      expectSameBits(gs[`weight_ih${sfx}`]!.data, negateZRows(c.grads.weightIh, c.inputSize, H), `d weight_ih${sfx}`);
      expectSameBits(gs[`weight_hh${sfx}`]!.data, negateZRows(c.grads.weightHh, H, H), `d weight_hh${sfx}`);
      expectSameBits(gs[`bias_ih${sfx}`]!.data, negateZRows(c.grads.biasIh!, 1, H), `d bias_ih${sfx}`);
      expectSameBits(gs[`bias_hh${sfx}`]!.data, negateZRows(c.grads.biasHh!, 1, H), `d bias_hh${sfx}`);
    });
  });

  it('gradDict of an LSTM is the gradients as they are', () => {
    const cell = new LSTMCell({ inputSize: I, hiddenSize: H, seed: 3 });
    const s = cell.forward(randn(2 * I, 1), cell.initialState(2), 2);
    cell.backward(s, { h: randn(2 * H, 2), c: randn(2 * H, 3) });
    const gd = cell.gradDict();
    expectSameBits(gd.weight_ih!.data, cell.grads.weightIh, 'd weight_ih');
    expectSameBits(gd.bias_hh!.data, cell.grads.biasHh!, 'd bias_hh');
  });
});

// ---------------------------------------------------------------- PyTorch's GRU equations in float64

const sig = (a: number): number => 1 / (1 + Math.exp(-a));

/**
 * One step of PyTorch's nn.GRUCell in float64, from its own state dict (no conversion):
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr)   z' = σ(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))   h' = (1 − z') ⊙ n + z' ⊙ h
 */
function torchGruStep(
  sd: Record<string, { data: ArrayLike<number> }>, suffix: string,
  x: ArrayLike<number>, h: ArrayLike<number>, B: number, In: number, Hd: number,
): Float64Array {
  const Wi = sd[`weight_ih${suffix}`]!.data, Wh = sd[`weight_hh${suffix}`]!.data;
  const bi = sd[`bias_ih${suffix}`]?.data, bh = sd[`bias_hh${suffix}`]?.data;
  const out = new Float64Array(B * Hd);
  const gi = (b: number, row: number) => {
    let s = bi ? bi[row]! : 0;
    for (let k = 0; k < In; k++) s += Wi[row * In + k]! * x[b * In + k]!;
    return s;
  };
  const gh = (b: number, row: number) => {
    let s = bh ? bh[row]! : 0;
    for (let k = 0; k < Hd; k++) s += Wh[row * Hd + k]! * h[b * Hd + k]!;
    return s;
  };
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < Hd; j++) {
      const r = sig(gi(b, j) + gh(b, j));
      const z = sig(gi(b, Hd + j) + gh(b, Hd + j));
      const n = Math.tanh(gi(b, 2 * Hd + j) + r * gh(b, 2 * Hd + j));
      out[b * Hd + j] = (1 - z) * n + z * h[b * Hd + j]!;
    }
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe("a GRU from PyTorch's state dict computes PyTorch's equations", () => {
  const B = 3, T = 4;
  // Larger weights so the gates are far from 1/2 and a wrong convention shows.
  const sdOf = (seed: number, bias = true) => {
    const sd = randomStateDict(pytorchShapes('GRUCell', bias), seed);
    for (const t of Object.values(sd)) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i]! * 3;
    return sd;
  };

  for (const bias of [true, false]) {
    it(`GRUCell.step: h' = (1 − z')⊙n + z'⊙h to 1e-6 (bias: ${bias})`, () => {
      const sd = sdOf(21, bias);
      const cell = GRUCell.fromPyTorch(sd);
      const x = randn(B * I, 22), h = randn(B * H, 23, 0.8);
      const ref = torchGruStep(sd, '', x, h, B, I, H);
      const got = cell.step(x, { h }, B).h;
      expect(maxAbsDiff(got, ref)).toBeLessThan(1e-6);

      // Control: the same numbers loaded without the convention (z rows as PyTorch's) are far off,
      // so the comparison above does see the convention.
      const naive = new GRUCell({ inputSize: I, hiddenSize: H, bias, resetAfter: true });
      naive.params.weightIh.set(sd.weight_ih!.data);
      naive.params.weightHh.set(sd.weight_hh!.data);
      if (bias) { naive.params.biasIh!.set(sd.bias_ih!.data); naive.params.biasHh!.set(sd.bias_hh!.data); }
      expect(maxAbsDiff(naive.step(x, { h }, B).h, ref)).toBeGreaterThan(1e-2);
      // And a default-form GRU cell (reset before the recurrent matmul) with the converted weights also differs.
      const before = new GRUCell({ inputSize: I, hiddenSize: H, bias, resetAfter: false });
      before.loadStateDict(Object.fromEntries(Object.entries(sd).map(([k, v]) => [`${k}_reset_before`, v])));
      expect(maxAbsDiff(before.step(x, { h }, B).h, ref)).toBeGreaterThan(1e-3);
    });
  }

  it('over T steps through a SequenceRunner, and through GRU.fromPyTorch (one layer)', () => {
    const sd = sdOf(31);
    const x = randn(T * B * I, 32), h0 = randn(B * H, 33, 0.8);
    const ref = new Float64Array(T * B * H);
    let h: ArrayLike<number> = h0;
    for (let t = 0; t < T; t++) {
      const hNext = torchGruStep(sd, '', x.subarray(t * B * I, (t + 1) * B * I), h, B, I, H);
      ref.set(hNext, t * B * H);
      h = Float32Array.from(hNext);   // float32 state between steps; the bar below absorbs the rest
    }
    const cell = GRUCell.fromPyTorch(sd);
    const r = new SequenceRunner(cell).run(x, { batch: B, initialState: { h: h0 } });
    expect(maxAbsDiff(r.outputs, ref)).toBeLessThan(2e-6);

    const stackSd: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(sd)) stackSd[`${k}_l0`] = v;
    const rnn = GRU.fromPyTorch(stackSd);
    expect([rnn.numLayers, rnn.bidirectional, rnn.resetAfter]).toEqual([1, false, true]);
    const s = rnn.run(x, { batch: B, initialState: { h: h0 } });
    expect(maxAbsDiff(s.outputs, ref)).toBeLessThan(2e-6);
    expect(bits(s.outputs)).toEqual(bits(r.outputs));
  });
});

// ---------------------------------------------------------------- input forms

describe.each(KINDS)('%s loads every input form', (kind) => {
  const forms: [string, (t: Tensor) => TensorInput][] = [
    ['Tensor', (t) => ({ dtype: 'float32', shape: t.shape.slice(), data: t.data.slice() })],
    ['{shape, data: number[]}', (t) => ({ shape: t.shape.slice(), data: Array.from(t.data) })],
    ['{shape, data: Float32Array}', (t) => ({ shape: t.shape.slice(), data: t.data.slice() })],
    ['flat Float32Array', (t) => t.data.slice()],
    ['flat number[]', (t) => Array.from(t.data)],
    ['nested arrays', (t) => nested(t)],
  ];
  const source = make(kind, 41);
  // Signed zeros and subnormals must survive every form (number[] and nested arrays included).
  for (const p of source.parameters()) { p.value[1] = -0; p.value[2] = -1e-41; p.value[p.value.length - 1] = -0; }
  const sd = source.stateDict();
  const want = snapshot(source).filter((_, i) => i % 2 === 0);   // values only

  it.each(forms)('%s', (_name, convert) => {
    const input: Record<string, TensorInput> = {};
    for (const [k, t] of Object.entries(sd)) input[k] = convert(t);
    const viaLoad = make(kind, 42);
    viaLoad.loadStateDict(input);
    viaLoad.parameters().forEach((p, i) => expectSameBits(p.value, want[i]!, `loadStateDict ${p.name}`));
    const viaFrom = fromPyTorch(kind, input);
    viaFrom.parameters().forEach((p, i) => expectSameBits(p.value, want[i]!, `fromPyTorch ${p.name}`));
  });

  it('mixed forms in one dict', () => {
    const input: Record<string, TensorInput> = {};
    Object.entries(sd).forEach(([k, t], i) => { input[k] = forms[i % forms.length]![1](t); });
    const m = fromPyTorch(kind, input);
    m.parameters().forEach((p, i) => expectSameBits(p.value, want[i]!, `mixed ${p.name}`));
  });
});

// ---------------------------------------------------------------- errors, all or nothing

describe.each(KINDS)('%s loadStateDict errors change nothing', (kind) => {
  const cell = kind.endsWith('Cell');
  const G = kind.startsWith('LSTM') ? 4 : 3, GH = G * H;
  // The last key in PyTorch's order, and the first: a faulty last key must not let the earlier ones in.
  const last = cell ? 'bias_hh' : 'bias_hh_l1_reverse';
  const wih = cell ? 'weight_ih' : 'weight_ih_l0';
  const whhLate = cell ? 'weight_hh' : 'weight_hh_l1_reverse';
  const whhLateShape = [GH, H];
  const keyList = pytorchShapes(kind, true).map(([k]) => `"${k}"`).join(', ');

  const cases: [string, (sd: Record<string, TensorInput>) => void, ErrorConstructor, string][] = [
    ['missing key', (sd) => { delete sd[last]; }, RangeError,
      `stateDict: missing key "${last}" (expected shape [${GH}])`],
    ['extra key', (sd) => { sd.weight_ih_l9 = new Float32Array(GH * I); }, RangeError,
      `stateDict: unexpected key "weight_ih_l9"; expected keys ${keyList}`],
    ['wrong shape (transposed)', (sd) => { sd[whhLate] = { shape: [H, GH], data: new Float32Array(GH * H) }; }, RangeError,
      `stateDict["${whhLate}"]: expected shape [${whhLateShape.join(', ')}], got [${H}, ${GH}]`],
    ['wrong rank', (sd) => { sd[last] = { shape: [GH, 1], data: new Float32Array(GH) }; }, RangeError,
      `stateDict["${last}"]: expected shape [${GH}], got [${GH}, 1]`],
    ['wrong nested shape', (sd) => {
      sd[whhLate] = Array.from({ length: GH - 1 }, () => Array.from({ length: H }, () => 0.5));
    }, RangeError, `stateDict["${whhLate}"]: expected shape [${GH}, ${H}], got [${GH - 1}, ${H}]`],
    ['wrong element count, flat Float32Array', (sd) => { sd[last] = new Float32Array(GH + 1); }, RangeError,
      `stateDict["${last}"]: expected ${GH} elements (shape [${GH}]), got ${GH + 1}`],
    ['wrong element count, flat number[]', (sd) => { sd[whhLate] = Array(GH * H - 1).fill(0.5); }, RangeError,
      `stateDict["${whhLate}"]: expected ${GH * H} elements (shape [${GH}, ${H}]), got ${GH * H - 1}`],
    ['{shape, data} disagreeing with itself', (sd) => { sd[last] = { shape: [GH], data: new Float32Array(GH - 1) }; }, RangeError,
      `stateDict["${last}"].data: expected ${GH} elements for shape [${GH}], got ${GH - 1}`],
    ['non-numeric element, flat', (sd) => {
      const a: unknown[] = Array(GH).fill(0.5); a[5] = 'x'; sd[last] = a as number[];
    }, TypeError, `stateDict["${last}"][5]: expected a number, got string "x"`],
    ['non-numeric element, nested', (sd) => {
      const a: unknown[][] = Array.from({ length: GH }, () => Array(H).fill(0.5)); a[2]![1] = null; sd[whhLate] = a as number[][];
    }, TypeError, `stateDict["${whhLate}"][2][1]: expected a number, got null`],
    ['non-numeric element, {shape, data}', (sd) => {
      const a: unknown[] = Array(GH).fill(0.5); a[GH - 1] = true; sd[last] = { shape: [GH], data: a as number[] };
    }, TypeError, `stateDict["${last}"].data[${GH - 1}]: expected a number, got boolean`],
    ['ragged nested arrays', (sd) => {
      const a = Array.from({ length: GH }, () => Array(H).fill(0.5)); a[3] = [1, 2]; sd[whhLate] = a;
    }, RangeError, `stateDict["${whhLate}"][3]: expected an array of ${H} (nested arrays must not be ragged), got Array(2)`],
    ['not a tensor', (sd) => { sd[last] = 'abc' as never; }, TypeError,
      `stateDict["${last}"]: expected a Tensor, Float32Array or number array, got string "abc"`],
    ['a Float64Array', (sd) => { sd[last] = new Float64Array(GH) as never; }, TypeError,
      `stateDict["${last}"]: expected a Tensor, Float32Array or number array, got Float64Array(${GH})`],
  ];

  it.each(cases)('%s', (_name, corrupt, type, message) => {
    const m = make(kind, 51);
    const good = make(kind, 52).stateDict();
    const sd: Record<string, TensorInput> = cloneSd(good);
    corrupt(sd);
    // Set the grads to non-zero values too, so "unchanged" covers them.
    for (const p of m.parameters()) p.grad.fill(0.125);
    const before = snapshot(m);
    let err: unknown;
    try { m.loadStateDict(sd); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toBe(message);
    expectUnchanged(m, before, 'after the failed load');
    // The same dict, repaired, loads: the failure was the corrupted key alone.
    m.loadStateDict(good);
    m.parameters().forEach((p, i) => expectSameBits(p.value, make(kind, 52).parameters()[i]!.value, p.name));
  });

  it('a dict for a bias-free module rejects bias keys, and a biased module needs them', () => {
    const noBias = make(kind, 53, false);
    const before = snapshot(noBias);
    expect(() => noBias.loadStateDict(make(kind, 54, true).stateDict()))
      .toThrow(`stateDict: unexpected key "${cell ? 'bias_ih' : 'bias_ih_l0'}"; expected keys ${pytorchShapes(kind, false).map(([k]) => `"${k}"`).join(', ')}`);
    expectUnchanged(noBias, before, 'bias-free');
    const biased = make(kind, 55, true);
    const b2 = snapshot(biased);
    expect(() => biased.loadStateDict(make(kind, 56, false).stateDict()))
      .toThrow(`stateDict: missing key "${cell ? 'bias_ih' : 'bias_ih_l0'}" (expected shape [${GH}])`);
    expectUnchanged(biased, b2, 'biased');
  });

  it('rejects a non-object', () => {
    const m = make(kind, 57);
    expect(() => m.loadStateDict(null as never)).toThrow('stateDict: expected an object, got null');
    expect(() => m.loadStateDict([] as never)).toThrow('stateDict: expected an object, got Array(0)');
    expect(() => fromPyTorch(kind, 5 as never)).toThrow('stateDict: expected an object, got 5');
  });

  it(`fromPyTorch with a faulty ${wih} or weight_hh says which and how`, () => {
    const sd: Record<string, TensorInput> = cloneSd(make(kind, 58).stateDict());
    const whh0 = cell ? 'weight_hh' : 'weight_hh_l0';
    const bad = G === 4 ? 12 : 9;   // not G·H' for the H' given by the columns
    sd[whh0] = { shape: [bad, H], data: new Float32Array(bad * H) };
    const orProj = G === 4 ? ` (or [4*H, projSize] with a "${cell ? 'weight_hr' : 'weight_hr_l0'}")` : '';
    expect(() => fromPyTorch(kind, sd)).toThrow(`stateDict["${whh0}"]: expected shape [${G}*H, H]${orProj}, got [${bad}, ${H}]`);
    sd[whh0] = new Float32Array(G * H * H + 1);
    expect(() => fromPyTorch(kind, sd)).toThrow(`stateDict["${whh0}"]: expected ${G}*H*H elements, got ${G * H * H + 1}`);
    sd[whh0] = { shape: [GH * H], data: new Float32Array(GH * H) };
    expect(() => fromPyTorch(kind, sd)).toThrow(`stateDict["${whh0}"]: expected shape [${G}*H, H]${orProj}, got [${GH * H}]`);
    sd[whh0] = new Float32Array(GH * H);   // flat, right count: fine again
    sd[wih] = { shape: [GH - G, I], data: new Float32Array((GH - G) * I) };
    expect(() => fromPyTorch(kind, sd)).toThrow(`stateDict["${wih}"]: expected shape [${GH}, inputSize], got [${GH - G}, ${I}]`);
    sd[wih] = new Float32Array(GH * I + 1);
    expect(() => fromPyTorch(kind, sd)).toThrow(`stateDict["${wih}"]: expected a non-zero multiple of ${GH} elements, got ${GH * I + 1}`);
    delete sd[wih];
    expect(() => fromPyTorch(kind, sd)).toThrow(`stateDict: missing key "${wih}"`);
  });

  if (!cell) {
    it('fromPyTorch: a later layer inconsistent with layer 0 names its key and both shapes', () => {
      const sd: Record<string, TensorInput> = cloneSd(make(kind, 59).stateDict());
      sd.weight_hh_l1 = { shape: [G * (H + 1), H + 1], data: new Float32Array(G * (H + 1) * (H + 1)) };
      expect(() => fromPyTorch(kind, sd)).toThrow(`stateDict["weight_hh_l1"]: expected shape [${GH}, ${H}], got [${G * (H + 1)}, ${H + 1}]`);
      const sd2: Record<string, TensorInput> = cloneSd(make(kind, 59).stateDict());
      sd2.weight_ih_l1_reverse = { shape: [GH, H], data: new Float32Array(GH * H) };   // should be [GH, 2H]
      expect(() => fromPyTorch(kind, sd2)).toThrow(`stateDict["weight_ih_l1_reverse"]: expected shape [${GH}, ${2 * H}], got [${GH}, ${H}]`);
    });
  }
});

describe('fromPyTorch options: inferred from the keys, or checked against them', () => {
  for (const kind of ['LSTM', 'GRU'] as const) {
    const build = kind === 'LSTM'
      ? (sd: Record<string, TensorInput>, o?: object) => LSTM.fromPyTorch(sd, o)
      : (sd: Record<string, TensorInput>, o?: object) => GRU.fromPyTorch(sd, o);
    const G = kind === 'LSTM' ? 4 : 3, GH = G * H;

    it(`${kind}: numLayers and bidirectional inferred`, () => {
      for (const [L, bidir] of [[1, false], [1, true], [2, false], [3, true]] as const) {
        const m = kind === 'LSTM'
          ? new LSTM({ inputSize: I, hiddenSize: H, numLayers: L, bidirectional: bidir, seed: 7 })
          : new GRU({ inputSize: I, hiddenSize: H, numLayers: L, bidirectional: bidir, seed: 7, resetAfter: true });
        const sd = m.stateDict();
        const r = build(sd);
        expect([r.numLayers, r.bidirectional, r.numDirections, r.inputSize, r.hiddenSize, r.bias])
          .toEqual([L, bidir, bidir ? 2 : 1, I, H, true]);
        expect(r.cells.length).toBe(L * (bidir ? 2 : 1));
        const back = r.stateDict();
        expect(Object.keys(back)).toEqual(Object.keys(sd));
        for (const k of Object.keys(sd)) expectSameBits(back[k]!.data, sd[k]!.data, k);
        // Explicit options that agree with the keys change nothing.
        const e = build(sd, { numLayers: L, bidirectional: bidir });
        expect([e.numLayers, e.bidirectional]).toEqual([L, bidir]);
      }
    });

    it(`${kind}: explicit options that disagree with the keys are a missing or extra key`, () => {
      const sd2b = make(kind, 8).stateDict();   // 2 layers, bidirectional
      const sd1 = (kind === 'LSTM' ? new LSTM({ inputSize: I, hiddenSize: H, seed: 9 }) : new GRU({ inputSize: I, hiddenSize: H, seed: 9, resetAfter: true })).stateDict();
      const keys = (L: number, D: number) => {
        const out: string[] = [];
        for (let l = 0; l < L; l++) for (let d = 0; d < D; d++) {
          const s = `_l${l}${d === 1 ? '_reverse' : ''}`;
          out.push(`weight_ih${s}`, `weight_hh${s}`, `bias_ih${s}`, `bias_hh${s}`);
        }
        return out.map((k) => `"${k}"`).join(', ');
      };
      expect(() => build(sd2b, { numLayers: 1 }))
        .toThrow(`stateDict: unexpected key "weight_ih_l1"; expected keys ${keys(1, 2)}`);
      expect(() => build(sd2b, { numLayers: 3 }))
        .toThrow(`stateDict: missing key "weight_ih_l2" (expected shape [${GH}, ${2 * H}])`);
      expect(() => build(sd2b, { bidirectional: false }))
        .toThrow(`stateDict: unexpected key "weight_ih_l0_reverse"; expected keys ${keys(2, 1)}`);
      expect(() => build(sd1, { bidirectional: true }))
        .toThrow(`stateDict: missing key "weight_ih_l0_reverse" (expected shape [${GH}, ${I}])`);
      expect(() => build(sd1, { numLayers: 2 }))
        .toThrow(`stateDict: missing key "weight_ih_l1" (expected shape [${GH}, ${H}])`);
    });

    it(`${kind}: bad options and cell-style keys`, () => {
      const sd = make(kind, 10).stateDict();
      expect(() => build(sd, { numLayers: 0 })).toThrow('numLayers: expected a positive integer, got 0');
      expect(() => build(sd, { numLayers: 1.5 })).toThrow('numLayers: expected a positive integer, got 1.5');
      expect(() => build(sd, { bidirectional: 'yes' })).toThrow('bidirectional: expected a boolean, got string "yes"');
      expect(() => build(sd, 3 as never)).toThrow(`${kind}.fromPyTorch options: expected an object, got 3`);
      const cellSd = (kind === 'LSTM' ? new LSTMCell({ inputSize: I, hiddenSize: H }) : new GRUCell({ inputSize: I, hiddenSize: H })).stateDict();
      expect(() => build(cellSd)).toThrow('stateDict: missing key "weight_ih_l0"');
    });
  }

  it('a cell rejects stack-style keys', () => {
    const sd = new LSTM({ inputSize: I, hiddenSize: H }).stateDict();
    expect(() => LSTMCell.fromPyTorch(sd)).toThrow('stateDict: missing key "weight_ih"');
    const cell = new LSTMCell({ inputSize: I, hiddenSize: H });
    expect(() => cell.loadStateDict(sd)).toThrow('stateDict: unexpected key "weight_ih_l0"; expected keys "weight_ih", "weight_hh", "bias_ih", "bias_hh"');
  });

  it('an LSTM dict given to GRU.fromPyTorch is a shape error, not a silent load', () => {
    const sd = new LSTM({ inputSize: I, hiddenSize: H }).stateDict();
    // weight_hh_l0 is [16, 4]: 16 = 3·H' with H' = 4 fails, so it is rejected.
    expect(() => GRU.fromPyTorch(sd)).toThrow(`stateDict["weight_hh_l0"]: expected shape [3*H, H], got [${4 * H}, ${H}]`);
  });
});

describe('keys named like Object.prototype members are extra keys, not inherited ones', () => {
  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__x'])('rejects "%s"', (key) => {
    const cell = new LSTMCell({ inputSize: 2, hiddenSize: 3, seed: 1 });
    const sd: Record<string, unknown> = { ...cell.stateDict() };
    sd[key] = new Float32Array(3);
    expect(() => cell.loadStateDict(sd as never)).toThrow(`stateDict: unexpected key "${key}"`);
  });
});
