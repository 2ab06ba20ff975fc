/**
 * Initialisers: Xavier bounds and spread, orthogonality (QᵀQ ≈ I within 1e-5), the blocked
 * Householder product against the reflections applied one by one, Haar moments, the
 * per-gate-block cell helpers, the forget-gate bias, determinism, argument checks.
 */
import { describe, expect, it } from 'vitest';
import { householderProduct } from '../../src/kernels/householder.js';
import { forgetBias, orthogonal, orthogonalRecurrent, xavierInput, xavierUniform } from '../../src/init/initializers.js';
import { Random } from '../../src/core/random.js';
import { LSTMCell } from '../../src/cells/lstm.js';
import { GRUCell } from '../../src/cells/gru.js';

const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** max |(MᵀM)[i][j] − scale·δij| for M [rows, cols] at offset off (columns' Gram matrix). */
function columnGramError(m: Float32Array, rows: number, cols: number, scale = 1, off = 0): number {
  let worst = 0;
  for (let i = 0; i < cols; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += m[off + r * cols + i]! * m[off + r * cols + j]!;
      worst = Math.max(worst, Math.abs(s - (i === j ? scale : 0)));
    }
  }
  return worst;
}

/** max |(MMᵀ)[i][j] − scale·δij| (rows' Gram matrix). */
function rowGramError(m: Float32Array, rows: number, cols: number, scale = 1): number {
  let worst = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < rows; j++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += m[i * cols + c]! * m[j * cols + c]!;
      worst = Math.max(worst, Math.abs(s - (i === j ? scale : 0)));
    }
  }
  return worst;
}

describe('xavierUniform', () => {
  it('draws within ±gain·√(6/(fanIn+fanOut)) with the uniform variance a²/3', () => {
    const fanIn = 120, fanOut = 80, gain = 1.5;
    const w = xavierUniform(new Float32Array(fanIn * fanOut), fanIn, fanOut, new Random(1), gain);
    const a = gain * Math.sqrt(6 / (fanIn + fanOut));
    let sum = 0, sq = 0, max = 0;
    for (const v of w) { sum += v; sq += v * v; max = Math.max(max, Math.abs(v)); }
    expect(max).toBeLessThanOrEqual(a);
    expect(max).toBeGreaterThan(0.99 * a);
    expect(Math.abs(sum / w.length)).toBeLessThan(0.01 * a);
    expect(sq / w.length / (a * a / 3)).toBeCloseTo(1, 1);
  });

  it('is deterministic: same seed same bits', () => {
    const a = xavierUniform(new Float32Array(12), 3, 4, new Random(5));
    const b = xavierUniform(new Float32Array(12), 3, 4, new Random(5));
    const c = xavierUniform(new Float32Array(12), 3, 4, new Random(6));
    expect(sameBits(a, b)).toBe(true);
    expect(sameBits(a, c)).toBe(false);
  });

  it('validates its arguments', () => {
    expect(() => xavierUniform(new Float32Array(10), 3, 4, new Random(0))).toThrow('out: expected length fanIn*fanOut = 12, got 10');
    expect(() => xavierUniform(new Float32Array(12), 0, 4, new Random(0))).toThrow('fanIn: expected a positive integer, got 0');
    expect(() => xavierUniform(new Float32Array(12), 3, 4, {} as Random)).toThrow('rng: expected a Random, got object');
    expect(() => xavierUniform(new Float32Array(12), 3, 4, new Random(0), NaN)).toThrow('gain: expected a finite number, got NaN');
  });
});

describe('orthogonal', () => {
  it('square: QᵀQ = QQᵀ = I within 1e-5', () => {
    const q = orthogonal(new Float32Array(64), 8, 8, new Random(3));
    expect(columnGramError(q, 8, 8)).toBeLessThan(1e-5);
    expect(rowGramError(q, 8, 8)).toBeLessThan(1e-5);
  });

  it('tall (rows > cols): orthonormal columns', () => {
    const q = orthogonal(new Float32Array(40), 10, 4, new Random(4));
    expect(columnGramError(q, 10, 4)).toBeLessThan(1e-5);
  });

  it('wide (rows < cols): orthonormal rows', () => {
    const q = orthogonal(new Float32Array(40), 4, 10, new Random(5));
    expect(rowGramError(q, 4, 10)).toBeLessThan(1e-5);
  });

  it('gain scales: QᵀQ = gain²·I', () => {
    const q = orthogonal(new Float32Array(36), 6, 6, new Random(6), 2);
    expect(columnGramError(q, 6, 6, 4)).toBeLessThan(4e-5);
  });

  it('the blocked (compact WY) Householder product equals the reflections applied one by one', () => {
    for (const [m, n] of [[7, 7], [9, 5], [33, 33], [70, 40], [65, 64], [5, 1]] as const) {
      const rng = new Random(m * 100 + n);
      const vOff = new Int32Array(n), tau = new Float64Array(n);
      const v = new Float64Array(n * m);
      let off = 0;
      for (let k = 0; k < n; k++) {
        vOff[k] = off;
        let vv = 0;
        for (let i = 0; i < m - k; i++) { v[off + i] = rng.normal(); vv += v[off + i]! ** 2; }
        tau[k] = 2 / vv;
        off += m - k;
      }
      const fast = householderProduct(v, vOff, tau, m, n);
      // Reference: Q := H_k Q for k = n − 1 … 0 on the full [m, n] matrix, plain loops.
      const q = new Float64Array(m * n);
      for (let j = 0; j < n; j++) q[j * n + j] = 1;
      for (let k = n - 1; k >= 0; k--) {
        for (let j = 0; j < n; j++) {
          let dot = 0;
          for (let i = k; i < m; i++) dot += v[vOff[k]! + i - k]! * q[i * n + j]!;
          for (let i = k; i < m; i++) q[i * n + j] = q[i * n + j]! - tau[k]! * dot * v[vOff[k]! + i - k]!;
        }
      }
      let worst = 0;
      for (let i = 0; i < q.length; i++) worst = Math.max(worst, Math.abs(q[i]! - fast[i]!));
      expect(worst, `${m}×${n}`).toBeLessThan(1e-12);
    }
  });

  it('orthonormal across block boundaries; Haar moments: E[q_00] = 0, E[q_00²] = 1/n, both determinant signs', () => {
    for (const [rows, cols] of [[100, 37], [37, 100], [64, 64], [129, 129]] as const) {
      const q = orthogonal(new Float32Array(rows * cols), rows, cols, new Random(rows + cols));
      if (rows >= cols) expect(columnGramError(q, rows, cols)).toBeLessThan(1e-5);
      else expect(rowGramError(q, rows, cols)).toBeLessThan(1e-5);
    }
    const rng = new Random(11), N = 4000;
    let mean = 0, second = 0, negative = 0;
    for (let s = 0; s < N; s++) {
      const q = orthogonal(new Float32Array(9), 3, 3, rng);
      mean += q[0]! / N;
      second += q[0]! ** 2 / N;
      const det = q[0]! * (q[4]! * q[8]! - q[5]! * q[7]!) - q[1]! * (q[3]! * q[8]! - q[5]! * q[6]!) + q[2]! * (q[3]! * q[7]! - q[4]! * q[6]!);
      if (det < 0) negative++;
    }
    expect(Math.abs(mean)).toBeLessThan(0.03);             // sd of the mean ≈ √(1/3)/√4000 ≈ 0.009
    expect(Math.abs(second - 1 / 3)).toBeLessThan(0.02);   // sd ≈ 0.0047
    expect(negative / N).toBeGreaterThan(0.4);
    expect(negative / N).toBeLessThan(0.6);
  });

  it('is deterministic and advances the generator', () => {
    const a = orthogonal(new Float32Array(25), 5, 5, new Random(9));
    const b = orthogonal(new Float32Array(25), 5, 5, new Random(9));
    expect(sameBits(a, b)).toBe(true);
    const rng = new Random(9);
    orthogonal(new Float32Array(25), 5, 5, rng);
    expect(sameBits(orthogonal(new Float32Array(25), 5, 5, rng), a)).toBe(false);
  });

  it('handles 1×1 and 1×n', () => {
    expect(Math.abs(orthogonal(new Float32Array(1), 1, 1, new Random(0))[0]!)).toBe(1);
    expect(rowGramError(orthogonal(new Float32Array(5), 1, 5, new Random(0)), 1, 5)).toBeLessThan(1e-6);
  });

  it('validates its arguments', () => {
    expect(() => orthogonal(new Float32Array(5), 2, 3, new Random(0))).toThrow('out: expected length rows*cols = 6, got 5');
    expect(() => orthogonal(new Float32Array(6), 2, -3, new Random(0))).toThrow('cols: expected a positive integer, got -3');
  });
});

describe('cell helpers', () => {
  it('orthogonalRecurrent makes every H×H gate block of weightHh orthogonal (LSTM: 4, GRU: 3)', () => {
    const H = 6;
    for (const cell of [new LSTMCell({ inputSize: 3, hiddenSize: H, seed: 1 }), new GRUCell({ inputSize: 3, hiddenSize: H, seed: 1 })]) {
      const ih = cell.params.weightIh.slice(), bias = cell.params.biasIh!.slice();
      orthogonalRecurrent(cell, 7);
      for (let g = 0; g < cell.gateCount; g++) {
        expect(columnGramError(cell.params.weightHh, H, H, 1, g * H * H), `block ${g}`).toBeLessThan(1e-5);
      }
      // the blocks are different draws, the rest of the cell is untouched
      expect(cell.params.weightHh[0]).not.toBe(cell.params.weightHh[H * H]);
      expect(sameBits(cell.params.weightIh, ih)).toBe(true);
      expect(sameBits(cell.params.biasIh!, bias)).toBe(true);
    }
  });

  it('orthogonalRecurrent: same seed same bits, gain scales', () => {
    const a = new LSTMCell({ inputSize: 2, hiddenSize: 4, seed: 1 }), b = new LSTMCell({ inputSize: 2, hiddenSize: 4, seed: 2 });
    orthogonalRecurrent(a, 3); orthogonalRecurrent(b, 3);
    expect(sameBits(a.params.weightHh, b.params.weightHh)).toBe(true);
    orthogonalRecurrent(b, 3, 0.5);
    b.params.weightHh.forEach((v, i) => expect(v).toBeCloseTo(0.5 * a.params.weightHh[i]!, 7));
  });

  it('xavierInput draws each [H, I] block of weightIh within ±√(6/(I+H))', () => {
    const I = 5, H = 7;
    const cell = new GRUCell({ inputSize: I, hiddenSize: H, seed: 1 });
    const hh = cell.params.weightHh.slice();
    xavierInput(cell, 2);
    const a = Math.sqrt(6 / (I + H));
    expect(cell.params.weightIh.every((v) => Math.abs(v) <= a)).toBe(true);
    expect(Math.max(...cell.params.weightIh.map(Math.abs))).toBeGreaterThan(1 / Math.sqrt(H));   // beyond PyTorch's default bound
    expect(sameBits(cell.params.weightHh, hh)).toBe(true);
    const again = new GRUCell({ inputSize: I, hiddenSize: H, seed: 9 });
    xavierInput(again, 2);
    expect(sameBits(again.params.weightIh, cell.params.weightIh)).toBe(true);
  });

  it('forgetBias sets the forget block of biasIh to value and of biasHh to 0, leaving the rest', () => {
    const H = 4;
    const cell = new LSTMCell({ inputSize: 2, hiddenSize: H, seed: 1 });
    const ih = cell.params.biasIh!.slice(), hh = cell.params.biasHh!.slice();
    forgetBias(cell, 2.5);
    for (let j = 0; j < 4 * H; j++) {
      const forget = j >= H && j < 2 * H;
      expect(cell.params.biasIh![j]).toBe(forget ? 2.5 : ih[j]);
      expect(cell.params.biasHh![j]).toBe(forget ? 0 : hh[j]);
    }
    forgetBias(cell);
    expect(cell.params.biasIh![H] + cell.params.biasHh![H]!).toBe(1);
  });

  it('forgetBias gives f = σ(value) in the cell: c₁ = σ(1)·c₀ with zero weights and other biases', () => {
    const cell = new LSTMCell({ inputSize: 1, hiddenSize: 2, seed: 1 });
    for (const p of [cell.params.weightIh, cell.params.weightHh, cell.params.biasIh!, cell.params.biasHh!]) p.fill(0);
    forgetBias(cell);
    const { state } = cell.forward(new Float32Array(1), { h: new Float32Array(2), c: Float32Array.from([1, -2]) }, 1);
    const s = 1 / (1 + Math.exp(-1));
    expect(state.c[0]).toBeCloseTo(s, 6);
    expect(state.c[1]).toBeCloseTo(-2 * s, 6);
  });

  it('validates the cell and value', () => {
    expect(() => forgetBias(new GRUCell({ inputSize: 1, hiddenSize: 2 }) as never)).toThrow('cell: expected an LSTMCell, got object');
    expect(() => forgetBias(new LSTMCell({ inputSize: 1, hiddenSize: 2, bias: false })))
      .toThrow('cell: expected an LSTMCell built with bias: true, got one without biases');
    expect(() => forgetBias(new LSTMCell({ inputSize: 1, hiddenSize: 2 }), Infinity)).toThrow('value: expected a finite number, got Infinity');
    expect(() => orthogonalRecurrent({} as never)).toThrow('cell: expected an LSTMCell or GRUCell, got object');
    expect(() => xavierInput(null as never)).toThrow('cell: expected an LSTMCell or GRUCell, got null');
    expect(() => xavierInput(new LSTMCell({ inputSize: 1, hiddenSize: 2 }), NaN)).toThrow('seed: expected a finite number, got NaN');
  });
});
