/**
 * The GEMMs on the WebAssembly instance: operands are copied into wasm memory, the kernel of
 * gemm-module.ts runs, C is copied back. B is either copied per call (converted to float64) or a
 * ResidentMatrix: a weight matrix packed into the arena once and reused by every call until it is
 * invalidated (a new forward, syncWeights) or evicted (arena reset).
 *
 * Every result is bit-identical to the TypeScript kernel of the same name (kernels/gemm.ts): same
 * per-element k order, float64 accumulation from +0, one rounding (see gemm-module.ts).
 */
import { copyF32, type WasmHeap } from './heap.js';

/**
 * A float64 copy of a Float32Array in the heap's arena. `at` packs it when invalidated since the
 * last pack or evicted by an arena reset (then into a new region); otherwise it is reused as is.
 * The owner invalidates it whenever its source may have changed, and keeps the source unchanged
 * until then: a re-pack after eviction must see the same values.
 */
export class ResidentMatrix {
  private generation = -1;
  private offset = 0;
  private length = -1;
  private fresh = false;

  /** The source changed: the next `at` packs it again. */
  invalidate(): void {
    this.fresh = false;
  }

  /** Byte offset of the float64 copy of `src` in the heap, packing it first if needed. */
  at(heap: WasmHeap, src: Float32Array): number {
    if (this.generation !== heap.generation || this.length !== src.length) {
      this.offset = heap.alloc(src.length * 8);
      this.generation = heap.generation;
      this.length = src.length;
      this.fresh = false;
    }
    if (!this.fresh) {
      heap.f64.set(src, this.offset / 8);
      this.fresh = true;
    }
    return this.offset;
  }
}

/**
 * How B reaches the kernel. Resident: B(k, j) = B[bOff + k·ldb + j], from the resident copy
 * `res` of B. Rows: the same addressing, copied per call. Columns: B(k, j) = B[bOff + j·ldb + k]
 * (gemmNT's Bᵀ), copied per call into [K, N].
 */
export const BSource = { Resident: 0, Rows: 1, Columns: 2 } as const;
export type BSource = (typeof BSource)[keyof typeof BSource];

const align8 = (bytes: number): number => (bytes + 7) & ~7;

/**
 * C[M,N] (+)= op(A) · B on the instance. op(A)(i, k) = A[aOff + i·lda + k], or A[aOff + k·lda + i]
 * when transA; B as `mode` says (`res` is used by BSource.Resident only). Elements of C between
 * its rows (when ldc > N) round-trip unchanged; C must not overlap A or B.
 */
export function wasmGemm(
  heap: WasmHeap,
  C: Float32Array, cOff: number, ldc: number,
  A: Float32Array, aOff: number, lda: number, transA: boolean,
  B: Float32Array, bOff: number, ldb: number, mode: BSource, res: ResidentMatrix | null,
  M: number, N: number, K: number,
  accumulate: boolean,
): void {
  if (M <= 0 || N <= 0) return;
  // A's span goes in as it is, read with its strides; but a transposed A whose span exceeds
  // 512 KB is gathered into [M, K] rows (strided reads over it miss the cache and the TLB).
  const gather = transA && K * lda > 1 << 17;
  const aSpan = gather ? M * K : Math.max(0, transA ? (K - 1) * lda + M : (M - 1) * lda + K);
  const cSpan = (M - 1) * ldc + N;
  const aPtr = heap.base, cPtr = aPtr + align8(aSpan * 4), bPtr = cPtr + align8(cSpan * 4);
  const bElems = mode === BSource.Rows ? Math.max(0, (K - 1) * ldb + N) : mode === BSource.Columns ? K * N : 0;
  heap.scratch(bPtr + bElems * 8 - aPtr);
  let b = bPtr, ldbBytes = ldb * 8;
  // The arena may grow memory (remaking the views): read heap.f32/f64 only after this.
  if (mode === BSource.Resident) b = res!.at(heap, B) + bOff * 8;
  const f32 = heap.f32, f64 = heap.f64;
  if (!gather) copyF32(f32, aPtr / 4, A, aOff, aSpan);
  else {
    for (let k = 0, base = aPtr / 4; k < K; k++) {
      const src = aOff + k * lda;
      for (let i = 0, d = base + k; i < M; i++, d += K) f32[d] = A[src + i]!;
    }
  }
  if (accumulate || ldc !== N) copyF32(f32, cPtr / 4, C, cOff, cSpan);
  if (mode === BSource.Rows) {
    f64.set(B.subarray(bOff, bOff + bElems), bPtr / 8);
  } else if (mode === BSource.Columns) {
    // Bᵀ into [K, N]: column j of the product is row j of B.
    const base = bPtr / 8;
    for (let j = 0; j < N; j++) {
      const src = bOff + j * ldb;
      for (let k = 0, d = base + j; k < K; k++, d += N) f64[d] = B[src + k]!;
    }
    ldbBytes = N * 8;
  }
  const sai = gather ? K * 4 : transA ? 4 : lda * 4, sak = gather ? 4 : transA ? lda * 4 : 4;
  heap.gemm(cPtr, ldc * 4, aPtr, sai, sak, b, ldbBytes, M, N, K, accumulate ? 1 : 0);
  copyF32(C, cOff, heap.f32, cPtr / 4, cSpan);
}
