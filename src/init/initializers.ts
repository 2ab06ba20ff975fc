/**
 * Weight initialisers, seeded and deterministic (same seed, same bits on every platform up to
 * Math.log/cos/sqrt of the normal draws), after PyTorch's torch.nn.init: xavier_uniform_ and
 * orthogonal_ on flat row-major arrays, plus the recipes commonly applied to recurrent cells
 * gate block by gate block (Xavier input weights, orthogonal recurrent weights, forget-gate bias).
 *
 * A cell's weights stack G gate blocks (LSTM i,f,g,o; GRU r,z,n): weightIh is [G·H, I], i.e. G
 * blocks of [H, I]; weightHh is [G·H, H], G blocks of [H, H]. The cell helpers initialise each
 * block separately, so each block (not the stacked matrix) has the intended property.
 */
import { Random } from '../core/random.js';
import { RecurrentCell } from '../cells/cell.js';
import type { CellState } from '../cells/state.js';
import { LSTMCell } from '../cells/lstm.js';
import { checkFloat32Length, checkPositiveInt, describe } from '../core/validate.js';

/**
 * Xavier/Glorot uniform, PyTorch's xavier_uniform_: fills out with U(−a, a),
 * a = gain · √(6 / (fanIn + fanOut)).
 * @param out [fanOut, fanIn] (a weight in PyTorch's layout), fanIn·fanOut elements
 * @param rng the generator to draw from (advanced by fanIn·fanOut draws)
 * @returns out
 */
export function xavierUniform(out: Float32Array, fanIn: number, fanOut: number, rng: Random, gain = 1): Float32Array {
  checkPositiveInt('fanIn', fanIn);
  checkPositiveInt('fanOut', fanOut);
  checkFloat32Length('out', out, fanIn * fanOut, 'fanIn*fanOut');
  checkRandom(rng);
  checkGain(gain);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return rng.fillUniform(out, -a, a);
}

/**
 * A (semi-)orthogonal matrix, PyTorch's orthogonal_: draws a rows×cols matrix of standard
 * normals (row-major), takes the Q factor of its QR decomposition (of its transpose when
 * rows < cols), with the signs chosen so that R has a positive diagonal, and multiplies by gain.
 * The Q factor is computed by Gram–Schmidt (each column orthogonalised twice, in float64), which
 * yields that sign convention directly. Result: rows ≥ cols: orthonormal columns, QᵀQ = I;
 * rows < cols: orthonormal rows, QQᵀ = I (times gain²).
 * @param out [rows, cols]
 * @returns out
 */
export function orthogonal(out: Float32Array, rows: number, cols: number, rng: Random, gain = 1): Float32Array {
  checkPositiveInt('rows', rows);
  checkPositiveInt('cols', cols);
  checkFloat32Length('out', out, rows * cols, 'rows*cols');
  checkRandom(rng);
  checkGain(gain);
  const a = new Float64Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  // Work on the tall matrix M [m, n], m ≥ n: A itself, or Aᵀ when rows < cols.
  const tall = rows >= cols;
  const m = tall ? rows : cols, n = tall ? cols : rows;
  // q holds the n columns of M, each as a contiguous vector of length m.
  const q = new Float64Array(n * m);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) q[j * m + i] = tall ? a[i * cols + j]! : a[j * cols + i]!;
  }
  for (let j = 0; j < n; j++) {
    const qj = q.subarray(j * m, (j + 1) * m);
    while (!orthonormalize(qj, q, j, m)) {
      // Numerically dependent on the earlier columns (probability zero): draw it again.
      for (let i = 0; i < m; i++) qj[i] = rng.normal();
    }
  }
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) {
      const v = gain * q[j * m + i]!;
      if (tall) out[i * cols + j] = v; else out[j * cols + i] = v;
    }
  }
  return out;
}

/**
 * Makes each H×H gate block of the cell's recurrent weight weightHh [G·H, H] orthogonal
 * (orthogonal() per block, times gain), drawing from one generator seeded with `seed`.
 * @param cell an LSTMCell or GRUCell
 */
export function orthogonalRecurrent(cell: RecurrentCell<CellState>, seed = 0, gain = 1): void {
  checkCell(cell);
  const rng = new Random(seed);
  checkGain(gain);
  const H = cell.hiddenSize, block = H * H;
  for (let g = 0; g < cell.gateCount; g++) {
    orthogonal(cell.params.weightHh.subarray(g * block, (g + 1) * block), H, H, rng, gain);
  }
}

/**
 * Xavier-uniform input weights per gate block: each [H, I] block of weightIh [G·H, I] gets
 * U(−a, a) with a = gain · √(6 / (I + H)), drawing from one generator seeded with `seed`.
 * @param cell an LSTMCell or GRUCell
 */
export function xavierInput(cell: RecurrentCell<CellState>, seed = 0, gain = 1): void {
  checkCell(cell);
  const rng = new Random(seed);
  checkGain(gain);
  const H = cell.hiddenSize, I = cell.inputSize, block = H * I;
  for (let g = 0; g < cell.gateCount; g++) {
    xavierUniform(cell.params.weightIh.subarray(g * block, (g + 1) * block), I, H, rng, gain);
  }
}

/**
 * The forget-gate bias trick (Jozefowicz et al. 2015): the forget gate's pre-activation gets
 * bias `value`, so f ≈ σ(value) at the start and the cell keeps its memory. LSTM adds both
 * biases (b_ih + b_hh), so this sets the forget block (rows H..2H) of biasIh to `value` and of
 * biasHh to 0: their sum is exactly `value`. Other blocks are left unchanged.
 * @param cell an LSTMCell built with bias: true
 * @param value the forget-gate bias (default 1)
 */
export function forgetBias(cell: LSTMCell, value = 1): void {
  if (!(cell instanceof LSTMCell)) throw new TypeError(`cell: expected an LSTMCell, got ${describe(cell)}`);
  if (!cell.params.biasIh || !cell.params.biasHh) {
    throw new RangeError('cell: expected an LSTMCell built with bias: true, got one without biases');
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`value: expected a finite number, got ${describe(value)}`);
  }
  const H = cell.hiddenSize;
  cell.params.biasIh.fill(value, H, 2 * H);
  cell.params.biasHh.fill(0, H, 2 * H);
}

/**
 * Modified Gram–Schmidt, twice: removes from qj its components along the first j columns of q
 * (each of length m, already orthonormal), then normalises it. False when nothing was left.
 */
function orthonormalize(qj: Float64Array, q: Float64Array, j: number, m: number): boolean {
  let before = 0;
  for (let i = 0; i < m; i++) before += qj[i]! * qj[i]!;
  for (let pass = 0; pass < 2; pass++) {
    for (let k = 0; k < j; k++) {
      const off = k * m;
      let dot = 0;
      for (let i = 0; i < m; i++) dot += q[off + i]! * qj[i]!;
      for (let i = 0; i < m; i++) qj[i] = qj[i]! - dot * q[off + i]!;
    }
  }
  let norm2 = 0;
  for (let i = 0; i < m; i++) norm2 += qj[i]! * qj[i]!;
  if (!(norm2 > 1e-20 * before)) return false;
  const inv = 1 / Math.sqrt(norm2);
  for (let i = 0; i < m; i++) qj[i] = qj[i]! * inv;
  return true;
}

function checkRandom(rng: unknown): void {
  if (!(rng instanceof Random)) throw new TypeError(`rng: expected a Random, got ${describe(rng)}`);
}

function checkGain(gain: unknown): void {
  if (typeof gain !== 'number' || !Number.isFinite(gain)) {
    throw new RangeError(`gain: expected a finite number, got ${describe(gain)}`);
  }
}

function checkCell(cell: unknown): void {
  if (!(cell instanceof RecurrentCell)) throw new TypeError(`cell: expected an LSTMCell or GRUCell, got ${describe(cell)}`);
}
