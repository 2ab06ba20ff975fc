/**
 * Every dtype of the safetensors format: written from its typed array and read back into the same
 * array class bit for bit (extremes included), the header naming the format's dtype; BOOL bytes
 * checked to be 0 or 1 both ways; the tensor(shape, data) helper and its types.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  loadSafetensors, saveSafetensors, SafetensorsError, tensor, type AnyTensor, type Tensor, type TypedTensor,
} from '../../src/index.js';

/** The header of a file, parsed. */
function header(bytes: Uint8Array): Record<string, { dtype: string; shape: number[]; data_offsets: number[] }> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
}

const CASES: [string, AnyTensor][] = [
  ['I64', tensor([2, 2], BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n))],
  ['U64', tensor([3], BigUint64Array.of(0n, 2n ** 64n - 1n, 2n ** 53n + 1n))],
  ['I32', tensor([3], Int32Array.of(-(2 ** 31), 2 ** 31 - 1, 7))],
  ['U32', tensor([2], Uint32Array.of(0, 2 ** 32 - 1))],
  ['I16', tensor([3], Int16Array.of(-32768, 32767, -2))],
  ['U16', tensor([2], Uint16Array.of(0, 65535))],
  ['I8', tensor([3], Int8Array.of(-128, 127, 0))],
  ['U8', tensor([3], Uint8Array.of(0, 255, 17))],
  ['BOOL', tensor([2, 2], Uint8Array.of(1, 0, 0, 1), 'bool')],
  ['F32', tensor([2], Float32Array.of(-0, NaN))],
  ['F64', tensor([1], Float64Array.of(0.1))],
];

describe('every dtype round-trips', () => {
  it.each(CASES)('%s', (fileDtype, t) => {
    const bytes = saveSafetensors({ t, pad: tensor([1], Uint8Array.of(9)) });   // a 1-byte tensor first: offsets not aligned
    expect(header(bytes).t!.dtype).toBe(fileDtype);
    const back = loadSafetensors(bytes).t!;
    if (fileDtype === 'F64') {
      // F64 is read as float32 (what the layers take), rounded.
      expect(back.dtype).toBe('float32');
      expect(Array.from(back.data as Float32Array)).toEqual([Math.fround(0.1)]);
      return;
    }
    expect(back.dtype).toBe(t.dtype);
    expect(back.shape).toEqual(t.shape);
    expect(back.data.constructor).toBe(t.data.constructor);
    const a = new Uint8Array(back.data.buffer, back.data.byteOffset, back.data.byteLength);
    const b = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(back.data.buffer).not.toBe(bytes.buffer);   // a copy the caller owns
  });

  it('F8_E4M3 and F8_E5M2 are read as float32, exactly', () => {
    // A file by hand: header, then the bytes of both tensors.
    const e4m3 = [0x00, 0x80, 0x38, 0xb8, 0x7e, 0x01, 0x08, 0x7f, 0x3c];   // 0, -0, 1, -1, 448 (max), 2^-9, 2^-6, NaN, 1.5
    const e5m2 = [0x3c, 0x7b, 0x7c, 0xfc, 0x01, 0x7e];                     // 1, 57344 (max), inf, -inf, 2^-16, NaN
    const json = JSON.stringify({
      a: { dtype: 'F8_E4M3', shape: [e4m3.length], data_offsets: [0, e4m3.length] },
      b: { dtype: 'F8_E5M2', shape: [e5m2.length], data_offsets: [e4m3.length, e4m3.length + e5m2.length] },
    });
    const head = new TextEncoder().encode(json);
    const bytes = new Uint8Array(8 + head.length + e4m3.length + e5m2.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(head.length), true);
    bytes.set(head, 8);
    bytes.set([...e4m3, ...e5m2], 8 + head.length);
    const out = loadSafetensors(bytes);
    expect(out.a!.dtype).toBe('float32');
    expect(Array.from(out.a!.data as Float32Array)).toEqual([0, -0, 1, -1, 448, 2 ** -9, 2 ** -6, NaN, 1.5]);
    expect(Array.from(out.b!.data as Float32Array)).toEqual([1, 57344, Infinity, -Infinity, 2 ** -16, NaN]);
  });

  it('a Node Buffer is a Uint8Array: it writes as U8', () => {
    const t = tensor([3], Buffer.from([1, 2, 3]));
    expect(t.dtype).toBe('uint8');
    expect(Array.from(loadSafetensors(saveSafetensors({ t })).t!.data as Uint8Array)).toEqual([1, 2, 3]);
  });

  it('a BOOL byte other than 0 or 1 in a file is a SafetensorsError naming the tensor', () => {
    const bytes = saveSafetensors({ m: tensor([3], Uint8Array.of(0, 1, 1), 'bool') });
    bytes[bytes.length - 1] = 2;
    expect(() => loadSafetensors(bytes)).toThrow(SafetensorsError);
    expect(() => loadSafetensors(bytes)).toThrow('tensor "m": expected BOOL bytes 0 or 1, got 2 at element 2');
  });

  it('a byte size that does not fit the dtype is a SafetensorsError', () => {
    const bytes = saveSafetensors({ m: tensor([2], Int32Array.of(1, 2)) });
    const h = header(bytes);
    expect(h.m!.data_offsets).toEqual([0, 8]);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))));
    const patched = text.replace('"I32"', '"I64"').replace('[2]', '[3]');
    const out = new Uint8Array(bytes.length);
    out.set(bytes);
    out.set(new TextEncoder().encode(patched), 8);
    expect(() => loadSafetensors(out)).toThrow(/expected 24 bytes \(shape \[3\] = 3 elements × 8 bytes of I64\), got 8/);
  });
});

describe('tensor(shape, data)', () => {
  it('takes its dtype from the array class, checks the shape against the length', () => {
    expect(tensor([2], new Float32Array(2)).dtype).toBe('float32');
    expect(tensor([], BigInt64Array.of(5n)).dtype).toBe('int64');
    expect(tensor([1], Uint8Array.of(1), 'bool').dtype).toBe('bool');
    expect(() => tensor([3], new Float32Array(2))).toThrow('data: expected 3 elements (shape [3]), got 2');
    expect(() => tensor([1.5] as never, new Float32Array(2))).toThrow(/shape: expected an array of non-negative integers/);
    expect(() => tensor([2], [1, 2] as never)).toThrow(/data: expected a Float32Array, .*got object/);
    expect(() => tensor([1], Uint8Array.of(2), 'bool')).toThrow('data[0]: expected 0 or 1 (a bool tensor), got 2');
    expect(() => tensor([1], Int8Array.of(1) as never, 'bool')).toThrow(/dtype: expected 'bool' with a Uint8Array/);
  });

  it('types: a Tensor for float32 data, the precise TypedTensor for others; a literal kept in a variable needs it', () => {
    const shape = [2, 3];
    const w = tensor(shape, new Float32Array(6));
    expectTypeOf(w).toEqualTypeOf<TypedTensor<'float32'>>();
    const asTensor: Tensor = w;   // a TypedTensor<'float32'> is a Tensor
    expect(asTensor.data.length).toBe(6);
    expectTypeOf(tensor([1], BigInt64Array.of(1n)).data).toEqualTypeOf<BigInt64Array>();
    expectTypeOf(tensor([1], Uint8Array.of(1), 'bool')).toEqualTypeOf<TypedTensor<'bool'>>();
    const literal = { dtype: 'float32', shape, data: new Float32Array(6) };
    // @ts-expect-error: the literal's dtype widened to string
    saveSafetensors({ literal });
    saveSafetensors({ w, also: { dtype: 'float32', shape, data: new Float32Array(6) } satisfies Tensor });
  });
});

