/**
 * Embedding: a lookup table of `numEmbeddings` vectors of `embeddingDim` features, PyTorch's
 * nn.Embedding (layout, initialisation, padding_idx and state-dict key), forward and backward
 * side by side. Without max_norm, scale_grad_by_freq or sparse gradients.
 *
 *   forward   y [N, E]      y[i] = W[idx[i]]                     (N = idx.length, W [V, E])
 *   backward  dW [V, E]    dW[idx[i]] += dy[i] for every i with idx[i] ≠ paddingIdx
 *
 * The padding row gets no gradient, as in PyTorch, so an optimizer without weight decay leaves it
 * as it is (zero after initialisation).
 */
import { Random } from '../core/random.js';
import type { Parameter, Tensor } from '../core/tensor.js';
import {
  addPrefix, makeTensor, prefixedName, read2dShape, readPrefix, readTensorDict, selectPrefix,
  type LoadStateDictOptions, type StateDictOptions, type TensorInput,
} from '../core/tensor-input.js';
import { checkConfig, checkFloat32Length, describe, isArray, overlaps, ownValue, snapshot, typedArrayKind, typedLength } from '../core/validate.js';
import { checkFloat32Bytes, checkSize } from '../core/limits.js';

/** Options of `new Embedding(...)`. */
export interface EmbeddingOptions {
  /** Rows of the table, V: indices are integers in 0..V−1. */
  numEmbeddings: number;
  /** Features per row, E. */
  embeddingDim: number;
  /**
   * The row whose lookups get no gradient (and which starts at zero), as nn.Embedding's
   * padding_idx: an integer in −V..V−1, a negative one counting from the end. Default: none.
   */
  paddingIdx?: number | null;
  /** Seed of the deterministic initialiser (default 0). */
  seed?: number;
}

/** Options of `Embedding.fromPyTorch`: the prefix, and paddingIdx (a state dict does not hold it). */
export interface EmbeddingFromPyTorchOptions extends LoadStateDictOptions {
  /** As EmbeddingOptions.paddingIdx (default: none). */
  paddingIdx?: number | null;
}

/** An Embedding's configuration: what `config()` returns and a saved model stores. */
export interface EmbeddingConfig {
  kind: 'Embedding'; numEmbeddings: number; embeddingDim: number;
  /** In 0..V−1 (a negative option is stored counted from the start), or null for none. */
  paddingIdx: number | null;
}

/** Indices as `forward` takes them: an Int32Array, a number[], or another integer typed array. */
export type EmbeddingIndices =
  | Int32Array | number[] | readonly number[] | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array
  | BigInt64Array | BigUint64Array;

/** What forward keeps for backward: the checked indices. */
class EmbeddingTape {
  constructor(
    /** The layer whose forward made this tape. */
    readonly layer: Embedding,
    /** [N] the indices, checked and copied at forward. */
    readonly indices: Int32Array,
  ) {}
}

/** What `forward` returns; pass it to `backward`. */
export interface EmbeddingForward {
  /** [N, E] = [T, B, E] for indices [T, B]: the looked-up rows; owned by the caller. */
  y: Float32Array;
  /** T = N / batch. */
  steps: number;
  /** @internal What backward needs. */
  tape: EmbeddingTape;
}

/**
 * A lookup table, y[i] = W[indices[i]]: the first layer of a text model.
 *
 * ```ts
 * const emb = new Embedding({ numEmbeddings: 100, embeddingDim: 8, paddingIdx: 0, seed: 1 });
 * const f = emb.forward(tokens, batch);     // tokens [T, batch] (Int32Array) → f.y [T, batch, 8]
 * emb.backward(f, dy);                      // dy [T, batch, 8]; adds into emb.grads.weight
 * ```
 */
export class Embedding {
  /** The kind saved models store for this class. */
  static readonly kind = 'Embedding' as const;
  /** Rows V. */
  readonly numEmbeddings: number;
  /** Features per row E. */
  readonly embeddingDim: number;
  /** The row that gets no gradient, in 0..V−1, or null. */
  readonly paddingIdx: number | null;
  /** `weight` [V, E], PyTorch's layout. */
  readonly params: { weight: Float32Array };
  /** Same shape as params; backward adds into it. */
  readonly grads: { weight: Float32Array };

  /**
   * PyTorch's initialisation: every weight drawn from N(0, 1) (one generator seeded with `seed`),
   * then the padding row set to zero.
   */
  constructor(options: EmbeddingOptions) {
    // Read once: the values checked are the values used.
    const o = snapshot('Embedding options', options, ['numEmbeddings', 'embeddingDim', 'paddingIdx', 'seed']);
    this.numEmbeddings = checkSize('numEmbeddings', o.numEmbeddings);
    this.embeddingDim = checkSize('embeddingDim', o.embeddingDim);
    this.paddingIdx = checkPaddingIdx(o.paddingIdx, this.numEmbeddings);
    const n = this.numEmbeddings * this.embeddingDim;
    checkFloat32Bytes('Embedding parameters and gradients', 2 * n);   // before anything is allocated
    this.params = { weight: new Float32Array(n) };
    this.grads = { weight: new Float32Array(n) };
    const rng = new Random((o.seed === undefined ? 0 : o.seed) as number);
    for (let i = 0; i < n; i++) this.params.weight[i] = rng.normal();
    if (this.paddingIdx !== null) this.params.weight.fill(0, this.paddingIdx * this.embeddingDim, (this.paddingIdx + 1) * this.embeddingDim);
  }

  /** The layer's configuration, a new plain object: `Embedding.fromConfig` builds a layer like it. */
  config(): EmbeddingConfig {
    return { kind: Embedding.kind, numEmbeddings: this.numEmbeddings, embeddingDim: this.embeddingDim, paddingIdx: this.paddingIdx };
  }

  /**
   * A layer of this configuration with freshly initialised weights (seed 0; load trained ones
   * with loadStateDict). Throws on a configuration of another kind, or a missing or bad field.
   */
  static fromConfig(config: EmbeddingConfig): Embedding {
    const { numEmbeddings, embeddingDim, paddingIdx } = checkConfig(
      config, Embedding.kind, ['numEmbeddings', 'embeddingDim'], ['paddingIdx'],
    ) as unknown as typeof config;
    return new Embedding({ numEmbeddings, embeddingDim, paddingIdx });
  }

  /**
   * A layer holding the table of a PyTorch nn.Embedding state dict: `weight` [V, E] with its shape
   * (a Tensor, `{shape, data}` or nested arrays), read after `options.prefix` when given (other
   * keys are ignored). padding_idx is not part of a state dict: pass it as `options.paddingIdx`.
   *
   * ```ts
   * const emb = Embedding.fromPyTorch(loadSafetensors(bytes), { prefix: 'emb.', paddingIdx: 0 });
   * ```
   */
  static fromPyTorch(stateDict: Record<string, TensorInput>, options?: EmbeddingFromPyTorchOptions): Embedding {
    const prefix = readPrefix('Embedding.fromPyTorch options', options);
    const d = selectPrefix('stateDict', stateDict, prefix);
    const what = prefixedName('stateDict', prefix);
    const [numEmbeddings, embeddingDim] = read2dShape(what, d, 'weight', '[numEmbeddings, embeddingDim]');
    const paddingIdx = (options as EmbeddingFromPyTorchOptions | undefined)?.paddingIdx ?? null;
    const layer = new Embedding({ numEmbeddings, embeddingDim, paddingIdx });
    layer.loadStateDict(addPrefix(d, prefix) as Record<string, TensorInput>, { prefix });   // the keys read once, above
    return layer;
  }

  /**
   * Forward that keeps the indices for backward.
   * @param indices [T, batch] row indices, integers in 0..V−1 (time-major, as the recurrent
   *   modules take their inputs; [batch, T] for a batchFirst module works the same, since each
   *   index becomes one row of y in place); any length that is a multiple of batch
   * @returns y [T, batch, E] (or [batch, T, E]), steps T = indices.length / batch, and the tape
   */
  forward(indices: EmbeddingIndices, batch: number): EmbeddingForward {
    const idx = this.readIndices(indices, batch);
    const tape = new EmbeddingTape(this, idx);
    LIVE_TAPES.add(tape);
    return { y: this.gather(idx), steps: idx.length / batch, tape };
  }

  /** Inference: y [T, batch, E] = the rows of `indices` [T, batch], keeping nothing. */
  run(indices: EmbeddingIndices, batch: number): Float32Array {
    return this.gather(this.readIndices(indices, batch));
  }

  /**
   * Backward of one forward: adds dy[i] into row indices[i] of grads.weight, for every i whose
   * index is not paddingIdx. Indices have no gradient, so nothing is returned.
   * @param forward what this layer's forward returned
   * @param dy [T, batch, E] gradient with respect to y
   */
  backward(forward: EmbeddingForward, dy: Float32Array): void {
    const tape: unknown = typeof forward === 'object' && forward !== null ? ownValue(forward, 'tape') : undefined;   // read once
    if (!(tape instanceof EmbeddingTape) || tape.layer !== this) {
      throw new TypeError(`forward: expected the result of this layer's forward(), got ${describe(forward)}`);
    }
    if (!LIVE_TAPES.has(tape)) {
      throw new Error('forward: this forward result was already consumed by a backward (or was not made by forward()); call forward() again');
    }
    const E = this.embeddingDim, idx = tape.indices, g = this.grads.weight;
    checkFloat32Length('dy', dy, idx.length * E, 'indices.length*embeddingDim');
    if (overlaps(dy, g)) throw new RangeError('dy: expected memory apart from the layer\'s grads, got an overlap');
    LIVE_TAPES.delete(tape);
    for (let i = 0; i < idx.length; i++) {
      const row = idx[i]!;
      if (row === this.paddingIdx) continue;
      for (let e = 0; e < E; e++) g[row * E + e]! += dy[i * E + e]!;
    }
  }

  /** The parameters with their gradients (the layer's own arrays): `weight`. */
  parameters(): Parameter[] {
    return [{ name: 'weight', value: this.params.weight, grad: this.grads.weight }];
  }

  /** Sets every gradient to zero (backward only ever adds). */
  zeroGrad(): void {
    this.grads.weight.fill(0);
  }

  /** A copy of the table under nn.Embedding's key, after `options.prefix`: `weight` [V, E]. */
  stateDict(options?: StateDictOptions): Record<string, Tensor> {
    return addPrefix({ weight: makeTensor([this.numEmbeddings, this.embeddingDim], this.params.weight.slice()) },
      readPrefix('stateDict options', options));
  }

  /** A copy of the gradient under the same key as stateDict(options). */
  gradDict(options?: StateDictOptions): Record<string, Tensor> {
    return addPrefix({ weight: makeTensor([this.numEmbeddings, this.embeddingDim], this.grads.weight.slice()) },
      readPrefix('gradDict options', options));
  }

  /**
   * Copies the table in from a state dict with exactly the key `weight` [V, E] after
   * `options.prefix` (keys without it are ignored). A missing, unexpected or mis-shaped key
   * throws before anything is copied.
   */
  loadStateDict(stateDict: Record<string, TensorInput>, options?: LoadStateDictOptions): void {
    const prefix = readPrefix('loadStateDict options', options);
    const data = readTensorDict(prefixedName('stateDict', prefix), selectPrefix('stateDict', stateDict, prefix),
      { weight: [this.numEmbeddings, this.embeddingDim] });
    this.params.weight.set(data.weight!);
  }

  /** y [N, E]: row idx[i] of the table at row i. */
  private gather(idx: Int32Array): Float32Array {
    const E = this.embeddingDim, W = this.params.weight;
    const y = new Float32Array(idx.length * E);
    for (let i = 0; i < idx.length; i++) y.set(W.subarray(idx[i]! * E, (idx[i]! + 1) * E), i * E);
    return y;
  }

  /** The indices as a new Int32Array, each checked to be an integer in 0..V−1; length a multiple of batch. */
  private readIndices(indices: unknown, batch: number): Int32Array {
    checkSize('batch', batch);
    // By brand (a Proxy of a typed array is none); the length read once.
    const kind = typedArrayKind(indices);
    const ok = isArray(indices) || (kind !== undefined && INTEGER_ARRAYS.includes(kind));
    if (!ok) {
      throw new TypeError(`indices: expected an Int32Array, a number[] or another integer typed array, got ${describe(indices)}`);
    }
    const a = indices as ArrayLike<unknown>;
    const n = kind === undefined ? a.length : typedLength(indices as ArrayBufferView);
    checkFloat32Bytes('indices (the rows gathered)', n * this.embeddingDim);
    if (n === 0 || n % batch !== 0) {
      throw new RangeError(`indices: expected a non-zero multiple of batch = ${batch} elements, got ${n}`);
    }
    const V = this.numEmbeddings, out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = a[i];
      const x = typeof v === 'bigint' ? (v >= 0n && v < BigInt(V) ? Number(v) : -1) : v;
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x >= V) {
        throw new RangeError(`indices[${i}]: expected an integer in 0..numEmbeddings−1 = ${V - 1}, got ${
          typeof v === 'bigint' ? `${v}n` : describe(v)}`);
      }
      out[i] = x;
    }
    return out;
  }
}

/** Tapes made by a forward and not yet consumed: a hand-made or spent tape is not among them. */
const LIVE_TAPES = new WeakSet<object>();

/** The typed arrays indices may come in. */
const INTEGER_ARRAYS = ['Int32Array', 'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array'];

/** paddingIdx: undefined or null (none), else an integer in −V..V−1; returned counted from the start. */
function checkPaddingIdx(v: unknown, V: number): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -V || v >= V) {
    throw new RangeError(`paddingIdx: expected an integer in −numEmbeddings..numEmbeddings−1 = ${-V}..${V - 1}, or null, got ${describe(v)}`);
  }
  return v < 0 ? v + V : v;
}
