/**
 * Adam and AdamW with the update rules of PyTorch's torch.optim.Adam and torch.optim.AdamW
 * (amsgrad off). Per element, at step t = 1, 2, …:
 *
 *   decoupled (AdamW):  p = p · (1 − lr · weightDecay)
 *   otherwise (Adam):   g = grad + weightDecay · p          (L2 penalty in the gradient)
 *   m = β1 · m + (1 − β1) · g                              (exp_avg)
 *   v = β2 · v + (1 − β2) · g²                             (exp_avg_sq)
 *   p = p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps)
 *
 * Each element is updated in float64 and stored to float32 (p, m, v). Gradients are read,
 * never changed.
 */
import type { Parameter } from '../core/tensor.js';
import { checkConfig, checkOptionalBoolean, snapshot } from '../core/validate.js';
import { checkHyper, Optimizer } from './optimizer.js';

/** Options of `new Adam(...)`; PyTorch's names, camelCased (betas split in two). */
export interface AdamOptions {
  /** Learning rate, ≥ 0 (default 1e-3). */
  lr?: number;
  /** Decay of the first-moment average, in [0, 1) (default 0.9). */
  beta1?: number;
  /** Decay of the second-moment average, in [0, 1) (default 0.999). */
  beta2?: number;
  /** Added to the denominator, ≥ 0 (default 1e-8). */
  eps?: number;
  /** Weight decay, ≥ 0 (default 0; note torch.optim.AdamW's own default is 1e-2). */
  weightDecay?: number;
  /**
   * false (default): Adam, weight decay added to the gradient (L2). true: AdamW, decoupled weight
   * decay p ← p·(1 − lr·weightDecay) before the Adam update.
   */
  decoupled?: boolean;
}

/**
 * An Adam optimizer's configuration: what `config()` returns and a saved model stores. `lr` and
 * `step` change as it trains (loading a saved model restores both); the rest is fixed.
 */
export interface AdamConfig {
  kind: 'Adam'; lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean; step: number;
}

/**
 * The Adam optimizer (AdamW with `decoupled: true`).
 *
 * ```ts
 * const opt = new Adam(cell.parameters(), { lr: 1e-2 });
 * const adamw = new Adam(params, { lr: 1e-3, weightDecay: 1e-2, decoupled: true });
 * ```
 */
export class Adam extends Optimizer {
  /** The kind saved models store for this class. */
  static readonly kind = 'Adam' as const;
  /** β1. */
  readonly beta1: number;
  /** β2. */
  readonly beta2: number;
  /** eps. */
  readonly eps: number;
  /** Weight decay. */
  readonly weightDecay: number;
  /** Whether weight decay is decoupled (AdamW). */
  readonly decoupled: boolean;
  /** First moments m, one per parameter (PyTorch's exp_avg). */
  private readonly expAvg: Float32Array[];
  /** Second moments v, one per parameter (PyTorch's exp_avg_sq). */
  private readonly expAvgSq: Float32Array[];

  /**
   * @param params the parameters to update, each once (their arrays, not copies, are kept)
   * @param options see AdamOptions (all optional)
   */
  constructor(params: Parameter[], options: AdamOptions = {}) {
    // Read once: the values checked are the values used.
    const o = snapshot('Adam options', options, ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'decoupled']) as AdamOptions;
    super(params, o, 'Adam', 1e-3);
    this.beta1 = checkHyper('beta1', o.beta1, 0.9, (x) => x >= 0 && x < 1, 'a number in [0, 1)');
    this.beta2 = checkHyper('beta2', o.beta2, 0.999, (x) => x >= 0 && x < 1, 'a number in [0, 1)');
    this.eps = checkHyper('eps', o.eps, 1e-8, (x) => x >= 0, 'a finite number >= 0');
    this.weightDecay = checkHyper('weightDecay', o.weightDecay, 0, (x) => x >= 0, 'a finite number >= 0');
    this.decoupled = checkOptionalBoolean('decoupled', o.decoupled, false);
    this.expAvg = this.params.map((p) => new Float32Array(p.value.length));
    this.expAvgSq = this.params.map((p) => new Float32Array(p.value.length));
  }

  /** The hyperparameters, the current lr and the step count, as a new plain object. */
  config(): AdamConfig {
    const { lr, beta1, beta2, eps, weightDecay, decoupled } = this;
    return { kind: Adam.kind, lr, beta1, beta2, eps, weightDecay, decoupled, step: this.stepCount };
  }

  /**
   * An Adam over `params` with the configuration's hyperparameters and lr. The step count is not
   * set: it belongs with the moment buffers, which loadStateDict (or loadModel) restores
   * together. Throws on a configuration of another kind, or a missing or bad field.
   */
  static fromConfig(params: Parameter[], config: AdamConfig): Adam {
    const { lr, beta1, beta2, eps, weightDecay, decoupled } = checkConfig(config, Adam.kind, ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'decoupled']) as unknown as typeof config;
    return new Adam(params, { lr, beta1, beta2, eps, weightDecay, decoupled });
  }

  /** Updates every parameter in place from its gradient; allocates nothing. */
  override step(): void {
    this.checkStepCount();
    const t = this.steps + 1;
    const lr = this.lrValue, b1 = this.beta1, b2 = this.beta2, eps = this.eps, wd = this.weightDecay;
    const stepSize = lr / (1 - Math.pow(b1, t));
    const bc2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
    const decay = this.decoupled ? 1 - lr * wd : 1;
    const l2 = this.decoupled ? 0 : wd;
    for (let k = 0; k < this.params.length; k++) {
      const p = this.params[k]!.value, grad = this.params[k]!.grad;
      const m = this.expAvg[k]!, v = this.expAvgSq[k]!;
      for (let i = 0; i < p.length; i++) {
        const pi = decay === 1 ? p[i]! : Math.fround(p[i]! * decay);
        const g = grad[i]! + l2 * pi;
        m[i] = b1 * m[i]! + (1 - b1) * g;
        v[i] = b2 * v[i]! + (1 - b2) * g * g;
        p[i] = pi - stepSize * m[i]! / (Math.sqrt(v[i]!) / bc2Sqrt + eps);
      }
    }
    this.steps = t;
  }

  protected buffers(): Record<string, Float32Array[]> {
    return { exp_avg: this.expAvg, exp_avg_sq: this.expAvgSq };
  }
}
