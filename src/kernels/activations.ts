/**
 * Scalar activations used by the gate kernels. Both are stable for any finite input, including
 * ±1e4 and beyond: neither forms exp of a large positive number.
 */

/** Logistic sigmoid σ(x) = 1 / (1 + e^−x); for x < 0 computed as e^x / (1 + e^x). */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Hyperbolic tangent (Math.tanh saturates to ±1 without overflow). */
export const tanh: (x: number) => number = Math.tanh;
