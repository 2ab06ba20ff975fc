/**
 * Protocol buffers' wire format, the subset ONNX files use, by hand (no dependency).
 *
 *   message  = field*            field = key payload          key = varint (fieldNumber << 3 | wireType)
 *   wireType 0 varint (≤ 10 bytes, 7 bits each, little-endian groups)
 *            1 fixed64 (8 bytes)   2 length-delimited (varint length, then the bytes)   5 fixed32 (4 bytes)
 *
 * The reader is for untrusted files: every length is checked against the bytes that remain before
 * anything is sliced or allocated, varints longer than 10 bytes or beyond the safe-integer range
 * are refused, and nested messages are decoded with a depth limit. Every failure is an ONNXError
 * naming the field, what was expected and what was found.
 */

/** A file (or byte buffer) that is not a well-formed ONNX model, or one this library cannot carry. */
export class ONNXError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ONNXError';
  }
}

/** Protobuf's wire types. */
export const WIRE = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

/** Deepest nesting of messages the reader decodes (ModelProto → GraphProto → … → subgraphs). */
export const MAX_DEPTH = 32;

/**
 * Most fields one message may hold (2^24): the reader keeps a small record per field, so this
 * bounds its memory whatever the file claims. ONNX writers store tensors as one raw_data field.
 */
export const MAX_FIELDS = 2 ** 24;

/** One field of a message as found on the wire: a view of its bytes, decoded on demand. */
export interface WireField {
  /** The field number. */
  readonly no: number;
  /** The wire type (0, 1, 2 or 5). */
  readonly wire: number;
  /** Offset of the payload (the varint, the fixed bytes, or the length-delimited bytes). */
  readonly start: number;
  /** End of the payload, exclusive. */
  readonly end: number;
}

/**
 * A varint at `pos` (within [pos, limit)): its value and the offset after it. Values up to
 * 2^53 − 1 are read exactly; 10-byte varints with the top bit set (negative int64) are read as
 * negative numbers when they fit a safe integer. Anything else throws.
 */
export function readVarint(bytes: Uint8Array, pos: number, limit: number, what: string): { value: number; next: number } {
  let lo = 0, hi = 0, shift = 0, p = pos;
  // lo holds bits 0..27 (4 groups), hi the rest, so that no intermediate exceeds 2^53.
  for (let k = 0; ; k++) {
    if (k >= 10) throw new ONNXError(`${what}: expected a varint of at most 10 bytes, got more at offset ${pos}`);
    if (p >= limit) throw new ONNXError(`${what}: expected a varint at offset ${pos}, got the end of the data`);
    const b = bytes[p++]!;
    if (k < 4) lo += (b & 0x7f) * 2 ** shift;
    else hi += (b & 0x7f) * 2 ** (shift - 28);
    shift += 7;
    if ((b & 0x80) === 0) {
      if (k === 9 && b > 1) throw new ONNXError(`${what}: varint at offset ${pos} overflows 64 bits`);
      break;
    }
  }
  // value = hi·2^28 + lo, hi < 2^36.
  if (hi >= 2 ** 35) {
    // Bit 63 set: a negative int64, value − 2^64 = −(2^64 − value).
    const neg = (2 ** 36 - hi) * 2 ** 28 - lo;
    if (neg > Number.MAX_SAFE_INTEGER) throw new ONNXError(`${what}: varint at offset ${pos} is a negative value beyond the safe-integer range`);
    return { value: -neg, next: p };
  }
  if (hi >= 2 ** 25) throw new ONNXError(`${what}: varint at offset ${pos} exceeds the safe-integer range (2^53 − 1)`);
  return { value: hi * 2 ** 28 + lo, next: p };
}

/**
 * The fields of the message in bytes[start, end), in order, each checked to lie within it.
 * `depth` is the nesting depth of this message; past MAX_DEPTH it throws, and past `maxFields`
 * fields (MAX_FIELDS) too.
 */
export function readFields(
  bytes: Uint8Array, start: number, end: number, what: string, depth: number, maxFields = MAX_FIELDS,
): WireField[] {
  if (depth > MAX_DEPTH) throw new ONNXError(`${what}: expected messages nested at most ${MAX_DEPTH} deep, got deeper`);
  const out: WireField[] = [];
  let p = start;
  while (p < end) {
    if (out.length >= maxFields) throw new ONNXError(`${what}: expected at most ${maxFields} fields in one message, got more`);
    const key = readVarint(bytes, p, end, `${what}: field key`);
    const no = Math.floor(key.value / 8), wire = key.value % 8;
    if (key.value < 0 || no < 1 || no > 536_870_911) throw new ONNXError(`${what}: expected a field number in 1…2^29−1 at offset ${p}, got ${no}`);
    p = key.next;
    if (wire === WIRE.VARINT) {
      const v = readVarint(bytes, p, end, `${what}: field ${no}`);
      out.push({ no, wire, start: p, end: v.next });
      p = v.next;
    } else if (wire === WIRE.I64 || wire === WIRE.I32) {
      const n = wire === WIRE.I64 ? 8 : 4;
      if (end - p < n) throw new ONNXError(`${what}: field ${no} expected ${n} bytes at offset ${p}, got ${end - p}`);
      out.push({ no, wire, start: p, end: p + n });
      p += n;
    } else if (wire === WIRE.LEN) {
      const len = readVarint(bytes, p, end, `${what}: field ${no} length`);
      if (len.value < 0 || len.value > end - len.next) {
        throw new ONNXError(`${what}: field ${no} declares ${len.value} bytes at offset ${p}, but only ${end - len.next} remain`);
      }
      out.push({ no, wire, start: len.next, end: len.next + len.value });
      p = len.next + len.value;
    } else {
      throw new ONNXError(`${what}: field ${no} has wire type ${wire} at offset ${p}; expected 0, 1, 2 or 5 (groups are not used by ONNX)`);
    }
  }
  return out;
}

/** Throws unless the field has the wire type expected of it. */
export function expectWire(f: WireField, wire: number, what: string): void {
  if (f.wire !== wire) throw new ONNXError(`${what}: expected wire type ${wire} for field ${f.no}, got ${f.wire}`);
}

/** The integer value of a varint field. */
export function fieldInt(bytes: Uint8Array, f: WireField, what: string): number {
  expectWire(f, WIRE.VARINT, what);
  return readVarint(bytes, f.start, f.end, what).value;
}

/** The UTF-8 string of a length-delimited field (malformed UTF-8 throws). */
export function fieldString(bytes: Uint8Array, f: WireField, what: string): string {
  expectWire(f, WIRE.LEN, what);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(f.start, f.end));
  } catch {
    throw new ONNXError(`${what}: expected UTF-8 text, got malformed bytes at offset ${f.start}`);
  }
}

/** The float of a fixed32 field. */
export function fieldFloat(bytes: Uint8Array, f: WireField, what: string): number {
  expectWire(f, WIRE.I32, what);
  return new DataView(bytes.buffer, bytes.byteOffset + f.start, 4).getFloat32(0, true);
}

/**
 * The integers of a repeated varint field: one field (unpacked) or a packed run (wire type 2).
 * Appends to `out`; at most `limit` values in all.
 */
export function appendInts(bytes: Uint8Array, f: WireField, out: number[], what: string, limit: number): void {
  if (f.wire === WIRE.VARINT) {
    if (out.length >= limit) throw new ONNXError(`${what}: expected at most ${limit} values, got more`);
    out.push(readVarint(bytes, f.start, f.end, what).value);
    return;
  }
  expectWire(f, WIRE.LEN, what);
  for (let p = f.start; p < f.end;) {
    if (out.length >= limit) throw new ONNXError(`${what}: expected at most ${limit} values, got more`);
    const v = readVarint(bytes, p, f.end, what);
    out.push(v.value);
    p = v.next;
  }
}

// ---- Writer ----

/** Builds one message; nested messages are built by their own writer and added as bytes. */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private size = 0;

  private flush(): void {
    if (this.scratch.length === 0) return;
    this.chunks.push(Uint8Array.from(this.scratch));
    this.size += this.scratch.length;
    this.scratch = [];
  }

  private varint(v: number): void {
    if (!Number.isSafeInteger(v)) throw new RangeError(`protobuf: expected a safe integer, got ${v}`);
    if (v < 0) {
      // Two's complement over 64 bits, 10 bytes: low 28 bits, then the rest of (2^64 + v).
      const mag = -v;
      let lo = (2 ** 28 - (mag % 2 ** 28)) % 2 ** 28;
      let hi = 2 ** 36 - Math.floor(mag / 2 ** 28) - (lo === 0 ? 0 : 1);
      for (let k = 0; k < 4; k++) { this.scratch.push((lo & 0x7f) | 0x80); lo = Math.floor(lo / 128); }
      for (let k = 0; k < 6; k++) { const b = hi % 128; hi = Math.floor(hi / 128); this.scratch.push(k === 5 ? b : b | 0x80); }
      return;
    }
    while (v >= 0x80) { this.scratch.push((v % 128) | 0x80); v = Math.floor(v / 128); }
    this.scratch.push(v);
  }

  private key(no: number, wire: number): void { this.varint(no * 8 + wire); }

  /** A varint field (int32, int64, enum). */
  int(no: number, v: number): this { this.key(no, WIRE.VARINT); this.varint(v); return this; }

  /** A packed repeated varint field. */
  packedInts(no: number, vs: readonly number[]): this {
    const w = new ProtoWriter();
    for (const v of vs) w.varint(v);
    return this.bytes(no, w.finish());
  }

  /** A fixed32 float field. */
  float(no: number, v: number): this {
    this.key(no, WIRE.I32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.scratch.push(...b);
    return this;
  }

  /** A UTF-8 string field. */
  string(no: number, s: string): this { return this.bytes(no, new TextEncoder().encode(s)); }

  /** A length-delimited field: bytes, or a nested message's finish(). */
  bytes(no: number, b: Uint8Array): this {
    this.key(no, WIRE.LEN);
    this.varint(b.length);
    this.flush();
    this.chunks.push(b);
    this.size += b.length;
    return this;
  }

  /** A field copied as read: `payload` is its varint, fixed or length-delimited bytes. */
  copy(no: number, wire: number, payload: Uint8Array): this {
    if (wire === WIRE.LEN) return this.bytes(no, payload);
    this.key(no, wire);
    this.scratch.push(...payload);
    return this;
  }

  /** The message's bytes. */
  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const c of this.chunks) { out.set(c, off); off += c.length; }
    return out;
  }
}
