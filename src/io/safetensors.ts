/**
 * Reading and writing the safetensors format (huggingface/safetensors), in Node and browsers alike:
 *
 *   8 bytes   N, the header length, an unsigned little-endian 64-bit integer
 *   N bytes   UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] },
 *                           ..., "__metadata__": { "<key>": "<string>" } }
 *   the rest  the byte buffer; data_offsets are relative to its start, end exclusive
 *
 * Writing makes little-endian data, the header space-padded to a multiple of 8 bytes and the
 * tensors contiguous in name order, as the reference implementation does. Reading checks the whole
 * header against the file before copying anything.
 *
 * dtypes (file ↔ JavaScript): the float ones F32, F16, BF16, F64, F8_E4M3 and F8_E5M2 are read as
 * float32 (all exactly but F64, which is rounded; a finite F64 past float32's range is an error),
 * what every layer here takes; the integer ones into their own
 * arrays: I64 ↔ BigInt64Array (int64), U64 ↔ BigUint64Array (uint64), I32 ↔ Int32Array, U32 ↔
 * Uint32Array, I16 ↔ Int16Array, U16 ↔ Uint16Array, I8 ↔ Int8Array, U8 ↔ Uint8Array, BOOL ↔
 * Uint8Array of 0s and 1s (bool; another byte is an error). Written: float32 as F32, float64 as
 * F64, and each integer dtype and bool as itself. Newer sub-byte and scale dtypes (F4, F6_…,
 * F8_E8M0) throw, naming the tensor.
 */
import type { AnyTensor, Dtype, DtypeArrays } from '../core/tensor.js';
import { describe, isArray, isRevoked, ownValue, snapshot, typedArrayKind, typedLength } from '../core/validate.js';
import { MAX_KEYS, readMaxBytes } from '../core/limits.js';

/** A file that does not follow the format; the message names the tensor and the numbers involved. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

/** The reference implementation's limit on the header length, in bytes. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

/** Bytes per element of each file dtype read, and the dtype it is read as. */
const FILE_DTYPES = {
  F32: [4, 'float32'], F16: [2, 'float32'], BF16: [2, 'float32'], F64: [8, 'float32'],
  F8_E4M3: [1, 'float32'], F8_E5M2: [1, 'float32'],
  I64: [8, 'int64'], U64: [8, 'uint64'], I32: [4, 'int32'], U32: [4, 'uint32'],
  I16: [2, 'int16'], U16: [2, 'uint16'], I8: [1, 'int8'], U8: [1, 'uint8'], BOOL: [1, 'bool'],
} as const;
type FileDtype = keyof typeof FILE_DTYPES;
const SUPPORTED = Object.keys(FILE_DTYPES).join(', ');

/** The file dtype each dtype is written as, and the typed array class that holds it. */
const WRITTEN: { readonly [D in Dtype]: readonly [FileDtype, new (n: number) => DtypeArrays[D]] } = {
  float32: ['F32', Float32Array], float64: ['F64', Float64Array], int64: ['I64', BigInt64Array],
  uint64: ['U64', BigUint64Array], int32: ['I32', Int32Array], uint32: ['U32', Uint32Array],
  int16: ['I16', Int16Array], uint16: ['U16', Uint16Array], int8: ['I8', Int8Array], uint8: ['U8', Uint8Array],
  bool: ['BOOL', Uint8Array],
};

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

interface Entry {
  name: string;
  dtype: FileDtype;
  shape: number[];
  begin: number;
  end: number;
}

interface Header {
  entries: Entry[];
  metadata: Record<string, string>;
  /** Where the byte buffer starts, relative to the start of the file. */
  dataStart: number;
}

/**
 * Serializes tensors (and optional string metadata) to the bytes of a .safetensors file, each
 * under its dtype (float32 as F32, int64 as I64, …; see the module comment), e.g.
 * `{ weight_ih_l0: tensor([16, 3], new Float32Array(48)), labels: tensor([4], BigInt64Array.of(0n, 2n, 1n, 1n)) }`.
 * A shape of [] is a scalar (1 element), a shape with a 0 holds no data. Throws TypeError/RangeError
 * on an invalid argument (a dtype with data of another array class, a bool that is not 0 or 1).
 */
export function saveSafetensors(tensors: Record<string, AnyTensor>, metadata?: Record<string, string>): Uint8Array {
  const checked = checkTensors(tensors);
  const names = [...checked.keys()].sort();
  const meta = checkMetadataArg(metadata);

  const parts: string[] = [];
  if (Object.keys(meta).length > 0) parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(meta)}`);
  let offset = 0;
  for (const name of names) {
    const t = checked.get(name)!;
    const end = offset + t.data.byteLength;
    const info = { dtype: WRITTEN[t.dtype][0], shape: t.shape, data_offsets: [offset, end] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;

  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const name of names) {
    const data = checked.get(name)!.data;
    copyLittleEndian(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), out.subarray(at), data.BYTES_PER_ELEMENT);
    at += data.byteLength;
  }
  return out;
}

/**
 * Reads every tensor of a .safetensors file: `{ name: { dtype, shape, data } }`, data a fresh
 * typed array of shape.reduce(×) elements owned by the caller. The float dtypes come back as
 * float32 (F16 and BF16 exactly, F64 rounded to the nearest float32; a finite F64 past float32's range throws), the integer ones in their
 * own arrays (I64 as a BigInt64Array, BOOL as a Uint8Array of 0/1, …; see the module comment), so
 * check `dtype` before using `data`. `bytes` may be any Uint8Array view, e.g. a Node Buffer.
 * Throws SafetensorsError for a file that breaks the format, or whose tensors would take more
 * than `options.maxBytes` once decoded (default 1 GiB, DEFAULT_MAX_BYTES).
 *
 * The layers' loaders (`fromPyTorch`, `loadStateDict`) take the whole result: with `{ prefix }`
 * they read only their own keys, so tensors of other dtypes elsewhere in the file are ignored.
 */
export function loadSafetensors(bytes: Uint8Array, options: { maxBytes?: number } = {}): Record<string, AnyTensor> {
  const maxBytes = readMaxBytes('options.maxBytes', snapshot('options', options, ['maxBytes']).maxBytes);
  const header = parseHeader(bytes);
  // The arrays the file decodes to (F16/BF16 to float32 double in size), checked before any is made.
  let decoded = 0;
  for (const e of header.entries) {
    const [size, dtype] = FILE_DTYPES[e.dtype];
    decoded += ((e.end - e.begin) / size) * WRITTEN[dtype][1].prototype.BYTES_PER_ELEMENT;
  }
  if (decoded > maxBytes) fail(`safetensors file: expected tensors of at most maxBytes = ${maxBytes} bytes decoded, got ${decoded} bytes`);
  const result: Record<string, AnyTensor> = {};
  for (const e of header.entries) {
    const src = bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end);
    const tensor = { dtype: FILE_DTYPES[e.dtype][1], shape: e.shape, data: decode(e, src) } as AnyTensor;
    // defineProperty, so that a tensor named "__proto__" is an own key and not the prototype.
    Object.defineProperty(result, e.name, { value: tensor, enumerable: true, writable: true, configurable: true });
  }
  return result;
}

/**
 * The `__metadata__` block of a .safetensors file (string → string), {} when absent. Checks the
 * whole header as loadSafetensors does, without copying tensor data.
 */
export function loadSafetensorsMetadata(bytes: Uint8Array): Record<string, string> {
  return parseHeader(bytes).metadata;
}

// ---------------------------------------------------------------- reading

function fail(message: string): never {
  throw new SafetensorsError(message);
}

/** Reads and checks the header: every entry, its size, and that the tensors tile the byte buffer. */
function parseHeader(bytes: Uint8Array): Header {
  if (typedArrayKind(bytes) !== 'Uint8Array') {
    throw new TypeError(`bytes: expected a Uint8Array, got ${given(bytes)}`);
  }
  if (bytes.length < 8) fail(`safetensors file: expected at least 8 bytes (the header length), got ${bytes.length}`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    fail(`safetensors header length: expected at most ${MAX_HEADER_BYTES} bytes, got ${n}`);
  }
  if (n > BigInt(bytes.length - 8)) {
    fail(`safetensors header length: expected at most ${bytes.length - 8} (the bytes after the 8-byte length), got ${n}`);
  }
  const dataStart = 8 + Number(n);
  const bufferLength = bytes.length - dataStart;
  const root = parseJson(bytes.subarray(8, dataStart));

  const entries: Entry[] = [];
  let metadata: Record<string, string> = {};
  const names = Object.keys(root);
  if (names.length > MAX_KEYS) fail(`safetensors header: expected at most ${MAX_KEYS} entries, got ${names.length}`);
  for (const name of names) {
    const value = root[name];
    if (name === METADATA_KEY) metadata = checkMetadata(value);
    else entries.push(checkEntry(name, value, bufferLength));
  }
  checkLayout(entries, bufferLength);
  return { entries, metadata, dataStart };
}

function parseJson(headerBytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    return fail(`safetensors header: expected UTF-8 text, got invalid UTF-8 in its ${headerBytes.length} bytes`);
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    return fail(`safetensors header: expected JSON, got ${show(text)} (${(err as Error).message})`);
  }
  if (!isPlainObject(root)) fail(`safetensors header: expected a JSON object, got ${show(root)}`);
  return root;
}

function checkEntry(name: string, value: unknown, bufferLength: number): Entry {
  const key = `tensor ${JSON.stringify(name)}`;
  if (!isPlainObject(value)) fail(`${key}: expected an object {dtype, shape, data_offsets}, got ${show(value)}`);
  const { dtype, shape, data_offsets: offsets } = value;
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!Object.prototype.hasOwnProperty.call(value, field)) fail(`${key}: expected a field "${field}", got only ${show(Object.keys(value))}`);
  }
  if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(FILE_DTYPES, dtype)) {
    fail(`${key}.dtype: expected one of the supported dtypes ${SUPPORTED}, got ${show(dtype)}`);
  }
  if (!isShape(shape)) {
    fail(`${key}.shape: expected an array of non-negative integers, got ${show(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    fail(`${key}.data_offsets: expected two non-negative integers [begin, end], got ${show(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`${key}.data_offsets: expected begin <= end, got [${begin}, ${end}]`);
  if (end > bufferLength) {
    fail(`${key}.data_offsets: expected end <= ${bufferLength} (the byte buffer length), got [${begin}, ${end}]`);
  }
  const size = FILE_DTYPES[dtype as FileDtype][0];
  const count = shape.reduce((a, b) => a * b, 1);
  if (count * size !== end - begin) {
    fail(`${key}: expected ${count * size} bytes (shape ${show(shape)} = ${count} elements × ${size} bytes of ${dtype}), ` +
      `got ${end - begin} (data_offsets [${begin}, ${end}])`);
  }
  return { name, dtype: dtype as FileDtype, shape: [...shape], begin, end };
}

/** The spec's rule: tensors cover the byte buffer exactly, without overlaps or holes. */
function checkLayout(entries: Entry[], bufferLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < covered) {
      fail(`tensor ${JSON.stringify(e.name)}.data_offsets: expected no overlap with tensor ${JSON.stringify(previous!.name)} ` +
        `[${previous!.begin}, ${previous!.end}], got [${e.begin}, ${e.end}]`);
    }
    if (e.begin > covered) {
      fail(`safetensors byte buffer: expected every byte to belong to a tensor, got a hole at bytes [${covered}, ${e.begin}) ` +
        `before tensor ${JSON.stringify(e.name)}`);
    }
    covered = e.end;
    previous = e;
  }
  if (covered < bufferLength) {
    fail(`safetensors byte buffer: expected every byte to belong to a tensor, got a hole at bytes [${covered}, ${bufferLength}) ` +
      `after the last tensor`);
  }
}

/** The `__metadata__` block; null reads as absent, as in the reference implementation. */
function checkMetadata(value: unknown): Record<string, string> {
  if (value === null) return {};
  if (!isPlainObject(value)) fail(`${METADATA_KEY}: expected an object of string values, got ${show(value)}`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`${METADATA_KEY}[${JSON.stringify(k)}]: expected a string, got ${show(v)}`);
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Converts the little-endian bytes of one tensor to a fresh typed array of its dtype. */
function decode(e: Entry, src: Uint8Array): DtypeArrays[Dtype] {
  const [size, dtype] = FILE_DTYPES[e.dtype];
  const n = src.length / size;
  if (dtype !== 'float32' || e.dtype === 'F32') {
    // A byte copy into the dtype's own array: the source may be misaligned, and it keeps NaN
    // payloads bit for bit.
    const out = new WRITTEN[dtype][1](n);
    copyLittleEndian(src, new Uint8Array(out.buffer), size);
    if (dtype === 'bool') {
      const bad = (out as Uint8Array).findIndex((v) => v > 1);
      if (bad >= 0) fail(`tensor ${JSON.stringify(e.name)}: expected BOOL bytes 0 or 1, got ${(out as Uint8Array)[bad]} at element ${bad}`);
    }
    return out;
  }
  const out = new Float32Array(n);
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const bits = new Uint32Array(out.buffer);
  switch (e.dtype) {
    case 'F64':
      for (let i = 0; i < n; i++) {
        const x = view.getFloat64(i * 8, true);
        out[i] = x;
        // A finite value past float32's range would round to ±Infinity: refused, not altered.
        if ((out[i] === Infinity || out[i] === -Infinity) && x !== out[i]) {
          fail(`tensor ${JSON.stringify(e.name)}: expected F64 values within float32's range (|x| ≤ 3.4028234663852886e38) or ±Infinity, got ${x} at element ${i}`);
        }
      }
      break;
    case 'BF16':
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      break;
    case 'F16':
      for (let i = 0; i < n; i++) bits[i] = f16ToF32Bits(view.getUint16(i * 2, true));
      break;
    case 'F8_E5M2':
      // E5M2 is the high byte of an IEEE half (same exponent, 2 of its 10 mantissa bits).
      for (let i = 0; i < n; i++) bits[i] = f16ToF32Bits(src[i]! << 8);
      break;
    case 'F8_E4M3':
      for (let i = 0; i < n; i++) out[i] = e4m3ToNumber(src[i]!);
      break;
  }
  return out;
}

/**
 * An F8_E4M3 byte (the "fn" form of the OCP 8-bit float spec, as PyTorch's float8_e4m3fn):
 * sign, 4 exponent bits (bias 7), 3 mantissa bits; no infinities, and S.1111.111 is NaN.
 */
function e4m3ToNumber(b: number): number {
  const sign = b & 0x80 ? -1 : 1, exp = (b >> 3) & 0xf, mant = b & 7;
  if (exp === 0xf && mant === 7) return NaN;
  return sign * (exp === 0 ? mant * 2 ** -9 : (1 + mant / 8) * 2 ** (exp - 7));
}

/** The float32 bit pattern of an IEEE half: exact, with subnormals, ±inf and NaN payloads. */
function f16ToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal half: mant × 2^-24. Shift the leading 1 into the implicit bit.
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

/** Copies `size`-byte words into `dst`, swapping their bytes unless the host is little-endian. */
function copyLittleEndian(src: Uint8Array, dst: Uint8Array, size: number): void {
  if (LITTLE_ENDIAN_HOST || size === 1) {
    dst.set(src);
    return;
  }
  for (let i = 0; i < src.length; i += size) {
    for (let j = 0; j < size; j++) dst[i + j] = src[i + size - 1 - j]!;
  }
}

// ---------------------------------------------------------------- argument checks (save)

/**
 * Throws unless every entry is a valid tensor (its data of its dtype's array class); returns them
 * read once (own keys; data by brand, so a Proxy of a typed array is none), so the bytes written
 * are the ones checked.
 */
function checkTensors(tensors: unknown): Map<string, { dtype: Dtype; shape: number[]; data: DtypeArrays[Dtype] }> {
  if (!isPlainObject(tensors)) throw new TypeError(`tensors: expected an object of Tensors, got ${given(tensors)}`);
  const out = new Map<string, { dtype: Dtype; shape: number[]; data: DtypeArrays[Dtype] }>();
  for (const name of Object.keys(tensors)) {
    const key = `tensors[${JSON.stringify(name)}]`;
    if (name === '') throw new TypeError(`${key}: expected a non-empty tensor name, got ""`);
    if (name === METADATA_KEY) throw new TypeError(`${key}: expected a tensor name, got the reserved key "${METADATA_KEY}"`);
    const value = ownValue(tensors, name);
    if (!isPlainObject(value)) throw new TypeError(`${key}: expected a Tensor {dtype, shape, data}, got ${given(value)}`);
    const t = snapshot(key, value, ['dtype', 'shape', 'data']);
    const dtype = t.dtype;
    if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(WRITTEN, dtype)) {
      throw new TypeError(`${key}.dtype: expected one of ${Object.keys(WRITTEN).map((d) => `"${d}"`).join(', ')}, got ${given(dtype)}`);
    }
    if (!isShape(t.shape)) {
      throw new RangeError(`${key}.shape: expected an array of non-negative integers, got ${show(t.shape)}`);
    }
    const cls = WRITTEN[dtype as Dtype][1];
    if (typedArrayKind(t.data) !== cls.name) {
      throw new TypeError(`${key}.data: expected a ${cls.name} (dtype "${dtype}"), got ${given(t.data)}`);
    }
    const data = t.data as DtypeArrays[Dtype], shape = [...t.shape], len = typedLength(data);
    if (dtype === 'bool') {
      const bad = (data as Uint8Array).findIndex((v) => v > 1);
      if (bad >= 0) throw new RangeError(`${key}.data[${bad}]: expected 0 or 1 (dtype "bool"), got ${(data as Uint8Array)[bad]}`);
    }
    const count = shape.reduce((a, b) => a * b, 1);
    if (len !== count) {
      throw new RangeError(`${key}.data: expected length ${count} (shape ${show(shape)}), got ${len}`);
    }
    out.set(name, { dtype: dtype as Dtype, shape, data });
  }
  return out;
}

function checkMetadataArg(metadata: unknown): Record<string, string> {
  if (metadata === undefined) return {};
  if (!isPlainObject(metadata)) throw new TypeError(`metadata: expected an object of strings, got ${given(metadata)}`);
  const out: Record<string, string> = {};
  for (const k of Object.keys(metadata)) {
    const v = ownValue(metadata, k);   // read once
    if (typeof v !== 'string') throw new TypeError(`metadata[${JSON.stringify(k)}]: expected a string, got ${given(v)}`);
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

// ---------------------------------------------------------------- small helpers

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !isArray(v) && !ArrayBuffer.isView(v) && !isRevoked(v);
}

/** A non-negative integer that a double holds exactly. */
function isCount(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

/** An array of non-negative integers, without holes. */
function isShape(v: unknown): v is number[] {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!isCount(v[i])) return false;
  return true;
}

/** A value as JSON, as it appears in the header, cut to a readable length. */
function show(v: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    // a BigInt or a cycle, only possible in an argument of save
  }
  if (s === undefined) return describe(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/** A JavaScript argument, described: `Float64Array(6)`, `ArrayBuffer(16)`, `null`. */
function given(v: unknown): string {
  if (typeof v === 'object' && v !== null && !isRevoked(v) && v instanceof ArrayBuffer) return `ArrayBuffer(${v.byteLength})`;
  return describe(v);
}
