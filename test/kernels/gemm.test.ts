/**
 * Each fast GEMM kernel against the naive reference, bit for bit: sizes around the 4×4 blocking
 * (remainders in M, N and both), offsets and leading dimensions larger than the block, accumulate
 * on and off, and a size where the block must not touch what lies outside it.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/index.js';
import { gemmNN, gemmNT, gemmReference, gemmTN } from '../../src/kernels/index.js';

type Kernel = typeof gemmNN;
const variants: [string, Kernel, boolean, boolean][] = [
  ['gemmNT', gemmNT, false, true],
  ['gemmNN', gemmNN, false, false],
  ['gemmTN', gemmTN, true, false],
];

function randomArray(n: number, rng: Random): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

function firstDifference(a: Float32Array, b: Float32Array): string | null {
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) return `index ${i}: fast ${a[i]} vs reference ${b[i]}`;
  }
  return null;
}

describe.each(variants)('%s equals the naive reference bit for bit', (_name, kernel, transA, transB) => {
  const sizes: [number, number, number][] = [
    [1, 1, 1], [1, 7, 5], [3, 4, 2], [4, 4, 4], [5, 9, 3], [8, 12, 16], [13, 6, 1], [7, 17, 33], [1, 64, 16], [32, 20, 9],
  ];
  for (const [M, N, K] of sizes) {
    for (const accumulate of [false, true]) {
      it(`M=${M} N=${N} K=${K} accumulate=${accumulate}, with offsets and padded leading dimensions`, () => {
        const rng = new Random(M * 1000 + N * 10 + K);
        const aRows = transA ? K : M, aCols = transA ? M : K;
        const bRows = transB ? N : K, bCols = transB ? K : N;
        const lda = aCols + 3, ldb = bCols + 2, ldc = N + 5;
        const aOff = 7, bOff = 11, cOff = 4;
        const A = randomArray(aOff + aRows * lda, rng);
        const B = randomArray(bOff + bRows * ldb, rng);
        const C0 = randomArray(cOff + M * ldc + 6, rng);
        const fast = C0.slice(), ref = C0.slice();
        kernel(fast, cOff, ldc, A, aOff, lda, B, bOff, ldb, M, N, K, accumulate);
        gemmReference(transA, transB, ref, cOff, ldc, A, aOff, lda, B, bOff, ldb, M, N, K, accumulate);
        expect(firstDifference(fast, ref)).toBeNull();
        // The product really was computed (not a no-op equal to the initial C).
        expect(firstDifference(fast, C0)).not.toBeNull();
      });
    }
  }
});

describe('gemmReference', () => {
  it('computes a small product by hand', () => {
    // [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50]
    const A = Float32Array.of(1, 2, 3, 4), B = Float32Array.of(5, 6, 7, 8), C = new Float32Array(4);
    gemmReference(false, false, C, 0, 2, A, 0, 2, B, 0, 2, 2, 2, 2, false);
    expect(Array.from(C)).toEqual([19, 22, 43, 50]);
    gemmReference(false, true, C, 0, 2, A, 0, 2, B, 0, 2, 2, 2, 2, true);   // + A·Bᵀ = [17 23; 39 53]
    expect(Array.from(C)).toEqual([36, 45, 82, 103]);
    gemmReference(true, false, C, 0, 2, A, 0, 2, B, 0, 2, 2, 2, 2, false);  // Aᵀ·B = [26 30; 38 44]
    expect(Array.from(C)).toEqual([26, 30, 38, 44]);
  });
});
