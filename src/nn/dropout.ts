/**
 * Inverted dropout (Srivastava et al. 2014; PyTorch's F.dropout): in training, each element is
 * kept with probability 1 − p and scaled by 1/(1 − p), or zeroed, so the expected value is
 * unchanged and evaluation needs no rescaling.
 *
 *   forward   y = x ⊙ m,  m_i = 1/(1 − p) with probability 1 − p, else 0
 *   backward  dx = dy ⊙ m  (the same m: a mask is kept from the forward for its backward)
 *
 * The masks come from a seeded Random (core/random.ts): the same seed gives the same masks on
 * every platform.
 */
import type { Random } from '../core/random.js';
import { describe } from '../core/validate.js';

/** Throws unless p is a number in [0, 1) (the probability of zeroing an element); returns it. */
export function checkDropout(name: string, p: unknown): number {
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) {
    throw new RangeError(`${name}: expected a probability in [0, 1), got ${describe(p)}`);
  }
  return p;
}

/**
 * Fills `out` with a dropout mask: out[i] = 1/(1 − p) (as float32) where rng.next() ≥ p (kept,
 * probability 1 − p), else 0; one draw per element, in index order. Returns out.
 */
export function dropoutMask(rng: Random, p: number, out: Float32Array): Float32Array {
  const scale = Math.fround(1 / (1 - p));
  for (let i = 0; i < out.length; i++) out[i] = rng.next() >= p ? scale : 0;
  return out;
}

/** x[i] = x[i] · mask[i] in place (float32 products), for the forward and the backward alike. */
export function applyMask(x: Float32Array, mask: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * mask[i]!;
}
