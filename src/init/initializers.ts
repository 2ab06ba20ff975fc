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
import { checkSize } from '../core/limits.js';
import { householderProduct } from '../kernels/householder.js';

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
 * A (semi-)orthogonal matrix with the distribution of PyTorch's orthogonal_: the Q factor of the
 * QR decomposition of a rows×cols matrix of standard normals (of its transpose when rows < cols),
 * signs chosen so that R has a positive diagonal, times gain; that is, Haar-distributed.
 *
 * Computed as Stewart (1980) does, without forming the normal matrix: Q = H_0 H_1 … H_{n−1} D,
 * where H_k = I − τ_k v_k v_kᵀ is the Householder reflection that maps a fresh standard normal
 * vector x_k of length m − k onto −sign(x_k0)·‖x_k‖·e_1 (the reflection Householder QR would
 * build from column k of the normal matrix, which by rotation invariance is distributed as x_k),
 * and D = diag(−sign(x_k0)) makes R's diagonal positive. The product is accumulated from the
 * right (backward accumulation, 4/3·n³ flops for a square matrix, in float64), deterministic for
 * a seed, the same bits on either backend (kernels/householder.ts). Result: rows ≥ cols:
 * orthonormal columns, QᵀQ = I; rows < cols: orthonormal rows, QQᵀ = I (times gain²).
 * @param out [rows, cols]
 * @returns out
 */
export function orthogonal(out: Float32Array, rows: number, cols: number, rng: Random, gain = 1): Float32Array {
  checkSize('rows', rows);
  checkSize('cols', cols);
  checkFloat32Length('out', out, rows * cols, 'rows*cols');
  checkRandom(rng);
  checkGain(gain);
  // The tall matrix M [m, n], m ≥ n: the result itself, or its transpose when rows < cols.
  const tall = rows >= cols;
  const m = tall ? rows : cols, n = tall ? cols : rows;
  // Householder vectors: v_k [m − k] at vOff[k], with τ_k and the sign of column k.
  const v = new Float64Array(n * m - (n * (n - 1)) / 2), tau = new Float64Array(n), sign = new Float64Array(n);
  let off = 0;
  const vOff = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const len = m - k;
    vOff[k] = off;
    for (;;) {
      let norm2 = 0;
      for (let i = 0; i < len; i++) {
        const x = rng.normal();
        v[off + i] = x;
        norm2 += x * x;
      }
      if (norm2 > 0) {
        const x0 = v[off]!, norm = Math.sqrt(norm2);
        const alpha = x0 >= 0 ? -norm : norm;      // H x = α e_1, no cancellation in x0 − α
        v[off] = x0 - alpha;
        const vv = norm2 - x0 * x0 + v[off]! * v[off]!;
        tau[k] = 2 / vv;
        sign[k] = alpha > 0 ? 1 : -1;              // R_kk = α: D flips column k when α < 0
        break;
      }
      // A zero vector (probability zero): draw it again.
    }
    off += len;
  }
  const q = householderProduct(v, vOff, tau, m, n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const x = gain * sign[j]! * q[i * n + j]!;
      if (tall) out[i * cols + j] = x; else out[j * cols + i] = x;
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
