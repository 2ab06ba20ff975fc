/**
 * Scalar activations used by the gate kernels.
 *
 * `sigmoid` and `tanh` are the fast versions the cells use: both are built on `expFast`, an
 * exp accurate to 4e-11 relative (far below float32's 6e-8 rounding step), about three times
 * faster than Math.exp in V8. `sigmoidReference` and `tanhReference` are the plain Math
 * versions they are tested against. Neither overflows for any input and NaN propagates: for
 * x ≥ 88, σ(x) = 1 and tanh(x) = 1 exactly; for x ≤ −88, tanh(x) = −1 and σ(x) stays at
 * σ(−88) ≈ 6e-39 (the true value is smaller still; the exp argument is clamped to float32's range).
 */

const LOG2E = 1.4426950408889634;
const LN2 = 0.6931471805599453;
/** @internal 1.5·2^52: adding and subtracting it rounds a double to the nearest integer. */
export const ROUND = 6755399441055744.0;
/** Table resolution: e^x = 2^(k/64) · e^r with |r| ≤ ln2/128. */
const SUBSTEPS = 64;
/** @internal 64/ln2: x·SCALE is x in units of ln2/64. */
export const SCALE = SUBSTEPS * LOG2E;
/** @internal ln2/64, the table step. */
export const STEP = LN2 / SUBSTEPS;
/**
 * 2^(j/64) for j in [0, 64), correctly rounded (written out as literals, which every engine reads
 * to the same double; Math.pow's last bit differs between engines, e.g. Node 20 and Chromium 156).
 * Generated with Python's decimal module at 60 digits: float((Decimal(2).ln() * j / 64).exp()).
 * @internal (also read by the WebAssembly gate kernels, kernels/wasm/gates-module.ts)
 */
export const POW2_FRAC = /* @__PURE__ */ new Float64Array([
  1.0, 1.0108892860517005, 1.0218971486541166, 1.0330248790212284,
  1.0442737824274138, 1.0556451783605572, 1.0671404006768237, 1.0787607977571199,
  1.0905077326652577, 1.102382583307841, 1.1143867425958924, 1.1265216186082418,
  1.1387886347566916, 1.1511892299529827, 1.1637248587775775, 1.1763969916502812,
  1.189207115002721, 1.202156731452703, 1.215247359980469, 1.22848053610687,
  1.241857812073484, 1.255380757024691, 1.2690509571917332, 1.2828700160787783,
  1.2968395546510096, 1.3109612115247644, 1.3252366431597413, 1.339667524053303,
  1.3542555469368927, 1.3690024229745905, 1.383909881963832, 1.3989796725383112,
  1.4142135623730951, 1.42961333839197, 1.4451808069770467, 1.460917794180647,
  1.4768261459394993, 1.4929077282912648, 1.5091644275934228, 1.5255981507445384,
  1.5422108254079407, 1.559004400237837, 1.5759808451078865, 1.593142151342267,
  1.6104903319492543, 1.6280274218573478, 1.645755478153965, 1.6636765803267364,
  1.681792830507429, 1.7001063537185235, 1.718619298122478, 1.7373338352737062,
  1.7562521603732995, 1.7753764925265212, 1.7947090750031072, 1.8142521755003989,
  1.8340080864093424, 1.8539791250833855, 1.8741676341103, 1.8945759815869656,
  1.9152065613971474, 1.9360617934922943, 1.9571441241754002, 1.978456026387951,
]);
/** @internal 2^n for n in [−128, 127], indexed by n + 128, by exact doubling and halving. */
export const POW2 = /* @__PURE__ */ (() => {
  const t = new Float64Array(256);
  t[128] = 1;
  for (let n = 1; n < 128; n++) t[128 + n] = t[127 + n]! * 2;
  for (let n = 1; n <= 128; n++) t[128 - n] = t[129 - n]! / 2;
  return t;
})();

/**
 * e^x with relative error below 4e-11 for x in [−87, 88]; inputs outside are clamped there (the
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

/** Logistic sigmoid σ(x) = 1 / (1 + e^−x); absolute error below 2e-11. */
export function sigmoid(x: number): number {
  return 1 / (1 + expFast(-x));
}

/** @internal Below this |x|, tanh uses its Taylor polynomial (1 − 2/(1 + e^{2x}) would cancel). */
export const TANH_SERIES = 1 / 128;

/**
 * Hyperbolic tangent: 1 − 2 / (1 + e^{2x}), and for |x| < 1/128 the odd Taylor polynomial
 * x − x³/3 + 2x⁵/15 − 17x⁷/315 (truncation below 1e-19 relative). Absolute error below 5e-11,
 * relative error below 5e-9 (so tiny inputs keep their float32 value, and tanh(−0) = −0).
 */
export function tanh(x: number): number {
  const t = 1 - 2 / (1 + expFast(2 * x));
  if (Math.abs(x) >= TANH_SERIES) return t;   // exp first, then the test: measured faster in V8
  const x2 = x * x;
  return x * (1 + x2 * (-1 / 3 + x2 * (2 / 15 + x2 * (-17 / 315))));
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
