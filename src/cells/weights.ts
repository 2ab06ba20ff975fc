/**
 * A weight matrix as the forward products read it, and the one GEMM over it.
 *
 * The forward products are x·W_ihᵀ and h·W_hhᵀ. Over a sequence, a runner copies Wᵀ once per
 * forward so that they run as gemmNN over unit-stride rows of Wᵀ (the faster kernel shape from
 * batch 4 up); one step on its own (cell.step, cell.forward) reads W in place with gemmNT and
 * copies nothing, since a copy would cost as much as the step. Both kernels sum k in ascending
 * order in float64 and round once, so the two layouts give bit-identical results.
 */
import { gemmNN, gemmNT } from '../kernels/gemm.js';
import { transpose } from '../kernels/rows.js';

/** W [rows, cols] (the cell's own array) and, when the layout is transposed, its copy Wᵀ [cols, rows]. */
export class ForwardWeights {
  /** Wᵀ [cols, rows], refreshed by `refresh()`; null: products read W in place. */
  readonly wt: Float32Array | null;

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
    if (this.wt !== null) transpose(this.wt, this.w, this.rows, this.cols);
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
  if (W.wt !== null) gemmNN(C, cOff, ldc, A, aOff, lda, W.wt, r0, W.rows, M, N, W.cols, accumulate);
  else gemmNT(C, cOff, ldc, A, aOff, lda, W.w, r0 * W.cols, W.cols, M, N, W.cols, accumulate);
}
