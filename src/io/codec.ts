/**
 * The two encodings of a saved model, version 2: a SavedModel (part configurations and tensors)
 * to and from ModelJSON and to and from the bytes of a safetensors file. Decoding checks the
 * model in itself (format, version, configurations against the registry's schemas, tensor keys,
 * shapes and values); checking it against live parts is loading's business (model.ts).
 *
 * JSON: each tensor is `{ shape, data }` with data a number array. A float32 value read as a
 * double prints, in JSON.stringify, as the shortest decimal that parses back to the same double,
 * so every finite value round-trips exactly. JSON has no NaN, ±Infinity or −0: those are written
 * as the strings "NaN", "Infinity", "-Infinity" and "-0" (`Number(s)` reads each back; a NaN's
 * payload bits are not kept).
 *
 * safetensors: the tensors as F32 under the same keys; the header's `__metadata__` (strings
 * only) holds `format`, `version` and `parts` (the configurations as JSON text) besides the
 * caller's own entries. Every bit is kept, NaN payloads included.
 *
 * Versions: 2 differs from 1 only in the keys of a GRU or GRUCell part with resetAfter: false,
 * which end in `_reset_before` (`gru.weight_ih_l0_reset_before`; see cells/pytorch.ts
 * RESET_BEFORE_TAG): version 1 stored them under nn.GRU's keys, which PyTorch loaded into a model
 * of other equations. Both versions are read; a version-1 file's keys are renamed on reading.
 */
import type { Tensor } from '../core/tensor.js';
import { shapeSize } from '../core/tensor-input.js';
import { checkObject, describe, isArray, ownValue, snapshot, typedArrayKind } from '../core/validate.js';
import { checkFloat32Bytes, currentMaxBytes, MAX_KEYS } from '../core/limits.js';
import { checkPartName, parseConfig, storedConfig, type PartConfig } from './registry.js';
import { loadSafetensors, loadSafetensorsMetadata, saveSafetensors } from './safetensors.js';
import { RESET_BEFORE_TAG } from '../cells/pytorch.js';

/** A float32 value in ModelJSON: a number, or one of the strings JSON needs for the others. */
export type JSONFloat = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';

/** A model as JSON-ready data: `JSON.stringify(saveModel(parts))`. See the module comment. */
export interface ModelJSON {
  format: 'recurrent-cells-model';
  /** 2 when written; 1 (files of 0.2.0 and before) is read as well. */
  version: 1 | 2;
  /** Each part's configuration, by part name. */
  parts: Record<string, PartConfig>;
  /** Every tensor, keyed `<part>.<state-dict key>`: row-major data of shape.reduce(×) values. */
  tensors: Record<string, { shape: number[]; data: JSONFloat[] }>;
  /** Your own strings, as given to saveModel (absent when none). */
  metadata?: Record<string, string>;
}

/** A saved model in memory: what the codecs write and read, checked in itself. */
export interface SavedModel {
  /** Each part's configuration (checked against its kind's schema), in file order. */
  parts: Map<string, PartConfig>;
  /** Every tensor by full key `<part>.<key>`, in file order; each key names a part of `parts`. */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

const FORMAT = 'recurrent-cells-model';
/** The version written. */
const VERSION = 2;
/** The versions read. */
const READ_VERSIONS: readonly number[] = [1, 2];

/** The safetensors `__metadata__` keys the format uses; a caller's metadata may not. */
export const RESERVED_METADATA: readonly string[] = ['format', 'version', 'parts'];

// ---------------------------------------------------------------- encoding

/** The model as ModelJSON; `metadata` (null: none) is stored as it is. */
export function encodeModelJSON(model: SavedModel, metadata: Record<string, string> | null): ModelJSON {
  const out: ModelJSON = { format: FORMAT, version: VERSION, parts: {}, tensors: {} };
  for (const [name, config] of model.parts) define(out.parts, name, storedConfig(config));
  for (const [key, t] of model.tensors) define(out.tensors, key, { shape: t.shape.slice(), data: encodeFloats(t.data) });
  if (metadata !== null) out.metadata = { ...metadata };
  return out;
}

/** The model as the bytes of a safetensors file; `metadata` (null: none) joins `__metadata__`. */
export function encodeModelSafetensors(model: SavedModel, metadata: Record<string, string> | null): Uint8Array {
  const configs: Record<string, PartConfig> = {};
  for (const [name, config] of model.parts) define(configs, name, storedConfig(config));
  const tensors: Record<string, Tensor> = {};
  for (const [key, t] of model.tensors) define(tensors, key, { dtype: 'float32', shape: t.shape, data: t.data });
  return saveSafetensors(tensors, {
    ...(metadata ?? {}), format: FORMAT, version: String(VERSION), parts: JSON.stringify(configs),
  });
}

// ---------------------------------------------------------------- decoding

/** Reads ModelJSON (or its JSON text), checking everything in it; throws naming what is wrong. */
export function decodeModelJSON(saved: unknown): SavedModel {
  let root: unknown = saved;
  if (typeof saved === 'string') {
    try {
      root = JSON.parse(saved);
    } catch (err) {
      throw new SyntaxError(`model: expected JSON text of a saved model, got ${describe(saved)} (${(err as Error).message})`);
    }
  }
  // Read once, own keys only: a ModelJSON object's getters run once, its prototype is ignored.
  const m = snapshot('model', root, ['format', 'version', 'parts', 'tensors']);
  const version = checkHeader(m.format, m.version, false);
  const parts = parseConfigs('model.parts', m.parts);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const t = checkObject('model.tensors', m.tensors);
  const keys = Object.keys(t);
  if (keys.length > MAX_KEYS) throw new RangeError(`model.tensors: expected at most ${MAX_KEYS} tensors, got ${keys.length}`);
  let elements = 0;
  for (const key of keys) {
    const where = `model.tensors["${key}"]`;
    checkTensorKey(key, parts);
    const o = snapshot(where, ownValue(t, key), ['shape', 'data']);
    const shape = o.shape;
    if (!isShape(shape)) throw new TypeError(`${where}.shape: expected an array of non-negative integers, got ${describe(shape)}`);
    const n = shapeSize(shape);
    elements += n;
    checkFloat32Bytes('model.tensors (all of them, decoded)', elements);
    tensors.set(key, { shape: shape.slice(), data: decodeFloats(`${where}.data`, o.data, n) });
  }
  return { parts, tensors: version === 1 ? renameVersion1(parts, tensors) : tensors };
}

/** Reads the bytes of a safetensors file written by encodeModelSafetensors, checking everything. */
export function decodeModelSafetensors(bytes: unknown): SavedModel {
  if (typedArrayKind(bytes) !== 'Uint8Array') throw new TypeError(`bytes: expected a Uint8Array, got ${describe(bytes)}`);
  const meta = loadSafetensorsMetadata(bytes as Uint8Array);
  const what = 'safetensors __metadata__';
  const version = checkHeader(meta.format, meta.version, true, what);
  let configs: unknown;
  try {
    configs = JSON.parse(meta.parts ?? '');
  } catch {
    throw new RangeError(`${what}.parts: expected the part configurations as JSON text, got ${describe(meta.parts)}`);
  }
  const parts = parseConfigs(`${what}.parts`, configs);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [key, t] of Object.entries(loadSafetensors(bytes as Uint8Array, { maxBytes: currentMaxBytes() }))) {
    checkTensorKey(key, parts);
    if (t.dtype !== 'float32') {
      throw new RangeError(`model.tensors["${key}"]: expected a float tensor (F32, F16, BF16 or F64), got dtype ${t.dtype}`);
    }
    tensors.set(key, { shape: t.shape, data: t.data });
  }
  return { parts, tensors: version === 1 ? renameVersion1(parts, tensors) : tensors };
}

/**
 * The format marker and the version (a number in JSON, a string in safetensors metadata, as
 * `asString` says); returns the version, one of READ_VERSIONS.
 */
function checkHeader(format: unknown, version: unknown, asString: boolean, what = 'model'): number {
  if (format !== FORMAT) {
    throw new RangeError(`${what}.format: expected "${FORMAT}", got ${describe(format)}`);
  }
  const found = READ_VERSIONS.find((v) => (asString ? String(v) : v) === version);
  if (found === undefined) {
    const list = READ_VERSIONS.map((v) => (asString ? `"${v}"` : String(v))).join(' or ');
    throw new RangeError(`${what}.version: expected ${list}, got ${describe(version)}`);
  }
  return found;
}

/** A version-1 file's tensors under version 2's keys: a resetAfter: false GRU's get their tag. */
function renameVersion1(
  parts: Map<string, PartConfig>, tensors: Map<string, { shape: number[]; data: Float32Array }>,
): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [key, t] of tensors) {
    const config = parts.get(key.slice(0, key.indexOf('.')))!;
    const tagged = (config.kind === 'GRU' || config.kind === 'GRUCell') && !config.resetAfter;
    out.set(tagged ? `${key}${RESET_BEFORE_TAG}` : key, t);
  }
  return out;
}

/** The `parts` object: at least one part, each name valid, each configuration valid. */
function parseConfigs(where: string, v: unknown): Map<string, PartConfig> {
  const o = checkObject(where, v);
  const out = new Map<string, PartConfig>();
  const names = Object.keys(o);
  if (names.length > MAX_KEYS) throw new RangeError(`${where}: expected at most ${MAX_KEYS} parts, got ${names.length}`);
  for (const name of names) {
    checkPartName(where, name);
    out.set(name, parseConfig(`${where}.${name}`, ownValue(o, name)));
  }
  if (out.size === 0) throw new RangeError(`${where}: expected at least one part, got none`);
  return out;
}

/** A saved tensor key must be `<saved part>.<key>`. */
function checkTensorKey(key: string, parts: Map<string, PartConfig>): void {
  const dot = key.indexOf('.');
  if (dot <= 0 || !parts.has(key.slice(0, dot))) {
    throw new RangeError(`model.tensors: key "${key}" belongs to no saved part; expected "<part>.<key>" with a part of ${
      [...parts.keys()].map((n) => `"${n}"`).join(', ')}`);
  }
}

// ---------------------------------------------------------------- JSON floats

/** Float32 values as JSON-safe values: numbers, and strings for NaN, ±Infinity and −0. */
function encodeFloats(a: Float32Array): JSONFloat[] {
  const out = new Array<JSONFloat>(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    out[i] = Number.isFinite(v) ? (v === 0 && 1 / v < 0 ? '-0' : v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  }
  return out;
}

const SPECIAL: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

/** The inverse of encodeFloats; checks every element and the count. */
function decodeFloats(where: string, v: unknown, n: number): Float32Array {
  if (!isArray(v)) throw new TypeError(`${where}: expected an array of numbers, got ${describe(v)}`);
  const len = v.length;
  if (len !== n) throw new RangeError(`${where}: expected ${n} values (the shape's), got ${len}`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x: unknown = v[i];
    if (typeof x === 'number') {
      // Finite and within float32's range: 1e40 would load as Infinity, which only the literal
      // strings may stand for.
      if (!Number.isFinite(x) || !Number.isFinite(Math.fround(x))) {
        throw new RangeError(`${where}[${i}]: expected a number within float32 range (|x| <= 3.4028234663852886e38) or one of "NaN", "Infinity", "-Infinity", "-0", got ${x}`);
      }
      out[i] = x;
    } else if (typeof x === 'string' && Object.prototype.hasOwnProperty.call(SPECIAL, x)) out[i] = SPECIAL[x]!;
    else throw new TypeError(`${where}[${i}]: expected a number or one of "NaN", "Infinity", "-Infinity", "-0", got ${describe(x)}`);
  }
  return out;
}

// ---------------------------------------------------------------- small helpers

/** Whether v is an array of safe non-negative integers. */
export function isShape(v: unknown): v is number[] {
  return isArray(v) && v.every((d) => Number.isSafeInteger(d) && (d as number) >= 0);
}

/** Sets an own enumerable property (safe for any key, `__proto__` included). */
export function define<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
