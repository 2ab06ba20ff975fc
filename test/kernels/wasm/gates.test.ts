/**
 * The WebAssembly gate passes against lstmGatesForward (cells/lstm.ts) and the GRU passes
 * (gruResetForward, gruCandidateForward, gruResetAfterForward with and without b_hh), bit for bit, on
 * pre-activations chosen to reach every branch of expFast/sigmoid/tanh: saturation past ±88 and
 * −87, the tanh series below |x| = 1/128 and exactly at it, subnormals, ±0; odd and even H;
 * packed rows (batchSizes[t] < B).
 */
import { describe, expect, it } from 'vitest';
import { GRUCell, LSTMCell, Random } from '../../../src/index.js';
import { lstmGatesForward } from '../../../src/cells/lstm.js';
import { wasmGruGatesForward, wasmLstmGatesForward } from '../../../src/kernels/wasm/gates.js';
import { gruCandidateForward, gruResetAfterForward, gruResetForward } from '../../../src/cells/gru.js';
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

function expectSameTapes(a: CellTape, b: CellTape): void {
  const x = tapeCopy(a), y = tapeCopy(b);
  ['gates', 'c', 'aux', 'h'].forEach((name, k) => {
    const u = new Uint32Array(x[k]!.buffer), v = new Uint32Array(y[k]!.buffer);
    for (let i = 0; i < u.length; i++) {
      if (u[i] !== v[i]) throw new Error(`${name}[${i}]: ts ${x[k]![i]} wasm ${y[k]![i]}`);
    }
  });
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

describe('wasm GRU gate passes', () => {
  const heap = createWasmHeap(false)!;
  it.each([[1, 1], [3, 7], [5, 16], [2, 33], [16, 255]])('bit-identical to the TypeScript passes, B=%i H=%i', (B, H) => {
    const rng = new Random(B * 1000 + H);
    const T = 3;
    for (const resetAfter of [false, true]) {
      for (const bias of [true, false]) {
        const cell = new GRUCell({ inputSize: 2, hiddenSize: H, resetAfter, bias });
        const a = cell.createTape(T, B, true), b = cell.createTape(T, B, true);
        a.batchSizes.set([B, Math.max(1, B - 1), 1]);
        b.batchSizes.set(a.batchSizes);
        for (const arr of [a.gates, a.h, a.foldedBias, a.hh]) fill(arr, rng);
        b.gates.set(a.gates); b.h.set(a.h); b.foldedBias.set(a.foldedBias); b.hh.set(a.hh);
        const biasHh = bias ? cell.params.biasHh! : null;
        if (biasHh) fill(biasHh, rng);
        for (let t = 0; t < T; t++) {
          if (resetAfter) {
            gruResetAfterForward(a, t, biasHh);
            wasmGruGatesForward(heap, b, t, 'resetAfter', biasHh);
          } else {
            gruResetForward(a, t);
            wasmGruGatesForward(heap, b, t, 'reset', null);
            gruCandidateForward(a, t);
            wasmGruGatesForward(heap, b, t, 'candidate', null);
          }
        }
        expectSameTapes(a, b);
        expect(a.h.some((v) => v !== 0)).toBe(true);
      }
    }
  });
});
