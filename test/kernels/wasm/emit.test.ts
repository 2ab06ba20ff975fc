import { describe, expect, it } from 'vitest';
import { sleb, uleb } from '../../../src/kernels/wasm/emit.js';
import { gemmModuleBytes } from '../../../src/kernels/wasm/gemm-module.js';

const enc = (f: (out: number[], v: number) => void, v: number): number[] => { const o: number[] = []; f(o, v); return o; };

describe('LEB128', () => {
  it('unsigned: the specification examples', () => {
    expect(enc(uleb, 0)).toEqual([0x00]);
    expect(enc(uleb, 127)).toEqual([0x7f]);
    expect(enc(uleb, 128)).toEqual([0x80, 0x01]);
    expect(enc(uleb, 0x107)).toEqual([0x87, 0x02]);     // f64x2.relaxed_madd
    expect(enc(uleb, 624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(enc(uleb, 2 ** 32 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
  });
  it('signed: sign bit of the last group', () => {
    expect(enc(sleb, 0)).toEqual([0x00]);
    expect(enc(sleb, 63)).toEqual([0x3f]);
    expect(enc(sleb, 64)).toEqual([0xc0, 0x00]);
    expect(enc(sleb, -1)).toEqual([0x7f]);
    expect(enc(sleb, -64)).toEqual([0x40]);
    expect(enc(sleb, -65)).toEqual([0xbf, 0x7f]);
    expect(enc(sleb, -123456)).toEqual([0xc0, 0xbb, 0x78]);
  });
});

describe('the GEMM module', () => {
  it('plain SIMD validates and compiles synchronously', () => {
    const bytes = gemmModuleBytes(false);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    expect(typeof inst.exports.gemm).toBe('function');
    expect(inst.exports.memory).toBeInstanceOf(WebAssembly.Memory);
  });
  it('the FMA variant differs only by its multiply-add opcodes', () => {
    const a = gemmModuleBytes(false), b = gemmModuleBytes(true);
    expect(b.length).toBeLessThan(a.length);
    let madd = 0;
    for (let i = 0; i + 2 < b.length; i++) if (b[i] === 0xfd && b[i + 1] === 0x87 && b[i + 2] === 0x02) madd++;
    expect(madd).toBeGreaterThan(0);
  });
});
