import { describe, expect, it } from 'vitest';
import { sigmoid, tanh } from '../../src/index.js';

describe('activations', () => {
  it('sigmoid matches 1/(1+e^-x) where that is exact, and is stable at the extremes', () => {
    for (const x of [-20, -3, -0.5, 0, 0.25, 2, 15]) expect(sigmoid(x)).toBeCloseTo(1 / (1 + Math.exp(-x)), 15);
    expect(sigmoid(0)).toBe(0.5);
    for (const x of [1e4, 1e30, Infinity]) expect(sigmoid(x)).toBe(1);
    for (const x of [-1e4, -1e30, -Infinity]) expect(sigmoid(x)).toBe(0);
    expect(sigmoid(-745)).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(sigmoid(-800))).toBe(false);
  });
  it('sigmoid(-x) = 1 - sigmoid(x) (the GRU z-row mapping relies on it)', () => {
    for (const x of [-4, -1, 0.3, 2.5]) expect(sigmoid(-x)).toBeCloseTo(1 - sigmoid(x), 15);
  });
  it('tanh saturates without NaN', () => {
    expect(tanh(1e4)).toBe(1);
    expect(tanh(-1e4)).toBe(-1);
    expect(tanh(0.5)).toBeCloseTo(0.46211715726000974, 15);
  });
});
