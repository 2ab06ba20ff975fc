/**
 * Backend selection, and the GEMMs of the backend in use.
 *
 * 'js': the TypeScript kernels of gemm.ts, the definition and the reference. 'wasm': the same
 * products on WebAssembly SIMD (wasm/), bit-identical. 'auto' (the default) takes wasm where it
 * compiles, else js, silently. The cells call the dispatching GEMMs below; on wasm a product
 * too small to repay copying its operands in and out runs in TypeScript (same bits either way).
 */
import * as js from './gemm.js';
import { BSource, ResidentMatrix, wasmGemm } from './wasm/gemm.js';
import { WasmMemoryExhausted, wasmHeap, type WasmHeap } from './wasm/heap.js';
import {
  wasmGruGatesForward, wasmGruStep, wasmLstmGatesForward, wasmLstmStep, type GruPass, type LstmStepArrays, type ResidentWeights,
} from './wasm/gates.js';
import { describe } from '../core/validate.js';

/** A backend's name, as `getBackend()` reports it. */
export type BackendName = 'js' | 'wasm';

let choice: 'js' | 'wasm' | 'auto' = 'auto';
/** The instance while the wasm backend is in use; null on js; undefined until 'auto' resolves. */
let active: WasmHeap | null | undefined;
/** Tests: run every product on wasm, however small. */
let everySize = false;

/**
 * The backend in use: 'wasm' (WebAssembly SIMD kernels) or 'js' (TypeScript kernels). Under
 * 'auto' (the default) the first call compiles the WebAssembly module, and reports 'js' if that
 * is not possible.
 */
export function getBackend(): BackendName {
  return activeHeap() === null ? 'js' : 'wasm';
}

/**
 * Chooses the kernels: 'js', 'wasm', or 'auto' (wasm where WebAssembly SIMD compiles, else js).
 * Results are bit-identical on both; only speed differs.
 * @param name 'js' | 'wasm' | 'auto'
 * @returns the backend now in use
 * @throws TypeError for another name; Error for 'wasm' where WebAssembly SIMD cannot be compiled
 *   (no WebAssembly, no SIMD, or a Content-Security-Policy without 'wasm-unsafe-eval')
 */
export function setBackend(name: 'js' | 'wasm' | 'auto'): BackendName {
  if (name !== 'js' && name !== 'wasm' && name !== 'auto') {
    throw new TypeError(`name: expected 'js', 'wasm' or 'auto', got ${describe(name)}`);
  }
  if (name === 'wasm' && wasmHeap() === null) {
    throw new Error("setBackend: the 'wasm' backend is unavailable here (WebAssembly SIMD did not compile: no WebAssembly, no SIMD, or a Content-Security-Policy without 'wasm-unsafe-eval'); use 'js' or 'auto'");
  }
  choice = name;
  active = name === 'js' ? null : name === 'wasm' ? wasmHeap() : undefined;
  return getBackend();
}

/** @internal The instance when the wasm backend is in use, else null. */
export function activeHeap(): WasmHeap | null {
  if (active === undefined) active = choice === 'js' ? null : wasmHeap();
  return active;
}

/** @internal Tests: route every product through wasm, however small (true), or by size (false). */
export function setWasmEverySize(on: boolean): void {
  everySize = on;
}

/**
 * Whether M·N·K multiply-adds repay copying `copied` elements in and out. The floor of 1024
 * was measured (Node 20): a streaming GRU step's input projection, 1×16×192 = 3072, is faster
 * on wasm, and moving it there took StreamingRunner.step from 2.0× to 3.0× the js backend.
 */
function pays(M: number, N: number, K: number, copied: number): boolean {
  const work = M * N * K;
  return everySize || (work >= 1024 && work >= 6 * copied);
}

/**
 * The catch of every wasm call: wasm memory that could not grow (WasmMemoryExhausted, thrown
 * before anything was written: every wasm call reserves its memory before touching its outputs)
 * returns, so that the caller runs the TypeScript kernel instead, with the same bits; any other
 * error is rethrown. (A try/catch in each dispatcher rather than a callback: no closure per call.)
 */
function fallBackOn(e: unknown): void {
  if (!(e instanceof WasmMemoryExhausted)) throw e;
}

/** C[M,N] (+)= A[M,K] · B[K,N] on the backend in use (see gemm.ts). */
export function gemmNN(
  C: Float32Array, cOff: number, ldc: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  M: number, N: number, K: number,
  accumulate: boolean,
): void {
  const heap = activeHeap();
  if (heap !== null && pays(M, N, K, M * K + K * N + 2 * M * N)) {
    try {
      wasmGemm(heap, C, cOff, ldc, A, aOff, lda, false, B, bOff, ldb, BSource.Rows, null, M, N, K, accumulate);
      return;
    } catch (e) {
      fallBackOn(e);
    }
  }
  js.gemmNN(C, cOff, ldc, A, aOff, lda, B, bOff, ldb, M, N, K, accumulate);
}

/** C[M,N] (+)= A[M,K] · B[N,K]ᵀ on the backend in use (see gemm.ts). */
export function gemmNT(
  C: Float32Array, cOff: number, ldc: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  M: number, N: number, K: number,
  accumulate: boolean,
): void {
  const heap = activeHeap();
  // Bᵀ is gathered element by element in JS: count it as 3 copies.
  if (heap !== null && pays(M, N, K, M * K + 3 * K * N + 2 * M * N)) {
    try {
      wasmGemm(heap, C, cOff, ldc, A, aOff, lda, false, B, bOff, ldb, BSource.Columns, null, M, N, K, accumulate);
      return;
    } catch (e) {
      fallBackOn(e);
    }
  }
  js.gemmNT(C, cOff, ldc, A, aOff, lda, B, bOff, ldb, M, N, K, accumulate);
}

/** C[M,N] (+)= A[K,M]ᵀ · B[K,N] on the backend in use (see gemm.ts). */
export function gemmTN(
  C: Float32Array, cOff: number, ldc: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  M: number, N: number, K: number,
  accumulate: boolean,
): void {
  const heap = activeHeap();
  if (heap !== null && pays(M, N, K, M * K + K * N + 2 * M * N)) {
    try {
      wasmGemm(heap, C, cOff, ldc, A, aOff, lda, true, B, bOff, ldb, BSource.Rows, null, M, N, K, accumulate);
      return;
    } catch (e) {
      fallBackOn(e);
    }
  }
  js.gemmTN(C, cOff, ldc, A, aOff, lda, B, bOff, ldb, M, N, K, accumulate);
}

/**
 * C[M,N] (+)= A[M,K] · B[K,N] with B(k, j) = src[bOff + k·ldb + j], where `res` is the resident
 * copy of `src` (a weight matrix: packed into wasm memory once, reused until invalidated). On js,
 * or when the product is too small, gemmNN on src itself.
 */
export function gemmResident(
  C: Float32Array, cOff: number, ldc: number,
  A: Float32Array, aOff: number, lda: number,
  res: ResidentMatrix, src: Float32Array, bOff: number, ldb: number,
  M: number, N: number, K: number,
  accumulate: boolean,
): void {
  const heap = activeHeap();
  if (heap !== null && pays(M, N, K, M * K + 2 * M * N)) {
    try {
      wasmGemm(heap, C, cOff, ldc, A, aOff, lda, false, src, bOff, ldb, BSource.Resident, res, M, N, K, accumulate);
      return;
    } catch (e) {
      fallBackOn(e);
    }
  }
  js.gemmNN(C, cOff, ldc, A, aOff, lda, src, bOff, ldb, M, N, K, accumulate);
}

/**
 * @internal The LSTM gate pass of step t (cells/lstm.ts lstmGatesForward) on wasm when wasm is
 * the backend: true when done, false when the caller runs the TypeScript kernel.
 */
export function lstmGatesOnWasm(tape: LstmStepArrays, t: number): boolean {
  const heap = activeHeap();
  if (heap === null) return false;
  try {
    wasmLstmGatesForward(heap, tape, t);
    return true;
  } catch (e) {
    fallBackOn(e);
    return false;
  }
}

/**
 * @internal A GRU gate pass of step t (cells/gru.ts) on wasm when wasm is the backend: true when
 * done, false when the caller runs the TypeScript kernel. `biasHh`: resetAfter's b_hh, or null.
 */
export function gruGatesOnWasm(tape: LstmStepArrays, t: number, pass: GruPass, biasHh: Float32Array | null): boolean {
  const heap = activeHeap();
  if (heap === null) return false;
  try {
    wasmGruGatesForward(heap, tape, t, pass, biasHh);
    return true;
  } catch (e) {
    fallBackOn(e);
    return false;
  }
}

/**
 * @internal Step t's recurrent product gates[t] += h_{t−1}·W_hhᵀ and LSTM gate pass in one visit
 * to wasm (wasm/gates.ts wasmLstmStep) when wasm is the backend and W_hh is laid out transposed
 * (a runner's tape): true when done, false when the caller runs gemmW and the gate pass itself.
 * Operands stay in wasm memory between the two: at batch 1 the copies cost as much as the work.
 */
export function lstmStepOnWasm(tape: LstmStepArrays, t: number, whh: ResidentWeights): boolean {
  const heap = activeHeap();
  if (heap === null || whh.wt === null) return false;
  try {
    wasmLstmStep(heap, tape, t, whh);
    return true;
  } catch (e) {
    fallBackOn(e);
    return false;
  }
}

/**
 * @internal GRU step t whole (recurrent products and gate passes, wasm/gates.ts wasmGruStep) on
 * wasm, under the same conditions as lstmStepOnWasm: true when done, false when the caller runs
 * the step in separate calls.
 */
export function gruStepOnWasm(tape: LstmStepArrays, t: number, whh: ResidentWeights, resetAfter: boolean, biasHh: Float32Array | null): boolean {
  const heap = activeHeap();
  if (heap === null || whh.wt === null) return false;
  try {
    wasmGruStep(heap, tape, t, whh, resetAfter, biasHh);
    return true;
  } catch (e) {
    fallBackOn(e);
    return false;
  }
}

export { ResidentMatrix };
