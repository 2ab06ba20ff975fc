/**
 * Gradient clipping by global norm, PyTorch's torch.nn.utils.clip_grad_norm_ (L2 norm).
 */
import type { Parameter } from '../core/tensor.js';
import { checkParameters } from './optimizer.js';
import { describe } from '../core/validate.js';

/**
 * Computes the L2 norm of all gradients together, ‖g‖ = √(Σ over every parameter and element
 * of g²), summed in float64, and scales every gradient in place by c = maxNorm / (‖g‖ + 1e-6)
 * when c < 1, that is when ‖g‖ > maxNorm − 1e-6, as PyTorch does. A non-finite norm (an inf or
 * NaN gradient) leaves the gradients unchanged; check the returned value to skip such a step.
 * @param params the parameters whose `grad` arrays are clipped
 * @param maxNorm the largest allowed norm, a finite number ≥ 0
 * @returns the norm before clipping
 */
export function clipGradNorm(params: Parameter[], maxNorm: number): number {
  const ps = checkParameters(params);
  if (typeof maxNorm !== 'number' || !Number.isFinite(maxNorm) || maxNorm < 0) {
    throw new RangeError(`maxNorm: expected a finite number >= 0, got ${describe(maxNorm)}`);
  }
  let sumSq = 0;
  for (const p of ps) {
    const g = p.grad;
    for (let i = 0; i < g.length; i++) sumSq += g[i]! * g[i]!;
  }
  const norm = Math.sqrt(sumSq);
  const scale = maxNorm / (norm + 1e-6);
  if (Number.isFinite(norm) && scale < 1) {
    for (const p of ps) {
      const g = p.grad;
      for (let i = 0; i < g.length; i++) g[i] = g[i]! * scale;
    }
  }
  return norm;
}
