/**
 * gradCheck: compares hand-written gradients with central finite differences, so users can check
 * their own compositions of cells, runners and layers in their tests.
 */
import { Random } from './core/random.js';
import { checkFloat32, checkFloat32Length, checkPositiveInt, describe, isArray, overlaps, snapshot, typedLength } from './core/validate.js';
import { MAX_KEYS } from './core/limits.js';

/** One parameter to check: its values and the gradient array that `backward` fills. */
export interface GradCheckParam {
  /** Name used in the report. */
  name: string;
  /** The values, perturbed in place (and restored exactly) by the check. */
  value: Float32Array;
  /** The analytic gradient, same length as value; zeroed by the check before backward runs. */
  grad: Float32Array;
}

/** Options of gradCheck. */
export interface GradCheckOptions {
  /** The parameters (and inputs) to check. */
  params: GradCheckParam[];
  /** Runs the forward pass and returns the scalar loss (compute the sum in float64). */
  loss: () => number;
  /** Runs forward and backward of the same loss, adding ∂loss/∂value into each grad. */
  backward: () => void;
  /** Step of the central difference (default 1e-2, suited to float32 forward passes). */
  eps?: number;
  /** Relative tolerance (default 1e-2). */
  rtol?: number;
  /** Absolute tolerance (default 1e-3). */
  atol?: number;
  /** Elements checked per parameter, drawn at random; all when omitted or ≥ length. */
  samples?: number;
  /** Seed choosing the sampled elements (default 0). */
  seed?: number;
}

/** One compared element. */
export interface GradCheckEntry {
  param: string;
  index: number;
  analytic: number;
  numeric: number;
  /** |analytic − numeric| / (atol + rtol·max(|analytic|, |numeric|)); ≤ 1 passes. */
  ratio: number;
}

/** Result of gradCheck. */
export interface GradCheckResult {
  /** True when every compared element has ratio ≤ 1. */
  ok: boolean;
  /** The element with the largest ratio. */
  worst: GradCheckEntry | null;
  /** Elements compared. */
  checked: number;
  /** Elements with ratio > 1 (at most 20 listed). */
  failures: GradCheckEntry[];
}

/**
 * Central differences: numeric = (loss(v + ε) − loss(v − ε)) / (v⁺ − v⁻) for each checked element,
 * where v± are the float32 values actually stored; compared with the analytic gradient from one
 * `backward()` call (after zeroing every grad). Values are restored bit for bit.
 *
 * ```ts
 * const r = gradCheck({ params: [{ name: 'weightIh', value: cell.params.weightIh, grad: cell.grads.weightIh }],
 *                       loss: () => lossOf(runner.run(x, { batch }).outputs),
 *                       backward: () => { runner.forward(x, { batch }); runner.backward({ dOutputs }); } });
 * expect(r.ok).toBe(true);
 * ```
 */
export function gradCheck(options: GradCheckOptions): GradCheckResult {
  // Read once: the values checked are the values used.
  const o = snapshot('options', options, ['params', 'loss', 'backward', 'eps', 'rtol', 'atol', 'samples', 'seed']);
  const { loss, backward } = o;
  if (!isArray(o.params) || o.params.length === 0) {
    throw new TypeError(`params: expected a non-empty array of {name, value, grad}, got ${describe(o.params)}`);
  }
  if (typeof loss !== 'function') throw new TypeError(`loss: expected a function, got ${describe(loss)}`);
  if (typeof backward !== 'function') throw new TypeError(`backward: expected a function, got ${describe(backward)}`);
  const given = o.params as unknown[];
  if (given.length > MAX_KEYS) throw new RangeError(`params: expected at most ${MAX_KEYS} entries, got ${given.length}`);
  const params: GradCheckParam[] = [];
  for (let k = 0; k < given.length; k++) {
    const p = snapshot(`params[${k}]`, given[k], ['name', 'value', 'grad']);
    const value = checkFloat32(`params[${k}].value`, p.value);
    const grad = checkFloat32Length(`params[${k}].grad`, p.grad, typedLength(value), 'of value');
    if (overlaps(value, grad)) throw new RangeError(`params[${k}].grad: expected memory apart from params[${k}].value, got an overlap`);
    params.push({ name: String(p.name), value, grad });
  }
  const eps = checkTolerance('eps', o.eps, 1e-2, true);
  const rtol = checkTolerance('rtol', o.rtol, 1e-2, false), atol = checkTolerance('atol', o.atol, 1e-3, false);
  if (rtol === 0 && atol === 0) throw new RangeError('atol: expected atol or rtol above 0, got both 0');
  const samples = o.samples === undefined ? undefined : checkPositiveInt('samples', o.samples);
  const rng = new Random((o.seed === undefined ? 0 : o.seed) as number);
  // Every value's bits, put back if loss() or backward() throws at any point.
  const saved = params.map((p) => new Uint32Array(p.value.buffer, p.value.byteOffset, p.value.length).slice());
  try {
    return compare(params, loss as () => number, backward as () => void, { eps, rtol, atol, samples }, rng);
  } catch (err) {
    params.forEach((p, k) => new Uint32Array(p.value.buffer, p.value.byteOffset, p.value.length).set(saved[k]!));
    throw err;
  }
}

/** The comparison itself, on checked arguments. */
function compare(
  params: GradCheckParam[], loss: () => number, backward: () => void,
  { eps, rtol, atol, samples }: { eps: number; rtol: number; atol: number; samples: number | undefined }, rng: Random,
): GradCheckResult {
  for (const p of params) p.grad.fill(0);
  backward();
  const analytic = params.map((p) => Float64Array.from(p.grad));
  const failures: GradCheckEntry[] = [];
  let worst: GradCheckEntry | null = null;
  let checked = 0;
  params.forEach((p, k) => {
    const v = p.value;
    let idx = Array.from({ length: v.length }, (_, i) => i);
    if (samples !== undefined && samples < v.length) {
      for (let i = idx.length - 1; i > 0; i--) {
        const j = rng.nextUint32() % (i + 1);
        const tmp = idx[i]!; idx[i] = idx[j]!; idx[j] = tmp;
      }
      idx = idx.slice(0, samples);
    }
    const bits = new Uint32Array(v.buffer, v.byteOffset, v.length);
    for (const i of idx) {
      const orig = v[i]!, origBits = bits[i]!;
      let up: number, dn: number, lp: number, lm: number;
      try {
        v[i] = orig + eps; up = v[i]!; lp = loss();
        v[i] = orig - eps; dn = v[i]!; lm = loss();
      } finally {
        bits[i] = origBits;   // bit for bit, also when loss() throws
      }
      const numeric = (lp - lm) / (up - dn);
      const a = analytic[k]![i]!;
      const ratio = Math.abs(a - numeric) / (atol + rtol * Math.max(Math.abs(a), Math.abs(numeric)));
      const e: GradCheckEntry = { param: p.name, index: i, analytic: a, numeric, ratio };
      checked++;
      if (!(ratio <= 1) && failures.length < 20) failures.push(e);
      if (worst === null || !(ratio <= worst.ratio)) worst = e;
    }
  });
  return { ok: failures.length === 0, worst, checked, failures };
}

/** eps (> 0), rtol and atol (>= 0): finite numbers, `dflt` when undefined. */
function checkTolerance(name: string, v: unknown, dflt: number, positive: boolean): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || (positive ? !(v > 0) : !(v >= 0))) {
    throw new RangeError(`${name}: expected a finite number ${positive ? '> 0' : '>= 0'}, got ${describe(v)}`);
  }
  return v;
}
