/**
 * The WebAssembly LSTM gate pass against lstmGatesForward (cells/lstm.ts), bit for bit, on
 * pre-activations chosen to reach every branch of expFast/sigmoid/tanh: saturation past ±88 and
 * −87, the tanh series below |x| = 1/128 and exactly at it, subnormals, ±0; odd and even H;
 * packed rows (batchSizes[t] < B).
 */
import { describe, expect, it } from 'vitest';
import { LSTMCell, Random } from '../../../src/index.js';
import { lstmGatesForward } from '../../../src/cells/lstm.js';
import { wasmLstmGatesForward } from '../../../src/kernels/wasm/gates.js';
import { createWasmHeap } from '../../../src/kernels/wasm/heap.js';
import type { CellTape } from '../../../src/cells/tape.js';

const SPECIAL = [0, -0, 1e-40, -1e-40, 1 / 128, -1 / 128, 0.0078, -0.0078, 1e-3, 88, -87, 88.5, -87.5, 100, -100, 20, -20, 1e30, -1e30];

function fill(a: Float32Array, rng: Random): void {
  for (let i = 0; i < a.length; i++) {
    const u = rng.next();
    a[i] = u < 0.3 ? SPECIAL[Math.floor(rng.next() * SPECIAL.length)]! : u < 0.6 ? (rng.next() - 0.5) / 64 : rng.normal() * 4;
  }
}

function tapeCopy(tape: CellTape): Float32Array[] {
  return [tape.gates.slice(), tape.c.slice(), tape.aux.slice(), tape.h.slice()];
}

describe('wasm LSTM gate pass', () => {
  const heap = createWasmHeap(false)!;
  it.each([[1, 1], [3, 7], [5, 16], [2, 33], [4, 64], [16, 255]])('bit-identical to lstmGatesForward, B=%i H=%i', (B, H) => {
    const rng = new Random(B * 100 + H);
    const T = 3;
    const cell = new LSTMCell({ inputSize: 2, hiddenSize: H });
    const a = cell.createTape(T, B, true), b = cell.createTape(T, B, true);
    a.batchSizes.set([B, Math.max(1, B - 1), 1]);
    b.batchSizes.set(a.batchSizes);
    for (const arr of [a.gates, a.c, a.foldedBias]) fill(arr, rng);
    b.gates.set(a.gates); b.c.set(a.c); b.foldedBias.set(a.foldedBias);
    for (let t = 0; t < T; t++) {
      lstmGatesForward(a, t);
      wasmLstmGatesForward(heap, b, t);
    }
    const x = tapeCopy(a), y = tapeCopy(b);
    ['gates', 'c', 'tanh c', 'h'].forEach((name, k) => {
      const u = new Uint32Array(x[k]!.buffer), v = new Uint32Array(y[k]!.buffer);
      for (let i = 0; i < u.length; i++) {
        if (u[i] !== v[i]) throw new Error(`${name}[${i}]: ts ${x[k]![i]} wasm ${y[k]![i]}`);
      }
    });
    expect(a.h.some((v) => v !== 0)).toBe(true);
  });
});
