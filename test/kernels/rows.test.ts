/** The row helpers against plain loops: bias broadcast, column sums (float64, one rounding), transpose. */
import { describe, expect, it } from 'vitest';
import { addColumnSums, addRowBias, addSums, columnSums, transpose } from '../../src/kernels/rows.js';
import { randn } from '../helpers/cells.js';

describe('addRowBias', () => {
  it('adds bias[j] to X[xOff + r·ldx + j] and touches nothing else', () => {
    const rows = 5, cols = 3, ldx = 4, xOff = 2;
    const X = randn(xOff + rows * ldx + 3, 1), bias = randn(cols + 2, 2);
    const expected = X.slice();
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) expected[xOff + r * ldx + j] += bias[j]!;
    addRowBias(X, xOff, ldx, bias, rows, cols);
    expect(X).toEqual(expected);
  });
});

describe('addColumnSums', () => {
  it('adds each column sum, accumulated in float64 in ascending rows and rounded once', () => {
    const rows = 300, cols = 7, ldx = 9, xOff = 3, oOff = 2;
    const X = randn(xOff + rows * ldx, 3, 1e3);
    const out = randn(oOff + cols + 1, 4);
    const expected = out.slice();
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += X[xOff + r * ldx + j]!;
      expected[oOff + j] = Math.fround(out[oOff + j]! + s);
    }
    addColumnSums(out.subarray(oOff), X, xOff, ldx, rows, cols);
    expect(out).toEqual(expected);
  });

  it('differs from float32 running sums, so the float64 accumulation is real', () => {
    // 1 + 2^-24·k for many k: float32 running sums lose the small terms, float64 keeps them.
    const rows = 4096, X = new Float32Array(rows);
    X[0] = 1;
    for (let r = 1; r < rows; r++) X[r] = 2 ** -25;
    const out = new Float32Array(1);
    addColumnSums(out, X, 0, 1, rows, 1);
    let f32 = 0;
    for (let r = 0; r < rows; r++) f32 = Math.fround(f32 + X[r]!);
    expect(f32).toBe(1);
    expect(out[0]).toBe(Math.fround(1 + 4095 * 2 ** -25));
  });
});

describe('transpose', () => {
  it('out[c, r] = X[r, c] for non-square shapes', () => {
    for (const [rows, cols] of [[1, 1], [1, 6], [5, 1], [3, 7], [16, 4]] as const) {
      const X = randn(rows * cols, rows * 10 + cols), out = new Float32Array(rows * cols);
      transpose(out, X, rows, cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) expect(out[c * rows + r]).toBe(X[r * cols + c]);
    }
  });

  it('columnSums + addSums into two outputs equal two addColumnSums calls, bit for bit', () => {
    const rows = 97, cols = 11, ldx = 13, xOff = 5;
    const X = randn(xOff + rows * ldx, 5, 1e2);
    const a = randn(cols, 6), b = randn(cols, 7), a2 = a.slice(), b2 = b.slice();
    addColumnSums(a2, X, xOff, ldx, rows, cols);
    addColumnSums(b2, X, xOff, ldx, rows, 6);
    const s = columnSums(X, xOff, ldx, rows, cols);
    addSums(a, s, cols);
    addSums(b, s, 6);
    expect(a).toEqual(a2);
    expect(b).toEqual(b2);
    expect(b.subarray(6)).toEqual(randn(cols, 7).subarray(6));
  });
});
