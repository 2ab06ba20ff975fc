/**
 * SGD: stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight
 * decay, with the update rule of PyTorch's torch.optim.SGD. Per element, at step t:
 *
 *   g = grad + weightDecay · p
 *   if momentum ≠ 0:
 *     b = g                                    (first step)
 *     b = momentum · b + (1 − dampening) · g   (later steps)
 *     g = g + momentum · b   (nesterov)   or   g = b
 *   p = p − lr · g
 *
 * Each element is updated in float64 and stored to float32 (p and b). Gradients are read, never
 * changed.
 */
import type { Parameter } from '../core/tensor.js';
import { checkConfig, checkOptionalBoolean, snapshot } from '../core/validate.js';
import { checkHyper, Optimizer } from './optimizer.js';

/** Options of `new SGD(...)`; PyTorch's names, camelCased. */
export interface SGDOptions {
  /** Learning rate, ≥ 0. */
  lr: number;
  /** Momentum factor μ, ≥ 0 (default 0: plain SGD, no buffers). */
  momentum?: number;
  /** Nesterov momentum (default false); needs momentum > 0 and dampening 0. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient, ≥ 0 (default 0). */
  weightDecay?: number;
  /** Dampening of the gradient in the momentum update (default 0). */
  dampening?: number;
}

/**
 * An SGD optimizer's configuration: what `config()` returns and a saved model stores. `lr` and
 * `step` change as it trains (loading a saved model restores both); the rest is fixed.
 */
export interface SGDConfig {
  kind: 'SGD'; lr: number; momentum: number; nesterov: boolean; weightDecay: number; dampening: number; step: number;
}

/**
 * The SGD optimizer.
 *
 * ```ts
 * const opt = new SGD(cell.parameters(), { lr: 0.1, momentum: 0.9 });
 * opt.zeroGrad(); runner.forward(...); runner.backward(...); opt.step();
 * ```
 */
export class SGD extends Optimizer {
  /** The kind saved models store for this class. */
  static readonly kind = 'SGD' as const;
  /** Momentum μ. */
  readonly momentum: number;
  /** Whether the update uses Nesterov momentum. */
  readonly nesterov: boolean;
  /** L2 weight decay. */
  readonly weightDecay: number;
  /** Dampening. */
  readonly dampening: number;
  /** One momentum buffer per parameter (PyTorch's momentum_buffer); empty when momentum is 0. */
  private readonly momentumBuffers: Float32Array[];

  /**
   * @param params the parameters to update, each once (their arrays, not copies, are kept)
   * @param options see SGDOptions
   */
  constructor(params: Parameter[], options: SGDOptions) {
    // Read once: the values checked are the values used.
    const o = snapshot('SGD options', options, ['lr', 'momentum', 'nesterov', 'weightDecay', 'dampening']) as unknown as SGDOptions;
    super(params, o, 'SGD', undefined);
    this.momentum = checkHyper('momentum', o.momentum, 0, (x) => x >= 0, 'a finite number >= 0');
    this.nesterov = checkOptionalBoolean('nesterov', o.nesterov, false);
    this.weightDecay = checkHyper('weightDecay', o.weightDecay, 0, (x) => x >= 0, 'a finite number >= 0');
    this.dampening = checkHyper('dampening', o.dampening, 0, () => true, 'a finite number');
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError(
        `nesterov: expected momentum > 0 and dampening = 0 with nesterov: true, got momentum ${this.momentum} and dampening ${this.dampening}`,
      );
    }
    this.momentumBuffers = this.momentum !== 0 ? this.params.map((p) => new Float32Array(p.value.length)) : [];
  }

  /** The hyperparameters, the current lr and the step count, as a new plain object. */
  config(): SGDConfig {
    const { lr, momentum, nesterov, weightDecay, dampening } = this;
    return { kind: SGD.kind, lr, momentum, nesterov, weightDecay, dampening, step: this.stepCount };
  }

  /**
   * An SGD over `params` with the configuration's hyperparameters and lr. The step count is not
   * set: it belongs with the momentum buffers, which loadStateDict (or loadModel) restores
   * together. Throws on a configuration of another kind, or a missing or bad field.
   */
  static fromConfig(params: Parameter[], config: SGDConfig): SGD {
    const { lr, momentum, nesterov, weightDecay, dampening } = checkConfig(config, SGD.kind, ['lr', 'momentum', 'nesterov', 'weightDecay', 'dampening']) as unknown as typeof config;
    return new SGD(params, { lr, momentum, nesterov, weightDecay, dampening });
  }

  /** Updates every parameter in place from its gradient; allocates nothing. */
  override step(): void {
    this.checkStepCount();
    const lr = this.lrValue, mu = this.momentum, wd = this.weightDecay;
    const keep = 1 - this.dampening, first = this.steps === 0;
    for (let k = 0; k < this.params.length; k++) {
      const p = this.params[k]!.value, grad = this.params[k]!.grad;
      if (mu === 0) {
        for (let i = 0; i < p.length; i++) p[i] = p[i]! - lr * (grad[i]! + wd * p[i]!);
        continue;
      }
      const buf = this.momentumBuffers[k]!;
      for (let i = 0; i < p.length; i++) {
        const g = grad[i]! + wd * p[i]!;
        const b = first ? g : mu * buf[i]! + keep * g;
        buf[i] = b;
        // Nesterov uses the float32 buffer value, as PyTorch does.
        const d = this.nesterov ? g + mu * buf[i]! : buf[i]!;
        p[i] = p[i]! - lr * d;
      }
    }
    this.steps++;
  }

  protected buffers(): Record<string, Float32Array[]> {
    return this.momentum !== 0 ? { momentum_buffer: this.momentumBuffers } : {};
  }
}
