/**
 * safetensors reading and writing: bit-exact round trips, the byte layout against a file built by
 * hand from the spec, F16/BF16/F64 decoding, every malformed-file error, and a golden file of
 * PyTorch tensors written by test/fixtures/make_safetensors.py (the format by hand, PyTorch only).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../src/core/tensor.js';
import {
  loadSafetensors,
  loadSafetensorsMetadata,
  saveSafetensors,
  SafetensorsError,
} from '../../src/io/safetensors.js';
import { FIXTURE_DIR } from '../helpers/fixtures.js';
import { loadFloat32 } from '../helpers/safetensors.js';

const enc = new TextEncoder();

function tensor(shape: number[], values: ArrayLike<number>): Tensor {
  return { dtype: 'float32', shape, data: Float32Array.from(values) };
}

/** Float32 values from their bit patterns. */
function fromBits(bits: number[]): Float32Array {
  return new Float32Array(Uint32Array.from(bits).buffer);
}

function bitsOf(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

/** A file as the spec lays it out: 8-byte little-endian header length, the header text as given, the data. */
function file(header: unknown, data: ArrayLike<number> = [], headerLength?: bigint): Uint8Array {
  const json = enc.encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Little-endian bytes of 16-bit patterns. */
function u16le(values: number[]): number[] {
  return values.flatMap((v) => [v & 0xff, v >> 8]);
}

function f64le(values: number[]): number[] {
  return Array.from(new Uint8Array(Float64Array.from(values).buffer));
}

function headerOf(bytes: Uint8Array): { length: number; text: string } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { length, text: new TextDecoder().decode(bytes.subarray(8, 8 + length)) };
}

const entry = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] });

describe('saveSafetensors / loadSafetensors round trip', () => {
  const special = fromBits([
    0x7fc00000, 0xffc00000, 0x7fc12345, 0x7f800001, 0xffbfffff, // NaNs: quiet, negative, payloads, signalling
    0x80000000, 0x00000000, 0x00000001, 0x807fffff, 0x00400000, // -0, +0, subnormals
    0x7f800000, 0xff800000, 0x7f7fffff, 0x3f800000, 0xbeaaaaab, // ±inf, max, 1, -1/3
  ]);

  it('is bit-exact, including NaN payloads, -0 and subnormals', () => {
    const input = {
      special: { dtype: 'float32' as const, shape: [3, 5], data: special },
      random: tensor([4, 2, 3], Array.from({ length: 24 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453)),
      scalar: tensor([], [-1.5]),
      empty: tensor([2, 0, 3], []),
      zeroDim: tensor([0], []),
    };
    const out = loadFloat32(saveSafetensors(input));
    expect(Object.keys(out).sort()).toEqual(Object.keys(input).sort());
    for (const [name, t] of Object.entries(input)) {
      expect(out[name]!.dtype).toBe('float32');
      expect(out[name]!.shape).toEqual(t.shape);
      expect(bitsOf(out[name]!.data)).toEqual(bitsOf(t.data));
    }
    expect(out.scalar!.data.length).toBe(1);
  });

  it('saves from Float32Array views at any offset', () => {
    const big = Float32Array.from([9, 1, 2, 3, 9]);
    const out = loadFloat32(saveSafetensors({ w: { dtype: 'float32', shape: [3], data: big.subarray(1, 4) } }));
    expect(Array.from(out.w!.data)).toEqual([1, 2, 3]);
  });

  it('returns fresh arrays owned by the caller', () => {
    const bytes = saveSafetensors({ a: tensor([2], [1, 2]), b: tensor([2], [3, 4]) });
    const before = bytes.slice();
    const first = loadFloat32(bytes);
    first.a!.data[0] = 100;
    first.a!.shape.push(7);
    expect(bytes).toEqual(before);
    const second = loadFloat32(bytes);
    expect(Array.from(second.a!.data)).toEqual([1, 2]);
    expect(second.a!.shape).toEqual([2]);
    expect(second.a!.data.buffer).not.toBe(second.b!.data.buffer);
    expect(second.a!.data.buffer).not.toBe(bytes.buffer);
  });

  it('round-trips metadata, and gives {} when there is none', () => {
    const metadata = { format: 'pt', note: 'λ ✓ "quoted" \\ newline\n', empty: '' };
    const bytes = saveSafetensors({ w: tensor([1], [1]) }, metadata);
    expect(loadSafetensorsMetadata(bytes)).toEqual(metadata);
    expect(loadSafetensorsMetadata(saveSafetensors({ w: tensor([1], [1]) }))).toEqual({});
    expect(loadSafetensorsMetadata(saveSafetensors({}))).toEqual({});
    expect(loadFloat32(saveSafetensors({}, { a: 'b' }))).toEqual({});
  });

  it('keeps a tensor named "__proto__" as an own key', () => {
    const input: Record<string, Tensor> = { ['__proto__']: tensor([1], [5]) };
    const out = loadFloat32(saveSafetensors(input));
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Array.from(out['__proto__']!.data)).toEqual([5]);
  });
});

describe('saveSafetensors byte layout', () => {
  it('pads the header with spaces to a multiple of 8 bytes, for any name length', () => {
    for (let n = 1; n <= 16; n++) {
      const bytes = saveSafetensors({ ['x'.repeat(n)]: tensor([1], [1]) });
      const { length, text } = headerOf(bytes);
      expect(length % 8).toBe(0);
      expect(bytes.length).toBe(8 + length + 4);
      expect(JSON.parse(text)).toEqual({ ['x'.repeat(n)]: entry('F32', [1], 0, 4) });
      expect(text).toMatch(/^\{.*\} *$/);
      expect(text.length - text.trimEnd().length).toBeLessThan(8);
    }
  });

  it('matches a file built by hand from the spec', () => {
    const bytes = saveSafetensors(
      { b: tensor([2], [1, -2]), a: tensor([], [0.5]), c: tensor([0], []) },
      { k: 'v' },
    );
    const json = '{"__metadata__":{"k":"v"},' +
      '"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},' +
      '"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},' +
      '"c":{"dtype":"F32","shape":[0],"data_offsets":[12,12]}}';
    expect(json.length).toBe(187);
    const expected = new Uint8Array([
      192, 0, 0, 0, 0, 0, 0, 0, // header length 187 padded to 192, u64 little-endian
      ...enc.encode(json), 0x20, 0x20, 0x20, 0x20, 0x20,
      0x00, 0x00, 0x00, 0x3f, // a = 0.5
      0x00, 0x00, 0x80, 0x3f, // b[0] = 1
      0x00, 0x00, 0x00, 0xc0, // b[1] = -2
    ]);
    expect(bytes).toEqual(expected);
  });
});

describe('loadSafetensors decoding', () => {
  it('reads F16 exactly: normals, subnormals, ±0, ±inf, NaN', () => {
    const halves = [0x3c00, 0xc000, 0x7bff, 0x0400, 0x03ff, 0x0001, 0x0000, 0x8000, 0x3555, 0x7c00, 0xfc00, 0x7e00];
    const want = [1, -2, 65504, 2 ** -14, 1023 * 2 ** -24, 2 ** -24, 0, -0, 0.333251953125, Infinity, -Infinity, NaN];
    const out = loadFloat32(file({ h: entry('F16', [3, 4], 0, 24) }, u16le(halves)));
    expect(out.h!.shape).toEqual([3, 4]);
    expect(Array.from(out.h!.data)).toEqual(want);
    expect(Object.is(out.h!.data[7], -0)).toBe(true);
    expect(bitsOf(out.h!.data).slice(-1)).toEqual([0x7fc00000]);
  });

  it('reads every one of the 65536 F16 bit patterns like the formula (-1)^s · 2^(e-15) · 1.m', () => {
    const all = Array.from({ length: 65536 }, (_, i) => i);
    const out = loadFloat32(file({ h: entry('F16', [65536], 0, 131072) }, u16le(all))).h!.data;
    for (const h of all) {
      const sign = h & 0x8000 ? -1 : 1;
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      const want = e === 31 ? (m ? NaN : sign * Infinity) : sign * (e ? (1 + m / 1024) * 2 ** (e - 15) : m * 2 ** -24);
      if (!Object.is(out[h], want)) expect.fail(`F16 0x${h.toString(16)}: expected ${want}, got ${out[h]}`);
    }
  });

  it('reads BF16 as the upper half of a float32', () => {
    const out = loadFloat32(file({ b: entry('BF16', [6], 0, 12) }, u16le([0x3f80, 0x4049, 0xc2f7, 0x0001, 0xff80, 0x7fc1])));
    expect(Array.from(out.b!.data).slice(0, 5)).toEqual([1, 3.140625, -123.5, 2 ** -133, -Infinity]);
    expect(bitsOf(out.b!.data)[5]).toBe(0x7fc10000);
  });

  it('reads F64 rounded to the nearest float32', () => {
    const values = [0.1, Infinity, -0, 2 ** -150, 1 + 2 ** -24, 1 + 3 * 2 ** -24, 1e-45, -1e-40];
    const out = loadFloat32(file({ d: entry('F64', [2, 4], 0, 64) }, f64le(values)));
    const want = [Math.fround(0.1), Infinity, -0, 0, 1, 1 + 2 ** -22, 2 ** -149, Math.fround(-1e-40)];
    expect(Array.from(out.d!.data)).toEqual(want);
    expect(Object.is(out.d!.data[2], -0)).toBe(true);
  });

  it('refuses a finite F64 past float32 range (it would read as Infinity), naming the tensor and element', () => {
    for (const bad of [1e300, -1e40, 3.5e38]) {
      const bytes = file({ d: entry('F64', [2], 0, 16) }, f64le([1, bad]));
      expect(() => loadSafetensors(bytes)).toThrow(SafetensorsError);
      expect(() => loadSafetensors(bytes)).toThrow(/tensor "d": expected F64 values within float32's range .* got .* at element 1/);
    }
  });

  it('reads F32, F16 and F64 data at misaligned file offsets', () => {
    // A header of odd length, unpadded: every tensor starts at an odd byte of the file.
    const header = {
      h: entry('F16', [1], 0, 2),
      f: entry('F32', [2], 2, 10),
      d: entry('F64', [1], 10, 18),
    };
    const f32 = Array.from(new Uint8Array(Float32Array.from([1.25, -3]).buffer));
    const json = JSON.stringify(header);
    const bytes = file(json.length % 2 === 0 ? `${json} ` : json, [...u16le([0x3c00]), ...f32, ...f64le([2.5])]);
    expect((8 + headerOf(bytes).length) % 2).toBe(1);
    const out = loadFloat32(bytes);
    expect(Array.from(out.h!.data)).toEqual([1]);
    expect(Array.from(out.f!.data)).toEqual([1.25, -3]);
    expect(Array.from(out.d!.data)).toEqual([2.5]);
  });

  it('accepts a misaligned subarray and a Node Buffer', () => {
    const saved = saveSafetensors({ w: tensor([2, 2], [1, 2, 3, 4]) }, { k: 'v' });
    const host = new Uint8Array(saved.length + 8);
    host.set(saved, 3);
    const view = host.subarray(3, 3 + saved.length);
    expect(view.byteOffset).toBe(3);
    expect(Array.from(loadFloat32(view).w!.data)).toEqual([1, 2, 3, 4]);
    expect(loadSafetensorsMetadata(view)).toEqual({ k: 'v' });

    const buf = Buffer.concat([Buffer.alloc(1), Buffer.from(saved)]).subarray(1);
    expect(Array.from(loadFloat32(buf).w!.data)).toEqual([1, 2, 3, 4]);
  });

  it('reads tensors stored out of name order, with a zero-size tensor between others', () => {
    const data = [...Array.from(new Uint8Array(Float32Array.from([7, 8]).buffer))];
    const out = loadFloat32(file({ z: entry('F32', [1], 0, 4), e: entry('F32', [0, 2], 4, 4), a: entry('F32', [1], 4, 8) }, data));
    expect(Array.from(out.z!.data)).toEqual([7]);
    expect(Array.from(out.a!.data)).toEqual([8]);
    expect(out.e!.shape).toEqual([0, 2]);
    expect(out.e!.data.length).toBe(0);
  });
});

describe('loadSafetensors errors', () => {
  const four = [0, 0, 128, 63]; // 1.0 as F32
  const load = (bytes: Uint8Array) => () => loadSafetensors(bytes);

  it('rejects a non-Uint8Array argument with a TypeError', () => {
    expect(() => loadSafetensors(new ArrayBuffer(16) as never)).toThrow(/bytes: expected a Uint8Array, got ArrayBuffer\(16\)/);
    expect(() => loadSafetensors(new Float32Array(4) as never)).toThrow(TypeError);
    expect(() => loadSafetensors([1, 2, 3] as never)).toThrow(/bytes: expected a Uint8Array, got Array\(3\)/);
    expect(() => loadSafetensorsMetadata(null as never)).toThrow(/bytes: expected a Uint8Array, got null/);
  });

  it('rejects a file shorter than 8 bytes', () => {
    expect(load(new Uint8Array(5))).toThrow(SafetensorsError);
    expect(load(new Uint8Array(5))).toThrow(/expected at least 8 bytes \(the header length\), got 5/);
  });

  it('rejects a header length past the end of the file, and absurd lengths', () => {
    expect(load(file('{}', [], 100n))).toThrow(/header length: expected at most 2 \(the bytes after the 8-byte length\), got 100/);
    expect(load(file('{}', [], 2n ** 64n - 1n))).toThrow(/header length: expected at most 100000000 bytes, got 18446744073709551615/);
    expect(load(file('{}', [], 100_000_001n))).toThrow(/expected at most 100000000 bytes, got 100000001/);
  });

  it('rejects a header that is not UTF-8, not JSON or not an object', () => {
    const bad = new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0xff]);
    expect(load(bad)).toThrow(/safetensors header: expected UTF-8 text, got invalid UTF-8 in its 2 bytes/);
    expect(load(file('{"a": '))).toThrow(/safetensors header: expected JSON, got "\{\\"a\\": "/);
    expect(load(file('[1,2]'))).toThrow(/safetensors header: expected a JSON object, got \[1,2\]/);
    expect(load(file('null'))).toThrow(/expected a JSON object, got null/);
    expect(load(file('"x"'))).toThrow(/expected a JSON object, got "x"/);
  });

  it('rejects an entry that is not an object or misses a field', () => {
    expect(load(file({ w: 3 }))).toThrow(/tensor "w": expected an object \{dtype, shape, data_offsets\}, got 3/);
    expect(load(file({ w: { shape: [1], data_offsets: [0, 4] } }, four))).toThrow(/tensor "w": expected a field "dtype", got only \["shape","data_offsets"\]/);
    expect(load(file({ w: { dtype: 'F32', data_offsets: [0, 4] } }, four))).toThrow(/tensor "w": expected a field "shape"/);
    expect(load(file({ w: { dtype: 'F32', shape: [1] } }, four))).toThrow(/tensor "w": expected a field "data_offsets"/);
  });

  it('rejects an unknown or mistyped dtype, naming the supported ones', () => {
    expect(load(file({ w: entry('F8_E8M0', [1], 0, 1) }, [0]))).toThrow(
      'tensor "w".dtype: expected one of the supported dtypes F32, F16, BF16, F64, F8_E4M3, F8_E5M2, I64, U64, I32, U32, I16, U16, I8, U8, BOOL, got "F8_E8M0"');
    expect(load(file({ w: entry('Q4', [1], 0, 4) }, four))).toThrow(/tensor "w".dtype: expected one of .*F32, F16, BF16, F64, .*BOOL, got "Q4"/);
    expect(load(file({ w: entry('__proto__', [1], 0, 4) }, four))).toThrow(/got "__proto__"/);
    expect(load(file({ w: { dtype: 5, shape: [1], data_offsets: [0, 4] } }, four))).toThrow(/tensor "w".dtype: .* got 5/);
    expect(load(file({ w: entry('float32', [1], 0, 4) }, four))).toThrow(/got "float32"/);
  });

  it('rejects shapes that are not arrays of non-negative integers', () => {
    expect(load(file({ w: entry('F32', [2, -1], 0, 4) }, four))).toThrow(/tensor "w".shape: expected an array of non-negative integers, got \[2,-1\]/);
    expect(load(file({ w: entry('F32', [1.5], 0, 4) }, four))).toThrow(/tensor "w".shape: .* got \[1.5\]/);
    expect(load(file({ w: { dtype: 'F32', shape: '1', data_offsets: [0, 4] } }, four))).toThrow(/tensor "w".shape: .* got "1"/);
    expect(load(file({ w: entry('F32', [2 ** 60], 0, 4) }, four))).toThrow(/tensor "w".shape: .* got \[1152921504606847000\]/);
  });

  it('rejects bad data_offsets: not two integers, begin > end, end past the buffer', () => {
    expect(load(file({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, four))).toThrow(/tensor "w".data_offsets: expected two non-negative integers \[begin, end\], got \[0\]/);
    expect(load(file({ w: { dtype: 'F32', shape: [1], data_offsets: [0, '4'] } }, four))).toThrow(/tensor "w".data_offsets: .* got \[0,"4"\]/);
    expect(load(file({ w: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, four))).toThrow(/tensor "w".data_offsets: .* got \[-4,0\]/);
    expect(load(file({ w: { dtype: 'F32', shape: [1], data_offsets: { begin: 0 } } }, four))).toThrow(/tensor "w".data_offsets: .* got \{"begin":0\}/);
    expect(load(file({ w: entry('F32', [0], 4, 0) }, four))).toThrow(/tensor "w".data_offsets: expected begin <= end, got \[4, 0\]/);
    expect(load(file({ w: entry('F32', [12], 0, 48) }, [...four, ...four]))).toThrow(/tensor "w".data_offsets: expected end <= 8 \(the byte buffer length\), got \[0, 48\]/);
  });

  it('rejects a shape that disagrees with the byte count', () => {
    expect(load(file({ w: entry('F32', [2, 3], 0, 20) }, new Array(20).fill(0)))).toThrow(
      /tensor "w": expected 24 bytes \(shape \[2,3\] = 6 elements × 4 bytes of F32\), got 20 \(data_offsets \[0, 20\]\)/);
    expect(load(file({ h: entry('F16', [3], 0, 4) }, four))).toThrow(/tensor "h": expected 6 bytes \(shape \[3\] = 3 elements × 2 bytes of F16\), got 4/);
    expect(load(file({ s: entry('F64', [], 0, 4) }, four))).toThrow(/tensor "s": expected 8 bytes \(shape \[\] = 1 elements × 8 bytes of F64\), got 4/);
  });

  it('rejects overlapping tensors', () => {
    const data = new Array(12).fill(0);
    expect(load(file({ a: entry('F32', [2], 0, 8), b: entry('F32', [2], 4, 12) }, data))).toThrow(
      /tensor "b".data_offsets: expected no overlap with tensor "a" \[0, 8\], got \[4, 12\]/);
    expect(load(file({ a: entry('F32', [2], 0, 8), b: entry('F32', [2], 0, 8) }, data.slice(4)))).toThrow(/overlap/);
    // a zero-size tensor inside another one
    expect(load(file({ a: entry('F32', [2], 0, 8), e: entry('F32', [0], 4, 4) }, data.slice(4)))).toThrow(
      /tensor "a".data_offsets: expected no overlap with tensor "e" \[4, 4\], got \[0, 8\]|tensor "e".data_offsets: expected no overlap with tensor "a" \[0, 8\], got \[4, 4\]/);
  });

  it('rejects holes in the byte buffer, as the spec requires full coverage', () => {
    const data = new Array(12).fill(0);
    expect(load(file({ a: entry('F32', [1], 0, 4), b: entry('F32', [1], 8, 12) }, data))).toThrow(
      /safetensors byte buffer: expected every byte to belong to a tensor, got a hole at bytes \[4, 8\) before tensor "b"/);
    expect(load(file({ a: entry('F32', [1], 0, 4) }, [...data, 0, 0, 0, 0]))).toThrow(/got a hole at bytes \[4, 16\) after the last tensor/);
    expect(load(file({ a: entry('F32', [1], 4, 8) }, [0, 0, 0, 0, ...four]))).toThrow(/hole at bytes \[0, 4\) before tensor "a"/);
    expect(load(file({}, [1]))).toThrow(/hole at bytes \[0, 1\) after the last tensor/);
  });

  it('rejects __metadata__ that is not a string → string object', () => {
    expect(load(file({ __metadata__: [1] }))).toThrow(/__metadata__: expected an object of string values, got \[1\]/);
    expect(load(file({ __metadata__: 'x' }))).toThrow(/__metadata__: expected an object of string values, got "x"/);
    expect(load(file({ __metadata__: 7 }))).toThrow(/__metadata__: expected an object of string values, got 7/);
    // null reads as absent, as the reference implementation reads it
    expect(loadSafetensorsMetadata(file({ __metadata__: null }))).toEqual({});
    expect(() => loadSafetensorsMetadata(file({ __metadata__: { ok: 'y', k: 1 } }))).toThrow(/__metadata__\["k"\]: expected a string, got 1/);
    expect(() => loadSafetensorsMetadata(file({ __metadata__: { k: { a: 'b' } } }))).toThrow(/__metadata__\["k"\]: expected a string, got \{"a":"b"\}/);
  });

  it('throws SafetensorsError (an Error) from loadSafetensorsMetadata too, checking the whole header', () => {
    const err = (() => {
      try {
        loadSafetensorsMetadata(file({ __metadata__: {}, w: entry('Q4', [1], 0, 1) }, [0]));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SafetensorsError);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('SafetensorsError');
  });
});

describe('saveSafetensors argument checks', () => {
  const save = (tensors: unknown, metadata?: unknown) => () => saveSafetensors(tensors as never, metadata as never);

  it('rejects a tensors argument that is not an object', () => {
    expect(save(null)).toThrow(/tensors: expected an object of Tensors, got null/);
    expect(save([tensor([1], [1])])).toThrow(/tensors: expected an object of Tensors, got Array\(1\)/);
  });

  it('rejects empty and reserved names', () => {
    expect(save({ '': tensor([1], [1]) })).toThrow(/tensors\[""\]: expected a non-empty tensor name, got ""/);
    expect(save({ __metadata__: tensor([1], [1]) })).toThrow(/tensors\["__metadata__"\]: expected a tensor name, got the reserved key "__metadata__"/);
  });

  it('rejects entries that are not tensors, or whose data is not their dtype\'s array', () => {
    expect(save({ w: 3 })).toThrow(/tensors\["w"\]: expected a Tensor \{dtype, shape, data\}, got 3/);
    expect(save({ w: { dtype: 'float64', shape: [1], data: new Float32Array(1) } })).toThrow('tensors["w"].data: expected a Float64Array (dtype "float64"), got Float32Array(1)');
    expect(save({ w: { dtype: 'float32', shape: [2, 3], data: new Float64Array(6) } })).toThrow(/tensors\["w"\].data: expected a Float32Array \(dtype "float32"\), got Float64Array\(6\)/);
    expect(save({ w: { dtype: 'f32', shape: [1], data: new Float32Array(1) } })).toThrow(/tensors\["w"\].dtype: expected one of "float32", "float64", .*"bool", got string "f32"/);
    expect(save({ w: { dtype: 'int64', shape: [1], data: new Int32Array(1) } })).toThrow('tensors["w"].data: expected a BigInt64Array (dtype "int64"), got Int32Array(1)');
    expect(save({ w: { dtype: 'bool', shape: [2], data: Uint8Array.of(1, 2) } })).toThrow('tensors["w"].data[1]: expected 0 or 1 (dtype "bool"), got 2');
    expect(save({ w: { dtype: 'uint8', shape: [1], data: new Uint8ClampedArray(1) } })).toThrow(/expected a Uint8Array/);
    expect(save({ w: { dtype: 'float32', shape: [2], data: [1, 2] } })).toThrow(TypeError);
  });

  it('rejects bad shapes and data of the wrong length with a RangeError', () => {
    expect(save({ w: { dtype: 'float32', shape: [2, -3], data: new Float32Array(6) } })).toThrow(/tensors\["w"\].shape: expected an array of non-negative integers, got \[2,-3\]/);
    expect(save({ w: { dtype: 'float32', shape: [1.5], data: new Float32Array(1) } })).toThrow(RangeError);
    expect(save({ w: { dtype: 'float32', shape: '6', data: new Float32Array(6) } })).toThrow(/shape: .* got "6"/);
    // eslint-disable-next-line no-sparse-arrays
    expect(save({ w: { dtype: 'float32', shape: [, 2], data: new Float32Array(2) } })).toThrow(/shape: .* got \[null,2\]/);
    expect(save({ w: { dtype: 'float32', shape: [2, 3], data: new Float32Array(5) } })).toThrow(RangeError);
    expect(save({ w: { dtype: 'float32', shape: [2, 3], data: new Float32Array(5) } })).toThrow(/tensors\["w"\].data: expected length 6 \(shape \[2,3\]\), got 5/);
    expect(save({ s: { dtype: 'float32', shape: [], data: new Float32Array(0) } })).toThrow(/tensors\["s"\].data: expected length 1 \(shape \[\]\), got 0/);
  });

  it('rejects metadata that is not an object of strings', () => {
    const ok = { w: tensor([1], [1]) };
    expect(save(ok, 'x')).toThrow(/metadata: expected an object of strings, got string "x"/);
    expect(save(ok, { k: 3 })).toThrow(/metadata\["k"\]: expected a string, got 3/);
    expect(save(ok, null)).toThrow(/metadata: expected an object of strings, got null/);
  });
});

describe('golden file of PyTorch tensors (test/fixtures/make_safetensors.py)', () => {
  interface Golden {
    metadata: Record<string, string>;
    tensors: Record<string, { dtype: string; shape: number[]; values: (number | string)[]; f32_bits: number[] }>;
  }
  const bytes = new Uint8Array(readFileSync(join(FIXTURE_DIR, 'torch_small.safetensors')));
  const golden = JSON.parse(readFileSync(join(FIXTURE_DIR, 'torch_small.safetensors.json'), 'utf8')) as Golden;

  it('holds the dtypes the fixture claims', () => {
    const header = JSON.parse(headerOf(bytes).text) as Record<string, { dtype: string }>;
    for (const [name, g] of Object.entries(golden.tensors)) expect(header[name]!.dtype, name).toBe(g.dtype);
    expect(new Set(Object.values(golden.tensors).map((g) => g.dtype))).toEqual(new Set(['F32', 'F16', 'BF16', 'F64']));
  });

  it('loads every tensor bit-exactly: shapes and float32 bit patterns', () => {
    const out = loadFloat32(bytes);
    expect(Object.keys(out).sort()).toEqual(Object.keys(golden.tensors).sort());
    for (const [name, g] of Object.entries(golden.tensors)) {
      expect(out[name]!.shape, name).toEqual(g.shape);
      expect(bitsOf(out[name]!.data), name).toEqual(g.f32_bits);
      const values = g.values.map((v) => (typeof v === 'string' ? Number(v) : v));
      expect(Array.from(out[name]!.data), name).toEqual(values);
    }
    expect(out.weight_ih_l0!.shape).toEqual([16, 3]);
    expect(out.scalar!.shape).toEqual([]);
  });

  it('loads the metadata', () => {
    expect(loadSafetensorsMetadata(bytes)).toEqual(golden.metadata);
  });

  it('re-saves the loaded tensors (as F32) and reads them back bit-exact', () => {
    const out = loadFloat32(bytes);
    const again = loadFloat32(saveSafetensors(out, golden.metadata));
    for (const name of Object.keys(out)) expect(bitsOf(again[name]!.data)).toEqual(bitsOf(out[name]!.data));
  });
});
