/**
 * The public `recurrent-cells/kernels` entry: each kernel checks its arguments (types, sizes,
 * blocks inside their arrays, C apart from A and B) and then computes exactly what the internal
 * kernel computes.
 */
import { describe, expect, it } from 'vitest';
import * as pub from '../../src/kernels/index.js';
import * as raw from '../../src/kernels/gemm.js';
import { sigmoid as rawSigmoid, tanh as rawTanh } from '../../src/kernels/activations.js';
import { bitwiseEqual, randn } from '../helpers/cells.js';

const M = 3, N = 5, K = 4;

describe.each([['gemmNN', false, false], ['gemmNT', false, true], ['gemmTN', true, false]] as const)('%s', (name, tA, tB) => {
  const kernel = pub[name], inner = raw[name];
  const lda = tA ? M : K, ldb = tB ? K : N;
  const A = () => randn(M * K, 1), B = () => randn(K * N, 2);

  it('equals the internal kernel bit for bit, and the reference', () => {
    const c1 = randn(M * N, 3), c2 = c1.slice(), c3 = c1.slice();
    kernel(c1, 0, N, A(), 0, lda, B(), 0, ldb, M, N, K, true);
    inner(c2, 0, N, A(), 0, lda, B(), 0, ldb, M, N, K, true);
    pub.gemmReference(tA, tB, c3, 0, N, A(), 0, lda, B(), 0, ldb, M, N, K, true);
    expect(bitwiseEqual(c1, c2)).toBe(true);
    expect(bitwiseEqual(c1, c3)).toBe(true);
  });

  it('refuses blocks past their arrays, bad sizes and types, naming the argument', () => {
    const C = new Float32Array(M * N);
    expect(() => kernel(C, 1, N, A(), 0, lda, B(), 0, ldb, M, N, K, false))
      .toThrow(`C: expected at least ${M * N + 1} elements (a [${M}, ${N}] block at offset 1, leading dimension ${N}), got ${M * N}`);
    expect(() => kernel(C, 0, N, A(), 0, lda, B(), 0, ldb, M, N, K + 1, false)).toThrow(RangeError);
    expect(() => kernel(C, 0, N - 1, A(), 0, lda, B(), 0, ldb, M, N, K, false)).toThrow(`ldc: expected at least the row length ${N}, got ${N - 1}`);
    expect(() => kernel(C, 0, N, A(), 0, lda, B(), 0, ldb, -1, N, K, false)).toThrow('M: expected a non-negative integer, got -1');
    expect(() => kernel(C, 0.5, N, A(), 0, lda, B(), 0, ldb, M, N, K, false)).toThrow('cOff: expected a non-negative integer, got 0.5');
    expect(() => kernel(C, 0, N, [1, 2] as never, 0, lda, B(), 0, ldb, M, N, K, false)).toThrow('A: expected a Float32Array, got Array(2)');
    expect(() => kernel(C, 0, N, A(), 0, lda, B(), 0, ldb, M, N, K, 1 as never)).toThrow('accumulate: expected a boolean, got 1');
    expect(C.every((v) => v === 0)).toBe(true);
  });

  it('refuses C overlapping A or B; disjoint blocks of one buffer are fine', () => {
    const buf = randn(M * N + M * K + K * N, 4);
    const C = buf.subarray(0, M * N), Ain = buf.subarray(M * N, M * N + M * K), Bin = buf.subarray(M * N + M * K);
    expect(() => kernel(C, 0, N, Ain, 0, lda, Bin, 0, ldb, M, N, K, false)).not.toThrow();
    expect(() => kernel(buf, 0, N, buf, 1, lda, Bin, 0, ldb, M, N, K, false)).toThrow('C: expected memory apart from A');
    expect(() => kernel(buf, 0, N, Ain, 0, lda, buf.subarray(2), 0, ldb, M, N, K, false)).toThrow('C: expected memory apart from B');
  });
});

describe('sigmoid, tanh', () => {
  it('equal the cells’ activations and refuse non-numbers', () => {
    for (const x of [-100, -3.5, -1e-9, 0, 0.25, 7, 90]) {
      expect(pub.sigmoid(x)).toBe(rawSigmoid(x));
      expect(pub.tanh(x)).toBe(rawTanh(x));
    }
    expect(() => pub.sigmoid(null as never)).toThrow('x: expected a number, got null');
    expect(() => pub.tanh('1' as never)).toThrow(TypeError);
  });
});
