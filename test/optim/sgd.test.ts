/**
 * SGD: hand-computed trajectories (from PyTorch's update rule, worked out in float64) for plain,
 * weight-decay, momentum, dampening and Nesterov variants; trajectories of torch.optim.SGD itself
 * (test/fixtures/torch_optim.json, made by test/fixtures/make_optim.py); state dict; checks.
 */
import { describe, expect, it } from 'vitest';
import { SGD, type SGDOptions } from '../../src/optim/sgd.js';
import type { Parameter } from '../../src/core/tensor.js';
import { checkTrajectory, optimFixture } from '../helpers/optim.js';


/** One scalar parameter p0 = 1 with gradients 0.5, −0.25, 1 at steps 1, 2, 3. */
const GRADS = [0.5, -0.25, 1];

function trajectory(options: SGDOptions): number[] {
  const p: Parameter = { name: 'p', value: Float32Array.from([1]), grad: new Float32Array(1) };
  const opt = new SGD([p], options);
  return GRADS.map((g) => { p.grad[0] = g; opt.step(); return p.value[0]!; });
}

function expectTrajectory(actual: number[], expected: number[]): void {
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]!), `step ${i + 1}: got ${v}, want ${expected[i]}`).toBeLessThanOrEqual(1e-7));
}

describe('SGD: hand-computed trajectories', () => {
  it('plain: p ← p − lr·g', () => {
    // 1 − 0.05 = 0.95; 0.95 + 0.025 = 0.975; 0.975 − 0.1 = 0.875
    expectTrajectory(trajectory({ lr: 0.1 }), [0.95, 0.975, 0.875]);
  });

  it('weight decay: g ← g + wd·p', () => {
    // g 0.5+0.1 = 0.6 → 0.94; g −0.25+0.094 = −0.156 → 0.9556; g 1+0.09556 → 0.846044
    expectTrajectory(trajectory({ lr: 0.1, weightDecay: 0.1 }), [0.94, 0.9556, 0.846044]);
  });

  it('momentum: b = g on the first step, then b = μb + g', () => {
    // b 0.5 → 0.95; b 0.45−0.25 = 0.2 → 0.93; b 0.18+1 = 1.18 → 0.812
    expectTrajectory(trajectory({ lr: 0.1, momentum: 0.9 }), [0.95, 0.93, 0.812]);
  });

  it('dampening applies from the second step: b = μb + (1 − dampening)·g', () => {
    // b 0.5 → 0.95; b 0.45 − 0.125 = 0.325 → 0.9175; b 0.2925 + 0.5 = 0.7925 → 0.83825
    expectTrajectory(trajectory({ lr: 0.1, momentum: 0.9, dampening: 0.5 }), [0.95, 0.9175, 0.83825]);
  });

  it('nesterov: step along g + μb', () => {
    // b 0.5, d 0.95 → 0.905; b 0.2, d −0.25+0.18 = −0.07 → 0.912; b 1.18, d 1+1.062 = 2.062 → 0.7058
    expectTrajectory(trajectory({ lr: 0.1, momentum: 0.9, nesterov: true }), [0.905, 0.912, 0.7058]);
  });

  it('nesterov with weight decay, computed from the formulas in float64', () => {
    const lr = 0.05, mu = 0.8, wd = 0.01;
    let p = 1, b = 0;
    const want = GRADS.map((grad, t) => {
      const g = grad + wd * p;
      b = t === 0 ? g : mu * b + g;
      p -= lr * (g + mu * b);
      return p;
    });
    expectTrajectory(trajectory({ lr, momentum: mu, nesterov: true, weightDecay: wd }), want);
  });

  it('leaves the gradients unchanged', () => {
    const p: Parameter = { name: 'p', value: Float32Array.from([1, 2]), grad: Float32Array.from([0.5, -1]) };
    new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.1 }).step();
    expect(Array.from(p.grad)).toEqual([0.5, -1]);
  });
});

describe(`SGD: torch.optim.SGD trajectories (PyTorch ${optimFixture.torch})`, () => {
  for (const c of optimFixture.cases.filter((k) => k.optimizer === 'SGD')) {
    it(c.name, () => checkTrajectory(c, (params) => new SGD(params, c.options as unknown as SGDOptions), 2e-7));
  }
});

describe('SGD: state', () => {
  const make = (): Parameter[] => [
    { name: 'a', value: Float32Array.from([1, -2, 3]), grad: new Float32Array(3) },
    { name: 'b', value: Float32Array.from([0.5]), grad: new Float32Array(1) },
  ];
  const setGrads = (ps: Parameter[], t: number): void => ps.forEach((p) => p.grad.forEach((_, j) => { p.grad[j] = Math.sin(1 + t + j); }));

  it('keeps the same momentum buffers across steps', () => {
    const ps = make();
    const opt = new SGD(ps, { lr: 0.1, momentum: 0.9 });
    const bufs = opt['momentumBuffers'];
    const first = [...bufs];
    for (let t = 0; t < 3; t++) { setGrads(ps, t); opt.step(); }
    expect(opt['momentumBuffers']).toBe(bufs);
    bufs.forEach((b, i) => expect(b).toBe(first[i]));
    expect(opt.stepCount).toBe(3);
  });

  it('stateDict → JSON → loadStateDict resumes bit for bit', () => {
    const a = make(), b = make();
    const optA = new SGD(a, { lr: 0.1, momentum: 0.9, nesterov: true });
    for (let t = 0; t < 2; t++) { setGrads(a, t); optA.step(); }
    const sd = optA.stateDict();
    expect(Object.keys(sd.tensors)).toEqual(['0.momentum_buffer', '1.momentum_buffer']);
    expect(sd.tensors['0.momentum_buffer']!.shape).toEqual([3]);
    const json = JSON.parse(JSON.stringify(sd, (_, v) => (v instanceof Float32Array ? Array.from(v) : v)));
    a.forEach((p, i) => b[i]!.value.set(p.value));
    const optB = new SGD(b, { lr: 0.1, momentum: 0.9, nesterov: true });
    optB.loadStateDict(json);
    expect(optB.stepCount).toBe(2);
    setGrads(a, 2); setGrads(b, 2);
    optA.step(); optB.step();
    a.forEach((p, i) => expect(Array.from(b[i]!.value)).toEqual(Array.from(p.value)));
  });

  it('without momentum the state is just the step count', () => {
    const opt = new SGD(make(), { lr: 0.1 });
    opt.step();
    expect(opt.stateDict()).toEqual({ step: 1, tensors: {} });
    expect(() => opt.loadStateDict({ step: 0, tensors: { '0.momentum_buffer': [1, 2, 3] } }))
      .toThrow('state.tensors: unexpected key "0.momentum_buffer"; expected keys (none)');
  });

  it('rejects a bad state and changes nothing', () => {
    const ps = make();
    const opt = new SGD(ps, { lr: 0.1, momentum: 0.9 });
    setGrads(ps, 0); opt.step();
    const before = opt.stateDict();
    expect(() => opt.loadStateDict({ step: 5, tensors: { '0.momentum_buffer': [0, 0, 0] } }))
      .toThrow('state.tensors: missing key "1.momentum_buffer" (expected shape [1])');
    expect(() => opt.loadStateDict({ step: 5, tensors: { '0.momentum_buffer': [0, 0, 0], '1.momentum_buffer': [0, 0] } }))
      .toThrow('state.tensors["1.momentum_buffer"]: expected 1 elements (shape [1]), got 2');
    expect(() => opt.loadStateDict({ step: -1, tensors: {} })).toThrow('state.step: expected a non-negative integer, got -1');
    expect(() => opt.loadStateDict(null as never)).toThrow('state: expected an object, got null');
    expect(opt.stateDict()).toEqual(before);
  });

  it('zeroGrad zeroes every gradient', () => {
    const ps = make();
    setGrads(ps, 0);
    new SGD(ps, { lr: 1 }).zeroGrad();
    expect(ps.every((p) => p.grad.every((v) => v === 0))).toBe(true);
  });
});

describe('SGD: argument checks', () => {
  const p = (): Parameter => ({ name: 'p', value: new Float32Array(2), grad: new Float32Array(2) });
  it('rejects bad parameters and options', () => {
    expect(() => new SGD([], { lr: 0.1 })).toThrow('params: expected a non-empty array of {name, value, grad}, got Array(0)');
    expect(() => new SGD([{ name: 'p', value: new Float32Array(2), grad: new Float32Array(3) }], { lr: 0.1 }))
      .toThrow('params[0].grad: expected length of value = 2, got 3');
    const q = p();
    expect(() => new SGD([q, p(), q], { lr: 0.1 })).toThrow('params[2]: expected each parameter once, got the value array of params[0] again');
    expect(() => new SGD([p()], { lr: -1 })).toThrow('lr: expected a finite number >= 0, got -1');
    expect(() => new SGD([p()], {} as SGDOptions)).toThrow('lr: expected a finite number >= 0, got undefined');
    expect(() => new SGD([p()], { lr: 0.1, momentum: -0.5 })).toThrow('momentum: expected a finite number >= 0, got -0.5');
    expect(() => new SGD([p()], { lr: 0.1, nesterov: true })).toThrow('nesterov: expected momentum > 0 and dampening = 0');
    expect(() => new SGD([p()], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow('got momentum 0.9 and dampening 0.1');
    expect(() => new SGD([p()], { lr: 0.1, weightDecay: NaN })).toThrow('weightDecay: expected a finite number >= 0, got NaN');
  });

  it('lr can be changed between steps, and is checked', () => {
    const q = p();
    q.grad.fill(1);
    const opt = new SGD([q], { lr: 0.1 });
    opt.lr = 0.5;
    opt.step();
    expect(Array.from(q.value)).toEqual([-0.5, -0.5]);
    expect(() => { opt.lr = Infinity; }).toThrow('lr: expected a finite number >= 0, got Infinity');
    expect(opt.lr).toBe(0.5);
  });
});
