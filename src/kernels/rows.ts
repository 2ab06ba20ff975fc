/**
 * Row-wise helpers on row-major [rows, cols] blocks: broadcasting a bias over rows and its
 * adjoint, the column sum (bias gradients sum over every step and batch row).
 */

/** X[r, :] += bias[0 : cols] for every row r of X [rows, cols] (X at xOff, leading dimension ldx). */
export function addRowBias(
  X: Float32Array, xOff: number, ldx: number,
  bias: Float32Array,
  rows: number, cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    const x = xOff + r * ldx;
    for (let j = 0; j < cols; j++) X[x + j] += bias[j]!;
  }
}

/**
 * out[j] += Σ_r X[r, j] over rows r of X [rows, cols] (X at xOff, leading dimension ldx); the sum
 * for each column runs in float64 in ascending r, then rounds once into out.
 */
export function addColumnSums(
  out: Float32Array,
  X: Float32Array, xOff: number, ldx: number,
  rows: number, cols: number,
): void {
  addSums(out, columnSums(X, xOff, ldx, rows, cols), cols);
}

/**
 * s [cols], s[j] = Σ_r X[r, j] over rows r of X [rows, cols] (X at xOff, leading dimension ldx),
 * in float64 from +0 in ascending r: addColumnSums's sums, for adding one set into several
 * gradients (the cells' db_ih and db_hh sum the same dGates columns).
 */
export function columnSums(X: Float32Array, xOff: number, ldx: number, rows: number, cols: number): Float64Array {
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const x = xOff + r * ldx;
    for (let j = 0; j < cols; j++) acc[j] += X[x + j]!;
  }
  return acc;
}

/** out[j] += s[j] for j < n, one rounding each (s from columnSums). */
export function addSums(out: Float32Array, s: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) out[j] += s[j]!;
}

/** out [cols, rows] = Xᵀ for X [rows, cols] (both dense, row-major). */
export function transpose(out: Float32Array, X: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const x = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = X[x + c]!;
  }
}
