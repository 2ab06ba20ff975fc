/** The fast activations against their Math references, and their behaviour at the extremes. */
import { describe, expect, it } from 'vitest';
import { expFast, sigmoid, sigmoidReference, tanh, tanhReference } from '../../src/kernels/activations.js';

const grid = (lo: number, hi: number, n: number): number[] => Array.from({ length: n + 1 }, (_, i) => lo + ((hi - lo) * i) / n);

describe('expFast', () => {
  it('is within 5e-11 relative of Math.exp on [−87, 88]', () => {
    let worst = 0;
    for (const x of grid(-87, 88, 200_003)) worst = Math.max(worst, Math.abs(expFast(x) / Math.exp(x) - 1));
    expect(worst).toBeLessThan(5e-11);
    expect(worst).toBeGreaterThan(0);   // it is an approximation; the check is not vacuous
  });
  it('clamps outside the float32 range and propagates NaN', () => {
    expect(expFast(1e4)).toBe(expFast(88));
    expect(expFast(-Infinity)).toBe(expFast(-87));
    expect(Number.isNaN(expFast(NaN))).toBe(true);
  });
});

describe('sigmoid and tanh (fast) equal their references', () => {
  it('sigmoid: absolute error below 2e-11 on [−40, 40]', () => {
    let worst = 0;
    for (const x of grid(-40, 40, 100_001)) worst = Math.max(worst, Math.abs(sigmoid(x) - sigmoidReference(x)));
    expect(worst).toBeLessThan(2e-11);
  });
  it('tanh: absolute error below 5e-11 on [−20, 20]', () => {
    let worst = 0;
    for (const x of grid(-20, 20, 100_001)) worst = Math.max(worst, Math.abs(tanh(x) - tanhReference(x)));
    expect(worst).toBeLessThan(5e-11);
  });
  it('tanh: relative error below 5e-9 from 1e-300 to 20, both signs, across the series boundary', () => {
    let worst = 0;
    for (let e = -300; e <= 1.3; e += 0.001) {
      const x = 10 ** e;
      for (const v of [x, -x]) worst = Math.max(worst, Math.abs(tanh(v) / tanhReference(v) - 1));
    }
    for (const x of grid(1 / 128 - 1e-4, 1 / 128 + 1e-4, 10_001)) worst = Math.max(worst, Math.abs(tanh(x) / tanhReference(x) - 1));
    expect(worst).toBeLessThan(5e-9);
    expect(Object.is(tanh(-0), -0)).toBe(true);
    expect(tanh(1e-20)).toBe(1e-20);
  });
  it('saturate without NaN at ±1e4 and ±Infinity', () => {
    for (const x of [1e4, 1e30, Infinity]) { expect(sigmoid(x)).toBe(1); expect(tanh(x)).toBe(1); }
    for (const x of [-1e4, -1e30, -Infinity]) {
      expect(sigmoid(x)).toBeGreaterThanOrEqual(0); expect(sigmoid(x)).toBeLessThan(1e-37);
      expect(tanh(x)).toBe(-1);
    }
    expect(sigmoid(0)).toBe(0.5);
    expect(tanh(0)).toBe(0);
    expect(Number.isNaN(sigmoid(NaN))).toBe(true);
  });
  it('references: stable, and σ(−x) = 1 − σ(x) (the GRU z-row mapping relies on it)', () => {
    expect(sigmoidReference(-1e4)).toBe(0);
    expect(sigmoidReference(1e4)).toBe(1);
    for (const x of [-4, -1, 0.3, 2.5]) {
      expect(sigmoidReference(-x)).toBeCloseTo(1 - sigmoidReference(x), 15);
      expect(sigmoid(-x)).toBeCloseTo(1 - sigmoid(x), 8);
    }
  });
});
