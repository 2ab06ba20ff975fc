/**
 * gradCheck: compares hand-written gradients with central finite differences, so users can check
 * their own compositions of cells, runners and layers in their tests.
 */
import { Random } from './core/random.js';
import { checkFloat32, checkObject, describe } from './core/validate.js';

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
  checkObject('options', options);
  const { params, loss, backward } = options;
  if (!Array.isArray(params) || params.length === 0) {
    throw new TypeError(`params: expected a non-empty array of {name, value, grad}, got ${describe(params)}`);
  }
  if (typeof loss !== 'function') throw new TypeError(`loss: expected a function, got ${describe(loss)}`);
  if (typeof backward !== 'function') throw new TypeError(`backward: expected a function, got ${describe(backward)}`);
  for (const [k, p] of params.entries()) {
    checkObject(`params[${k}]`, p);
    checkFloat32(`params[${k}].value`, p.value);
    checkFloat32(`params[${k}].grad`, p.grad);
    if (p.grad.length !== p.value.length) {
      throw new RangeError(`params[${k}].grad: expected length of value = ${p.value.length}, got ${p.grad.length}`);
    }
  }
  const eps = options.eps ?? 1e-2, rtol = options.rtol ?? 1e-2, atol = options.atol ?? 1e-3;
  for (const p of params) p.grad.fill(0);
  backward();
  const analytic = params.map((p) => Float64Array.from(p.grad));
  const rng = new Random(options.seed ?? 0);
  const failures: GradCheckEntry[] = [];
  let worst: GradCheckEntry | null = null;
  let checked = 0;
  params.forEach((p, k) => {
    const v = p.value;
    let idx = Array.from({ length: v.length }, (_, i) => i);
    if (options.samples !== undefined && options.samples < v.length) {
      for (let i = idx.length - 1; i > 0; i--) {
        const j = rng.nextUint32() % (i + 1);
        const tmp = idx[i]!; idx[i] = idx[j]!; idx[j] = tmp;
      }
      idx = idx.slice(0, options.samples);
    }
    for (const i of idx) {
      const orig = v[i]!;
      v[i] = orig + eps; const up = v[i]!; const lp = loss();
      v[i] = orig - eps; const dn = v[i]!; const lm = loss();
      v[i] = orig;
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
