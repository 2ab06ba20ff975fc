import { describe, expect, it } from 'vitest';
import { MAX_DEPTH, MAX_FIELDS, ONNXError, ProtoWriter, readFields, readVarint } from '../../src/onnx/protobuf.js';

const varintBytes = (v: number): Uint8Array => {
  const b = new ProtoWriter().int(1, v).finish();
  return b.subarray(1);   // drop the key byte (field 1, wire 0)
};

describe('protobuf varints', () => {
  it('round-trip across the safe range, negatives as 10-byte two’s complement', () => {
    const values = [0, 1, 127, 128, 300, 2 ** 28 - 1, 2 ** 28, 2 ** 31, 2 ** 35 + 7, 2 ** 53 - 1, -1, -2, -300, -(2 ** 28), -(2 ** 31), -(2 ** 53 - 1)];
    for (const v of values) {
      const b = varintBytes(v);
      expect(readVarint(b, 0, b.length, 'v'), String(v)).toEqual({ value: v, next: b.length });
      if (v < 0) expect(b.length).toBe(10);
    }
  });

  it('matches protobuf’s encoding of known values', () => {
    expect([...varintBytes(300)]).toEqual([0xac, 0x02]);
    expect([...varintBytes(-1)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });

  it('refuses more than 10 bytes, 64-bit overflow, unsafe integers and truncation', () => {
    const eleven = new Uint8Array(11).fill(0x80); eleven[10] = 0;
    expect(() => readVarint(eleven, 0, 11, 'v')).toThrow(/at most 10 bytes/);
    const over = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]);
    expect(() => readVarint(over, 0, 10, 'v')).toThrow(/overflows 64 bits/);
    const big = varintBytes(2 ** 53 - 1); big[big.length - 1]! += 1;   // 2^53 + …
    expect(() => readVarint(big, 0, big.length, 'v')).toThrow(/safe-integer/);
    expect(() => readVarint(new Uint8Array([0x80, 0x80]), 0, 2, 'v')).toThrow(ONNXError);
    expect(() => readVarint(new Uint8Array([0x80, 0x80]), 0, 2, 'v')).toThrow(/end of the data/);
  });
});

describe('protobuf fields', () => {
  it('reads what the writer wrote', () => {
    const inner = new ProtoWriter().string(1, 'héllo').finish();
    const b = new ProtoWriter().int(3, 42).float(4, 1.5).bytes(5, inner).packedInts(6, [1, 2, 3]).finish();
    const f = readFields(b, 0, b.length, 'm', 0);
    expect(f.map((x) => [x.no, x.wire])).toEqual([[3, 0], [4, 5], [5, 2], [6, 2]]);
    expect(new TextDecoder().decode(b.subarray(f[2]!.start, f[2]!.end))).toBe(new TextDecoder().decode(inner));
  });

  it('checks a declared length against the bytes that remain, before slicing', () => {
    // field 1, wire 2, length 2^40: far past the end.
    const w = new ProtoWriter().int(1, 0).finish();
    const huge = Uint8Array.from([0x0a, ...varintBytes(2 ** 40)]);
    expect(() => readFields(huge, 0, huge.length, 'm', 0)).toThrow(/field 1 declares 1099511627776 bytes at offset 1, but only 0 remain/);
    expect(readFields(w, 0, w.length, 'm', 0)).toHaveLength(1);
  });

  it('refuses groups, field number 0 and nesting past the limit', () => {
    expect(() => readFields(new Uint8Array([0x0b]), 0, 1, 'm', 0)).toThrow(/wire type 3/);
    expect(() => readFields(new Uint8Array([0x00, 0x00]), 0, 2, 'm', 0)).toThrow(/field number/);
    expect(() => readFields(new Uint8Array(0), 0, 0, 'm', MAX_DEPTH + 1)).toThrow(/nested at most 32 deep/);
  });

  it('a message of more fields than the cap (MAX_FIELDS = 2^24 by default) is refused', () => {
    expect(MAX_FIELDS).toBe(2 ** 24);
    const b = new Uint8Array(2 * 1001);
    for (let k = 0; k < b.length; k += 2) b[k] = 0x08;   // field 1 = 0, over and over
    expect(readFields(b, 0, b.length - 2, 'm', 0, 1000)).toHaveLength(1000);
    expect(() => readFields(b, 0, b.length, 'm', 0, 1000)).toThrow(/at most 1000 fields in one message/);
  });

  it('fixed-width fields need their bytes', () => {
    expect(() => readFields(new Uint8Array([0x0d, 1, 2]), 0, 3, 'm', 0)).toThrow(/expected 4 bytes at offset 1, got 2/);
  });
});
