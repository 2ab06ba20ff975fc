/**
 * Naive reference GEMM: the definition the fast kernels in `gemm.ts` are tested against.
 *
 * C[M,N] = op(A)·op(B)            (accumulate = false)
 * C[M,N] = C + op(A)·op(B)        (accumulate = true)
 *
 * op(A) is A [M,K] (transA = false) or Aᵀ with A stored [K,M] (transA = true);
 * op(B) is B [K,N] (transB = false) or Bᵀ with B stored [N,K] (transB = true).
 * Every matrix is row-major inside a flat Float32Array, addressed by an offset and a leading
 * dimension (the distance between consecutive rows), so a block of a larger buffer can be used
 * in place.
 *
 * Summation order is fixed: each C[i,j] sums k = 0..K-1 in ascending order in a float64
 * accumulator, then adds to C (when accumulating) and rounds once to float32. The fast kernels
 * keep exactly this order, so they agree with this reference bit for bit.
 */
export function gemmReference(
  transA: boolean,
  transB: boolean,
  C: Float32Array, cOff: number, ldc: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  M: number, N: number, K: number,
  accumulate: boolean,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const a = transA ? A[aOff + k * lda + i] : A[aOff + i * lda + k];
        const b = transB ? B[bOff + j * ldb + k] : B[bOff + k * ldb + j];
        s += a * b;
      }
      const ci = cOff + i * ldc + j;
      C[ci] = accumulate ? C[ci] + s : s;
    }
  }
}
