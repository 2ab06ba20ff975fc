/**
 * clipGradNorm: the global L2 norm over every gradient, PyTorch's scale factor
 * maxNorm / (norm + 1e-6), no change below the threshold, non-finite norms, argument checks.
 */
import { describe, expect, it } from 'vitest';
import { clipGradNorm } from '../../src/optim/clip.js';
import type { Parameter } from '../../src/core/tensor.js';

const param = (name: string, grad: number[]): Parameter => ({
  name, value: new Float32Array(grad.length), grad: Float32Array.from(grad),
});

describe('clipGradNorm', () => {
  it('returns the global norm and scales by maxNorm / (norm + 1e-6) above it', () => {
    const ps = [param('a', [3, 4]), param('b', [12])];   // √(9 + 16 + 144) = 13
    expect(clipGradNorm(ps, 6.5)).toBe(13);
    const c = 6.5 / (13 + 1e-6);
    expect(Array.from(ps[0]!.grad)).toEqual([Math.fround(3 * c), Math.fround(4 * c)]);
    expect(Array.from(ps[1]!.grad)).toEqual([Math.fround(12 * c)]);
    // the clipped norm is maxNorm up to the 1e-6
    expect(clipGradNorm(ps, 100)).toBeCloseTo(6.5, 5);
  });

  it('leaves gradients bit for bit unchanged below maxNorm', () => {
    const ps = [param('a', [0.1, -0.2, 0.3])];
    const before = Array.from(ps[0]!.grad);
    const norm = clipGradNorm(ps, 1);
    expect(norm).toBeCloseTo(Math.sqrt(0.14), 7);
    expect(Array.from(ps[0]!.grad)).toEqual(before);
  });

  it('like PyTorch, scales by maxNorm/(norm + 1e-6) < 1 even when norm equals maxNorm', () => {
    const ps = [param('a', [3, 4])];
    expect(clipGradNorm(ps, 5)).toBe(5);
    const c = 5 / (5 + 1e-6);
    expect(Array.from(ps[0]!.grad)).toEqual([Math.fround(3 * c), Math.fround(4 * c)]);
  });

  it('maxNorm 0 zeroes the gradients', () => {
    const ps = [param('a', [1, -2])];
    clipGradNorm(ps, 0);
    expect(Array.from(ps[0]!.grad).map(Math.abs)).toEqual([0, 0]);
  });

  it('sums the squares in float64', () => {
    const n = 1 << 18;
    const g = new Array<number>(n).fill(1e-3);
    g[0] = 1;
    const want = Math.sqrt(1 + (n - 1) * Math.fround(1e-3) ** 2);
    expect(clipGradNorm([param('a', g)], 10)).toBeCloseTo(want, 9);   // a float32 running sum is off by ~5e-3 here
  });

  it('returns a non-finite norm and leaves the gradients unchanged', () => {
    const inf = [param('a', [Infinity, 1])];
    expect(clipGradNorm(inf, 1)).toBe(Infinity);
    expect(Array.from(inf[0]!.grad)).toEqual([Infinity, 1]);
    const nan = [param('a', [NaN, 1])];
    expect(clipGradNorm(nan, 1)).toBeNaN();
    expect(nan[0]!.grad[1]).toBe(1);
  });

  it('validates its arguments before changing anything', () => {
    const ps = [param('a', [3, 4])];
    expect(() => clipGradNorm(ps, -1)).toThrow('maxNorm: expected a finite number >= 0, got -1');
    expect(() => clipGradNorm(ps, NaN)).toThrow('maxNorm: expected a finite number >= 0, got NaN');
    expect(() => clipGradNorm([], 1)).toThrow('params: expected a non-empty array of {name, value, grad}, got Array(0)');
    expect(() => clipGradNorm([{ name: 'x', value: new Float32Array(2), grad: [1, 2] as never }], 1))
      .toThrow('params[0].grad: expected a Float32Array, got Array(2)');
    expect(Array.from(ps[0]!.grad)).toEqual([3, 4]);
  });
});
