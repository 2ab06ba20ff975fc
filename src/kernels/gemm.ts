/**
 * Register-blocked GEMM kernels on flat row-major Float32Arrays.
 *
 * Three variants, named after BLAS's transpose flags, cover every product the recurrent cells
 * need (G = gate count, H = hidden size, I = input size, R = rows = steps·batch):
 *
 *   gemmNT  C[M,N] (+)= A[M,K] · B[N,K]ᵀ   input projection X·W_ihᵀ, recurrent h·W_hhᵀ
 *   gemmNN  C[M,N] (+)= A[M,K] · B[K,N]    dX = dGates·W_ih, dh_prev = dGates·W_hh
 *   gemmTN  C[M,N] (+)= A[K,M]ᵀ · B[K,N]   dW_ih += dGatesᵀ·X, dW_hh += dGatesᵀ·H_prev
 *
 * Arguments go outputs first (C, its offset and leading dimension), then the inputs, then the
 * sizes, then `accumulate` (false: C = product; true: C += product). Offsets and leading
 * dimensions let a kernel read or write a block of a larger buffer (one time step of a tape, one
 * gate block of a weight matrix) without copying.
 *
 * Each kernel computes 4×4 blocks of C in 16 float64 accumulators, summing k = 0..K-1 in
 * ascending order, and rounds once to float32 on store. That is the summation order of
 * `gemmReference`, so a fast kernel and the reference agree bit for bit, and a row's result does
 * not depend on which block it fell into (chunked and whole-sequence runs agree bitwise).
 *
 * Aliasing: C must not overlap A or B.
 */

/** C[M,N] (+)= A[M,K] · B[N,K]ᵀ, with A row i at aOff + i·lda and B row j at bOff + j·ldb. */
export function gemmNT(
  C: Float32Array, cOff: number, ldc: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  M: number, N: number, K: number,
  accumulate: boolean,
): void {
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  let i = 0;
  for (; i < M4; i += 4) {
    const a0 = aOff + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
    const c0 = cOff + i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
    let j = 0;
    for (; j < N4; j += 4) {
      const b0 = bOff + j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
      let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = A[a0 + k], x1 = A[a1 + k], x2 = A[a2 + k], x3 = A[a3 + k];
        const y0 = B[b0 + k], y1 = B[b1 + k], y2 = B[b2 + k], y3 = B[b3 + k];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      store4(C, c0 + j, s00, s01, s02, s03, accumulate);
      store4(C, c1 + j, s10, s11, s12, s13, accumulate);
      store4(C, c2 + j, s20, s21, s22, s23, accumulate);
      store4(C, c3 + j, s30, s31, s32, s33, accumulate);
    }
    for (; j < N; j++) {
      const b0 = bOff + j * ldb;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < K; k++) {
        const y = B[b0 + k];
        s0 += A[a0 + k] * y; s1 += A[a1 + k] * y; s2 += A[a2 + k] * y; s3 += A[a3 + k] * y;
      }
      store1(C, c0 + j, s0, accumulate); store1(C, c1 + j, s1, accumulate);
      store1(C, c2 + j, s2, accumulate); store1(C, c3 + j, s3, accumulate);
    }
  }
  // Remaining rows (all rows when M < 4, e.g. batch 1): 1×8 blocks, then 1×4, one A load per
  // eight (four) products.
  const N8 = N - (N % 8);
  for (; i < M; i++) {
    const a0 = aOff + i * lda;
    const c0 = cOff + i * ldc;
    let j = 0;
    for (; j < N8; j += 8) {
      const b0 = bOff + j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
      const b4 = b3 + ldb, b5 = b4 + ldb, b6 = b5 + ldb, b7 = b6 + ldb;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
      for (let k = 0; k < K; k++) {
        const x = A[a0 + k];
        s0 += x * B[b0 + k]; s1 += x * B[b1 + k]; s2 += x * B[b2 + k]; s3 += x * B[b3 + k];
        s4 += x * B[b4 + k]; s5 += x * B[b5 + k]; s6 += x * B[b6 + k]; s7 += x * B[b7 + k];
      }
      store4(C, c0 + j, s0, s1, s2, s3, accumulate);
      store4(C, c0 + j + 4, s4, s5, s6, s7, accumulate);
    }
    for (; j < N4; j += 4) {
      const b0 = bOff + j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < K; k++) {
        const x = A[a0 + k];
        s0 += x * B[b0 + k]; s1 += x * B[b1 + k]; s2 += x * B[b2 + k]; s3 += x * B[b3 + k];
      }
      store4(C, c0 + j, s0, s1, s2, s3, accumulate);
    }
    for (; j < N; j++) {
      const b0 = bOff + j * ldb;
      let s = 0;
      for (let k = 0; k < K; k++) s += A[a0 + k] * B[b0 + k];
      store1(C, c0 + j, s, accumulate);
    }
  }
}

/** C[M,N] (+)= A[M,K] · B[K,N], with A row i at aOff + i·lda and B row k at bOff + k·ldb. */
export function gemmNN(
  C: Float32Array, cOff: number, ldc: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  M: number, N: number, K: number,
  accumulate: boolean,
): void {
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  let i = 0;
  for (; i < M4; i += 4) {
    const a0 = aOff + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
    const c0 = cOff + i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
    let j = 0;
    for (; j < N4; j += 4) {
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
      let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      let b = bOff + j;
      for (let k = 0; k < K; k++, b += ldb) {
        const x0 = A[a0 + k], x1 = A[a1 + k], x2 = A[a2 + k], x3 = A[a3 + k];
        const y0 = B[b], y1 = B[b + 1], y2 = B[b + 2], y3 = B[b + 3];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      store4(C, c0 + j, s00, s01, s02, s03, accumulate);
      store4(C, c1 + j, s10, s11, s12, s13, accumulate);
      store4(C, c2 + j, s20, s21, s22, s23, accumulate);
      store4(C, c3 + j, s30, s31, s32, s33, accumulate);
    }
    for (; j < N; j++) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let b = bOff + j;
      for (let k = 0; k < K; k++, b += ldb) {
        const y = B[b];
        s0 += A[a0 + k] * y; s1 += A[a1 + k] * y; s2 += A[a2 + k] * y; s3 += A[a3 + k] * y;
      }
      store1(C, c0 + j, s0, accumulate); store1(C, c1 + j, s1, accumulate);
      store1(C, c2 + j, s2, accumulate); store1(C, c3 + j, s3, accumulate);
    }
  }
  // Remaining rows (all rows when M < 4, e.g. batch 1): 1×8 blocks, then 1×4, then single columns.
  const N8 = N - (N % 8);
  for (; i < M; i++) {
    const a0 = aOff + i * lda;
    const c0 = cOff + i * ldc;
    let j = 0;
    for (; j < N8; j += 8) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
      let b = bOff + j;
      for (let k = 0; k < K; k++, b += ldb) {
        const x = A[a0 + k];
        s0 += x * B[b]; s1 += x * B[b + 1]; s2 += x * B[b + 2]; s3 += x * B[b + 3];
        s4 += x * B[b + 4]; s5 += x * B[b + 5]; s6 += x * B[b + 6]; s7 += x * B[b + 7];
      }
      store4(C, c0 + j, s0, s1, s2, s3, accumulate);
      store4(C, c0 + j + 4, s4, s5, s6, s7, accumulate);
    }
    for (; j < N4; j += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let b = bOff + j;
      for (let k = 0; k < K; k++, b += ldb) {
        const x = A[a0 + k];
        s0 += x * B[b]; s1 += x * B[b + 1]; s2 += x * B[b + 2]; s3 += x * B[b + 3];
      }
      store4(C, c0 + j, s0, s1, s2, s3, accumulate);
    }
    for (; j < N; j++) {
      let s = 0;
      let b = bOff + j;
      for (let k = 0; k < K; k++, b += ldb) s += A[a0 + k] * B[b];
      store1(C, c0 + j, s, accumulate);
    }
  }
}

/** C[M,N] (+)= A[K,M]ᵀ · B[K,N], with A row k at aOff + k·lda and B row k at bOff + k·ldb. */
export function gemmTN(
  C: Float32Array, cOff: number, ldc: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  M: number, N: number, K: number,
  accumulate: boolean,
): void {
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  let i = 0;
  for (; i < M4; i += 4) {
    const c0 = cOff + i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
    let j = 0;
    for (; j < N4; j += 4) {
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
      let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      let a = aOff + i;
      let b = bOff + j;
      for (let k = 0; k < K; k++, a += lda, b += ldb) {
        const x0 = A[a], x1 = A[a + 1], x2 = A[a + 2], x3 = A[a + 3];
        const y0 = B[b], y1 = B[b + 1], y2 = B[b + 2], y3 = B[b + 3];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      store4(C, c0 + j, s00, s01, s02, s03, accumulate);
      store4(C, c1 + j, s10, s11, s12, s13, accumulate);
      store4(C, c2 + j, s20, s21, s22, s23, accumulate);
      store4(C, c3 + j, s30, s31, s32, s33, accumulate);
    }
    for (; j < N; j++) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let a = aOff + i;
      let b = bOff + j;
      for (let k = 0; k < K; k++, a += lda, b += ldb) {
        const y = B[b];
        s0 += A[a] * y; s1 += A[a + 1] * y; s2 += A[a + 2] * y; s3 += A[a + 3] * y;
      }
      store1(C, c0 + j, s0, accumulate); store1(C, c1 + j, s1, accumulate);
      store1(C, c2 + j, s2, accumulate); store1(C, c3 + j, s3, accumulate);
    }
  }
  for (; i < M; i++) {
    const c0 = cOff + i * ldc;
    let j = 0;
    for (; j < N4; j += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let a = aOff + i;
      let b = bOff + j;
      for (let k = 0; k < K; k++, a += lda, b += ldb) {
        const x = A[a];
        s0 += x * B[b]; s1 += x * B[b + 1]; s2 += x * B[b + 2]; s3 += x * B[b + 3];
      }
      store4(C, c0 + j, s0, s1, s2, s3, accumulate);
    }
    for (; j < N; j++) {
      let s = 0;
      let a = aOff + i;
      let b = bOff + j;
      for (let k = 0; k < K; k++, a += lda, b += ldb) s += A[a] * B[b];
      store1(C, c0 + j, s, accumulate);
    }
  }
}

function store4(
  C: Float32Array, c: number, s0: number, s1: number, s2: number, s3: number, accumulate: boolean,
): void {
  if (accumulate) {
    C[c] += s0; C[c + 1] += s1; C[c + 2] += s2; C[c + 3] += s3;
  } else {
    C[c] = s0; C[c + 1] = s1; C[c + 2] = s2; C[c + 3] = s3;
  }
}

function store1(C: Float32Array, c: number, s: number, accumulate: boolean): void {
  C[c] = accumulate ? C[c] + s : s;
}
