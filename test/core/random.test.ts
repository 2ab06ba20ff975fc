/** Random: a fixed stream per seed (golden values guard it across releases), ranges and moments. */
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/index.js';

const draw = (rng: Random, n: number): number[] => Array.from({ length: n }, () => rng.nextUint32());

describe('Random', () => {
  it('gives a fixed stream per seed (golden values: changing them changes every seeded model)', () => {
    expect(draw(new Random(0), 4)).toEqual(GOLDEN_SEED_0);
    expect(draw(new Random(42), 4)).toEqual(GOLDEN_SEED_42);
  });

  it('same seed, same stream; different seeds, different streams; the low 32 bits select it', () => {
    expect(draw(new Random(7), 100)).toEqual(draw(new Random(7), 100));
    expect(draw(new Random(7), 100)).not.toEqual(draw(new Random(8), 100));
    expect(draw(new Random(2 ** 32 + 5), 10)).toEqual(draw(new Random(5), 10));
    expect(draw(new Random(-1), 10)).toEqual(draw(new Random(0xffffffff), 10));
  });

  it('nextUint32 is an unsigned 32-bit integer; next() is in [0, 1) with mean 1/2', () => {
    const rng = new Random(3);
    let sum = 0, bad = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const u = rng.nextUint32();
      if (!(Number.isInteger(u) && u >= 0 && u < 2 ** 32)) bad++;
      const x = rng.next();
      if (!(x >= 0 && x < 1)) bad++;
      sum += x;
    }
    expect(bad).toBe(0);
    // standard error of the mean: sqrt(1/12 / n) ≈ 9.1e-4; allow 5 of them
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
  });

  it('fillUniform fills every element within [lo, hi], returns its argument, mean (lo+hi)/2', () => {
    const out = new Float32Array(50_000);
    expect(new Random(11).fillUniform(out, -3, 5)).toBe(out);
    let sum = 0, outside = 0;
    for (const v of out) { if (!(v >= -3 && v <= 5)) outside++; sum += v; }
    expect(outside).toBe(0);
    const sd = 8 / Math.sqrt(12);
    expect(Math.abs(sum / out.length - 1)).toBeLessThan(5 * sd / Math.sqrt(out.length));
    expect(new Set(out).size).toBeGreaterThan(out.length * 0.99);   // not a constant or short cycle
  });

  it('normal() has mean 0, variance 1 and normal tails', () => {
    const rng = new Random(5), n = 100_000;
    let s1 = 0, s2 = 0, beyond2 = 0, nonFinite = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      if (!Number.isFinite(z)) nonFinite++;
      s1 += z; s2 += z * z;
      if (Math.abs(z) > 2) beyond2++;
    }
    expect(nonFinite).toBe(0);
    const mean = s1 / n, variance = s2 / n - mean * mean;
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    // P(|Z| > 2) = 0.0455; binomial standard error ≈ 6.6e-4
    expect(Math.abs(beyond2 / n - 0.0455)).toBeLessThan(5 * Math.sqrt(0.0455 * 0.9545 / n));
  });

  it('rejects a seed that is not a finite number, naming it', () => {
    for (const bad of [NaN, Infinity, '1', null] as unknown[]) {
      expect(() => new Random(bad as number)).toThrow(/^seed: expected a finite number, got /);
    }
  });
});

// nextUint32() × 4 from seeds 0 and 42, recorded from the generator as of November 2026 and
// reproduced by an independent Python transcription of the documented SplitMix32 mixing. Every
// seeded initialisation in the library and its tests derives from this stream.
const GOLDEN_SEED_0 = [2462723854, 1020716019, 454327756, 1275600319];
const GOLDEN_SEED_42 = [939911724, 3948730756, 321366731, 3317318717];
