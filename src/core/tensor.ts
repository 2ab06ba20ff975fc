import { isArray, typedArrayKind, typedLength } from './validate.js';

/**
 * A named array with a shape, as in a PyTorch state dict or a safetensors file: float32, the
 * element type of every parameter and gradient. `data` is row-major and holds exactly
 * shape.reduce(×) elements. Build one with `tensor(shape, data)` (an object literal kept in a
 * variable first types its dtype as string; `tensor` or `satisfies Tensor` keeps 'float32').
 */
export interface Tensor {
  dtype: 'float32';
  shape: number[];
  data: Float32Array;
}

/** Each dtype and the typed array that holds it (bool: a Uint8Array of 0s and 1s). */
export interface DtypeArrays {
  float32: Float32Array;
  float64: Float64Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int16: Int16Array;
  int8: Int8Array;
  uint64: BigUint64Array;
  uint32: Uint32Array;
  uint16: Uint16Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

/** A tensor's element type; see DtypeArrays. */
export type Dtype = keyof DtypeArrays;

/** A tensor of dtype D, its data the matching typed array, row-major, shape.reduce(×) elements. */
export interface TypedTensor<D extends Dtype = Dtype> {
  dtype: D;
  shape: number[];
  data: DtypeArrays[D];
}

/**
 * A tensor of any dtype (a union told apart by `dtype`), as safetensors files hold them: check
 * `t.dtype === 'float32'` before using `t.data` as a Float32Array.
 */
export type AnyTensor = { [D in Dtype]: TypedTensor<D> }[Dtype];

/**
 * A trainable parameter: its values and the gradient that backward adds into (same length).
 * Optimizers, gradient clipping and gradCheck take lists of these.
 */
export interface Parameter {
  /** A stable name, e.g. `weightIh`, or in a stack `l0_reverse.weightIh`. */
  name: string;
  /** The values, updated in place by optimizers. */
  value: Float32Array;
  /** The gradient, same length as value. */
  grad: Float32Array;
}

/** The dtype of each typed array class (Uint8Array: uint8; pass 'bool' to `tensor` for booleans). */
type DtypeOf<A> = A extends Float32Array ? 'float32' : A extends Float64Array ? 'float64'
  : A extends BigInt64Array ? 'int64' : A extends BigUint64Array ? 'uint64' : A extends Int32Array ? 'int32'
    : A extends Uint32Array ? 'uint32' : A extends Int16Array ? 'int16' : A extends Uint16Array ? 'uint16'
      : A extends Int8Array ? 'int8' : A extends Uint8Array ? 'uint8' : never;

const CLASSES: readonly (readonly [Dtype, new (n: number) => ArrayBufferView])[] = [
  ['float32', Float32Array], ['float64', Float64Array], ['int64', BigInt64Array], ['uint64', BigUint64Array],
  ['int32', Int32Array], ['uint32', Uint32Array], ['int16', Int16Array], ['uint16', Uint16Array],
  ['int8', Int8Array], ['uint8', Uint8Array],
];

/**
 * A tensor of `data` (not copied) with `shape`, its dtype that of the array: `tensor([2, 3],
 * new Float32Array(6))` is a Tensor (dtype 'float32'), `tensor([4], BigInt64Array.of(1n, 2n, 3n,
 * 4n))` an int64 one. `tensor(shape, uint8Data, 'bool')` makes a bool tensor (every value 0 or 1).
 * Throws unless shape is an array of non-negative integers whose product is data.length.
 */
export function tensor<A extends DtypeArrays[Dtype]>(shape: readonly number[], data: A): TypedTensor<DtypeOf<A>>;
export function tensor(shape: readonly number[], data: Uint8Array, dtype: 'bool'): TypedTensor<'bool'>;
export function tensor(shape: readonly number[], data: unknown, dtype?: 'bool'): TypedTensor {
  if (!isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new TypeError(`shape: expected an array of non-negative integers, got ${shape === null ? 'null' : typeof shape}`);
  }
  // By brand (a Proxy of a typed array is none), never running a getter of data.
  const kind = typedArrayKind(data);
  const entry = CLASSES.find(([, cls]) => kind === cls.name);
  if (entry === undefined) {
    throw new TypeError(`data: expected a Float32Array, Float64Array, BigInt64Array, BigUint64Array, Int32Array, ` +
      `Uint32Array, Int16Array, Uint16Array, Int8Array or Uint8Array, got ${data === null ? 'null' : typeof data}`);
  }
  const a = data as Uint8Array, n = (shape as number[]).reduce((x, y) => x * y, 1), len = typedLength(a);
  if (len !== n) throw new RangeError(`data: expected ${n} elements (shape [${shape.join(', ')}]), got ${len}`);
  if (dtype !== undefined) {
    if (dtype !== 'bool' || entry[0] !== 'uint8') {
      throw new TypeError(`dtype: expected 'bool' with a Uint8Array (or no dtype), got ${String(dtype)} with ${entry[0]} data`);
    }
    const bad = a.findIndex((v) => v > 1);
    if (bad >= 0) throw new RangeError(`data[${bad}]: expected 0 or 1 (a bool tensor), got ${a[bad]}`);
  }
  return { dtype: dtype ?? entry[0], shape: shape.slice(), data: a } as TypedTensor;
}
