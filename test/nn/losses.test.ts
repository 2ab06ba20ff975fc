/**
 * Losses: hand-computed values, finite differences (gradCheck), stability with huge logits,
 * the overwrite contract of the gradient output, and argument checks.
 */
import { describe, expect, it } from 'vitest';
import { mseLoss, softmaxCrossEntropy } from '../../src/nn/losses.js';
import { gradCheck } from '../../src/gradcheck.js';
import { randn } from '../helpers/cells.js';

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!), `index ${i}: got ${actual[i]}, want ${expected[i]}`).toBeLessThanOrEqual(tol);
  }
}

describe('mseLoss', () => {
  it('matches hand-computed values and overwrites dPred', () => {
    const pred = Float32Array.from([1, 2, 3]), target = Float32Array.from([1, 0, 5]);
    const dPred = new Float32Array(3).fill(7);
    // differences 0, 2, −2: L = 8/3, dL/dpred = 2·d/3
    expect(mseLoss(pred, target, dPred)).toBeCloseTo(8 / 3, 14);
    expectClose(dPred, [0, 4 / 3, -4 / 3], 1e-7);
    expect(mseLoss(pred, pred)).toBe(0);
  });

  it('sums in float64', () => {
    const n = 1 << 20;
    const pred = new Float32Array(n).fill(1e-3), target = new Float32Array(n);
    const p = Math.fround(1e-3);
    expect(mseLoss(pred, target)).toBeCloseTo(p * p, 15);
  });

  it('passes gradCheck', () => {
    const pred = randn(12, 1), target = randn(12, 2), grad = new Float32Array(12);
    const r = gradCheck({
      params: [{ name: 'pred', value: pred, grad }],
      loss: () => mseLoss(pred, target),
      backward: () => { const d = new Float32Array(12); mseLoss(pred, target, d); grad.set(d); },
      eps: 1e-2, rtol: 1e-3, atol: 1e-5,
    });
    expect(r.failures).toEqual([]);
  });

  it('validates its arguments', () => {
    const a = new Float32Array(4);
    expect(() => mseLoss(a, new Float32Array(3))).toThrow('target: expected length pred.length = 4, got 3');
    expect(() => mseLoss(a, a, new Float32Array(5))).toThrow('dPred: expected length pred.length = 4, got 5');
    expect(() => mseLoss([1, 2] as never, a)).toThrow('pred: expected a Float32Array, got Array(2)');
    expect(() => mseLoss(new Float32Array(0), new Float32Array(0))).toThrow('pred: expected at least one element');
  });
});

describe('softmaxCrossEntropy', () => {
  it('matches hand-computed values and overwrites dLogits', () => {
    // row 0: uniform over 3 classes, target 1 → ln 3; row 1: softmax (1/8, 2/8, 5/8), target 2 → ln(8/5)
    const logits = Float32Array.from([0, 0, 0, 0, Math.log(2), Math.log(5)]);
    const d = new Float32Array(6).fill(9);
    const L = softmaxCrossEntropy(logits, [1, 2], 3, d);
    expect(L).toBeCloseTo((Math.log(3) + Math.log(8 / 5)) / 2, 6);
    expectClose(d, [1 / 6, (1 / 3 - 1) / 2, 1 / 6, 1 / 16, 2 / 16, (5 / 8 - 1) / 2], 1e-7);
  });

  it('accepts Int32Array targets with the same result', () => {
    const logits = randn(4 * 5, 3);
    expect(softmaxCrossEntropy(logits, Int32Array.from([0, 4, 2, 2]), 5)).toBe(softmaxCrossEntropy(logits, [0, 4, 2, 2], 5));
  });

  it('is stable with logits of ±1e4', () => {
    const logits = Float32Array.from([1e4, -1e4, 0, -1e4, 1e4, 0, 1e4, 1e4, -1e4]);
    const d = new Float32Array(9);
    // row 0: target has the maximum → loss 0; row 1: target at −1e4 → loss 2e4; row 2: two tied maxima → ln 2
    const L = softmaxCrossEntropy(logits, [0, 0, 1], 3, d);
    expect(L).toBeCloseTo((0 + 2e4 + Math.log(2)) / 3, 9);
    expect(d.every(Number.isFinite)).toBe(true);
    expectClose(d, [0, 0, 0, -1 / 3, 1 / 3, 0, 1 / 6, -1 / 6, 0], 1e-7);
    expect(softmaxCrossEntropy(Float32Array.from([-1e4, -1e4]), [1], 2)).toBeCloseTo(Math.log(2), 12);
  });

  it('passes gradCheck', () => {
    const B = 4, C = 6;
    const logits = randn(B * C, 5, 2), grad = new Float32Array(B * C), t = [5, 0, 3, 3];
    const r = gradCheck({
      params: [{ name: 'logits', value: logits, grad }],
      loss: () => softmaxCrossEntropy(logits, t, C),
      backward: () => { const d = new Float32Array(B * C); softmaxCrossEntropy(logits, t, C, d); grad.set(d); },
      eps: 1e-2, rtol: 1e-3, atol: 1e-5,
    });
    expect(r.failures).toEqual([]);
  });

  it('validates targets, sizes and dLogits before writing anything', () => {
    const logits = new Float32Array(6), d = new Float32Array(6).fill(3);
    expect(() => softmaxCrossEntropy(logits, [0, 3], 3, d)).toThrow('targets[1]: expected an integer class index in 0..2, got 3');
    expect(() => softmaxCrossEntropy(logits, [-1, 0], 3, d)).toThrow('targets[0]: expected an integer class index in 0..2, got -1');
    expect(() => softmaxCrossEntropy(logits, [0, 1.5], 3, d)).toThrow('targets[1]: expected an integer class index in 0..2, got 1.5');
    expect(() => softmaxCrossEntropy(logits, [NaN, 0], 3, d)).toThrow('targets[0]: expected an integer class index in 0..2, got NaN');
    expect(() => softmaxCrossEntropy(logits, ['1', 0] as never, 3, d)).toThrow('targets[0]: expected an integer class index in 0..2, got string "1"');
    expect(() => softmaxCrossEntropy(logits, Float32Array.from([0, 1]) as never, 3)).toThrow('targets: expected an Int32Array or number[], got Float32Array(2)');
    expect(() => softmaxCrossEntropy(logits, [], 3)).toThrow('targets: expected at least one target, got Array(0)');
    expect(() => softmaxCrossEntropy(logits, [0, 1, 2], 3)).toThrow('logits: expected length batch*classes = 9, got 6');
    expect(() => softmaxCrossEntropy(logits, [0, 1], 0)).toThrow('classes: expected a positive integer, got 0');
    expect(() => softmaxCrossEntropy(logits, [0, 1], 3, new Float32Array(5))).toThrow('dLogits: expected length batch*classes = 6, got 5');
    expect(Array.from(d)).toEqual([3, 3, 3, 3, 3, 3]);
  });
});
