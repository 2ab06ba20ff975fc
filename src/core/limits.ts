/**
 * The size limits, in one place. Every size taken from options or from a file is checked against
 * them before anything is allocated, so that a hostile or mistaken value fails fast with a
 * RangeError instead of exhausting memory or leaking an engine message:
 *
 * - MAX_SIZE bounds each dimension (inputSize, hiddenSize, features, batch, …);
 * - MAX_LAYERS bounds numLayers, MAX_KEYS the keys read from one dict;
 * - MAX_ELEMENTS bounds the float32 values of one constructor, tape or file, whatever maxBytes;
 * - maxBytes bounds the total a constructor, a tape or a file implies (parameters and their
 *   gradients, a forward's tape, the tensors a file decodes to). It defaults to
 *   DEFAULT_MAX_BYTES; loaders take a `maxBytes` option, which applies while they run
 *   (withMaxBytes), so the modules they build are checked against the caller's limit.
 */
import { describe } from './validate.js';

/** Largest dimension accepted anywhere (2^24). */
export const MAX_SIZE = 16_777_216;

/** Largest numLayers accepted (1024). */
export const MAX_LAYERS = 1024;

/** Most keys read from one user dict or file (65536). */
export const MAX_KEYS = 65_536;

/**
 * Most float32 values one constructor, tape or file may imply, whatever maxBytes (2^31 − 1, 8 GiB):
 * every engine allocates a typed array this long.
 */
export const MAX_ELEMENTS = 2_147_483_647;

/** The default bound on the bytes one constructor, tape or file may imply: 1 GiB. */
export const DEFAULT_MAX_BYTES = 1_073_741_824;

/** The bound in force (see withMaxBytes). */
let maxBytes = DEFAULT_MAX_BYTES;

/** @internal The byte bound in force: DEFAULT_MAX_BYTES, or a loader's `maxBytes` while it runs. */
export function currentMaxBytes(): number {
  return maxBytes;
}

/**
 * Runs `fn` with `limit` (bytes, a positive safe integer) as the bound on what one constructor,
 * tape or file may imply, restoring the previous bound afterwards, also when fn throws. For
 * models or sequences past the default 1 GiB:
 * `withMaxBytes(8 * 2 ** 30, () => new LSTM({ inputSize: 4096, hiddenSize: 8192 }))`.
 * Synchronous: the bound applies to what fn does before it returns. Loaders' `maxBytes` option
 * does the same for the load.
 */
export function withMaxBytes<T>(limit: number, fn: () => T): T {
  const checked = readMaxBytes('limit', limit);
  if (typeof fn !== 'function') throw new TypeError(`fn: expected a function, got ${describe(fn)}`);
  const before = maxBytes;
  maxBytes = checked;
  try {
    return fn();
  } finally {
    maxBytes = before;
  }
}

/**
 * @internal Reads a `maxBytes` option: undefined gives the bound in force, else a positive safe integer.
 * `name` is the argument, e.g. `options.maxBytes`.
 */
export function readMaxBytes(name: string, v: unknown): number {
  if (v === undefined) return maxBytes;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new RangeError(`${name}: expected a positive safe integer (bytes), got ${describe(v)}`);
  }
  return v;
}

/** @internal Throws unless v is an integer in 1..max (a dimension, MAX_SIZE by default). */
export function checkSize(name: string, v: unknown, max = MAX_SIZE): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new RangeError(`${name}: expected a positive integer, got ${describe(v)}`);
  }
  if (v > max) throw new RangeError(`${name}: expected a positive integer at most ${max} (the limit), got ${v}`);
  return v;
}

/**
 * @internal Throws unless `elements` float32 values (4 bytes each) fit within the byte bound in force.
 * `what` says what would be allocated: `LSTMCell parameters and gradients`.
 */
export function checkFloat32Bytes(what: string, elements: number): void {
  // Engines cap one typed array's length (V8: 2^32 elements, others lower): past MAX_ELEMENTS the
  // allocation would fail with an engine message, whatever maxBytes allows.
  if (!(elements <= MAX_ELEMENTS)) {
    throw new RangeError(`${what}: expected at most ${MAX_ELEMENTS} float32 values (the limit), got ${elements}`);
  }
  const bytes = 4 * elements;
  if (!(bytes <= maxBytes)) {
    throw new RangeError(`${what}: expected at most maxBytes = ${maxBytes} bytes, got ${
      Number.isFinite(bytes) ? bytes : 'more'} bytes (${elements} float32 values)`);
  }
}
