/**
 * The gate passes on the WebAssembly instance: the step's rows are copied in, the kernel of
 * gates-module.ts runs, the results are copied back. Bit-identical to the TypeScript kernels.
 */
import { copyF32, type WasmHeap } from './heap.js';
import type { ResidentMatrix } from './gemm.js';

/** What the gate passes read and write of a tape (cells/tape.ts), by structure. */
export interface LstmStepArrays {
  readonly batch: number;
  readonly hiddenSize: number;
  /** P: features of h (LSTM projSize, else H). */
  readonly outputSize: number;
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

/**
 * What a fused step reads of a weight matrix laid out for the forward products (structurally
 * cells/weights.ts ForwardWeights): Wᵀ [cols, rows] and its float64 copy in wasm memory.
 */
export interface ResidentWeights {
  /** Wᵀ [cols, rows] (cols = the product's K, rows = G·H its N); null when W is read in place. */
  readonly wt: Float32Array | null;
  readonly rows: number;
  readonly packedT: ResidentMatrix;
}

/** lstmGatesForward (cells/lstm.ts) of step t on the instance (h_t has H = P features unless projected). */
export function wasmLstmGatesForward(heap: WasmHeap, tape: LstmStepArrays, t: number): void {
  wasmLstmStep(heap, tape, t, null);
}

/**
 * Step t of the LSTM with the recurrent product and the gate pass in one visit to wasm memory:
 * gates[t] [rows, 4H] += h_{t−1} [rows, P] · W_hhᵀ (the resident Wᵀ [P, 4H]), then
 * lstmGatesForward on it, with no copy out and in between. Same kernels, same bits as the
 * separate calls. `whh` null: the product was done by the caller (gate pass only).
 */
export function wasmLstmStep(heap: WasmHeap, tape: LstmStepArrays, t: number, whh: ResidentWeights | null): void {
  const B = tape.batch, H = tape.hiddenSize, P = tape.outputSize, rows = tape.batchSizes[t]!;
  if (rows === 0) return;
  const n = rows * H, gOff = t * B * 4 * H, sPrev = t * B * H, sNext = sPrev + B * H;
  // Scratch (f32 elements from base): g [rows, 4H], bias [4H], c_{t−1}, c_t, tanh c_t, h_t [rows, H], h_{t−1} [rows, P].
  const g = heap.base / 4, bias = g + 4 * n, cp = bias + 4 * H, cn = cp + n, tc = cn + n, hn = tc + n, hp = hn + n;
  heap.scratch((hp + rows * P - g) * 4);
  // The arena may grow memory (remaking the views): read heap.f32 only after this.
  const w = whh === null ? 0 : whh.packedT.at(heap, whh.wt!);
  const f32 = heap.f32;
  copyF32(f32, g, tape.gates, gOff, 4 * n);
  copyF32(f32, bias, tape.foldedBias, 0, 4 * H);
  copyF32(f32, cp, tape.c, sPrev, n);
  if (whh !== null) {
    copyF32(f32, hp, tape.h, t * B * P, rows * P);
    heap.gemm(g * 4, 16 * H, hp * 4, P * 4, 4, w, whh.rows * 8, rows, 4 * H, P, 1);
  }
  heap.lstmForward(g * 4, bias * 4, cp * 4, cn * 4, tc * 4, hn * 4, rows, H);
  copyF32(tape.gates, gOff, f32, g, 4 * n);
  copyF32(tape.c, sNext, f32, cn, n);
  copyF32(tape.aux, sPrev, f32, tc, n);
  // h_t, or with a projection m_t into proj[t] (the caller projects it).
  if (tape.proj.length > 0) copyF32(tape.proj, sPrev, f32, hn, n);
  else copyF32(tape.h, sNext, f32, hn, n);
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
  copyF32(f32, g, tape.gates, gOff, 3 * n);
  copyF32(f32, bias, tape.foldedBias, 0, 3 * H);
  copyF32(f32, hp, tape.h, sPrev, n);
  if (pass === 'reset') {
    heap.gruReset(g * 4, bias * 4, hp * 4, out * 4, 0, 0, rows, H);
    copyF32(tape.aux, sPrev, f32, out, n);
  } else if (pass === 'candidate') {
    heap.gruCandidate(g * 4, bias * 4, hp * 4, out * 4, 0, 0, rows, H);
    copyF32(tape.h, sNext, f32, out, n);
  } else {
    copyF32(f32, hh, tape.hh, 0, n);
    if (biasHh === null) f32.fill(0, bhn, bhn + H);
    else copyF32(f32, bhn, biasHh, 2 * H, H);
    heap.gruResetAfter(g * 4, bias * 4, hp * 4, out * 4, hh * 4, bhn * 4, rows, H);
    copyF32(tape.aux, sPrev, f32, hh, n);
    copyF32(tape.h, sNext, f32, out, n);
  }
  copyF32(tape.gates, gOff, f32, g, 3 * n);
}

/**
 * Step t of a GRU whole in one visit to wasm memory: the recurrent products over the resident
 * Wᵀ [H, 3H] (whh) and the gate passes, with the step's operands copied in once and out once.
 * The same kernels in the same order as gru.ts forwardStep, so the same bits:
 *   reset before (resetAfter false): gates[:, 0:2H] += h_{t−1}·W_h{r,z}ᵀ; r, z, aux = r ⊙ h_{t−1};
 *     gates[:, 2H:3H] += aux·W_hnᵀ; n, h_t
 *   resetAfter: gates[:, 0:2H] += h_{t−1}·W_h{r,z}ᵀ; hh = h_{t−1}·W_hnᵀ; r, z, aux = hh + b_hn, n, h_t
 * `biasHh` as in wasmGruGatesForward (tape.hh, the TypeScript path's scratch, is not written).
 */
export function wasmGruStep(heap: WasmHeap, tape: LstmStepArrays, t: number, whh: ResidentWeights, resetAfter: boolean, biasHh: Float32Array | null): void {
  const B = tape.batch, H = tape.hiddenSize, rows = tape.batchSizes[t]!;
  if (rows === 0) return;
  const n = rows * H, gOff = t * B * 3 * H, sPrev = t * B * H, sNext = sPrev + B * H;
  // Scratch (f32 elements from base): g [rows, 3H], bias [3H], h_{t−1}, out, hh [rows, H], b_hn [H], h_t [rows, H].
  const g = heap.base / 4, bias = g + 3 * n, hp = bias + 3 * H, out = hp + n, hh = out + n, bhn = hh + n, hn = bhn + H;
  heap.scratch((hn + n - g) * 4);
  // The arena may grow memory (remaking the views): read heap.f32 only after this.
  const w = whh.packedT.at(heap, whh.wt!), ldw = whh.rows * 8, ldg = 12 * H;
  const f32 = heap.f32;
  copyF32(f32, g, tape.gates, gOff, 3 * n);
  copyF32(f32, bias, tape.foldedBias, 0, 3 * H);
  copyF32(f32, hp, tape.h, sPrev, n);
  heap.gemm(g * 4, ldg, hp * 4, H * 4, 4, w, ldw, rows, 2 * H, H, 1);
  if (resetAfter) {
    heap.gemm(hh * 4, H * 4, hp * 4, H * 4, 4, w + 16 * H, ldw, rows, H, H, 0);
    if (biasHh === null) f32.fill(0, bhn, bhn + H);
    else copyF32(f32, bhn, biasHh, 2 * H, H);
    heap.gruResetAfter(g * 4, bias * 4, hp * 4, out * 4, hh * 4, bhn * 4, rows, H);
    copyF32(tape.aux, sPrev, f32, hh, n);
    copyF32(tape.h, sNext, f32, out, n);
  } else {
    heap.gruReset(g * 4, bias * 4, hp * 4, out * 4, 0, 0, rows, H);
    heap.gemm((g + 2 * H) * 4, ldg, out * 4, H * 4, 4, w + 16 * H, ldw, rows, H, H, 1);
    heap.gruCandidate(g * 4, bias * 4, hp * 4, hn * 4, 0, 0, rows, H);
    copyF32(tape.aux, sPrev, f32, out, n);
    copyF32(tape.h, sNext, f32, hn, n);
  }
  copyF32(tape.gates, gOff, f32, g, 3 * n);
}
