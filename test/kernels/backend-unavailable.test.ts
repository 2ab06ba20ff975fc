/**
 * Where WebAssembly cannot compile (here: `WebAssembly.Module` throws as it does under a
 * Content-Security-Policy without 'wasm-unsafe-eval'), 'auto' falls back to js silently and
 * 'wasm' is refused with a clear Error; results are the TypeScript kernels'.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

type Backend = typeof import('../../src/kernels/backend.js');
type Index = typeof import('../../src/index.js');
let backend: Backend;
let rc: Index;
const realModule = WebAssembly.Module;

beforeAll(async () => {
  (WebAssembly as { Module: unknown }).Module = function Module(): never {
    throw new WebAssembly.CompileError("WebAssembly.Module(): Refused to compile or instantiate WebAssembly module because 'unsafe-eval' is not an allowed source of script");
  };
  vi.resetModules();
  backend = await import('../../src/kernels/backend.js');
  rc = await import('../../src/index.js');
});
afterAll(() => {
  (WebAssembly as { Module: unknown }).Module = realModule;
  vi.resetModules();
});

describe('no WebAssembly (CSP without wasm-unsafe-eval)', () => {
  it("'auto' falls back to js silently", () => {
    expect(backend.setBackend('auto')).toBe('js');
    expect(backend.getBackend()).toBe('js');
  });
  it("'wasm' throws an Error saying why, and the backend stays as it was", () => {
    expect(() => backend.setBackend('wasm')).toThrow(Error);
    expect(() => backend.setBackend('wasm')).toThrow(/'wasm' backend is unavailable here.*wasm-unsafe-eval/);
    expect(backend.getBackend()).toBe('js');
  });
  it('the cells still run (on the TypeScript kernels)', () => {
    const cell = new rc.LSTMCell({ inputSize: 3, hiddenSize: 5, seed: 1 });
    const out = new rc.SequenceRunner(cell).run(new Float32Array(4 * 2 * 3).fill(0.5), { batch: 2 });
    expect(out.outputs.length).toBe(4 * 2 * 5);
    expect(out.outputs.every(Number.isFinite)).toBe(true);
    expect(rc.getBackend()).toBe('js');
  });
});
