/**
 * The GEMM kernel of the WebAssembly backend, emitted as bytes (see emit.ts).
 *
 *   gemm(c, ldc, a, sai, sak, b, ldb, M, N, K, acc)
 *   C[M,N] (+)= A · B,  A(i,k) f32 at a + i·sai + k·sak,  B(k,j) f64 at b + k·ldb + 8j,
 *   C(i,j) f32 at c + i·ldc + 4j   (every address and stride in bytes)
 *
 * Exactness: each C element is summed as the TypeScript kernels sum it (kernels/gemm.ts): a
 * float64 accumulator starting at +0, adding A(i,k)·B(k,j) for k = 0 … K−1 in ascending order,
 * rounded once to float32 on store, after adding C's old value when `acc` is set. An f32×f32
 * product is exact in float64 (24 + 24 significant bits < 53), so the product rounding is the
 * identity and a fused multiply-add (relaxed_madd, one rounding or two) gives the same bits: the
 * FMA variant is bit-identical too. Lanes are independent columns, so the SIMD width changes
 * nothing in any one sum's order.
 *
 * Tiles: 2 rows × 8 columns (8 f64x2 accumulators: with the two A splats and one B vector, 11 of
 * V8's 15 usable XMM registers; 12 accumulators spill), 1×8 for a last odd row, 2×2 and 2×1 at
 * the right edge; a single row (batch 1) runs 1×16 (8 accumulators again), 1×8, 1×2, 1×1. The
 * 1-column tiles use lane 0 of a half-loaded vector.
 */
import { Body, I32, OP, SIMD, V128, moduleBytes } from './emit.js';
import { gruCandidate, gruReset, gruResetAfter, lstmForward } from './gates-module.js';
import { hhGram, hhQvw, hhTw, hhVtq } from './householder-module.js';

// Parameters and locals.
const C = 0, LDC = 1, A = 2, SAI = 3, SAK = 4, B = 5, LDB = 6, M = 7, N = 8, K = 9, ACC = 10;
const I = 11, J = 12, KK = 13, AP = 14, BP = 15, AROW = 16, CROW = 17, CP = 18, J0 = 19;
const ACC0 = 20, X0 = 28, Y = 30;

/** Tile widths: [columns, vectors, half (1 column in lane 0)]. */
type Width = [cols: number, vectors: number, half: boolean];
const ONE_ROW: Width[] = [[16, 8, false], [8, 4, false], [2, 1, false], [1, 1, true]];
const TAIL: Width[] = [[2, 1, false], [1, 1, true]];

/**
 * The module's bytes: gemm, the gate passes lstm_fwd, gru_reset, gru_cand, gru_after
 * (gates-module.ts), and the Householder kernels hh_vtq, hh_tw,
 * hh_qvw, hh_gram (householder-module.ts); `fma`: gemm multiplies and adds with
 * f64x2.relaxed_madd (relaxed SIMD).
 *
 * Loop order: for M = 1 (batch-1 products) one row, tiles 1×16 … 1×1. Otherwise column blocks of
 * 8 outermost, every row pair passing over the block (2×8 tiles, a last odd row 1×8), so B's
 * block (K × 8 float64) stays in cache while A streams; then the last N mod 8 columns row by row.
 */
export function gemmModuleBytes(fma: boolean): Uint8Array<ArrayBuffer> {
  const f = new Body();
  f.get(M).i32(1).op(OP.i32Eq, OP.if, OP.void);
  f.i32(0).set(I).i32(0).set(J0);
  rows(f, 1, ONE_ROW, fma);
  f.op(OP.else);
  f.i32(0).set(J);
  f.op(OP.block, OP.void, OP.loop, OP.void);
  f.get(J).i32(8).op(OP.i32Add).get(N).op(OP.i32GtS, OP.brIf, 1);
  f.i32(0).set(I);
  f.op(OP.block, OP.void, OP.loop, OP.void);
  f.get(I).i32(2).op(OP.i32Add).get(M).op(OP.i32GtS, OP.brIf, 1);
  rowStarts(f);
  tile(f, 2, 4, false, fma);
  f.get(I).i32(2).op(OP.i32Add).set(I).op(OP.br, 0, OP.end, OP.end);
  f.get(I).get(M).op(OP.i32LtS, OP.if, OP.void);
  rowStarts(f);
  tile(f, 1, 4, false, fma);
  f.op(OP.end);
  f.get(J).i32(8).op(OP.i32Add).set(J).op(OP.br, 0, OP.end, OP.end);
  // Columns J0 … N−1: i = 0; while (i + 2 <= M) { rows(2); i += 2 }  if (i < M) rows(1)
  f.get(J).set(J0).i32(0).set(I);
  f.op(OP.block, OP.void, OP.loop, OP.void);
  f.get(I).i32(2).op(OP.i32Add).get(M).op(OP.i32GtS, OP.brIf, 1);
  rows(f, 2, TAIL, fma);
  f.get(I).i32(2).op(OP.i32Add).set(I).op(OP.br, 0, OP.end, OP.end);
  f.get(I).get(M).op(OP.i32LtS, OP.if, OP.void);
  rows(f, 1, TAIL, fma);
  f.op(OP.end);
  f.op(OP.end);
  return moduleBytes([{ name: 'gemm', params: 11, locals: [[9, I32], [11, V128]], body: f },
    lstmForward(), gruReset(), gruCandidate(), gruResetAfter(), hhVtq(), hhTw(), hhQvw(), hhGram()], 1);
}

/** aRow = a + i·sai, cRow = c + i·ldc. */
function rowStarts(f: Body): void {
  f.get(A).get(I).get(SAI).op(OP.i32Mul, OP.i32Add).set(AROW);
  f.get(C).get(I).get(LDC).op(OP.i32Mul, OP.i32Add).set(CROW);
}

/** Rows i … i+R−1 from column J0 on: each tile width in turn across j. */
function rows(f: Body, R: 1 | 2, widths: Width[], fma: boolean): void {
  rowStarts(f);
  f.get(J0).set(J);
  for (const [cols, V, half] of widths) {
    f.op(OP.block, OP.void, OP.loop, OP.void);
    f.get(J).i32(cols).op(OP.i32Add).get(N).op(OP.i32GtS, OP.brIf, 1);
    tile(f, R, V, half, fma);
    f.get(J).i32(cols).op(OP.i32Add).set(J).op(OP.br, 0, OP.end, OP.end);
  }
}

/** One R × (2V or 1) tile at (i, j): the k loop, then the stores. */
function tile(f: Body, R: number, V: number, half: boolean, fma: boolean): void {
  const acc = (r: number, v: number): number => ACC0 + r * V + v;
  for (let r = 0; r < R; r++) for (let v = 0; v < V; v++) f.simd(SIMD.const).op(...new Array<number>(16).fill(0)).set(acc(r, v));
  f.get(AROW).set(AP);
  f.get(B).get(J).i32(8).op(OP.i32Mul, OP.i32Add).set(BP);
  f.get(K).set(KK);
  f.op(OP.block, OP.void, OP.loop, OP.void);
  f.get(KK).op(OP.i32Eqz, OP.brIf, 1);
  for (let r = 0; r < R; r++) {
    // x_r = splat(f64(A(i + r, k)))
    f.get(AP);
    if (r > 0) f.get(SAI).op(OP.i32Add);
    f.mem(OP.f32Load, false, 2, 0).op(OP.f64PromoteF32).simd(SIMD.f64x2Splat).set(X0 + r);
  }
  for (let v = 0; v < V; v++) {
    f.get(BP);
    if (half) f.mem(SIMD.load64Zero, true, 3, 0);
    else f.mem(SIMD.load, true, 3, 16 * v);
    f.set(Y);
    for (let r = 0; r < R; r++) {
      // acc += x_r · y  (relaxed_madd(a, b, c) = a·b + c)
      if (fma) f.get(X0 + r).get(Y).get(acc(r, v)).simd(SIMD.f64x2RelaxedMadd);
      else f.get(acc(r, v)).get(X0 + r).get(Y).simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add);
      f.set(acc(r, v));
    }
  }
  f.get(AP).get(SAK).op(OP.i32Add).set(AP);
  f.get(BP).get(LDB).op(OP.i32Add).set(BP);
  f.get(KK).i32(1).op(OP.i32Sub).set(KK);
  f.op(OP.br, 0, OP.end, OP.end);
  // Stores: C(i + r, j …) = f32(acc) or f32(f64(C) + acc).
  for (let r = 0; r < R; r++) {
    f.get(CROW).get(J).i32(4).op(OP.i32Mul, OP.i32Add);
    if (r > 0) f.get(LDC).op(OP.i32Add);
    f.set(CP);
    for (let v = 0; v < V; v++) {
      f.get(CP);
      f.get(ACC).op(OP.if, V128);
      f.get(CP);
      if (half) f.mem(SIMD.load32Zero, true, 2, 0);
      else f.mem(SIMD.load64Zero, true, 2, 8 * v);
      f.simd(SIMD.f64x2PromoteLowF32x4).get(acc(r, v)).simd(SIMD.f64x2Add);
      f.op(OP.else).get(acc(r, v)).op(OP.end);
      f.simd(SIMD.f32x4DemoteF64x2Zero);
      if (half) f.mem(SIMD.store32Lane, true, 2, 0).op(0);
      else f.mem(SIMD.store64Lane, true, 2, 8 * v).op(0);
    }
  }
}

