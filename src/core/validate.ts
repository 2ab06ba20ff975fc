/**
 * Argument checks shared by every public entry point. Each throws before anything is changed,
 * and its message names the argument, what was expected and what was given:
 *   `inputs: expected a multiple of batch*inputSize = 48, got 50`.
 */

/** The intrinsic getters of typed arrays: they read internal slots, run no user code, never throw. */
const TYPED_ARRAY_PROTO = Object.getPrototypeOf(Uint8Array.prototype) as object;
const TAG_GETTER = Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTO, Symbol.toStringTag)!.get!;
const LENGTH_GETTER = Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTO, 'length')!.get!;

/**
 * The typed-array kind of v (`Float32Array`, `Uint8Array`, …) or undefined: a brand check on the
 * internal slot, so a Proxy, a look-alike object or a faked Symbol.toStringTag is not one, and
 * no getter of v runs.
 */
export function typedArrayKind(v: unknown): string | undefined {
  return ArrayBuffer.isView(v) ? (TAG_GETTER.call(v) as string | undefined) : undefined;
}

/** The element count of a typed array, from its internal slot (an own `length` cannot lie). */
export function typedLength(v: ArrayBufferView): number {
  return LENGTH_GETTER.call(v) as number;
}

/**
 * A short description of a value for error messages: `Float64Array(12)`, `Array(3)`, `null`.
 * Runs no getter of v and never throws (a Proxy is described as an object).
 */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  const kind = typedArrayKind(v);
  if (kind !== undefined) return `${kind}(${typedLength(v as ArrayBufferView)})`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `string "${v.length > 20 ? v.slice(0, 20) + '…' : v}"`;
  if (typeof v === 'bigint') return `bigint ${v}`;
  try {
    if (Array.isArray(v)) return `Array(${(v as unknown[]).length})`;
  } catch {
    return 'object';   // a revoked Proxy, or one whose length trap throws
  }
  if (typeof v === 'object') return ArrayBuffer.isView(v) ? 'DataView' : 'object';
  return typeof v;
}

/**
 * Own property `key` of `o`, or undefined: never an inherited value (a polluted
 * Object.prototype, or keys such as `constructor`), read once by the caller.
 */
export function ownValue(o: object, key: string): unknown {
  return hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined;
}

/** Whether `o` has an own property `key` (never an inherited one); false for a revoked Proxy. */
export function hasOwn(o: object, key: string): boolean {
  try {
    return Object.prototype.hasOwnProperty.call(o, key);
  } catch {
    return false;   // a revoked Proxy, or a getOwnPropertyDescriptor trap that throws
  }
}

/**
 * Reads an options object once: a new plain object with each listed field's own value (each
 * getter runs once; inherited values are ignored), which the caller checks and then uses. A
 * field that is absent reads as undefined.
 */
export function snapshot(name: string, v: unknown, fields: readonly string[]): Record<string, unknown> {
  const o = checkObject(name, v);
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const f of fields) {
    try {
      out[f] = ownValue(o, f);
    } catch (err) {
      const e = new TypeError(`${name}.${f}: expected a value that can be read, got a property whose getter threw`);
      Object.defineProperty(e, 'cause', { value: err, configurable: true, writable: true });
      throw e;
    }
  }
  return out;
}

/**
 * The first pair of arrays (indices into `arrays`) that share memory, or null: one pass over the
 * arrays sorted by buffer and start, O(n log n).
 */
export function findOverlap(arrays: readonly ArrayBufferView[]): [number, number] | null {
  const ids = new Map<ArrayBufferLike, number>();
  const id = (i: number): number => {
    const buf = arrays[i]!.buffer;
    if (!ids.has(buf)) ids.set(buf, ids.size);
    return ids.get(buf)!;
  };
  const order = arrays.map((_, i) => i).filter((i) => arrays[i]!.byteLength > 0);
  order.sort((i, j) => id(i) - id(j) || arrays[i]!.byteOffset - arrays[j]!.byteOffset);
  // Walk each buffer's arrays by start, keeping the one reaching furthest (last, ending at end).
  let last = -1, end = 0;
  for (const i of order) {
    const a = arrays[i]!, same = last !== -1 && id(last) === id(i);
    if (same && a.byteOffset < end) return [Math.min(last, i), Math.max(last, i)];
    if (!same || a.byteOffset + a.byteLength > end) {
      last = i;
      end = a.byteOffset + a.byteLength;
    }
  }
  return null;
}

/** Whether two typed arrays share any byte of memory. */
export function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.buffer !== b.buffer) return false;
  const a0 = a.byteOffset, a1 = a0 + a.byteLength, b0 = b.byteOffset, b1 = b0 + b.byteLength;
  return a0 < b1 && b0 < a1 && a1 > a0 && b1 > b0;
}

/** Throws unless v is a positive integer. */
export function checkPositiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new RangeError(`${name}: expected a positive integer, got ${describe(v)}`);
  }
  return v;
}

/** Throws unless v is a Float32Array. */
export function checkFloat32(name: string, v: unknown): Float32Array {
  if (typedArrayKind(v) !== 'Float32Array') {
    throw new TypeError(`${name}: expected a Float32Array, got ${describe(v)}`);
  }
  return v as Float32Array;
}

/**
 * Throws unless v is a Float32Array of exactly `length` elements; `what` spells the size, as in
 * `batch*hiddenSize`.
 */
export function checkFloat32Length(name: string, v: unknown, length: number, what: string): Float32Array {
  const a = checkFloat32(name, v);
  const n = typedLength(a);
  if (n !== length) {
    throw new RangeError(`${name}: expected length ${what} = ${length}, got ${n}`);
  }
  return a;
}

/** Throws unless v is an object (the options bag of a call). */
export function checkObject(name: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v) || isArray(v)) {
    throw new TypeError(`${name}: expected an object, got ${describe(v)}`);
  }
  if (isRevoked(v)) throw new TypeError(`${name}: expected an object, got a revoked Proxy`);
  return v as Record<string, unknown>;
}

/** Throws unless v is a boolean or undefined; returns v or the default. */
export function checkOptionalBoolean(name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new TypeError(`${name}: expected a boolean, got ${describe(v)}`);
  return v;
}

/**
 * Throws unless a forward tape is waiting for its backward: record is what forward kept (null
 * before any), ready whether it is still unconsumed (a backward or a run() clears it). Shared by
 * the runner and the stacks, which keep a single tape each.
 */
export function checkBackwardReady<T>(record: T | null, ready: boolean): asserts record is T {
  if (record === null) throw new Error('backward: no forward tape; call forward() first');
  if (!ready) {
    throw new Error('backward: the last forward was already consumed by a backward (or run() replaced it); call forward() again');
  }
}

/**
 * Per-entry sequence lengths: an array-like of `batch` integers, each in 1..steps. Returns them as
 * a new Int32Array.
 */
export function checkLengths(v: unknown, steps: number, batch: number): Int32Array {
  // An array or a typed array (by brand: a Proxy of one is neither), its length read once.
  const len = typedArrayKind(v) !== undefined ? typedLength(v as ArrayBufferView) : isArray(v) ? v.length : undefined;
  if (typeof len !== 'number') {
    throw new TypeError(`lengths: expected an array of ${batch} integers, got ${describe(v)}`);
  }
  const a = v as ArrayLike<unknown>;
  if (len !== batch) throw new RangeError(`lengths: expected batch = ${batch} entries, got ${describe(len)}`);
  const out = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    const L = a[b];
    if (typeof L !== 'number' || !Number.isInteger(L) || L < 1 || L > steps) {
      throw new RangeError(`lengths[${b}]: expected an integer in 1..steps = ${steps}, got ${describe(L)}`);
    }
    out[b] = L;
  }
  return out;
}

/**
 * Throws unless `config` is an object whose `kind` is `kind` and which holds every field named
 * (the argument of a class's static fromConfig; the constructor then checks each field's value).
 * Returns a snapshot of those own fields and of the `optional` ones, read once: use it, not
 * `config`.
 */
export function checkConfig(
  config: unknown, kind: string, fields: readonly string[], optional: readonly string[] = [],
): Record<string, unknown> {
  const c = snapshot('config', config, ['kind', ...fields, ...optional]);
  if (c.kind !== kind) throw new RangeError(`config.kind: expected "${kind}", got ${describe(c.kind)}`);
  for (const f of fields) {
    if (c[f] === undefined) throw new TypeError(`config.${f}: expected a value (the ${kind} configuration's), got undefined`);
  }
  return c;
}

/** Array.isArray that cannot throw (a revoked Proxy is not an array). */
export function isArray(v: unknown): v is unknown[] {
  try {
    return Array.isArray(v);
  } catch {
    return false;
  }
}

/** Whether v is a revoked Proxy (every operation on it throws). */
export function isRevoked(v: object): boolean {
  try {
    Reflect.getPrototypeOf(v);
    return false;
  } catch {
    return true;
  }
}
