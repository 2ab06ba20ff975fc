import { describe, expect, it } from 'vitest';
import { gradCheck, SequenceRunner } from '../src/index.js';
import { dot, makeCell, randn } from './helpers/cells.js';

describe('gradCheck', () => {
  it('accepts a correct gradient and restores the values bit for bit', () => {
    const w = Float32Array.of(0.5, -1.25, 2);
    const g = new Float32Array(3);
    const before = w.slice();
    // loss = Σ w_i³ ; ∂/∂w_i = 3 w_i²
    const res = gradCheck({
      params: [{ name: 'w', value: w, grad: g }],
      loss: () => w.reduce((s, v) => s + v * v * v, 0),
      backward: () => { for (let i = 0; i < 3; i++) g[i] += 3 * w[i]! * w[i]!; },
    });
    expect(res.ok).toBe(true);
    expect(res.checked).toBe(3);
    expect(Array.from(w)).toEqual(Array.from(before));
  });

  it('rejects a gradient that is off by 5% in one element, naming it', () => {
    const w = Float32Array.of(0.5, -1.25, 2);
    const g = new Float32Array(3);
    const res = gradCheck({
      params: [{ name: 'w', value: w, grad: g }],
      loss: () => w.reduce((s, v) => s + v * v * v, 0),
      backward: () => { for (let i = 0; i < 3; i++) g[i] += 3 * w[i]! * w[i]! * (i === 1 ? 1.05 : 1); },
    });
    expect(res.ok).toBe(false);
    expect(res.failures.map((f) => `${f.param}[${f.index}]`)).toEqual(['w[1]']);
    expect(res.worst!.index).toBe(1);
  });

  it('catches a corrupted recurrent-weight gradient in a real BPTT backward', () => {
    const cell = makeCell('lstm', 2, 3, 1);
    const runner = new SequenceRunner(cell);
    const x = randn(4 * 2 * 2, 5), dO = randn(4 * 2 * 3, 6);
    const res = gradCheck({
      params: [{ name: 'weightHh', value: cell.params.weightHh, grad: cell.grads.weightHh }],
      loss: () => dot(runner.run(x, { batch: 2 }).outputs, dO),
      backward: () => {
        runner.forward(x, { batch: 2 });
        runner.backward({ dOutputs: dO });
        cell.grads.weightHh[7]! *= -1;   // the kind of sign slip gradCheck exists to find
      },
    });
    expect(res.ok).toBe(false);
    expect(res.failures.some((f) => f.index === 7)).toBe(true);
  });

  it('samples a subset deterministically', () => {
    const w = new Float32Array(50).fill(1), g = new Float32Array(50);
    const opts = {
      params: [{ name: 'w', value: w, grad: g }],
      loss: () => w.reduce((s, v) => s + 2 * v, 0),
      backward: () => { g.fill(2); },
      samples: 5, seed: 3,
    };
    const a = gradCheck(opts), b = gradCheck(opts);
    expect(a.checked).toBe(5);
    expect(a.ok).toBe(true);
    expect(a.worst!.index).toBe(b.worst!.index);
  });

  it('names bad arguments', () => {
    const backward = (): void => {};
    expect(() => gradCheck({ params: [], loss: () => 0, backward })).toThrow(/params: expected a non-empty array/);
    expect(() => gradCheck({ params: [{ name: 'w', value: new Float32Array(2), grad: new Float32Array(3) }], loss: () => 0, backward }))
      .toThrow('params[0].grad: expected length of value = 2, got 3');
    expect(() => gradCheck({ params: [{ name: 'w', value: [1, 2] as unknown as Float32Array, grad: new Float32Array(2) }], loss: () => 0, backward }))
      .toThrow('params[0].value: expected a Float32Array, got Array(2)');
  });
});
