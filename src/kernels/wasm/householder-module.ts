/**
 * The float64 kernels of the blocked Householder product (kernels/householder.ts), emitted as
 * bytes (see emit.ts). Every matrix is row-major float64; addresses and ldq are in bytes, b,
 * width and len are counts.
 *
 *   hh_vtq(q, ldq, v, b, w, width, len)   W[b, width] += Vᵀ · Q   (V [len, b] at v, Q [len, width])
 *   hh_tw(t, b, w, width)                 W := T · W              (T [b, b] upper triangular)
 *   hh_qvw(q, ldq, v, b, w, width, len)   Q −= V · W              (V lower trapezoidal: row r, c ≤ r)
 *   hh_gram(v, b, len, g)                 G[j, c] = V[j:, c] · V[j:, j] for c < j  (G [b, b])
 *
 * Exactness: each is the loop nest of householderBlockJs (hh_gram: of blockT's dot products)
 * vectorised over the contiguous column index, two columns per f64x2. Lane j performs exactly the float64 operations the TypeScript
 * loop performs for column j, in the same order: the same association of the four-term sums, the
 * same skipped all-zero rows of V in hh_vtq (adding 0·q is not a no-op for W = −0), and separate
 * multiply and add (a float64 product is not exact, so a fused one would change bits). Hence the
 * same bits. An odd last column runs in lane 0 of a half-loaded vector (lane 1 is 0 and is not
 * stored).
 */
import { Body, F64, I32, OP, SIMD, V128, type FunctionDef } from './emit.js';

// hh_vtq and hh_qvw: parameters, then locals.
const Q = 0, LDQ = 1, VP = 2, NB = 3, WP = 4, WIDTH = 5, LEN = 6;
const I = 7, C = 8, J = 9, END = 10, P0 = 11, R0 = 15, VR = 19, CEND = 20, VB = 21;
const A0 = 22, X0 = 26;
// hh_tw.
const T_T = 0, T_NB = 1, T_WP = 2, T_WIDTH = 3;
const T_R = 4, T_C = 5, T_J = 6, T_END = 7, T_P = 8, T_Q = 9, T_TR = 10, T_X = 11;
// hh_gram.
const G_V = 0, G_NB = 1, G_LEN = 2, G_G = 3;
const G_J = 4, G_C = 5, G_I = 6, G_P = 7, G_VB = 8, G_ACC = 9;

/** Pushes the f64x2 at address local `ptr` + j (a half load: lane 0 only). */
function ld(f: Body, ptr: number, j: number, half: boolean): void {
  f.get(ptr).get(j).op(OP.i32Add).mem(half ? SIMD.load64Zero : SIMD.load, true, 3, 0);
}

/** Stores the f64x2 on the stack (address pushed first by `addr`) at ptr + j. */
function st(f: Body, half: boolean): void {
  if (half) f.mem(SIMD.store64Lane, true, 3, 0).op(0);
  else f.mem(SIMD.store, true, 3, 0);
}

/**
 * for (j = 0; j + 16 ≤ end; j += 16) body(full);  if (j < end) body(half)   (j, end in bytes)
 */
function columns(f: Body, j: number, end: number, body: (half: boolean) => void): void {
  f.i32(0).set(j);
  f.op(OP.block, OP.void, OP.loop, OP.void);
  f.get(j).i32(16).op(OP.i32Add).get(end).op(OP.i32GtS, OP.brIf, 1);
  body(false);
  f.get(j).i32(16).op(OP.i32Add).set(j).op(OP.br, 0, OP.end, OP.end);
  f.get(j).get(end).op(OP.i32LtS, OP.if, OP.void);
  body(true);
  f.op(OP.end);
}

/** while (!(cond)) { body } — `exit` pushes the i32 that ends the loop. */
function loop(f: Body, exit: () => void, body: () => void): void {
  f.op(OP.block, OP.void, OP.loop, OP.void);
  exit();
  f.op(OP.brIf, 1);
  body();
  f.op(OP.br, 0, OP.end, OP.end);
}

const inc = (f: Body, local: number, by: number): void => { f.get(local).i32(by).op(OP.i32Add).set(local); };

/**
 * hh_vtq: W[c, :] += V[i, c]·Q[i, :] + … + V[i+3, c]·Q[i+3, :] for row groups of four, c = 0 … b−1,
 * skipping c when all four V are 0; then the last len mod 4 rows one by one (skipping V = 0).
 * Per element: ((((W + a0·q0) + a1·q1) + a2·q2) + a3·q3).
 */
export function hhVtq(): FunctionDef {
  const f = new Body();
  f.get(WIDTH).i32(8).op(OP.i32Mul).set(END);
  f.get(NB).i32(8).op(OP.i32Mul).set(VB);
  f.i32(0).set(I);
  loop(f, () => f.get(I).i32(4).op(OP.i32Add).get(LEN).op(OP.i32GtS), () => {
    f.get(Q).get(I).get(LDQ).op(OP.i32Mul, OP.i32Add).set(P0);
    for (let k = 1; k < 4; k++) f.get(P0 + k - 1).get(LDQ).op(OP.i32Add).set(P0 + k);
    f.get(VP).get(I).get(VB).op(OP.i32Mul, OP.i32Add).set(VR);
    f.i32(0).set(C);
    loop(f, () => f.get(C).get(NB).op(OP.i32GeS), () => {
      // a_k = V[i + k, c]
      f.get(VR).get(C).i32(8).op(OP.i32Mul, OP.i32Add).set(R0);
      for (let k = 0; k < 4; k++) {
        f.get(R0);
        for (let s = 0; s < k; s++) f.get(VB).op(OP.i32Add);
        f.mem(OP.f64Load, false, 3, 0).set(A0 + k);
      }
      f.get(A0).f64Zero().op(OP.f64Eq).get(A0 + 1).f64Zero().op(OP.f64Eq, OP.i32And)
        .get(A0 + 2).f64Zero().op(OP.f64Eq, OP.i32And).get(A0 + 3).f64Zero().op(OP.f64Eq, OP.i32And);
      f.op(OP.i32Eqz, OP.if, OP.void);
      for (let k = 0; k < 4; k++) f.get(A0 + k).simd(SIMD.f64x2Splat).set(X0 + k);
      f.get(WP).get(C).get(END).op(OP.i32Mul, OP.i32Add).set(R0);
      columns(f, J, END, (half) => {
        f.get(R0).get(J).op(OP.i32Add);
        ld(f, R0, J, half);
        for (let k = 0; k < 4; k++) {
          f.get(X0 + k);
          ld(f, P0 + k, J, half);
          f.simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add);
        }
        st(f, half);
      });
      f.op(OP.end);
      inc(f, C, 1);
    });
    inc(f, I, 4);
  });
  loop(f, () => f.get(I).get(LEN).op(OP.i32GeS), () => {
    f.get(Q).get(I).get(LDQ).op(OP.i32Mul, OP.i32Add).set(P0);
    f.get(VP).get(I).get(VB).op(OP.i32Mul, OP.i32Add).set(VR);
    f.i32(0).set(C);
    loop(f, () => f.get(C).get(NB).op(OP.i32GeS), () => {
      f.get(VR).get(C).i32(8).op(OP.i32Mul, OP.i32Add).mem(OP.f64Load, false, 3, 0).set(A0);
      f.get(A0).f64Zero().op(OP.f64Ne, OP.if, OP.void);
      f.get(A0).simd(SIMD.f64x2Splat).set(X0);
      f.get(WP).get(C).get(END).op(OP.i32Mul, OP.i32Add).set(R0);
      columns(f, J, END, (half) => {
        f.get(R0).get(J).op(OP.i32Add);
        ld(f, R0, J, half);
        f.get(X0);
        ld(f, P0, J, half);
        f.simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add);
        st(f, half);
      });
      f.op(OP.end);
      inc(f, C, 1);
    });
    inc(f, I, 1);
  });
  return { name: 'hh_vtq', params: 7, locals: [[15, I32], [4, F64], [4, V128]], body: f };
}

/**
 * hh_tw: W := T · W in place, row r from the top: W[r, :] = T[r, r]·W[r, :], then
 * W[r, :] = W[r, :] + T[r, c]·W[c, :] for c = r+1 … b−1 (rows below r are still the old ones).
 */
export function hhTw(): FunctionDef {
  const f = new Body();
  f.get(T_WIDTH).i32(8).op(OP.i32Mul).set(T_END);
  f.i32(0).set(T_R);
  loop(f, () => f.get(T_R).get(T_NB).op(OP.i32GeS), () => {
    f.get(T_WP).get(T_R).get(T_END).op(OP.i32Mul, OP.i32Add).set(T_P);
    f.get(T_T).get(T_R).get(T_NB).op(OP.i32Mul).i32(8).op(OP.i32Mul, OP.i32Add).set(T_TR);
    f.get(T_TR).get(T_R).i32(8).op(OP.i32Mul, OP.i32Add).mem(OP.f64Load, false, 3, 0).simd(SIMD.f64x2Splat).set(T_X);
    columns(f, T_J, T_END, (half) => {
      f.get(T_P).get(T_J).op(OP.i32Add);
      f.get(T_X);
      ld(f, T_P, T_J, half);
      f.simd(SIMD.f64x2Mul);
      st(f, half);
    });
    f.get(T_R).i32(1).op(OP.i32Add).set(T_C);
    loop(f, () => f.get(T_C).get(T_NB).op(OP.i32GeS), () => {
      f.get(T_TR).get(T_C).i32(8).op(OP.i32Mul, OP.i32Add).mem(OP.f64Load, false, 3, 0).simd(SIMD.f64x2Splat).set(T_X);
      f.get(T_WP).get(T_C).get(T_END).op(OP.i32Mul, OP.i32Add).set(T_Q);
      columns(f, T_J, T_END, (half) => {
        f.get(T_P).get(T_J).op(OP.i32Add);
        ld(f, T_P, T_J, half);
        f.get(T_X);
        ld(f, T_Q, T_J, half);
        f.simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add);
        st(f, half);
      });
      inc(f, T_C, 1);
    });
    inc(f, T_R, 1);
  });
  return { name: 'hh_tw', params: 4, locals: [[7, I32], [1, V128]], body: f };
}

/**
 * hh_qvw: for each row r of Q, c over 0 … min(b, r+1) − 1 by fours,
 * Q[r, :] = Q[r, :] − (((a0·W[c] + a1·W[c+1]) + a2·W[c+2]) + a3·W[c+3]), a_k = V[r, c+k];
 * then the remaining c one by one: Q[r, :] = Q[r, :] − a0·W[c].
 */
export function hhQvw(): FunctionDef {
  const f = new Body();
  f.get(WIDTH).i32(8).op(OP.i32Mul).set(END);
  f.get(NB).i32(8).op(OP.i32Mul).set(VB);
  f.i32(0).set(I);
  loop(f, () => f.get(I).get(LEN).op(OP.i32GeS), () => {
    f.get(Q).get(I).get(LDQ).op(OP.i32Mul, OP.i32Add).set(P0);
    f.get(VP).get(I).get(VB).op(OP.i32Mul, OP.i32Add).set(VR);
    // cEnd = min(b, r + 1)
    f.get(NB).get(I).i32(1).op(OP.i32Add).get(NB).get(I).i32(1).op(OP.i32Add, OP.i32LtS, OP.select).set(CEND);
    f.i32(0).set(C);
    loop(f, () => f.get(C).i32(4).op(OP.i32Add).get(CEND).op(OP.i32GtS), () => {
      for (let k = 0; k < 4; k++) {
        f.get(VR).get(C).i32(8).op(OP.i32Mul, OP.i32Add).mem(OP.f64Load, false, 3, 8 * k).simd(SIMD.f64x2Splat).set(X0 + k);
      }
      f.get(WP).get(C).get(END).op(OP.i32Mul, OP.i32Add).set(R0);
      for (let k = 1; k < 4; k++) f.get(R0 + k - 1).get(END).op(OP.i32Add).set(R0 + k);
      columns(f, J, END, (half) => {
        f.get(P0).get(J).op(OP.i32Add);
        ld(f, P0, J, half);
        for (let k = 0; k < 4; k++) {
          f.get(X0 + k);
          ld(f, R0 + k, J, half);
          f.simd(SIMD.f64x2Mul);
          if (k > 0) f.simd(SIMD.f64x2Add);
        }
        f.simd(SIMD.f64x2Sub);
        st(f, half);
      });
      inc(f, C, 4);
    });
    loop(f, () => f.get(C).get(CEND).op(OP.i32GeS), () => {
      f.get(VR).get(C).i32(8).op(OP.i32Mul, OP.i32Add).mem(OP.f64Load, false, 3, 0).simd(SIMD.f64x2Splat).set(X0);
      f.get(WP).get(C).get(END).op(OP.i32Mul, OP.i32Add).set(R0);
      columns(f, J, END, (half) => {
        f.get(P0).get(J).op(OP.i32Add);
        ld(f, P0, J, half);
        f.get(X0);
        ld(f, R0, J, half);
        f.simd(SIMD.f64x2Mul).simd(SIMD.f64x2Sub);
        st(f, half);
      });
      inc(f, C, 1);
    });
    inc(f, I, 1);
  });
  return { name: 'hh_qvw', params: 7, locals: [[15, I32], [4, F64], [4, V128]], body: f };
}

/**
 * hh_gram: for j = 1 … b−1 and c < j, two c per f64x2 (an odd last c in lane 0):
 * G[j, c] = ((0 + V[j, c]·V[j, j]) + V[j+1, c]·V[j+1, j]) + … over rows j … len−1 in order,
 * blockT's dot products, each summed as it sums them.
 */
export function hhGram(): FunctionDef {
  const f = new Body();
  f.get(G_NB).i32(8).op(OP.i32Mul).set(G_VB);
  f.i32(1).set(G_J);
  loop(f, () => f.get(G_J).get(G_NB).op(OP.i32GeS), () => {
    const pair = (half: boolean): void => {
      f.simd(SIMD.const).op(...new Array<number>(16).fill(0)).set(G_ACC);
      f.get(G_V).get(G_J).get(G_VB).op(OP.i32Mul, OP.i32Add).set(G_P);
      f.get(G_J).set(G_I);
      loop(f, () => f.get(G_I).get(G_LEN).op(OP.i32GeS), () => {
        f.get(G_ACC);
        f.get(G_P).get(G_C).i32(8).op(OP.i32Mul, OP.i32Add).mem(half ? SIMD.load64Zero : SIMD.load, true, 3, 0);
        f.get(G_P).get(G_J).i32(8).op(OP.i32Mul, OP.i32Add).mem(OP.f64Load, false, 3, 0).simd(SIMD.f64x2Splat);
        f.simd(SIMD.f64x2Mul).simd(SIMD.f64x2Add).set(G_ACC);
        f.get(G_P).get(G_VB).op(OP.i32Add).set(G_P);
        inc(f, G_I, 1);
      });
      f.get(G_G).get(G_J).get(G_NB).op(OP.i32Mul).get(G_C).op(OP.i32Add).i32(8).op(OP.i32Mul, OP.i32Add).get(G_ACC);
      st(f, half);
    };
    f.i32(0).set(G_C);
    loop(f, () => f.get(G_C).i32(2).op(OP.i32Add).get(G_J).op(OP.i32GtS), () => {
      pair(false);
      inc(f, G_C, 2);
    });
    f.get(G_C).get(G_J).op(OP.i32LtS, OP.if, OP.void);
    pair(true);
    f.op(OP.end);
    inc(f, G_J, 1);
  });
  return { name: 'hh_gram', params: 4, locals: [[5, I32], [1, V128]], body: f };
}
