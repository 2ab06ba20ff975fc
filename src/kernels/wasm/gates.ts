/**
 * The gate passes on the WebAssembly instance: the step's rows are copied in, the kernel of
 * gates-module.ts runs, the results are copied back. Bit-identical to the TypeScript kernels.
 */
import type { WasmHeap } from './heap.js';

/** What the gate passes read and write of a tape (cells/tape.ts), by structure. */
export interface LstmStepArrays {
  readonly batch: number;
  readonly hiddenSize: number;
  readonly batchSizes: Int32Array;
  /** [T, B, 4H] */
  readonly gates: Float32Array;
  /** [T+1, B, H] */
  readonly c: Float32Array;
  /** [T, B, H] tanh(c_t) */
  readonly aux: Float32Array;
  /** [T+1, B, H] */
  readonly h: Float32Array;
  /** [G·H] */
  readonly foldedBias: Float32Array;
  /** [B, H] GRU (resetAfter) W_hn·h_{t−1} */
  readonly hh: Float32Array;
  /** LSTM with a projection: [T, B, H] m_t = o ⊙ tanh(c_t) (written there instead of h); else empty. */
  readonly proj: Float32Array;
}

/** lstmGatesForward (cells/lstm.ts) of step t on the instance (h_t has H = P features unless projected). */
export function wasmLstmGatesForward(heap: WasmHeap, tape: LstmStepArrays, t: number): void {
  const B = tape.batch, H = tape.hiddenSize, rows = tape.batchSizes[t]!;
  if (rows === 0) return;
  const n = rows * H, gOff = t * B * 4 * H, sPrev = t * B * H, sNext = sPrev + B * H;
  // Scratch (f32 elements from base): g [rows, 4H], bias [4H], c_{t−1}, c_t, tanh c_t, h_t [rows, H].
  const g = heap.base / 4, bias = g + 4 * n, cp = bias + 4 * H, cn = cp + n, tc = cn + n, hn = tc + n;
  heap.scratch((hn + n - g) * 4);
  const f32 = heap.f32;
  f32.set(tape.gates.subarray(gOff, gOff + 4 * n), g);
  f32.set(tape.foldedBias, bias);
  f32.set(tape.c.subarray(sPrev, sPrev + n), cp);
  heap.lstmForward(g * 4, bias * 4, cp * 4, cn * 4, tc * 4, hn * 4, rows, H);
  tape.gates.set(f32.subarray(g, g + 4 * n), gOff);
  tape.c.set(f32.subarray(cn, cn + n), sNext);
  tape.aux.set(f32.subarray(tc, tc + n), sPrev);
  // h_t, or with a projection m_t into proj[t] (the caller projects it).
  if (tape.proj.length > 0) tape.proj.set(f32.subarray(hn, hn + n), sPrev);
  else tape.h.set(f32.subarray(hn, hn + n), sNext);
}

/** Which GRU pass: gruResetForward, gruCandidateForward, gruResetAfterForward (cells/gru.ts). */
export type GruPass = 'reset' | 'candidate' | 'resetAfter';

/**
 * A GRU gate pass of step t on the instance. `biasHh` (resetAfter only): the cell's b_hh [3H],
 * whose n block b_hn is added to hh; null without biases (then +0 is added, as in TypeScript).
 */
export function wasmGruGatesForward(heap: WasmHeap, tape: LstmStepArrays, t: number, pass: GruPass, biasHh: Float32Array | null): void {
  const B = tape.batch, H = tape.hiddenSize, rows = tape.batchSizes[t]!;
  if (rows === 0) return;
  const n = rows * H, gOff = t * B * 3 * H, sPrev = t * B * H, sNext = sPrev + B * H;
  // Scratch (f32 elements from base): g [rows, 3H], bias [3H], h_{t−1}, out, hh [rows, H], b_hn [H].
  const g = heap.base / 4, bias = g + 3 * n, hp = bias + 3 * H, out = hp + n, hh = out + n, bhn = hh + n;
  heap.scratch((bhn + H - g) * 4);
  const f32 = heap.f32;
  f32.set(tape.gates.subarray(gOff, gOff + 3 * n), g);
  f32.set(tape.foldedBias, bias);
  f32.set(tape.h.subarray(sPrev, sPrev + n), hp);
  if (pass === 'reset') {
    heap.gruReset(g * 4, bias * 4, hp * 4, out * 4, 0, 0, rows, H);
    tape.aux.set(f32.subarray(out, out + n), sPrev);
  } else if (pass === 'candidate') {
    heap.gruCandidate(g * 4, bias * 4, hp * 4, out * 4, 0, 0, rows, H);
    tape.h.set(f32.subarray(out, out + n), sNext);
  } else {
    f32.set(tape.hh.subarray(0, n), hh);
    if (biasHh === null) f32.fill(0, bhn, bhn + H);
    else f32.set(biasHh.subarray(2 * H, 3 * H), bhn);
    heap.gruResetAfter(g * 4, bias * 4, hp * 4, out * 4, hh * 4, bhn * 4, rows, H);
    tape.aux.set(f32.subarray(hh, hh + n), sPrev);
    tape.h.set(f32.subarray(out, out + n), sNext);
  }
  tape.gates.set(f32.subarray(g, g + 3 * n), gOff);
}
