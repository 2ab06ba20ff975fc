/**
 * Reading named tensors handed in by users (state dicts of layers and optimizers): a Tensor, a
 * `{shape, data}` read back from JSON, a flat Float32Array or number[], or nested number arrays
 * as PyTorch's `tensor.tolist()` writes them. Every `load…` checks all keys and shapes before
 * the caller copies anything, so a failed load changes nothing.
 */
import type { AnyTensor, Tensor } from './tensor.js';
import { checkObject, describe, hasOwn, isArray, ownValue, snapshot, typedArrayKind, typedLength } from './validate.js';
import { checkFloat32Bytes, MAX_KEYS } from './limits.js';

/** Nested number arrays, e.g. `[[1, 2], [3, 4]]` for shape [2, 2] (PyTorch's `tolist()`). */
export type NestedNumbers = number[] | NestedNumbers[];

/**
 * One tensor as a user may hand it in:
 * - a Tensor, or `{shape, data}` with `data` a Float32Array or number[] (a Tensor after a JSON
 *   round trip with `Array.from(data)`); a tensor of another dtype (an AnyTensor, e.g. int64 from
 *   a safetensors file) is typed in so that whole files can be handed to loaders, which ignore
 *   keys outside their prefix, but one read as a parameter throws, naming its dtype;
 * - a flat Float32Array or number[] (only its length is checked);
 * - nested number arrays (their shape is checked).
 */
export type TensorInput = Tensor | AnyTensor | { shape: number[]; data: Float32Array | number[] } | Float32Array | NestedNumbers;

/** A tensor read by readTensorInput: row-major float32 values and the shape, null when given flat. */
export interface ReadTensor {
  shape: number[] | null;
  /** The input itself when it was a Float32Array, else a new array. */
  data: Float32Array;
}

/** `[3, 4]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Number of elements of a shape (1 for []). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A Tensor of float32 `data` (not copied) with `shape`. */
export function makeTensor(shape: number[], data: Float32Array): Tensor {
  return { dtype: 'float32', shape, data };
}

/** Reads one TensorInput; throws (naming `name`) on anything else or on a non-number element. */
export function readTensorInput(name: string, v: unknown): ReadTensor {
  if (typedArrayKind(v) === 'Float32Array') return { shape: null, data: v as Float32Array };
  if (isArray(v)) {
    if (v.length > 0 && isArray(v[0])) {
      const shape = nestedShape(name, v);
      checkFloat32Bytes(`${name} (shape ${formatShape(shape)})`, shapeSize(shape));
      const data = new Float32Array(shapeSize(shape));
      flattenInto(name, v, shape, 0, data, 0);
      return { shape, data };
    }
    return { shape: null, data: numbersToFloat32(name, v) };
  }
  if (typeof v === 'object' && v !== null && hasOwn(v, 'shape') && hasOwn(v, 'data')) {
    // Read once: a getter runs once, and the values checked are the values used.
    const dtype = ownValue(v, 'dtype');
    if (dtype !== undefined && dtype !== 'float32') {
      throw new TypeError(`${name}: expected a float32 tensor (parameters are float32), got dtype ${
        typeof dtype === 'string' ? JSON.stringify(dtype) : describe(dtype)}`);
    }
    const shape = readShape(`${name}.shape`, ownValue(v, 'shape'));
    const data = ownValue(v, 'data');
    let arr: Float32Array;
    if (typedArrayKind(data) === 'Float32Array') arr = data as Float32Array;
    else if (isArray(data)) arr = numbersToFloat32(`${name}.data`, data);
    else throw new TypeError(`${name}.data: expected a Float32Array or number[], got ${describe(data)}`);
    const n = shapeSize(shape), len = typedLength(arr);
    if (len !== n) {
      throw new RangeError(`${name}.data: expected ${n} elements for shape ${formatShape(shape)}, got ${len}`);
    }
    return { shape, data: arr };
  }
  throw new TypeError(`${name}: expected a Tensor, Float32Array or number array, got ${describe(v)}`);
}

/**
 * Reads `dict` against the expected keys and shapes: every expected key present, no other key,
 * each value of the expected shape (flat inputs: the expected number of elements). Throws on the
 * first problem, naming `what`, the key and both shapes; returns the float32 data per key, for
 * the caller to copy in only once everything has passed.
 */
export function readTensorDict(
  what: string, dict: unknown, expected: Record<string, readonly number[]>,
): Record<string, Float32Array> {
  const d = checkObject(what, dict);
  const expectedKeys = Object.keys(expected);
  const keys = Object.keys(d);
  if (keys.length > MAX_KEYS) throw new RangeError(`${what}: expected at most ${MAX_KEYS} keys, got ${keys.length}`);
  for (const key of keys) {
    if (!hasOwn(expected, key)) {
      throw new RangeError(`${what}: unexpected key "${key}"; expected keys ${expectedKeys.map((k) => `"${k}"`).join(', ') || '(none)'}`);
    }
  }
  const out: Record<string, Float32Array> = {};
  for (const key of expectedKeys) {
    const shape = expected[key]!;
    const value = ownValue(d, key);   // read once, own keys only
    if (value === undefined) {
      throw new RangeError(`${what}: missing key "${key}" (expected shape ${formatShape(shape)})`);
    }
    const t = readTensorInput(`${what}["${key}"]`, value);
    if (t.shape !== null) {
      if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
        throw new RangeError(`${what}["${key}"]: expected shape ${formatShape(shape)}, got ${formatShape(t.shape)}`);
      }
    } else if (t.data.length !== shapeSize(shape)) {
      throw new RangeError(
        `${what}["${key}"]: expected ${shapeSize(shape)} elements (shape ${formatShape(shape)}), got ${t.data.length}`,
      );
    }
    out[key] = t.data;
  }
  return out;
}

/**
 * Reads a user's dict of TensorInputs once: every own key (at most MAX_KEYS), each value read
 * once with readTensorInput (a tensor of another dtype: its fields read once, kept as they are).
 * The result (a Tensor, or the Float32Array of a flat input) is what the caller checks and
 * loads, so a getter or a Proxy cannot answer differently later.
 */
export function snapshotTensorDict(what: string, dict: unknown): Record<string, TensorInput> {
  const d = checkObject(what, dict);
  const keys = Object.keys(d);
  if (keys.length > MAX_KEYS) throw new RangeError(`${what}: expected at most ${MAX_KEYS} keys, got ${keys.length}`);
  const out: Record<string, TensorInput> = {};
  for (const key of keys) {
    const name = `${what}["${key}"]`, raw = ownValue(d, key);
    let v: unknown;
    if (typeof raw === 'object' && raw !== null && !ArrayBuffer.isView(raw) && !isArray(raw)) {
      // A tensor object: its fields read once. One of another dtype is kept as read (a loader
      // names its dtype only if it needs that key; a file may hold int64 tokens beside the weights).
      const o = snapshot(name, raw, ['dtype', 'shape', 'data']);
      const fields = Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined));
      if (o.dtype !== undefined && o.dtype !== 'float32') v = fields;
      else {
        const t = readTensorInput(name, fields);
        v = t.shape === null ? t.data : makeTensor(t.shape, t.data);
      }
    } else {
      const t = readTensorInput(name, raw);
      v = t.shape === null ? t.data : makeTensor(t.shape, t.data);
    }
    Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function numbersToFloat32(name: string, v: unknown[]): Float32Array {
  const n = v.length;
  checkFloat32Bytes(name, n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = checkFloat32Value(`${name}[${i}]`, v[i]);
  return out;
}

/**
 * A number that float32 holds without overflow: finite numbers beyond ±FLT_MAX (which would
 * round to ±Infinity, e.g. 1e40) are refused; ±Infinity and NaN given as numbers are kept.
 */
export function checkFloat32Value(name: string, x: unknown): number {
  if (typeof x !== 'number') throw new TypeError(`${name}: expected a number, got ${describe(x)}`);
  if (Number.isFinite(x) && !Number.isFinite(Math.fround(x))) {
    throw new RangeError(`${name}: expected a number within float32 range (|x| <= 3.4028234663852886e38), got ${x}`);
  }
  return x;
}

/** A shape: an array of safe non-negative integers, copied (read once). */
function readShape(name: string, v: unknown): number[] {
  if (!isArray(v)) throw new TypeError(`${name}: expected an array of non-negative integers, got ${describe(v)}`);
  const n = v.length;
  if (n > 64) throw new RangeError(`${name}: expected at most 64 dimensions, got ${n}`);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const d: unknown = v[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new TypeError(`${name}: expected an array of non-negative integers, got ${describe(d)} at [${i}]`);
    }
    out.push(d);
  }
  return out;
}

function nestedShape(name: string, v: unknown): number[] {
  const shape: number[] = [];
  let cur: unknown = v;
  while (isArray(cur)) {
    if (shape.length === 64) throw new RangeError(`${name}: expected at most 64 nested dimensions, got more`);
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  if (shape.length > 0 && shape[shape.length - 1] !== 0 && typeof cur !== 'number') {
    throw new TypeError(`${name}: expected nested number arrays, got an element ${describe(cur)}`);
  }
  return shape;
}

function flattenInto(
  name: string, v: unknown, shape: number[], dim: number, out: Float32Array, off: number,
): number {
  if (dim === shape.length) {
    out[off] = checkFloat32Value(name, v);
    return off + 1;
  }
  if (!isArray(v) || v.length !== shape[dim]) {
    throw new RangeError(`${name}: expected an array of ${shape[dim]} (nested arrays must not be ragged), got ${describe(v)}`);
  }
  for (let i = 0; i < v.length; i++) off = flattenInto(`${name}[${i}]`, v[i], shape, dim + 1, out, off);
  return off;
}

/**
 * Options of `stateDict()` and `gradDict()`: `prefix` goes in front of every key, as PyTorch's
 * `model.state_dict()` writes a submodule's keys (`'rnn.'` gives `rnn.weight_ih_l0`).
 */
export interface StateDictOptions {
  /** Prepended to every key (default ''). */
  prefix?: string;
}

/**
 * Options of `loadStateDict` (and of `fromPyTorch`): with `prefix`, only the keys that start with
 * it are read (the prefix removed); every other key is ignored, whatever its dtype, so a whole
 * model's state dict loads one submodule at a time. Under the prefix, a missing or unexpected key
 * is still an error.
 */
export interface LoadStateDictOptions {
  /** Only keys starting with this are read, without it (default '': every key). */
  prefix?: string;
}

/** The `prefix` of a StateDictOptions/LoadStateDictOptions bag (undefined bag: ''). */
export function readPrefix(what: string, options: unknown): string {
  if (options === undefined) return '';
  const p = snapshot(what, options, ['prefix']).prefix;   // own keys, read once
  if (p === undefined) return '';
  if (typeof p !== 'string') throw new TypeError(`${what}.prefix: expected a string, got ${describe(p)}`);
  return p;
}

/**
 * The own keys of `dict` that start with `prefix`, the prefix removed, in a new null-prototype
 * object (each value read once, not copied). Every other key is left alone. With prefix '' this is a
 * shallow copy of the own keys.
 */
export function selectPrefix(what: string, dict: unknown, prefix: string): Record<string, unknown> {
  const d = checkObject(what, dict);
  const out: Record<string, unknown> = Object.create(null);
  const keys = Object.keys(d);
  if (keys.length > MAX_KEYS) throw new RangeError(`${what}: expected at most ${MAX_KEYS} keys, got ${keys.length}`);
  for (const key of keys) {
    if (key.startsWith(prefix)) out[key.slice(prefix.length)] = ownValue(d, key);   // each value read once
  }
  return out;
}

/** `what` for error messages about a dict read under `prefix`: `stateDict (prefix "rnn.")`. */
export function prefixedName(what: string, prefix: string): string {
  return prefix === '' ? what : `${what} (prefix ${JSON.stringify(prefix)})`;
}

/** The same tensors under `prefix + key` (a new object; the tensors themselves are not copied). */
export function addPrefix<T>(dict: Record<string, T>, prefix: string): Record<string, T> {
  if (prefix === '') return dict;
  const out: Record<string, T> = {};
  for (const key of Object.keys(dict)) {
    Object.defineProperty(out, prefix + key, { value: dict[key], enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * The [rows, cols] shape of `dict[key]`, a 2-d tensor given with its shape (a Tensor, `{shape,
 * data}` or nested arrays), as fromPyTorch infers a layer's sizes from its weight. Throws naming
 * `what`, the key and `dims` (e.g. `[outFeatures, inFeatures]`) when it is missing, flat or not 2-d.
 */
export function read2dShape(what: string, dict: Record<string, unknown>, key: string, dims: string): [number, number] {
  const value = ownValue(dict, key);   // own keys only, read once
  if (value === undefined) throw new RangeError(`${what}: missing key "${key}" (expected shape ${dims})`);
  const t = readTensorInput(`${what}["${key}"]`, value);
  if (t.shape === null || t.shape.length !== 2) {
    throw new RangeError(`${what}["${key}"]: expected a tensor with shape ${dims} (a Tensor or nested arrays), got ${
      t.shape === null ? `flat ${describe(value)}` : `shape ${formatShape(t.shape)}`}`);
  }
  return [t.shape[0]!, t.shape[1]!];
}
