/**
 * Gate block orders of ONNX's LSTM and GRU against PyTorch's (this library's stateDict()):
 *
 *   LSTM  PyTorch i, f, g, o        ONNX i, o, f, c      (c = the cell candidate g)
 *   GRU   PyTorch r, z, n           ONNX z, r, h         (h = the candidate n)
 *
 * ONNX's GRU computes H_t = (1 − z) ⊙ h̃ + z ⊙ H_{t−1}, the same as PyTorch's, so its z rows are
 * PyTorch's as they stand (this library's z rows negated, see cells/pytorch.ts); only the blocks
 * move. With linear_before_reset = 0 the candidate is tanh(W_h x + (r ⊙ H_{t−1}) R_hᵀ + Rb_h + Wb_h),
 * this library's default GRU; with 1 it is tanh(W_h x + r ⊙ (H_{t−1} R_hᵀ + Rb_h) + Wb_h), resetAfter.
 */

/** ONNX block of each PyTorch block: PyTorch block k is ONNX block ONNX_OF[k]. */
const ONNX_OF = { 4: [0, 2, 3, 1], 3: [1, 0, 2] } as const;

/**
 * Rows reordered from PyTorch's gate blocks to ONNX's (toONNX = true) or back; `data` is
 * [G·H, cols] (cols = 1 for a bias). New array.
 */
export function reorderGates(data: Float32Array, gateCount: 3 | 4, toONNX: boolean): Float32Array {
  const block = data.length / gateCount;
  const out = new Float32Array(data.length);
  ONNX_OF[gateCount].forEach((onnx, torch) => {
    const from = (toONNX ? torch : onnx) * block, to = (toONNX ? onnx : torch) * block;
    out.set(data.subarray(from, from + block), to);
  });
  return out;
}

/**
 * Peephole rows: this library's weightPeephole [3, H] is i, f, o; ONNX's P [3H] is i, o, f. The
 * permutation swaps blocks 1 and 2, so it is its own inverse. New array.
 */
export function swapPeephole(p: Float32Array): Float32Array {
  const H = p.length / 3, out = new Float32Array(p.length);
  out.set(p.subarray(0, H), 0);
  out.set(p.subarray(H, 2 * H), 2 * H);
  out.set(p.subarray(2 * H, 3 * H), H);
  return out;
}
