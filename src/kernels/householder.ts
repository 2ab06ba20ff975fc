/**
 * @internal The product of Householder reflections that orthogonal() (init/initializers.ts) turns
 * into a Haar-distributed matrix, Q [m, n] = H_0 H_1 … H_{n−1} [I_n; 0], in float64.
 *
 * householderBlockJs is the definition (and the js backend); on the wasm backend its three
 * O(n³) loop nests (and blockGram's dot products) run as the f64x2 kernels of wasm/householder-module.ts, which perform the same
 * float64 operations in the same order per element: the same bits, whichever backend runs.
 */
import { activeHeap } from './backend.js';
import { WasmMemoryExhausted, type WasmHeap } from './wasm/heap.js';

/** Reflections applied per block (compact WY): Q is streamed once per block, not per reflection. */
const WY_BLOCK = 32;

/**
 * Larger products run in TypeScript: wasm memory (32-bit addresses, at most 4 GiB, often less
 * where the engine caps it) is grown only this far for them.
 */
const MAX_WASM_BYTES = 1 << 30;

/**
 * @internal Q [m, n] = H_0 H_1 … H_{n−1} [I_n; 0], H_k = I − τ_k v_k v_kᵀ with v_k [m − k] (at
 * vOff[k] in v) acting on rows k … m − 1, m ≥ n. Backward accumulation by blocks of WY_BLOCK
 * reflections (Schreiber & Van Loan's compact WY form): for the block k0 … k1 − 1,
 *   H_k0 ⋯ H_{k1−1} = I − V T Vᵀ,  V [m − k0, b] (column j: v_{k0+j} from row j), T [b, b] upper
 *   triangular: T_jj = τ_j, T[0:j, j] = −τ_j · T[0:j, 0:j] · V[:, 0:j]ᵀ v_j;
 *   Q[k0:, k0:] −= V · (T · (Vᵀ · Q[k0:, k0:])).
 * Only Q[k0:, k0:] changes: columns j < k0 of Q are still e_j there, zero in rows ≥ k0.
 * Float64 throughout; 4/3·n³ flops for m = n. On the wasm backend Q, V, T and W live in the
 * heap's operand region while the blocks run, and Q is copied out at the end.
 * orthogonalReference in the tests applies the reflections one by one.
 */
export function householderProduct(v: Float64Array, vOff: Int32Array, tau: Float64Array, m: number, n: number): Float64Array {
  const nb = WY_BLOCK;
  const wasmBytes = (m * n + m * nb + 2 * nb * nb + nb * n) * 8;
  let heap = wasmBytes <= MAX_WASM_BYTES ? activeHeap() : null;
  if (heap !== null) {
    try {
      heap.scratch(wasmBytes);
    } catch (e) {
      if (!(e instanceof WasmMemoryExhausted)) throw e;
      heap = null;   // memory cannot grow that far here: the TypeScript loops, same bits
    }
  }
  // Q [m, n], V [m, nb], T [nb, nb], W [nb, n]: own arrays, or views of the wasm operand region.
  let q: Float64Array, V: Float64Array, T: Float64Array, G: Float64Array, W: Float64Array;
  let at: Addresses | null = null;
  if (heap === null) {
    q = new Float64Array(m * n); V = new Float64Array(m * nb); T = new Float64Array(nb * nb);
    G = new Float64Array(nb * nb); W = new Float64Array(nb * n);
  } else {
    const qB = heap.base, vB = qB + m * n * 8, tB = vB + m * nb * 8, gB = tB + nb * nb * 8, wB = gB + nb * nb * 8;
    // No allocation on the heap until the end of this call: these views stay attached.
    const f64 = heap.f64;
    q = f64.subarray(qB / 8, qB / 8 + m * n); V = f64.subarray(vB / 8, vB / 8 + m * nb);
    T = f64.subarray(tB / 8, tB / 8 + nb * nb); G = f64.subarray(gB / 8, gB / 8 + nb * nb);
    W = f64.subarray(wB / 8, wB / 8 + nb * n);
    q.fill(0);
    at = { q: qB, v: vB, t: tB, g: gB, w: wB };
  }
  for (let j = 0; j < n; j++) q[j * n + j] = 1;
  for (let k0 = Math.floor((n - 1) / nb) * nb; k0 >= 0; k0 -= nb) {
    const b = Math.min(nb, n - k0), len = m - k0, width = n - k0;
    const block: Block = { n, k0, b, len };
    blockV(V, v, vOff, block);
    if (heap === null) blockGram(G, V, block); else heap.hhGram(at!.v, b, len, at!.g);
    blockT(T, G, tau, block);
    W.fill(0, 0, b * width);
    if (heap === null) householderBlockJs(q, V, T, W, block);
    else householderBlockWasm(heap, at!, block);
  }
  return heap === null ? q : q.slice();
}

/** Byte offsets of Q, V, T, G, W in the wasm heap. */
interface Addresses { q: number; v: number; t: number; g: number; w: number }

/** One block of reflections: k0 … k0 + b − 1 of Q [·, n], acting on rows k0 … k0 + len − 1. */
interface Block { n: number; k0: number; b: number; len: number }

/** V [len, b] row-major: column j is v_{k0+j} from row j on, zero above. */
function blockV(V: Float64Array, v: Float64Array, vOff: Int32Array, block: Block): void {
  const { k0, b, len } = block;
  V.fill(0, 0, len * b);
  for (let j = 0; j < b; j++) {
    const o = vOff[k0 + j]!;
    for (let i = j; i < len; i++) V[i * b + j] = v[o + i - j]!;
  }
}

/** G [b, b]: G[j, c] = V[j:, c] · V[j:, j] for c < j, each sum from +0 over ascending rows. */
function blockGram(G: Float64Array, V: Float64Array, block: Block): void {
  const { b, len } = block;
  for (let j = 1; j < b; j++) {
    for (let c = 0; c < j; c++) {
      let dot = 0;
      for (let i = j; i < len; i++) dot += V[i * b + c]! * V[i * b + j]!;
      G[j * b + c] = dot;
    }
  }
}

/** T [b, b] upper triangular, column j from the columns before it and row j of G (blockGram). */
function blockT(T: Float64Array, G: Float64Array, tau: Float64Array, block: Block): void {
  const { k0, b } = block;
  T.fill(0, 0, b * b);
  for (let j = 0; j < b; j++) {
    const t = tau[k0 + j]!, g = j * b;
    for (let r = 0; r < j; r++) {
      let sum = 0;
      for (let c = r; c < j; c++) sum += T[r * b + c]! * G[g + c]!;
      T[r * b + j] = -t * sum;
    }
    T[j * b + j] = t;
  }
}

/**
 * The block's update Q[k0:, k0:] −= V · (T · (Vᵀ · Q[k0:, k0:])) with W [b, width] (zeroed) as
 * workspace, width = n − k0. The definition of the wasm kernels' arithmetic, operation by operation.
 */
function householderBlockJs(q: Float64Array, V: Float64Array, T: Float64Array, W: Float64Array, block: Block): void {
  const { n, k0, b, len } = block;
  const width = n - k0;
  // W [b, width] = Vᵀ · Q[k0:, k0:], four rows of Q per pass over W.
  let i = 0;
  for (; i + 3 < len; i += 4) {
    const q0 = (k0 + i) * n + k0, q1 = q0 + n, q2 = q1 + n, q3 = q2 + n;
    for (let c = 0; c < b; c++) {
      const a0 = V[i * b + c]!, a1 = V[(i + 1) * b + c]!, a2 = V[(i + 2) * b + c]!, a3 = V[(i + 3) * b + c]!;
      if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
      const w0 = c * width;
      for (let j = 0; j < width; j++) W[w0 + j] = W[w0 + j]! + a0 * q[q0 + j]! + a1 * q[q1 + j]! + a2 * q[q2 + j]! + a3 * q[q3 + j]!;
    }
  }
  for (; i < len; i++) {
    const q0 = (k0 + i) * n + k0;
    for (let c = 0; c < b; c++) {
      const a0 = V[i * b + c]!, w0 = c * width;
      if (a0 === 0) continue;
      for (let j = 0; j < width; j++) W[w0 + j] = W[w0 + j]! + a0 * q[q0 + j]!;
    }
  }
  // W := T · W, row by row from the top (T is upper triangular: row r reads rows ≥ r).
  for (let r = 0; r < b; r++) {
    const w0 = r * width, t0 = T[r * b + r]!;
    for (let j = 0; j < width; j++) W[w0 + j] = t0 * W[w0 + j]!;
    for (let c = r + 1; c < b; c++) {
      const t = T[r * b + c]!, w1 = c * width;
      for (let j = 0; j < width; j++) W[w0 + j] = W[w0 + j]! + t * W[w1 + j]!;
    }
  }
  // Q[k0:, k0:] −= V · W, four columns of V per pass over a row of Q.
  for (let r = 0; r < len; r++) {
    const q0 = (k0 + r) * n + k0, vr = r * b, cEnd = Math.min(b, r + 1);
    let c = 0;
    for (; c + 3 < cEnd; c += 4) {
      const a0 = V[vr + c]!, a1 = V[vr + c + 1]!, a2 = V[vr + c + 2]!, a3 = V[vr + c + 3]!;
      const w0 = c * width, w1 = w0 + width, w2 = w1 + width, w3 = w2 + width;
      for (let j = 0; j < width; j++) q[q0 + j] = q[q0 + j]! - (a0 * W[w0 + j]! + a1 * W[w1 + j]! + a2 * W[w2 + j]! + a3 * W[w3 + j]!);
    }
    for (; c < cEnd; c++) {
      const a0 = V[vr + c]!, w0 = c * width;
      for (let j = 0; j < width; j++) q[q0 + j] = q[q0 + j]! - a0 * W[w0 + j]!;
    }
  }
}

/** householderBlockJs's three loop nests on the heap (byte addresses `at` of Q, V, T, W). */
function householderBlockWasm(heap: WasmHeap, at: Addresses, block: Block): void {
  const { n, k0, b, len } = block;
  const width = n - k0, qk = at.q + (k0 * n + k0) * 8;
  heap.hhVtq(qk, n * 8, at.v, b, at.w, width, len);
  heap.hhTw(at.t, b, at.w, width);
  heap.hhQvw(qk, n * 8, at.v, b, at.w, width, len);
}
