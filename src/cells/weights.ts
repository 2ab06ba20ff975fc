/**
 * A weight matrix as the forward products read it, and the one GEMM over it.
 *
 * The forward products are x·W_ihᵀ and h·W_hhᵀ. Over a sequence, a runner copies Wᵀ once per
 * forward so that they run as gemmNN over unit-stride rows of Wᵀ (the faster kernel shape from
 * batch 4 up); one step on its own (cell.step, cell.forward) reads W in place with gemmNT and
 * copies nothing, since a copy would cost as much as the step. Both kernels sum k in ascending
 * order in float64 and round once, so the two layouts give bit-identical results.
 *
 * On the wasm backend (kernels/backend.ts) the products over a transposed layout read a float64
 * copy of Wᵀ packed into wasm memory from the snapshot Wᵀ, once per refresh (once per forward, or
 * per StreamingRunner.syncWeights); the backward products read a float64 copy of W packed once per
 * backward (refreshBackward). Same bits as the TypeScript kernels either way.
 */
import { gemmNT, gemmResident, ResidentMatrix } from '../kernels/backend.js';
import { transpose } from '../kernels/rows.js';

/** W [rows, cols] (the cell's own array) and, when the layout is transposed, its copy Wᵀ [cols, rows]. */
export class ForwardWeights {
  /** Wᵀ [cols, rows], refreshed by `refresh()`; null: products read W in place. */
  readonly wt: Float32Array | null;
  /** @internal Wᵀ in wasm memory, float64, packed from wt after each refresh (wasm backend). */
  readonly packedT = new ResidentMatrix();
  /** @internal W in wasm memory, float64, packed once per backward (wasm backend). */
  readonly packed = new ResidentMatrix();

  constructor(
    /** W [rows, cols], row-major: the cell's parameter array (not a copy). */
    readonly w: Float32Array,
    readonly rows: number,
    readonly cols: number,
    transposed: boolean,
  ) {
    this.wt = transposed ? new Float32Array(rows * cols) : null;
  }

  /** Copies W into Wᵀ (needed whenever W may have changed); nothing to do in place. */
  refresh(): void {
    if (this.wt === null) return;
    transpose(this.wt, this.w, this.rows, this.cols);
    this.packedT.invalidate();
  }

  /** Before a backward: W may have changed since the last one (the backward reads W as it is). */
  refreshBackward(): void {
    this.packed.invalidate();
  }
}

/**
 * C[M, N] (+)= A[M, K] · W[r0 : r0 + N, :]ᵀ, K = W.cols: rows r0 … r0+N−1 of W are one gate
 * block (or several). BLAS argument order: C, A with offsets and leading dimensions, then W and
 * the first row, then the sizes and accumulate.
 */
export function gemmW(
  C: Float32Array, cOff: number, ldc: number,
  A: Float32Array, aOff: number, lda: number,
  W: ForwardWeights, r0: number,
  M: number, N: number, accumulate: boolean,
): void {
  if (W.wt !== null) gemmResident(C, cOff, ldc, A, aOff, lda, W.packedT, W.wt, r0, W.rows, M, N, W.cols, accumulate);
  else gemmNT(C, cOff, ldc, A, aOff, lda, W.w, r0 * W.cols, W.cols, M, N, W.cols, accumulate);
}

/**
 * C[M, N] (+)= A[M, K] · W[r0 : r0 + K, :], N = W.cols: the backward products dX = dGates·W_ih
 * and dh_{t−1} += dGates·W_hh over K gate rows of W starting at row r0 (gemmNN on W itself).
 */
export function gemmWBackward(
  C: Float32Array, cOff: number, ldc: number,
  A: Float32Array, aOff: number, lda: number,
  W: ForwardWeights, r0: number,
  M: number, K: number, accumulate: boolean,
): void {
  gemmResident(C, cOff, ldc, A, aOff, lda, W.packed, W.w, r0 * W.cols, W.cols, M, W.cols, K, accumulate);
}
