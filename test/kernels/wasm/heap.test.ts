/**
 * Memory of the wasm backend (policy: arena reuse, see src/kernels/wasm/heap.ts): creating and
 * dropping 1,000 cells and runners leaves wasm memory bounded (the arena wraps and is reused);
 * 100 training steps after warm-up grow neither the JS heap nor wasm memory by 1 MB. Memory
 * counts the JS heap plus ArrayBuffer backing stores, after full collections.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adam, LSTM, GRU, SequenceRunner, StreamingRunner, setBackend } from '../../../src/index.js';
import { wasmHeap } from '../../../src/kernels/wasm/heap.js';
import { gemmNN, setWasmEverySize } from '../../../src/kernels/backend.js';
import { makeCell, randn, CELL_KINDS } from '../../helpers/cells.js';
import { exposeGc } from '../../helpers/gc.js';

const gc = exposeGc();
const used = (): number => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
const MB = 1 << 20;

beforeAll(() => { setBackend('wasm'); });
afterAll(() => { setBackend('auto'); });

describe('wasm memory', () => {
  it('creating and dropping 1,000 cells and runners does not grow wasm memory without bound', () => {
    const heap = wasmHeap()!;
    const I = 16, H = 64, T = 4, x = randn(T * I, 1), dO = randn(T * H, 2);
    const gen0 = heap.generation;
    let at300 = 0;
    for (let n = 0; n < 1000; n++) {
      // Each cell packs W_ihᵀ, W_hhᵀ (forward) and W_ih, W_hh (backward): 4H·(I+H)·8·2 ≈ 330 KB.
      const cell = makeCell(CELL_KINDS[n % 3]!, I, H, n);
      const runner = new SequenceRunner(cell);
      runner.forward(x, { batch: 1 });
      runner.backward({ dOutputs: dO });
      const stream = new StreamingRunner(cell);
      stream.step(x.subarray(0, I));
      if (n === 299) at300 = heap.bytes;
    }
    // Far less than the 1,000 cells' 330 MB: the arena (32 MB budget) wrapped and was reused.
    expect(heap.generation - gen0).toBeGreaterThan(5);
    expect(heap.bytes).toBeLessThan(48 * MB);
    expect(heap.bytes).toBeLessThanOrEqual(at300 + MB);   // no growth from cell 300 to 1,000
  });

  it('has a collector to measure the JS heap with', () => {
    expect(typeof gc).toBe('function');
  });

  it.each(['LSTM', 'GRU'])('100 training steps (%s stack, Adam) after warm-up grow neither the JS heap nor wasm memory by 1 MB', (kind) => {
    const heap = wasmHeap()!;
    const I = 12, H = 48, T = 16, B = 4;
    const opts = { inputSize: I, hiddenSize: H, numLayers: 2, seed: 3 };
    const rnn = kind === 'LSTM' ? new LSTM(opts) : new GRU(opts);
    const opt = new Adam(rnn.parameters(), { lr: 1e-3 });
    const x = randn(T * B * I, 1), dO = randn(T * B * H, 2);
    const stepOnce = (): void => {
      rnn.forward(x, { batch: B });
      rnn.backward({ dOutputs: dO });
      opt.step();
      rnn.zeroGrad();
    };
    for (let i = 0; i < 10; i++) stepOnce();
    gc!(); gc!();
    const js0 = used(), wasm0 = heap.bytes;
    for (let i = 0; i < 100; i++) stepOnce();
    gc!(); gc!();
    expect(used() - js0).toBeLessThan(MB);
    expect(heap.bytes - wasm0).toBeLessThan(MB);
    // The measurement sees wasm growth: a product whose operands exceed all of memory grows it.
    const n = (heap.bytes >> 2) + MB;
    setWasmEverySize(true);
    gemmNN(new Float32Array(n), 0, 1, new Float32Array(n), 0, 1, new Float32Array(1), 0, 1, n, 1, 1, false);
    setWasmEverySize(false);
    expect(heap.bytes - wasm0).toBeGreaterThan(MB);
  });
});

describe('wasm memory that cannot grow', () => {
  it('runs the product in TypeScript instead: no error, the same bits as js', async () => {
    const js = await import('../../../src/kernels/gemm.js');
    const heap = wasmHeap()!;
    const mem = heap.memory as WebAssembly.Memory & { grow: (pages: number) => number };
    // C [1, 2] = A [1, K] · B [K, 2] with A alone longer than the memory there is: a cheap product
    // whose operands need the memory to grow.
    const K = (heap.bytes >> 2) + 4096;
    const fill = (n: number, s: number) => { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = ((i * 40503 + s) % 2048) / 1024 - 1; return a; };
    const A = fill(K, 8), B = fill(2 * K, 9), onWasm = new Float32Array(2), onJs = new Float32Array(2);
    const before = heap.bytes;
    setWasmEverySize(true);
    Object.defineProperty(mem, 'grow', { configurable: true, value: () => { throw new RangeError('WebAssembly.Memory.grow(): refused'); } });
    try {
      gemmNN(onWasm, 0, 2, A, 0, K, B, 0, 2, 1, 2, K, false);
    } finally {
      delete (mem as { grow?: unknown }).grow;
      setWasmEverySize(false);
    }
    expect(heap.bytes).toBe(before);
    js.gemmNN(onJs, 0, 2, A, 0, K, B, 0, 2, 1, 2, K, false);
    expect(Array.from(new Uint32Array(onWasm.buffer))).toEqual(Array.from(new Uint32Array(onJs.buffer)));
    // The instance still works afterwards, memory growing again.
    const small = new Float32Array(2);
    gemmNN(small, 0, 2, A, 0, 64, B, 0, 2, 1, 2, 64, false);
    js.gemmNN(onJs, 0, 2, A, 0, 64, B, 0, 2, 1, 2, 64, false);
    expect(Array.from(small)).toEqual(Array.from(onJs));
  }, 60_000);
});
