/**
 * The LSTM gate pass of the WebAssembly backend, emitted as bytes: a transcription of
 * lstmGatesForward (cells/lstm.ts) over sigmoid/tanh/expFast (kernels/activations.ts), two
 * columns at a time in f64x2 lanes. Every operation is the TypeScript one on the same float64
 * values in the same order (IEEE-754 add, mul, div, comparisons; the integer k by truncation, as
 * `k | 0`; the same two tables), so every stored float32 is bit-identical.
 *
 *   lstm_fwd(g, bias, cp, cn, tc, hn, rows, H)
 *   g [rows, 4H] f32: the pre-activations (x·W_ihᵀ + h·W_hhᵀ) in, the gates i,f,g,o out;
 *   bias [4H]; cp [rows, H] c_{t−1} in; cn, tc, hn [rows, H] c_t, tanh(c_t), h_t out.
 *
 * The tables sit at TABLES: 2^(j/64), j < 64, then 2^n, n = −128 … 127.
 */
import { POW2, POW2_FRAC, ROUND, SCALE, STEP, TANH_SERIES } from '../activations.js';
import { Body, I32, OP, SIMD, V128, type FunctionDef } from './emit.js';

/** Byte offset of the exp tables in wasm memory, and the bytes they take. */
export const TABLES = 0, TABLE_BYTES = (POW2_FRAC.length + POW2.length) * 8;

/** Writes the tables into memory at TABLES. */
export function writeTables(f64: Float64Array): void {
  f64.set(POW2_FRAC, TABLES / 8);
  f64.set(POW2, TABLES / 8 + POW2_FRAC.length);
}

const OPS = { f64Load: 0x2b, i32GeS: 0x4e, i32And: 0x71, i32Shl: 0x74, i32ShrS: 0x75 };
const S = {
  i32x4Splat: 0x11, i32x4ExtractLane: 0x1b, f64x2ReplaceLane: 0x22,
  f64x2Lt: 0x49, f64x2Gt: 0x4a, f64x2Ge: 0x4c, bitselect: 0x52,
  i32x4Add: 0xae, i32x4TruncSatF64x2SZero: 0xfc,
  f64x2Abs: 0xec, f64x2Neg: 0xed, f64x2Sub: 0xf1, f64x2Div: 0xf3,
};

/** Pushes a v128 whose two f64 lanes are c. */
function splat(f: Body, c: number): void {
  const b = new Uint8Array(new Float64Array([c, c]).buffer);
  f.simd(SIMD.const).op(...b);
}

// Parameters and locals of lstm_fwd.
const G = 0, BIAS = 1, CP = 2, CN = 3, TC = 4, HN = 5, ROWS = 6, H = 7;
const B = 8, J = 9, GQ = 10, SQ = 11, BQ = 12, H4 = 13, KB = 14;      // i32
const VI = 15, VF = 16, VG = 17, VO = 18, X = 19, V = 20, K = 21, R = 22, T = 23, VC = 24;  // v128
const I32_LOCALS = 7, V128_LOCALS = 10;

/**
 * e^x of the v128 in local `x` (both lanes), left on the stack: expFast's steps.
 *   v = x < −87 ? −87 : x > 88 ? 88 : x;  k = (v·SCALE + ROUND) − ROUND;  r = v − k·STEP
 *   p = 1 + r(1 + r(0.5 + r/6));  kb = (k|0) + 8192;  e = p · 2^((kb&63)/64) · 2^((kb>>6) − 128)
 */
function expFast(f: Body, x: number): void {
  // v = select(x > 88, 88, select(x < −87, −87, x))
  splat(f, 88);
  splat(f, -87); f.get(x); f.get(x); splat(f, -87); f.simd(S.f64x2Lt).simd(S.bitselect);
  f.get(x); splat(f, 88); f.simd(S.f64x2Gt).simd(S.bitselect).set(V);
  f.get(V); splat(f, SCALE); f.simd(SIMD.f64x2Mul); splat(f, ROUND); f.simd(SIMD.f64x2Add); splat(f, ROUND); f.simd(S.f64x2Sub).set(K);
  f.get(V).get(K); splat(f, STEP); f.simd(SIMD.f64x2Mul).simd(S.f64x2Sub).set(R);
  // p = 1 + r·(1 + r·(0.5 + r·(1/6)))
  splat(f, 1); f.get(R);
  splat(f, 1); f.get(R);
  splat(f, 0.5); f.get(R); splat(f, 1 / 6); f.simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add);
  f.simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add);
  f.simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add);
  // (p · frac) · pow2, each table vector built from the two lanes' kb.
  f.get(K).simd(S.i32x4TruncSatF64x2SZero).i32(8192).simd(S.i32x4Splat).simd(S.i32x4Add).set(T);
  for (const table of ['frac', 'pow2'] as const) {
    for (let lane = 0; lane < 2; lane++) {
      f.get(T).simd(S.i32x4ExtractLane, lane).set(KB);
      if (table === 'frac') f.get(KB).i32(63).op(OPS.i32And);
      else f.get(KB).i32(6).op(OPS.i32ShrS);
      f.i32(3).op(OPS.i32Shl).mem(OPS.f64Load, false, 3, TABLES + (table === 'frac' ? 0 : POW2_FRAC.length * 8));
      if (lane === 0) f.simd(SIMD.f64x2Splat);
      else f.simd(S.f64x2ReplaceLane, 1);
    }
    f.simd(SIMD.f64x2Mul);
  }
}

/** σ(x) = 1 / (1 + e^−x) of local x, on the stack (X, V, K, R, T are scratch). */
function sigmoid(f: Body, x: number): void {
  f.get(x).simd(S.f64x2Neg).set(X);
  splat(f, 1); splat(f, 1); expFast(f, X); f.simd(SIMD.f64x2Add).simd(S.f64x2Div);
}

/**
 * tanh(x) of local x (not X), on the stack: |x| ≥ 1/128 ? 1 − 2/(1 + e^{2x}) : the odd Taylor
 * polynomial x(1 + x²(−1/3 + x²(2/15 + x²(−17/315)))).
 */
function tanh(f: Body, x: number): void {
  // t = 1 − 2 / (1 + e^{2x})
  splat(f, 2); f.get(x); f.simd(SIMD.f64x2Mul).set(X);
  splat(f, 1); splat(f, 2); splat(f, 1); expFast(f, X); f.simd(SIMD.f64x2Add).simd(S.f64x2Div).simd(S.f64x2Sub);
  // polynomial, with x² in R (expFast is done with it)
  f.get(x).get(x).simd(SIMD.f64x2Mul).set(R);
  f.get(x);
  splat(f, 1); f.get(R);
  splat(f, -1 / 3); f.get(R);
  splat(f, 2 / 15); f.get(R); splat(f, -17 / 315); f.simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add);
  f.simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add);
  f.simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add);
  f.simd(SIMD.f64x2Mul);
  // bitselect(t, poly, |x| ≥ 1/128)
  f.get(x).simd(S.f64x2Abs); splat(f, TANH_SERIES); f.simd(S.f64x2Ge).simd(S.bitselect);
}

/** Pushes the f32 pair (or single, half) at address local `base` + local `off` as f64x2. */
function load2(f: Body, base: number, off: number, half: boolean): void {
  f.get(base).get(off).op(OP.i32Add);
  if (half) f.mem(SIMD.load32Zero, true, 2, 0); else f.mem(SIMD.load64Zero, true, 2, 0);
  f.simd(SIMD.f64x2PromoteLowF32x4);
}

/** Stores the f64x2 in local `v` as f32 at base + off (+ n·4H: gate block n). */
function store2(f: Body, base: number, off: number, half: boolean, v: number, n = 0): void {
  f.get(base).get(off).op(OP.i32Add);
  for (let m = 0; m < n; m++) f.get(H4).op(OP.i32Add);
  f.get(v).simd(SIMD.f32x4DemoteF64x2Zero);
  if (half) f.mem(SIMD.store32Lane, true, 2, 0).op(0); else f.mem(SIMD.store64Lane, true, 2, 0).op(0);
}

/** Gate pre-activation z = g[q + n·H4] + bias[bq + n·H4] for gate block n, on the stack. */
function preact(f: Body, n: number, half: boolean): void {
  for (const [base, off] of [[G, GQ], [BIAS, BQ]] as const) {
    f.get(base).get(off).op(OP.i32Add);
    for (let m = 0; m < n; m++) f.get(H4).op(OP.i32Add);
    if (half) f.mem(SIMD.load32Zero, true, 2, 0); else f.mem(SIMD.load64Zero, true, 2, 0);
    f.simd(SIMD.f64x2PromoteLowF32x4);
  }
  f.simd(SIMD.f64x2Add);
}

/** Columns j, j+1 (or j alone, half) of row b. */
function columns(f: Body, half: boolean): void {
  const gates = [[VI, 's'], [VF, 's'], [VG, 't'], [VO, 's']] as const;
  gates.forEach(([local, act], n) => {
    preact(f, n, half); f.set(local);
    if (act === 's') sigmoid(f, local); else tanh(f, local);
    f.set(local);
  });
  gates.forEach(([local], n) => store2(f, G, GQ, half, local, n));
  // c_t = f32(f·c_{t−1} + i·g), then its float64 value
  f.get(VF); load2(f, CP, SQ, half); f.simd(SIMD.f64x2Mul).get(VI).get(VG).simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add);
  f.simd(SIMD.f32x4DemoteF64x2Zero).simd(SIMD.f64x2PromoteLowF32x4).set(VC);
  store2(f, CN, SQ, half, VC);
  tanh(f, VC); f.set(VC);
  store2(f, TC, SQ, half, VC);
  f.get(VO).get(VC).simd(SIMD.f64x2Mul).set(VC);
  store2(f, HN, SQ, half, VC);
}

/**
 * A gate function over rows × H: parameters (g, bias, p2, p3, p4, p5, rows, H), g [rows, G·H];
 * `columns` emits the work of columns j, j+1 (or j alone, half) of row b.
 */
function gateFunction(name: string, G: number, columns: (f: Body, half: boolean) => void): FunctionDef {
  const f = new Body();
  f.get(H).i32(4).op(OP.i32Mul).set(H4);
  f.i32(0).set(B);
  f.op(OP.block, OP.void, OP.loop, OP.void);
  f.get(B).get(ROWS).op(OPS.i32GeS, OP.brIf, 1);
  // SQ = b·4H bytes (row b of the [rows, H] arrays), GQ = G·SQ (row b of g), BQ = 0 (bias)
  f.get(B).get(H4).op(OP.i32Mul).set(SQ);
  f.get(SQ).i32(G).op(OP.i32Mul).set(GQ);
  f.i32(0).set(BQ);
  f.i32(0).set(J);
  for (const half of [false, true]) {
    f.op(OP.block, OP.void, OP.loop, OP.void);
    f.get(J).i32(half ? 1 : 2).op(OP.i32Add).get(H).op(OP.i32GtS, OP.brIf, 1);
    columns(f, half);
    for (const q of [GQ, SQ, BQ]) f.get(q).i32(half ? 4 : 8).op(OP.i32Add).set(q);
    f.get(J).i32(half ? 1 : 2).op(OP.i32Add).set(J).op(OP.br, 0, OP.end, OP.end);
  }
  f.get(B).i32(1).op(OP.i32Add).set(B).op(OP.br, 0, OP.end, OP.end);
  return { name, params: 8, locals: [[I32_LOCALS, I32], [V128_LOCALS, V128]], body: f };
}

/** lstm_fwd(g, bias, cp, cn, tc, hn, rows, H): lstmGatesForward (cells/lstm.ts). */
export function lstmForward(): FunctionDef {
  return gateFunction('lstm_fwd', 4, columns);
}

// GRU parameter roles (gateFunction's p2 … p5).
const HP = 2, P3 = 3, HH = 4, BHN = 5;   // P3: rh (gru_reset) or h_t

/** gru_reset(g, bias, hp, rh, −, −, rows, H): gruResetForward (cells/gru.ts). r, z; rh = r ⊙ h_{t−1}. */
export function gruReset(): FunctionDef {
  return gateFunction('gru_reset', 3, (f, half) => {
    preact(f, 0, half); f.set(VI); sigmoid(f, VI); f.set(VI);
    preact(f, 1, half); f.set(VF); sigmoid(f, VF); f.set(VF);
    store2(f, G, GQ, half, VI);
    store2(f, G, GQ, half, VF, 1);
    f.get(VI); load2(f, HP, SQ, half); f.simd(SIMD.f64x2Mul).set(VC);
    store2(f, P3, SQ, half, VC);
  });
}

/**
 * gru_cand(g, bias, hp, hn, −, −, rows, H): gruCandidateForward. n = tanh(g_n + b_n);
 * h_t = (1 − z) ⊙ h_{t−1} + z ⊙ n, z read back as stored (float32), n unrounded.
 */
export function gruCandidate(): FunctionDef {
  return gateFunction('gru_cand', 3, (f, half) => {
    preact(f, 2, half); f.set(VG); tanh(f, VG); f.set(VG);
    store2(f, G, GQ, half, VG, 2);
    loadGate(f, 1, half); f.set(VF);
    load2(f, HP, SQ, half); f.set(VO);
    splat(f, 1); f.get(VF); f.simd(S.f64x2Sub).get(VO).simd(SIMD.f64x2Mul);
    f.get(VF).get(VG).simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add).set(VC);
    store2(f, P3, SQ, half, VC);
  });
}

/**
 * gru_after(g, bias, hp, hnext, hh, bhn, rows, H): gruResetAfterForward. r, z as above;
 * hn = f32(hh + b_hn) written over hh; n = tanh((g_n + b_n) + r·hn); r, z, n over g;
 * h_t = (1 − z) ⊙ h_{t−1} + z ⊙ n into hnext.
 */
export function gruResetAfter(): FunctionDef {
  return gateFunction('gru_after', 3, (f, half) => {
    preact(f, 0, half); f.set(VI); sigmoid(f, VI); f.set(VI);
    preact(f, 1, half); f.set(VF); sigmoid(f, VF); f.set(VF);
    // hn = f32(hh + b_hn)
    load2(f, HH, SQ, half); load2(f, BHN, BQ, half); f.simd(SIMD.f64x2Add);
    f.simd(SIMD.f32x4DemoteF64x2Zero).simd(SIMD.f64x2PromoteLowF32x4).set(VO);
    preact(f, 2, half); f.get(VI).get(VO).simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add).set(VG);
    tanh(f, VG); f.set(VG);
    store2(f, G, GQ, half, VI);
    store2(f, G, GQ, half, VF, 1);
    store2(f, G, GQ, half, VG, 2);
    store2(f, HH, SQ, half, VO);          // hn over hh (copied out to aux)
    load2(f, HP, SQ, half); f.set(VO);
    splat(f, 1); f.get(VF); f.simd(S.f64x2Sub).get(VO).simd(SIMD.f64x2Mul);
    f.get(VF).get(VG).simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add).set(VC);
    store2(f, P3, SQ, half, VC);
  });
}

/** Pushes gate block n of g (float32 as stored) as f64x2. */
function loadGate(f: Body, n: number, half: boolean): void {
  f.get(G).get(GQ).op(OP.i32Add);
  for (let m = 0; m < n; m++) f.get(H4).op(OP.i32Add);
  if (half) f.mem(SIMD.load32Zero, true, 2, 0); else f.mem(SIMD.load64Zero, true, 2, 0);
  f.simd(SIMD.f64x2PromoteLowF32x4);
}
