/**
 * Losses: the scalar at the end of a forward pass and the gradient that starts the backward
 * pass. Each returns the loss (summed in float64) and, when given an output array, WRITES the
 * gradient into it (overwriting: a loss starts the chain, so there is nothing to add to). Both
 * reduce with the mean, PyTorch's default `reduction='mean'`.
 */
import { checkFloat32, checkFloat32Length, checkPositiveInt, describe, isArray, overlaps, typedArrayKind, typedLength } from '../core/validate.js';

/**
 * Mean squared error, PyTorch's F.mse_loss: L = (1/n) Σ (pred − target)² over all n elements.
 * @param pred any shape, n elements
 * @param target same length as pred
 * @param dPred optional, same length: overwritten with ∂L/∂pred = 2 (pred − target) / n
 * @returns L
 */
export function mseLoss(pred: Float32Array, target: Float32Array, dPred?: Float32Array): number {
  checkFloat32('pred', pred);
  const n = typedLength(pred);
  if (n === 0) throw new RangeError('pred: expected at least one element, got Float32Array(0)');
  checkFloat32Length('target', target, n, 'pred.length');
  if (dPred !== undefined) checkFloat32Length('dPred', dPred, n, 'pred.length');
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d = pred[i]! - target[i]!;
    sum += d * d;
  }
  if (dPred !== undefined) {
    // Written through a scratch array when dPred shares memory with pred or target.
    const out = overlaps(dPred, pred) || overlaps(dPred, target) ? new Float32Array(n) : dPred;
    const scale = 2 / n;
    for (let i = 0; i < n; i++) out[i] = scale * (pred[i]! - target[i]!);
    if (out !== dPred) dPred.set(out);
  }
  return sum / n;
}

/**
 * Softmax cross-entropy over class logits, PyTorch's F.cross_entropy with integer targets:
 * L = (1/B) Σ_b [log Σ_k exp(z_bk) − z_b,t_b], each log-sum-exp computed stably as
 * m + log Σ_k exp(z_bk − m) with m the row maximum, in float64.
 * @param logits [batch, classes]
 * @param targets [batch] class indices, integers in 0..classes−1; batch = targets.length
 * @param classes number of classes
 * @param dLogits optional [batch, classes]: overwritten with ∂L/∂z = (softmax(z) − onehot(t)) / B
 * @returns L
 */
export function softmaxCrossEntropy(
  logits: Float32Array,
  targets: Int32Array | readonly number[],
  classes: number,
  dLogits?: Float32Array,
): number {
  checkPositiveInt('classes', classes);
  if (typedArrayKind(targets) !== 'Int32Array' && !isArray(targets)) {
    throw new TypeError(`targets: expected an Int32Array or number[], got ${describe(targets)}`);
  }
  const B = typedArrayKind(targets) === 'Int32Array' ? typedLength(targets as Int32Array) : targets.length;
  if (B === 0) throw new RangeError(`targets: expected at least one target, got ${describe(targets)}`);
  for (let b = 0; b < B; b++) {
    const t = targets[b];
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t >= classes) {
      throw new RangeError(`targets[${b}]: expected an integer class index in 0..${classes - 1}, got ${describe(t)}`);
    }
  }
  checkFloat32Length('logits', logits, B * classes, 'batch*classes');
  if (dLogits !== undefined) checkFloat32Length('dLogits', dLogits, B * classes, 'batch*classes');
  // Written through a scratch array when dLogits shares memory with logits.
  const dOut = dLogits !== undefined && (overlaps(dLogits, logits) || (!isArray(targets) && overlaps(dLogits, targets as Int32Array)))
    ? new Float32Array(B * classes) : dLogits;
  let total = 0;
  for (let b = 0; b < B; b++) {
    const row = b * classes;
    let max = -Infinity;
    for (let k = 0; k < classes; k++) if (logits[row + k]! > max) max = logits[row + k]!;
    let sumExp = 0;
    for (let k = 0; k < classes; k++) sumExp += Math.exp(logits[row + k]! - max);
    const t = targets[b]!;
    total += max + Math.log(sumExp) - logits[row + t]!;
    if (dOut !== undefined) {
      for (let k = 0; k < classes; k++) {
        const p = Math.exp(logits[row + k]! - max) / sumExp;
        dOut[row + k] = (p - (k === t ? 1 : 0)) / B;
      }
    }
  }
  if (dOut !== dLogits) dLogits!.set(dOut!);
  return total / B;
}
