/**
 * The WebAssembly instance and its memory: compiled once, on first use, synchronously (`new
 * WebAssembly.Module`; Chromium allows any size since version 114). The relaxed-SIMD FMA variant
 * is used where `WebAssembly.validate` accepts it, else the plain SIMD one; where neither
 * compiles (no WebAssembly, no SIMD, a CSP without 'wasm-unsafe-eval') `wasmHeap()` is null.
 *
 * Memory layout (bytes):
 *   [0, base)                               the exp tables of the gate kernels (gates-module.ts)
 *   [base, base + scratchBytes)             operands of one call, copied in and out per call
 *   [base + scratchBytes, … + budget)       the weight arena: f64 copies of weight matrices
 *
 * Memory policy: arena reuse, no FinalizationRegistry. The arena is a bump allocator with a byte
 * budget (32 MiB, or twice the largest matrix asked for). When a copy does not fit, the whole
 * arena is reset: its generation advances, every copy made before is evicted, and each owner
 * re-packs its matrix from its own snapshot on next use (see ResidentMatrix). Dropped cells
 * therefore cost nothing once the arena wraps: memory is bounded by scratch + budget, whatever
 * the number of cells created, and deterministic (no garbage-collector timing).
 *
 * `Memory.grow` detaches every view of the old buffer: the views below are remade right after
 * each grow, and nothing else holds a view of wasm memory across calls.
 */
import { gemmModuleBytes } from './gemm-module.js';
import { TABLE_BYTES, writeTables } from './gates-module.js';

const PAGE = 65536;
const MIN_BUDGET = 32 << 20;

/** The exported kernel: see gemm-module.ts. */
export type GemmKernel = (
  c: number, ldc: number, a: number, sai: number, sak: number, b: number, ldb: number,
  M: number, N: number, K: number, acc: number,
) => void;

/** An exported gate pass, called with (g, bias, p2, p3, p4, p5, rows, H): see gates-module.ts. */
export type GateKernel = (...args: number[]) => void;

/** hh_vtq / hh_qvw (q, ldq, v, b, w, width, len), hh_tw (t, b, w, width), hh_gram (v, b, len, g):
 * see householder-module.ts. */
export type HouseholderKernel = (...args: number[]) => void;

export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  readonly gemm: GemmKernel;
  readonly lstmForward: GateKernel;
  readonly gruReset: GateKernel;
  readonly gruCandidate: GateKernel;
  readonly gruResetAfter: GateKernel;
  readonly hhVtq: HouseholderKernel;
  readonly hhTw: HouseholderKernel;
  readonly hhQvw: HouseholderKernel;
  readonly hhGram: HouseholderKernel;
  /** Byte offset of the operand region (after the tables). */
  readonly base = Math.ceil(TABLE_BYTES / 64) * 64;
  /** Whether the kernel multiplies and adds with relaxed_madd. */
  readonly fma: boolean;
  /** Views of the current buffer, remade after every grow. */
  f32!: Float32Array;
  f64!: Float64Array;
  /** Bytes of the per-call operand region at the bottom of memory. */
  scratchBytes = 0;
  /** Arena generation: a copy made in an older generation is gone. */
  generation = 0;
  private arenaTop = 0;
  private budget = MIN_BUDGET;

  constructor(module: WebAssembly.Module, fma: boolean) {
    const instance = new WebAssembly.Instance(module, {});
    this.memory = instance.exports.memory as WebAssembly.Memory;
    this.gemm = instance.exports.gemm as GemmKernel;
    this.lstmForward = instance.exports.lstm_fwd as GateKernel;
    this.gruReset = instance.exports.gru_reset as GateKernel;
    this.gruCandidate = instance.exports.gru_cand as GateKernel;
    this.gruResetAfter = instance.exports.gru_after as GateKernel;
    this.hhVtq = instance.exports.hh_vtq as HouseholderKernel;
    this.hhTw = instance.exports.hh_tw as HouseholderKernel;
    this.hhQvw = instance.exports.hh_qvw as HouseholderKernel;
    this.hhGram = instance.exports.hh_gram as HouseholderKernel;
    this.fma = fma;
    this.views();
    writeTables(this.f64);
  }

  /** Bytes of wasm memory now. */
  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Makes the operand region at least `bytes` long. Growing it moves the arena up, so the
   * arena is reset (every copy evicted): call this before `alloc` within one call.
   */
  scratch(bytes: number): void {
    if (bytes <= this.scratchBytes) return;
    const size = Math.ceil(bytes / PAGE) * PAGE;
    this.resetArena();
    this.reserve(this.base + size);
    this.scratchBytes = size;   // only once the memory is there
  }

  /** A region of `bytes` (a multiple of 8) in the current arena generation: its byte offset. */
  alloc(bytes: number): number {
    if (bytes * 2 > this.budget) this.budget = bytes * 2;
    if (this.arenaTop + bytes > this.budget) this.resetArena();
    const off = this.base + this.scratchBytes + this.arenaTop;
    this.reserve(off + bytes);
    this.arenaTop += bytes;
    return off;
  }

  private resetArena(): void {
    this.generation++;
    this.arenaTop = 0;
  }

  /** Grows memory to at least `bytes`, then remakes the views (the old ones are detached). */
  private reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    try {
      this.memory.grow(Math.ceil((bytes - have) / PAGE));
    } catch {
      // Past wasm32's 4 GiB, or the engine refused: the caller runs the TypeScript kernel.
      throw new WasmMemoryExhausted(bytes);
    }
    this.views();
  }

  private views(): void {
    this.f32 = new Float32Array(this.memory.buffer);
    this.f64 = new Float64Array(this.memory.buffer);
  }
}

/**
 * @internal Wasm memory could not grow to hold a call's operands or a weight copy. Thrown before
 * anything is written, so the dispatch (backend.ts) runs the same product in TypeScript instead:
 * same bits, no error reaches the user.
 */
export class WasmMemoryExhausted extends Error {
  constructor(bytes: number) {
    super(`wasm memory: could not grow to ${bytes} bytes`);
  }
}

let heap: WasmHeap | null | undefined;

/** The instance, compiled on first call; null where WebAssembly SIMD is unavailable. */
export function wasmHeap(): WasmHeap | null {
  if (heap === undefined) heap = compile();
  return heap;
}

function compile(): WasmHeap | null {
  return createWasmHeap(true) ?? createWasmHeap(false);
}

/**
 * @internal A new instance with its own memory: the FMA variant (relaxed SIMD) or the plain
 * one; null where it does not validate or compile. Tests use it to hold both variants.
 */
export function createWasmHeap(fma: boolean): WasmHeap | null {
  try {
    if (typeof WebAssembly !== 'object' || typeof WebAssembly.Module !== 'function') return null;
    const bytes = gemmModuleBytes(fma);
    if (!WebAssembly.validate(bytes)) return null;
    return new WasmHeap(new WebAssembly.Module(bytes), fma);
  } catch {
    // CompileError under a CSP without 'wasm-unsafe-eval', or a failed first allocation.
    return null;
  }
}

/**
 * dst[dOff … dOff+n) = src[sOff … sOff+n), float32 elements. `set` over a view (a memcpy):
 * measured faster than an element loop even for one row of H = 64 floats.
 */
export function copyF32(dst: Float32Array, dOff: number, src: Float32Array, sOff: number, n: number): void {
  dst.set(src.subarray(sOff, sOff + n), dOff);
}
