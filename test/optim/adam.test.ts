/**
 * Adam and AdamW: hand-computed first steps, three-step trajectories from the update rule written
 * out in float64, trajectories of torch.optim.Adam / AdamW themselves
 * (test/fixtures/torch_optim.json, made by test/fixtures/make_optim.py), state dict, checks.
 */
import { describe, expect, it } from 'vitest';
import { Adam, type AdamOptions } from '../../src/optim/adam.js';
import type { Parameter } from '../../src/core/tensor.js';
import { checkTrajectory, optimFixture } from '../helpers/optim.js';


/** Two scalars p0 = (1, −0.5), gradients per step. */
const P0 = [1, -0.5];
const GRADS = [[0.5, -2], [-0.25, 0.1], [1, 3]];

function trajectory(options: AdamOptions): number[][] {
  const p: Parameter = { name: 'p', value: Float32Array.from(P0), grad: new Float32Array(2) };
  const opt = new Adam([p], options);
  return GRADS.map((g) => { p.grad.set(g); opt.step(); return Array.from(p.value); });
}

/** The update rule of torch.optim.Adam / AdamW written out in float64. */
function reference(options: Required<AdamOptions>): number[][] {
  const { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, decoupled } = options;
  const p = [...P0], m = [0, 0], v = [0, 0];
  return GRADS.map((grad, k) => {
    const t = k + 1;
    for (let i = 0; i < 2; i++) {
      if (decoupled) p[i] = p[i]! * (1 - lr * wd);
      const g = decoupled ? grad[i]! : grad[i]! + wd * p[i]!;
      m[i] = b1 * m[i]! + (1 - b1) * g;
      v[i] = b2 * v[i]! + (1 - b2) * g * g;
      const mHat = m[i]! / (1 - b1 ** t), vHat = v[i]! / (1 - b2 ** t);
      p[i] = p[i]! - lr * mHat / (Math.sqrt(vHat) + eps);
    }
    return [...p];
  });
}

const DEFAULTS: Required<AdamOptions> = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false };

function expectNear(actual: number[][], expected: number[][], tol: number): void {
  actual.forEach((row, t) => row.forEach((v, i) => {
    const want = expected[t]![i]!;
    expect(Math.abs(v - want), `step ${t + 1}, element ${i}: got ${v}, want ${want}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want)));
  }));
}

describe('Adam: hand-computed values', () => {
  it('the first step moves each element by lr·g/(|g| + eps) (bias correction makes m̂ = g, v̂ = g²)', () => {
    const [step1] = trajectory({ lr: 0.01 });
    expect(step1![0]).toBeCloseTo(1 - 0.01 * 0.5 / (0.5 + 1e-8), 7);
    expect(step1![1]).toBeCloseTo(-0.5 + 0.01 * 2 / (2 + 1e-8), 7);
  });

  it('AdamW decays before the update: p·(1 − lr·wd) − lr·sign(g) on the first step', () => {
    const [step1] = trajectory({ lr: 0.1, weightDecay: 0.5, decoupled: true });
    expect(step1![0]).toBeCloseTo(1 * 0.95 - 0.1, 7);
    expect(step1![1]).toBeCloseTo(-0.5 * 0.95 + 0.1, 7);
  });

  const variants: [string, AdamOptions][] = [
    ['defaults', {}],
    ['lr 0.01', { lr: 0.01 }],
    ['betas (0.8, 0.99), eps 1e-3', { lr: 0.02, beta1: 0.8, beta2: 0.99, eps: 1e-3 }],
    ['L2 weight decay (Adam)', { lr: 0.01, weightDecay: 0.1 }],
    ['decoupled weight decay (AdamW)', { lr: 0.01, weightDecay: 0.1, decoupled: true }],
    ['strong decoupled decay', { lr: 0.05, beta1: 0.5, beta2: 0.9, weightDecay: 2, decoupled: true }],
  ];
  for (const [name, options] of variants) {
    it(`three steps match the float64 update rule: ${name}`, () => {
      expectNear(trajectory(options), reference({ ...DEFAULTS, ...options }), 3e-7);
    });
  }

  it('L2 and decoupled weight decay differ', () => {
    const l2 = trajectory({ lr: 0.01, weightDecay: 0.5 }), dec = trajectory({ lr: 0.01, weightDecay: 0.5, decoupled: true });
    expect(l2[2]![0]).not.toBeCloseTo(dec[2]![0]!, 4);
  });

  it('leaves the gradients unchanged', () => {
    const p: Parameter = { name: 'p', value: Float32Array.from([1, 2]), grad: Float32Array.from([0.5, -1]) };
    new Adam([p], { weightDecay: 0.1 }).step();
    expect(Array.from(p.grad)).toEqual([0.5, -1]);
  });
});

describe(`Adam: torch.optim.Adam / AdamW trajectories (PyTorch ${optimFixture.torch})`, () => {
  for (const c of optimFixture.cases.filter((k) => k.optimizer === 'Adam')) {
    it(c.name, () => checkTrajectory(c, (params) => new Adam(params, c.options as AdamOptions), 1e-6));
  }
});

describe('Adam: state', () => {
  const make = (): Parameter[] => [
    { name: 'a', value: Float32Array.from([1, -2, 3]), grad: new Float32Array(3) },
    { name: 'b', value: Float32Array.from([0.5]), grad: new Float32Array(1) },
  ];
  const setGrads = (ps: Parameter[], t: number): void => ps.forEach((p) => p.grad.forEach((_, j) => { p.grad[j] = Math.cos(2 + t * 3 + j); }));

  it('keeps the same moment buffers across steps', () => {
    const ps = make();
    const opt = new Adam(ps, { lr: 0.01 });
    const m = opt['expAvg'], v = opt['expAvgSq'];
    const first = [...m, ...v];
    for (let t = 0; t < 3; t++) { setGrads(ps, t); opt.step(); }
    expect(opt['expAvg']).toBe(m);
    expect(opt['expAvgSq']).toBe(v);
    [...m, ...v].forEach((b, i) => expect(b).toBe(first[i]));
    expect(opt.stepCount).toBe(3);
  });

  it('stateDict → JSON → loadStateDict resumes bit for bit (AdamW)', () => {
    const a = make(), b = make();
    const options: AdamOptions = { lr: 0.01, weightDecay: 0.1, decoupled: true };
    const optA = new Adam(a, options);
    for (let t = 0; t < 2; t++) { setGrads(a, t); optA.step(); }
    const sd = optA.stateDict();
    expect(sd.step).toBe(2);
    expect(Object.keys(sd.tensors)).toEqual(['0.exp_avg', '1.exp_avg', '0.exp_avg_sq', '1.exp_avg_sq']);
    expect(sd.tensors['1.exp_avg_sq']).toMatchObject({ dtype: 'float32', shape: [1] });
    const json = JSON.parse(JSON.stringify(sd, (_, v) => (v instanceof Float32Array ? Array.from(v) : v)));
    a.forEach((p, i) => b[i]!.value.set(p.value));
    const optB = new Adam(b, options);
    optB.loadStateDict(json);
    for (let t = 2; t < 4; t++) {
      setGrads(a, t); setGrads(b, t);
      optA.step(); optB.step();
    }
    a.forEach((p, i) => expect(Array.from(b[i]!.value)).toEqual(Array.from(p.value)));
  });

  it('stateDict is a copy', () => {
    const ps = make();
    const opt = new Adam(ps);
    setGrads(ps, 0); opt.step();
    const sd = opt.stateDict();
    sd.tensors['0.exp_avg']!.data.fill(99);
    expect(opt.stateDict().tensors['0.exp_avg']!.data[0]).not.toBe(99);
  });

  it('rejects a bad state and changes nothing', () => {
    const ps = make();
    const opt = new Adam(ps);
    setGrads(ps, 0); opt.step();
    const before = opt.stateDict();
    const good = JSON.parse(JSON.stringify(before, (_, v) => (v instanceof Float32Array ? Array.from(v) : v)));
    const bad = { ...good, step: 7, tensors: { ...good.tensors, '1.exp_avg_sq': { dtype: 'float32', shape: [2], data: [1, 2] } } };
    expect(() => opt.loadStateDict(bad)).toThrow('state.tensors["1.exp_avg_sq"]: expected shape [1], got [2]');
    const missing = { step: 7, tensors: { ...good.tensors } };
    delete missing.tensors['0.exp_avg'];
    expect(() => opt.loadStateDict(missing)).toThrow('state.tensors: missing key "0.exp_avg" (expected shape [3])');
    expect(() => opt.loadStateDict({ step: 1.5, tensors: good.tensors })).toThrow('state.step: expected a non-negative integer, got 1.5');
    expect(() => opt.loadStateDict({ step: 1, tensors: { ...good.tensors, '2.exp_avg': [1] } }))
      .toThrow('state.tensors: unexpected key "2.exp_avg"');
    expect(opt.stateDict()).toEqual(before);
  });
});

describe('Adam: argument checks', () => {
  const p = (): Parameter => ({ name: 'p', value: new Float32Array(2), grad: new Float32Array(2) });
  it('rejects bad options', () => {
    expect(() => new Adam([p()], { beta1: 1 })).toThrow('beta1: expected a number in [0, 1), got 1');
    expect(() => new Adam([p()], { beta2: -0.1 })).toThrow('beta2: expected a number in [0, 1), got -0.1');
    expect(() => new Adam([p()], { eps: -1 })).toThrow('eps: expected a finite number >= 0, got -1');
    expect(() => new Adam([p()], { lr: NaN })).toThrow('lr: expected a finite number >= 0, got NaN');
    expect(() => new Adam([p()], { weightDecay: -1 })).toThrow('weightDecay: expected a finite number >= 0, got -1');
    expect(() => new Adam([p()], { decoupled: 1 as never })).toThrow('decoupled: expected a boolean, got 1');
    expect(() => new Adam([p()], null as never)).toThrow('Adam options: expected an object, got null');
    expect(() => new Adam('x' as never)).toThrow('params: expected a non-empty array of {name, value, grad}, got string "x"');
  });

  it('uses PyTorch defaults', () => {
    const opt = new Adam([p()]);
    expect([opt.lr, opt.beta1, opt.beta2, opt.eps, opt.weightDecay, opt.decoupled]).toEqual([1e-3, 0.9, 0.999, 1e-8, 0, false]);
  });
});
