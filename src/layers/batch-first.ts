/**
 * The batch-first layout at a module's boundary. With `batchFirst: true` a module's sequences
 * (inputs, outputs, dOutputs, dInputs) are [B, T, F], index (b·T + t)·F + f, as PyTorch's
 * `batch_first=True`; inside, every layer and kernel works time-major, [T, B, F]. The public
 * calls of RecurrentModule (module.ts) convert on the way in and out, and nothing else does:
 * states keep PyTorch's [L·D, B, H] in both layouts.
 */

/**
 * dst [N, M, F] = src [M, N, F] with the two leading axes swapped: dst[(n·M + m)·F + f] =
 * src[(m·N + n)·F + f]. Time-major [T, B, F] to batch-major [B, T, F] is (M, N) = (T, B); the
 * way back is (M, N) = (B, T). Returns a new array.
 */
export function swapLeadingAxes(src: Float32Array, M: number, N: number, F: number): Float32Array {
  const dst = new Float32Array(M * N * F);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      const s = (m * N + n) * F;
      dst.set(src.subarray(s, s + F), (n * M + m) * F);
    }
  }
  return dst;
}
