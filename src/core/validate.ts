/**
 * Argument checks shared by every public entry point. Each throws before anything is changed,
 * and its message names the argument, what was expected and what was given:
 *   `inputs: expected a multiple of batch*inputSize = 48, got 50`.
 */

/** A short description of a value for error messages: `Float64Array(12)`, `Array(3)`, `null`. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (ArrayBuffer.isView(v)) {
    const name = (v as { constructor: { name: string } }).constructor.name;
    const len = (v as unknown as { length?: number }).length;
    return len === undefined ? name : `${name}(${len})`;
  }
  if (Array.isArray(v)) return `Array(${v.length})`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `string "${v.length > 20 ? v.slice(0, 20) + '…' : v}"`;
  if (typeof v === 'object') return 'object';
  return typeof v;
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
  if (!(v instanceof Float32Array)) {
    throw new TypeError(`${name}: expected a Float32Array, got ${describe(v)}`);
  }
  return v;
}

/**
 * Throws unless v is a Float32Array of exactly `length` elements; `what` spells the size, as in
 * `batch*hiddenSize`.
 */
export function checkFloat32Length(name: string, v: unknown, length: number, what: string): Float32Array {
  const a = checkFloat32(name, v);
  if (a.length !== length) {
    throw new RangeError(`${name}: expected length ${what} = ${length}, got ${a.length}`);
  }
  return a;
}

/** Throws unless v is an object (the options bag of a call). */
export function checkObject(name: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) {
    throw new TypeError(`${name}: expected an object, got ${describe(v)}`);
  }
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
  if (v === null || typeof v !== 'object' || typeof (v as ArrayLike<number>).length !== 'number') {
    throw new TypeError(`lengths: expected an array of ${batch} integers, got ${describe(v)}`);
  }
  const a = v as ArrayLike<unknown>;
  if (a.length !== batch) throw new RangeError(`lengths: expected batch = ${batch} entries, got ${a.length}`);
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
 * Returns it.
 */
export function checkConfig(config: unknown, kind: string, fields: readonly string[]): Record<string, unknown> {
  const c = checkObject('config', config);
  if (c.kind !== kind) throw new RangeError(`config.kind: expected "${kind}", got ${describe(c.kind)}`);
  for (const f of fields) {
    if (c[f] === undefined) throw new TypeError(`config.${f}: expected a value (the ${kind} configuration's), got undefined`);
  }
  return c;
}
