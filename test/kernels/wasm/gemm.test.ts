/**
 * The WebAssembly GEMM kernel against the TypeScript kernels, bit for bit: random odd sizes,
 * offsets and leading dimensions, accumulate, K = 0, subnormals, ±0, huge and tiny magnitudes;
 * the plain SIMD variant and the relaxed-SIMD FMA one (enabled in this process through V8's flag
 * when the engine does not ship it by default).
 */
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import * as js from '../../../src/kernels/gemm.js';
import { BSource, ResidentMatrix, wasmGemm } from '../../../src/kernels/wasm/gemm.js';
import { createWasmHeap, type WasmHeap } from '../../../src/kernels/wasm/heap.js';
import { Random } from '../../../src/index.js';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const HEAPS: Array<[string, WasmHeap | null]> = [['simd', createWasmHeap(false)], ['relaxed-simd fma', createWasmHeap(true)]];

/** Values with zeros of both signs, subnormals, and magnitudes from 1e-30 to 1e20. */
function values(n: number, rng: Random): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    a[i] = u < 0.05 ? 0 : u < 0.1 ? -0 : u < 0.15 ? (rng.next() - 0.5) * 1e-40 : u < 0.2 ? (rng.next() - 0.5) * 1e20
      : u < 0.25 ? (rng.next() - 0.5) * 1e-30 : rng.normal();
  }
  return a;
}

/** The first index where the bit patterns differ, or −1. */
function firstDiff(a: Float32Array, b: Float32Array): number {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

type Variant = 'NN' | 'NT' | 'TN';
const TS = { NN: js.gemmNN, NT: js.gemmNT, TN: js.gemmTN };

describe.each(HEAPS)('wasm GEMM (%s)', (_, heap) => {
  it('compiles here', () => {
    expect(heap).not.toBeNull();
  });
  it.each(['NN', 'NT', 'TN'] as Variant[])('gemm%s is bit-identical to the TypeScript kernel on 600 random cases', (v) => {
    const rng = new Random(v.charCodeAt(0) * 31 + v.charCodeAt(1) + (heap!.fma ? 7 : 0));
    const int = (n: number): number => Math.floor(rng.next() * n);
    for (let it = 0; it < 600; it++) {
      const M = 1 + int(it < 300 ? 9 : 40), N = 1 + int(it < 300 ? 19 : 70), K = int(it < 300 ? 9 : 50);
      const acc = rng.next() < 0.5;
      const lda = (v === 'TN' ? M : K) + int(3), ldb = (v === 'NT' ? K : N) + int(3), ldc = N + int(3);
      const aOff = int(4), bOff = int(4), cOff = int(4);
      const A = values(aOff + (v === 'TN' ? K : M) * lda + 2, rng), B = values(bOff + (v === 'NT' ? N : K) * ldb + 2, rng);
      const C0 = values(cOff + M * ldc + 2, rng), C1 = C0.slice(), C2 = C0.slice();
      TS[v](C1, cOff, ldc, A, aOff, lda, B, bOff, ldb, M, N, K, acc);
      wasmGemm(heap!, C2, cOff, ldc, A, aOff, lda, v === 'TN', B, bOff, ldb, v === 'NT' ? BSource.Columns : BSource.Rows, null, M, N, K, acc);
      const d = firstDiff(C1, C2);
      if (d >= 0) throw new Error(`gemm${v} M=${M} N=${N} K=${K} acc=${acc}: C[${d}] js ${C1[d]} wasm ${C2[d]}`);
    }
  });
  it('gemmTN with a transposed A over 512 KB (gathered into rows) is bit-identical too', () => {
    const rng = new Random(11);
    for (const [M, N, K, acc] of [[301, 9, 500, false], [257, 33, 520, true]] as const) {
      const lda = M + 3, aOff = 2, cOff = 1, ldc = N + 1;
      expect(K * lda).toBeGreaterThan(1 << 17);
      const A = values(aOff + K * lda, rng), B = values(K * N, rng), C0 = values(cOff + M * ldc, rng);
      const C1 = C0.slice(), C2 = C0.slice();
      js.gemmTN(C1, cOff, ldc, A, aOff, lda, B, 0, N, M, N, K, acc);
      wasmGemm(heap!, C2, cOff, ldc, A, aOff, lda, true, B, 0, N, BSource.Rows, null, M, N, K, acc);
      expect(firstDiff(C1, C2)).toBe(-1);
    }
  });
  it('a resident B is packed once, reused, re-packed after invalidate and after eviction', () => {
    const rng = new Random(5);
    const K = 13, N = 21, M = 3;
    const W = values(K * N, rng), A = values(M * K, rng);
    const res = new ResidentMatrix();
    const run = (): Float32Array => {
      const C = new Float32Array(M * N);
      wasmGemm(heap!, C, 0, N, A, 0, K, false, W, 0, N, BSource.Resident, res, M, N, K, false);
      return C;
    };
    const ref = new Float32Array(M * N);
    js.gemmNN(ref, 0, N, A, 0, K, W, 0, N, M, N, K, false);
    expect(firstDiff(run(), ref)).toBe(-1);
    // Not invalidated: the packed copy is used even though W changed (the owner's snapshot rule).
    const saved = W.slice();
    W.fill(0);
    expect(firstDiff(run(), ref)).toBe(-1);
    res.invalidate();
    expect(run().every((x) => x === 0)).toBe(true);
    W.set(saved);
    res.invalidate();
    expect(firstDiff(run(), ref)).toBe(-1);
    // Evicted by a scratch grow (arena reset): re-packed from the source.
    heap!.scratch(heap!.scratchBytes + 65536);
    expect(firstDiff(run(), ref)).toBe(-1);
  });
  it('zero-sized products leave C as it is; K = 0 writes 0 or keeps C', () => {
    const C = new Float32Array([1, -2, 3, -0]);
    wasmGemm(heap!, C, 0, 2, new Float32Array(4), 0, 2, false, new Float32Array(4), 0, 2, BSource.Rows, null, 0, 2, 2, false);
    expect(Array.from(C)).toEqual([1, -2, 3, -0]);
    wasmGemm(heap!, C, 0, 2, new Float32Array(4), 0, 2, false, new Float32Array(4), 0, 2, BSource.Rows, null, 2, 2, 0, true);
    expect(Array.from(C)).toEqual([1, -2, 3, 0]);   // −0 + (+0) = +0, as in TypeScript
    wasmGemm(heap!, C, 0, 2, new Float32Array(4), 0, 2, false, new Float32Array(4), 0, 2, BSource.Rows, null, 2, 2, 0, false);
    expect(Array.from(C)).toEqual([0, 0, 0, 0]);
  });
});
