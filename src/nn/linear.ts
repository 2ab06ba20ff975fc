/**
 * Linear: the fully connected layer y = x · Wᵀ + b, PyTorch's nn.Linear (layout, initialisation
 * and state-dict keys), forward and backward side by side.
 *
 *   forward   y [B, out]  = x [B, in] · W[out, in]ᵀ + b[out]
 *   backward  dx [B, in]  = dy [B, out] · W [out, in]
 *             dW [out, in] += dyᵀ · x       db [out] += Σ_rows dy
 */
import { gemmNN, gemmNT, gemmTN } from '../kernels/gemm.js';
import { addColumnSums, addRowBias } from '../kernels/rows.js';
import { Random } from '../core/random.js';
import type { Parameter, Tensor } from '../core/tensor.js';
import {
  addPrefix, makeTensor, prefixedName, read2dShape, readPrefix, readTensorDict, selectPrefix, snapshotTensorDict,
  type LoadStateDictOptions, type StateDictOptions, type TensorInput,
} from '../core/tensor-input.js';
import { checkConfig, checkFloat32Length, checkOptionalBoolean, describe, overlaps, ownValue, snapshot } from '../core/validate.js';
import { checkFloat32Bytes, checkSize } from '../core/limits.js';

/** Options of `new Linear(...)`. */
export interface LinearOptions {
  /** Features per input row, `in`. */
  inFeatures: number;
  /** Features per output row, `out`. */
  outFeatures: number;
  /** Whether the layer adds a bias (default true). */
  bias?: boolean;
  /** Seed of the deterministic initialiser (default 0): same seed, same bits everywhere. */
  seed?: number;
}

/** A Linear layer's configuration: what `config()` returns and a saved model stores. */
export interface LinearConfig { kind: 'Linear'; inFeatures: number; outFeatures: number; bias: boolean }

/** A Linear layer's parameters (or their gradients), PyTorch's layout. */
export interface LinearParams {
  /** [out, in] */
  weight: Float32Array;
  /** [out]; absent when the layer was built with bias: false. */
  bias?: Float32Array;
}

/**
 * What `forward` keeps for `backward`: a copy of the input, so the caller may reuse x. A forward
 * result is consumed once, by the layer that made it.
 */
class LinearTape {
  constructor(
    /** The layer whose forward made this tape. */
    readonly layer: Linear,
    /** Rows B. */
    readonly batch: number,
    /** [B, in] the input, copied at forward. */
    readonly x: Float32Array,
  ) {}
}

/** Tapes made by a forward and not yet consumed: a hand-made or spent tape is not among them. */
const LIVE_TAPES = new WeakSet<LinearTape>();

/** What `forward` returns; pass it to `backward`. */
export interface LinearForward {
  /** [B, out] the output; owned by the caller. */
  y: Float32Array;
  /** @internal What backward needs. */
  tape: LinearTape;
}

/**
 * A fully connected layer, y = x · Wᵀ + b.
 *
 * ```ts
 * const fc = new Linear({ inFeatures: 16, outFeatures: 3, seed: 1 });
 * const f = fc.forward(h, batch);              // h [batch, 16] → f.y [batch, 3]
 * const dh = fc.backward(f, dy);                // dW, db add into fc.grads
 * ```
 */
export class Linear {
  /** The kind saved models store for this class. */
  static readonly kind = 'Linear' as const;
  /** Input features `in`. */
  readonly inFeatures: number;
  /** Output features `out`. */
  readonly outFeatures: number;
  /** Whether the layer has a bias. */
  readonly bias: boolean;
  /** Parameters, PyTorch's layout; see LinearParams. */
  readonly params: LinearParams;
  /** Gradients: same keys and shapes as params; backward adds into them. */
  readonly grads: LinearParams;

  /**
   * PyTorch's default initialisation (kaiming_uniform_ with a = √5): weight and bias both uniform
   * in [−1/√in, 1/√in), the weight drawn first, from one generator seeded with `seed`.
   */
  constructor(options: LinearOptions) {
    // Read once: the values checked are the values used.
    const o = snapshot('Linear options', options, ['inFeatures', 'outFeatures', 'bias', 'seed']);
    this.inFeatures = checkSize('inFeatures', o.inFeatures);
    this.outFeatures = checkSize('outFeatures', o.outFeatures);
    this.bias = checkOptionalBoolean('bias', o.bias, true);
    // Parameters and gradients, checked before any is allocated.
    checkFloat32Bytes('Linear parameters and gradients', 2 * this.outFeatures * (this.inFeatures + 1));
    const rng = new Random((o.seed === undefined ? 0 : o.seed) as number);
    const make = (): LinearParams => {
      const p: LinearParams = { weight: new Float32Array(this.outFeatures * this.inFeatures) };
      if (this.bias) p.bias = new Float32Array(this.outFeatures);
      return p;
    };
    this.params = make();
    this.grads = make();
    const k = 1 / Math.sqrt(this.inFeatures);
    rng.fillUniform(this.params.weight, -k, k);
    if (this.params.bias) rng.fillUniform(this.params.bias, -k, k);
  }

  /** The layer's configuration, a new plain object: `Linear.fromConfig` builds a layer like it. */
  config(): LinearConfig {
    return { kind: Linear.kind, inFeatures: this.inFeatures, outFeatures: this.outFeatures, bias: this.bias };
  }

  /**
   * A layer of this configuration with freshly initialised weights (seed 0; load trained ones
   * with loadStateDict). Throws on a configuration of another kind, or a missing or bad field.
   */
  static fromConfig(config: LinearConfig): Linear {
    const { inFeatures, outFeatures, bias } = checkConfig(config, Linear.kind, ['inFeatures', 'outFeatures', 'bias']) as unknown as typeof config;
    return new Linear({ inFeatures, outFeatures, bias });
  }

  /**
   * A layer holding the weights of a PyTorch nn.Linear state dict: `weight` [out, in] with its
   * shape (a Tensor, `{shape, data}`, or nested arrays from `tensor.tolist()`), and optionally
   * `bias` [out] (its presence decides `bias`). Sizes come from weight's shape. With
   * `options.prefix` only the keys under it are read (`{ prefix: 'head.' }` takes head.weight and
   * head.bias out of a whole model's state dict; every other key is ignored).
   *
   * ```ts
   * const head = Linear.fromPyTorch(loadSafetensors(bytes), { prefix: 'head.' });
   * ```
   */
  static fromPyTorch(stateDict: Record<string, TensorInput>, options?: LoadStateDictOptions): Linear {
    const prefix = readPrefix('Linear.fromPyTorch options', options);
    const what = prefixedName('stateDict', prefix);
    const d = snapshotTensorDict(what, selectPrefix('stateDict', stateDict, prefix));   // keys and values read once
    const [outFeatures, inFeatures] = read2dShape(what, d, 'weight', '[outFeatures, inFeatures]');
    const layer = new Linear({ outFeatures, inFeatures, bias: ownValue(d, 'bias') !== undefined });
    layer.loadStateDict(addPrefix(d, prefix), { prefix });
    return layer;
  }

  /**
   * Forward that keeps a tape for backward.
   * @param x [batch, in]
   * @returns y [batch, out] and the tape
   */
  forward(x: Float32Array, batch: number): LinearForward {
    const y = this.run(x, batch);
    const tape = new LinearTape(this, batch, x.slice());
    LIVE_TAPES.add(tape);
    return { y, tape };
  }

  /**
   * Inference: y [batch, out] = x [batch, in] · Wᵀ + b, keeping nothing.
   * @param x [batch, in]
   */
  run(x: Float32Array, batch: number): Float32Array {
    checkSize('batch', batch);
    checkFloat32Length('x', x, batch * this.inFeatures, 'batch*inFeatures');
    const I = this.inFeatures, O = this.outFeatures;
    checkFloat32Bytes(`batch (y of ${batch} rows)`, batch * O);
    const y = new Float32Array(batch * O);
    gemmNT(y, 0, O, x, 0, I, this.params.weight, 0, I, batch, O, I, false);
    if (this.params.bias) addRowBias(y, 0, O, this.params.bias, batch, O);
    return y;
  }

  /**
   * Backward of one forward: adds dW [out, in] += dyᵀ · x and db [out] += Σ_rows dy into `grads`,
   * and returns dx [batch, in] = dy · W.
   * @param forward what this layer's forward returned
   * @param dy [batch, out] gradient with respect to y
   */
  backward(forward: LinearForward, dy: Float32Array): Float32Array {
    // The result object, or (as before 0.2) its tape; read once.
    const tape: unknown = forward instanceof LinearTape ? forward
      : typeof forward === 'object' && forward !== null ? ownValue(forward, 'tape') : undefined;
    if (!(tape instanceof LinearTape) || tape.layer !== this) {
      throw new TypeError(`forward: expected the result of this layer's forward(), got ${describe(forward)}`);
    }
    if (!LIVE_TAPES.has(tape)) {
      throw new Error('forward: this forward result was already consumed by a backward (or was not made by forward()); call forward() again');
    }
    const B = tape.batch, I = this.inFeatures, O = this.outFeatures;
    checkFloat32Length('dy', dy, B * O, 'batch*outFeatures');
    // The gradients are written while dy is read.
    for (const g of [this.grads.weight, this.grads.bias]) {
      if (g !== undefined && overlaps(dy, g)) throw new RangeError('dy: expected memory apart from the layer\'s grads, got an overlap');
    }
    LIVE_TAPES.delete(tape);
    gemmTN(this.grads.weight, 0, I, dy, 0, O, tape.x, 0, I, O, I, B, true);
    if (this.grads.bias) addColumnSums(this.grads.bias, dy, 0, O, B, O);
    const dx = new Float32Array(B * I);
    gemmNN(dx, 0, I, dy, 0, O, this.params.weight, 0, I, B, I, O, false);
    return dx;
  }

  /** The parameters with their gradients (the layer's own arrays): `weight`, then `bias`. */
  parameters(): Parameter[] {
    const out: Parameter[] = [{ name: 'weight', value: this.params.weight, grad: this.grads.weight }];
    if (this.params.bias && this.grads.bias) out.push({ name: 'bias', value: this.params.bias, grad: this.grads.bias });
    return out;
  }

  /** Sets every gradient to zero (backward only ever adds). */
  zeroGrad(): void {
    this.grads.weight.fill(0);
    this.grads.bias?.fill(0);
  }

  /** The expected state-dict shapes: weight [out, in], bias [out] (when the layer has one). */
  private shapes(): Record<string, number[]> {
    const s: Record<string, number[]> = { weight: [this.outFeatures, this.inFeatures] };
    if (this.bias) s.bias = [this.outFeatures];
    return s;
  }

  /**
   * A copy of the parameters under nn.Linear's keys, each after `options.prefix`: `weight`
   * [out, in], `bias` [out]. It equals `nn.Linear(in, out, bias).state_dict()`.
   */
  stateDict(options?: StateDictOptions): Record<string, Tensor> {
    return addPrefix(this.snapshot(this.params), readPrefix('stateDict options', options));
  }

  /** A copy of the gradients under the same keys as stateDict(options). */
  gradDict(options?: StateDictOptions): Record<string, Tensor> {
    return addPrefix(this.snapshot(this.grads), readPrefix('gradDict options', options));
  }

  /**
   * Copies parameters in from a state dict with exactly the keys of stateDict() after
   * `options.prefix` (keys without the prefix are ignored): each value a TensorInput (a Tensor or
   * `{shape, data}` must have the exact shape, flat arrays the element count, nested arrays the
   * shape). Missing, unexpected or mis-shaped keys throw, naming the key and both shapes, before
   * anything is copied.
   */
  loadStateDict(dict: Record<string, TensorInput>, options?: LoadStateDictOptions): void {
    const prefix = readPrefix('loadStateDict options', options);
    const data = readTensorDict(prefixedName('stateDict', prefix), selectPrefix('stateDict', dict, prefix), this.shapes());
    this.params.weight.set(data.weight!);
    if (this.params.bias) this.params.bias.set(data.bias!);
  }

  private snapshot(p: LinearParams): Record<string, Tensor> {
    const shapes = this.shapes();
    const out: Record<string, Tensor> = { weight: makeTensor(shapes.weight!, p.weight.slice()) };
    if (p.bias) out.bias = makeTensor(shapes.bias!, p.bias.slice());
    return out;
  }
}
