/**
 * Reading and writing the safetensors format (huggingface/safetensors), in Node and browsers alike:
 *
 *   8 bytes   N, the header length, an unsigned little-endian 64-bit integer
 *   N bytes   UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] },
 *                           ..., "__metadata__": { "<key>": "<string>" } }
 *   the rest  the byte buffer; data_offsets are relative to its start, end exclusive
 *
 * Writing makes F32 little-endian, the header space-padded to a multiple of 8 bytes and the tensors
 * contiguous in name order, as the reference implementation does. Reading takes F32, F16, BF16 and
 * F64 (converted to float32) and checks the whole header against the file before copying anything.
 */
import type { Tensor } from '../core/tensor.js';
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

/** Bytes per element of each dtype read; everything is returned as float32. */
const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2, F64: 8 } as const;
type Dtype = keyof typeof DTYPE_BYTES;
const SUPPORTED = Object.keys(DTYPE_BYTES).join(', ');

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

interface Entry {
  name: string;
  dtype: Dtype;
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
 * Serializes float32 tensors (and optional string metadata) to the bytes of a .safetensors file.
 * The file holds each tensor as dtype F32 with its shape, e.g. `{ 'weight_ih_l0': { dtype:
 * 'float32', shape: [16, 3], data: Float32Array(48) } }`; a shape of [] is a scalar (1 element),
 * a shape with a 0 holds no data. Throws TypeError/RangeError on an invalid argument.
 */
export function saveSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const checked = checkTensors(tensors);
  const names = [...checked.keys()].sort();
  const meta = checkMetadataArg(metadata);

  const parts: string[] = [];
  if (Object.keys(meta).length > 0) parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(meta)}`);
  let offset = 0;
  for (const name of names) {
    const t = checked.get(name)!;
    const end = offset + t.data.length * 4;
    const info = { dtype: 'F32', shape: t.shape, data_offsets: [offset, end] };
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
    copyLittleEndian32(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), out.subarray(at));
    at += data.byteLength;
  }
  return out;
}

/**
 * Reads every tensor of a .safetensors file as float32: `{ name: { dtype: 'float32', shape,
 * data } }`, data a fresh Float32Array of shape.reduce(×) elements owned by the caller. F16 and
 * BF16 convert exactly; F64 rounds to the nearest float32. `bytes` may be any Uint8Array view,
 * e.g. a Node Buffer. Throws SafetensorsError for a file that breaks the format, or whose tensors
 * would take more than `options.maxBytes` as float32 (default 1 GiB, DEFAULT_MAX_BYTES).
 */
export function loadSafetensors(bytes: Uint8Array, options: { maxBytes?: number } = {}): Record<string, Tensor> {
  const maxBytes = readMaxBytes('options.maxBytes', snapshot('options', options, ['maxBytes']).maxBytes);
  const header = parseHeader(bytes);
  // The float32 copies the file decodes to (F16/BF16 double in size), checked before any is made.
  let elements = 0;
  for (const e of header.entries) elements += (e.end - e.begin) / DTYPE_BYTES[e.dtype];
  if (4 * elements > maxBytes) {
    fail(`safetensors file: expected tensors of at most maxBytes = ${maxBytes} bytes as float32, got ${4 * elements} bytes`);
  }
  const result: Record<string, Tensor> = {};
  for (const e of header.entries) {
    const src = bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end);
    const tensor: Tensor = { dtype: 'float32', shape: e.shape, data: decode(e.dtype, src) };
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
  if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype)) {
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
  const size = DTYPE_BYTES[dtype as Dtype];
  const count = shape.reduce((a, b) => a * b, 1);
  if (count * size !== end - begin) {
    fail(`${key}: expected ${count * size} bytes (shape ${show(shape)} = ${count} elements × ${size} bytes of ${dtype}), ` +
      `got ${end - begin} (data_offsets [${begin}, ${end}])`);
  }
  return { name, dtype: dtype as Dtype, shape: [...shape], begin, end };
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

/** Converts the little-endian bytes of one tensor to a fresh Float32Array. */
function decode(dtype: Dtype, src: Uint8Array): Float32Array {
  const out = new Float32Array(src.length / DTYPE_BYTES[dtype]);
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const bits = new Uint32Array(out.buffer);
  switch (dtype) {
    case 'F32':
      // A byte copy: the source may be misaligned, and it keeps NaN payloads bit for bit.
      copyLittleEndian32(src, new Uint8Array(out.buffer));
      break;
    case 'F64':
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'BF16':
      for (let i = 0; i < out.length; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      break;
    case 'F16':
      for (let i = 0; i < out.length; i++) bits[i] = f16ToF32Bits(view.getUint16(i * 2, true));
      break;
  }
  return out;
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

/** Copies 4-byte words into `dst` as little-endian, whatever the host's byte order. */
function copyLittleEndian32(src: Uint8Array, dst: Uint8Array): void {
  if (LITTLE_ENDIAN_HOST) {
    dst.set(src);
    return;
  }
  for (let i = 0; i < src.length; i += 4) {
    dst[i] = src[i + 3]!;
    dst[i + 1] = src[i + 2]!;
    dst[i + 2] = src[i + 1]!;
    dst[i + 3] = src[i]!;
  }
}

// ---------------------------------------------------------------- argument checks (save)

/**
 * Throws unless every entry is a valid float32 Tensor; returns them read once (own keys, data by
 * brand: a Proxy of a Float32Array is not one), so the bytes written are the ones checked.
 */
function checkTensors(tensors: unknown): Map<string, { shape: number[]; data: Float32Array }> {
  if (!isPlainObject(tensors)) throw new TypeError(`tensors: expected an object of Tensors, got ${given(tensors)}`);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const name of Object.keys(tensors)) {
    const key = `tensors[${JSON.stringify(name)}]`;
    if (name === '') throw new TypeError(`${key}: expected a non-empty tensor name, got ""`);
    if (name === METADATA_KEY) throw new TypeError(`${key}: expected a tensor name, got the reserved key "${METADATA_KEY}"`);
    const value = ownValue(tensors, name);
    if (!isPlainObject(value)) throw new TypeError(`${key}: expected a Tensor {dtype, shape, data}, got ${given(value)}`);
    const t = snapshot(key, value, ['dtype', 'shape', 'data']);
    if (t.dtype !== 'float32') throw new TypeError(`${key}.dtype: expected "float32", got ${given(t.dtype)}`);
    if (!isShape(t.shape)) {
      throw new RangeError(`${key}.shape: expected an array of non-negative integers, got ${show(t.shape)}`);
    }
    if (typedArrayKind(t.data) !== 'Float32Array') throw new TypeError(`${key}.data: expected a Float32Array, got ${given(t.data)}`);
    const data = t.data as Float32Array, shape = [...t.shape];
    const count = shape.reduce((a, b) => a * b, 1);
    if (typedLength(data) !== count) {
      throw new RangeError(`${key}.data: expected length ${count} (shape ${show(shape)}), got ${typedLength(data)}`);
    }
    out.set(name, { shape, data });
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
