/**
 * Packed sequences, handled in one place: a layer sorts its batch by length, longest first
 * (stable), so that the entries still running at step t are the first batchSizes[t] rows of the
 * tape (PyTorch's PackedSequence). The cells' step kernels work on that prefix only; this file
 * owns everything about the rows past it:
 *
 * - inputs at padded positions never reach the tape (zero there), nor do upstream gradients;
 * - after forward of step t, a finished row carries its state over (so h_T holds every entry's
 *   state after its own last step) and records zero gates and aux (so it adds nothing to the
 *   weight gradients, which are sums over all T·B rows);
 * - in backward, a finished row passes its state gradient through step t unchanged.
 *
 * Padding is therefore inert: any value there, NaN and ±Infinity included, changes no output,
 * state or gradient.
 */
import type { CellTape } from '../cells/tape.js';

/** How a batch lies on a tape. */
export interface Packing {
  /** Per entry, its number of steps (null: every entry runs all T). */
  readonly lengths: Int32Array | null;
  /** Tape row r holds entry order[r]; null when that is the identity. */
  readonly order: Int32Array | null;
  /** [T] rows active at step t: entries with lengths[b] > t. */
  readonly batchSizes: Int32Array;
}

/** The packing of `batch` entries over `steps` steps with these lengths (checked, each in 1..T). */
export function packBatch(lengths: Int32Array | null, steps: number, batch: number): Packing {
  const batchSizes = new Int32Array(steps).fill(batch);
  if (lengths === null) return { lengths, order: null, batchSizes };
  const order = Int32Array.from({ length: batch }, (_, b) => b);
  // Stable: equal lengths keep their order, so already-sorted batches need no permutation.
  const sorted = Array.from(order).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  order.set(sorted);
  for (let t = 0; t < steps; t++) {
    let n = 0;
    for (let b = 0; b < batch; b++) if (lengths[b]! > t) n++;
    batchSizes[t] = n;
  }
  return { lengths, order: sorted.every((b, r) => b === r) ? null : order, batchSizes };
}

/**
 * Sequence data into tape order: dst[t, r] = src[t, order[r]] for the active rows r of step t,
 * zero for the others. src, dst [T, B, F].
 */
export function packSteps(dst: Float32Array, src: Float32Array, p: Packing, F: number): void {
  const T = p.batchSizes.length, B = dst.length / (T * F);
  for (let t = 0; t < T; t++) {
    const base = t * B * F, rows = p.batchSizes[t]!;
    if (p.order === null) dst.set(src.subarray(base, base + rows * F), base);
    else for (let r = 0; r < rows; r++) dst.set(src.subarray(base + p.order[r]! * F, base + (p.order[r]! + 1) * F), base + r * F);
    dst.fill(0, base + rows * F, base + B * F);
  }
}

/**
 * Sequence data back to entry order: dst[t, order[r]] = src[t, r] for the active rows, zero at
 * padded positions. src, dst [T, B, F].
 */
export function unpackSteps(dst: Float32Array, src: Float32Array, p: Packing, F: number): void {
  const T = p.batchSizes.length, B = dst.length / (T * F);
  for (let t = 0; t < T; t++) {
    const base = t * B * F, rows = p.batchSizes[t]!;
    if (p.order === null) {
      dst.set(src.subarray(base, base + rows * F), base);
      dst.fill(0, base + rows * F, base + B * F);
      continue;
    }
    for (let r = 0; r < B; r++) {
      const o = base + p.order[r]! * F;
      if (r < rows) dst.set(src.subarray(base + r * F, base + (r + 1) * F), o);
      else dst.fill(0, o, o + F);
    }
  }
}

/** One state block into tape order: dst[r] = src[order[r]], [B, F] each. */
export function packRows(dst: Float32Array, src: Float32Array, p: Packing, F: number): void {
  if (p.order === null) { dst.set(src); return; }
  for (let r = 0; r < p.order.length; r++) dst.set(src.subarray(p.order[r]! * F, (p.order[r]! + 1) * F), r * F);
}

/** One state block back to entry order: dst[order[r]] = src[r], [B, F] each. */
export function unpackRows(dst: Float32Array, src: Float32Array, p: Packing, F: number): void {
  if (p.order === null) { dst.set(src); return; }
  for (let r = 0; r < p.order.length; r++) dst.set(src.subarray(r * F, (r + 1) * F), p.order[r]! * F);
}

/**
 * After forward of step t: finished rows carry h [P] (and c [H]) over and record zero gates, aux
 * and (with a projection) m.
 */
export function maskForwardStep(tape: CellTape, t: number): void {
  const B = tape.batch, H = tape.hiddenSize, P = tape.outputSize, GH = tape.gateCount * H, rows = tape.batchSizes[t]!;
  if (rows === B) return;
  const prevH = t * B * P, nextH = prevH + B * P;
  tape.h.copyWithin(nextH + rows * P, prevH + rows * P, prevH + B * P);
  const prev = t * B * H, next = prev + B * H;
  if (tape.c.length > 0) tape.c.copyWithin(next + rows * H, prev + rows * H, prev + B * H);
  tape.gates.fill(0, t * B * GH + rows * GH, (t + 1) * B * GH);
  tape.aux.fill(0, prev + rows * H, prev + B * H);
  if (tape.proj.length > 0) tape.proj.fill(0, prev + rows * H, prev + B * H);
}

/** After backward of step t: finished rows pass their state gradient (dh [P], dc [H]) through unchanged. */
export function maskBackwardStep(tape: CellTape, t: number): void {
  const B = tape.batch, H = tape.hiddenSize, P = tape.outputSize, rows = tape.batchSizes[t]!;
  if (rows === B) return;
  const fromH = ((t + 1) & 1) * B * P, toH = (t & 1) * B * P;
  tape.dh.copyWithin(toH + rows * P, fromH + rows * P, fromH + B * P);
  const from = ((t + 1) & 1) * B * H, to = (t & 1) * B * H;
  if (tape.dc.length > 0) tape.dc.copyWithin(to + rows * H, from + rows * H, from + B * H);
}
