/**
 * Scalar activations used by the gate kernels.
 *
 * `sigmoid` and `tanh` are the fast versions the cells use: both are built on `expFast`, an
 * exp accurate to 1e-10 relative (far below float32's 6e-8 rounding step), about three times
 * faster than Math.exp in V8. `sigmoidReference` and `tanhReference` are the plain Math
 * versions they are tested against. Neither overflows for any input (±1e4, ±Infinity give the
 * saturated values) and NaN propagates.
 */

const LOG2E = 1.4426950408889634;
const LN2 = 0.6931471805599453;
/** 1.5·2^52: adding and subtracting it rounds a double to the nearest integer. */
const ROUND = 6755399441055744.0;
/** Table resolution: e^x = 2^(k/64) · e^r with |r| ≤ ln2/128. */
const SUBSTEPS = 64;
const SCALE = SUBSTEPS * LOG2E;
const STEP = LN2 / SUBSTEPS;
/**
 * 2^(j/64) for j in [0, 64), built from square roots and products only. Both are correctly rounded
 * in IEEE arithmetic, so every engine builds the same table (Math.pow's last bit differs between
 * V8 versions, which would make Node and a browser disagree). Error: a few ulps.
 */
const POW2_FRAC = /* @__PURE__ */ (() => {
  const root = new Float64Array(6);                  // root[b] = 2^(2^b / 64)
  let r = 2;
  for (let b = 5; b >= 0; b--) root[b] = r = Math.sqrt(r);
  const t = new Float64Array(SUBSTEPS);
  for (let j = 0; j < SUBSTEPS; j++) {
    let p = 1;
    for (let b = 0; b < 6; b++) if (j & (1 << b)) p *= root[b]!;
    t[j] = p;
  }
  return t;
})();
/** 2^n for n in [−128, 127], indexed by n + 128. */
const POW2 = /* @__PURE__ */ (() => {
  const t = new Float64Array(256);
  for (let n = -128; n < 128; n++) t[n + 128] = Math.pow(2, n);
  return t;
})();

/**
 * e^x with relative error below 1e-10 for x in [−87, 88]; inputs outside are clamped there (the
 * result is then within float32's range: e^−87 ≈ 1.6e−38, e^88 ≈ 1.7e38).
 * Range reduction x = (k/64)·ln2 + r with k an integer and |r| ≤ ln2/128; then
 * e^x = 2^⌊k/64⌋ · 2^((k mod 64)/64) · e^r, the two powers of two from tables and e^r from its
 * cubic Taylor polynomial (truncation error r⁴/24 < 4e-11).
 */
export function expFast(x: number): number {
  const v = x < -87 ? -87 : x > 88 ? 88 : x;
  const k = (v * SCALE + ROUND) - ROUND;           // round(v·64/ln2), |k| ≤ 8128
  const r = v - k * STEP;
  const p = 1 + r * (1 + r * (0.5 + r * (1 / 6)));
  const kb = (k | 0) + 128 * SUBSTEPS;             // k + 8192 ≥ 0: ⌊kb/64⌋ = ⌊k/64⌋ + 128
  return p * POW2_FRAC[kb & (SUBSTEPS - 1)]! * POW2[kb >> 6]!;
}

/** Logistic sigmoid σ(x) = 1 / (1 + e^−x); absolute error below 2e-9. */
export function sigmoid(x: number): number {
  return 1 / (1 + expFast(-x));
}

/** Hyperbolic tangent as 1 − 2 / (1 + e^{2x}); absolute error below 1e-8. */
export function tanh(x: number): number {
  return 1 - 2 / (1 + expFast(2 * x));
}

/** Reference σ(x) on Math.exp, stable for any x. */
export function sigmoidReference(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Reference tanh: Math.tanh. */
export function tanhReference(x: number): number {
  return Math.tanh(x);
}
