/**
 * Backend selection (getBackend/setBackend), and the backends' equality on whole modules: every
 * output and gradient bit-identical between 'js' and 'wasm' (every product on wasm, however
 * small) for LSTM (with and without projSize), GRU and resetAfter GRU over fixtures' weights, random odd sizes, packed
 * lengths, bidirectional stacks, streaming, TBPTT and the one-step cell API.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  GRU, GRUCell, LSTM, LSTMCell, SequenceRunner, StreamingRunner, TruncatedBPTT, getBackend, setBackend,
  type CellState, type RecurrentCell,
} from '../../src/index.js';
import { setWasmEverySize } from '../../src/kernels/backend.js';
import { CELL_KINDS, makeCell, randn, type CellKind } from '../helpers/cells.js';
import { fixtureNames, loadFixture, type NativeFixture } from '../helpers/fixtures.js';

afterEach(() => {
  setBackend('auto');
  setWasmEverySize(false);
});

describe('getBackend / setBackend', () => {
  it("'auto' picks wasm where WebAssembly SIMD compiles (Node does)", () => {
    expect(setBackend('auto')).toBe('wasm');
    expect(getBackend()).toBe('wasm');
  });
  it('returns the backend now in use', () => {
    expect(setBackend('js')).toBe('js');
    expect(getBackend()).toBe('js');
    expect(setBackend('wasm')).toBe('wasm');
    expect(getBackend()).toBe('wasm');
  });
  it('rejects another name with a TypeError naming the argument', () => {
    expect(() => setBackend('webgl' as never)).toThrow(TypeError);
    expect(() => setBackend('webgl' as never)).toThrow(/^name: expected 'js', 'wasm' or 'auto', got .*webgl/);
    expect(() => setBackend(undefined as never)).toThrow(/name: expected/);
    expect(getBackend()).toBe('wasm');   // unchanged by a rejected call
  });
});

/** Runs fn under 'js', then under 'wasm' with every product on wasm; returns both results. */
function both<R>(fn: () => R): [R, R] {
  setBackend('js');
  const a = fn();
  setBackend('wasm');
  setWasmEverySize(true);
  const b = fn();
  setWasmEverySize(false);
  return [a, b];
}

/** Every Float32Array reachable in r, flattened with its path. */
function arrays(r: unknown, path = '', out: Array<[string, Float32Array]> = []): Array<[string, Float32Array]> {
  if (r instanceof Float32Array) out.push([path, r]);
  else if (Array.isArray(r)) r.forEach((v, i) => arrays(v, `${path}[${i}]`, out));
  else if (r !== null && typeof r === 'object') for (const [k, v] of Object.entries(r)) arrays(v, `${path}.${k}`, out);
  return out;
}

function expectBitIdentical(a: unknown, b: unknown): void {
  const x = arrays(a), y = arrays(b);
  expect(x.length).toBeGreaterThan(0);
  expect(y.map(([p]) => p)).toEqual(x.map(([p]) => p));
  for (let k = 0; k < x.length; k++) {
    const [p, u] = x[k]!, v = y[k]![1];
    expect(v.length, p).toBe(u.length);
    const bu = new Uint32Array(u.buffer, u.byteOffset, u.length), bv = new Uint32Array(v.buffer, v.byteOffset, v.length);
    for (let i = 0; i < bu.length; i++) if (bu[i] !== bv[i]) throw new Error(`${p}[${i}]: js ${u[i]} wasm ${v[i]}`);
  }
}

const grads = (cell: RecurrentCell<CellState>): Float32Array[] => cell.parameters().map((p) => p.grad.slice());

/** Forward and backward of a runner over (T, B) with optional lengths; everything it returns. */
function runnerPass(kind: CellKind, I: number, H: number, T: number, B: number, lengths?: number[]): unknown {
  const cell = makeCell(kind, I, H, 3);
  const runner = new SequenceRunner(cell);
  const x = randn(T * B * I, 4), dO = randn(T * B * H, 5);
  const opts = lengths ? { batch: B, lengths } : { batch: B };
  const fwd = runner.forward(x, opts);
  const bwd = runner.backward({ dOutputs: dO, dFinalState: fwd.finalState });
  // A second pass after changing the weights: packed copies must follow the parameters.
  for (const p of cell.parameters()) for (let i = 0; i < p.value.length; i += 7) p.value[i]! *= 0.5;
  const again = runner.run(x, opts);
  return { fwd, bwd, grads: grads(cell), again };
}

describe.each(CELL_KINDS)('backends agree bit for bit, %s', (kind) => {
  it('random odd sizes, batch 1 to 9, one step to 13', () => {
    for (const [I, H, T, B] of [[1, 1, 1, 1], [3, 5, 7, 2], [7, 9, 13, 9], [13, 17, 4, 5], [2, 33, 3, 1], [17, 8, 5, 4]] as const) {
      const [a, b] = both(() => runnerPass(kind, I, H, T, B));
      expectBitIdentical(a, b);
    }
  });
  it('packed lengths, unsorted', () => {
    const [a, b] = both(() => runnerPass(kind, 5, 11, 9, 6, [9, 2, 5, 9, 1, 7]));
    expectBitIdentical(a, b);
  });
  it('a 2-layer bidirectional stack with lengths, forward and backward', () => {
    const [a, b] = both(() => {
      const I = 6, H = 7, T = 8, B = 3;
      const opts = { inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, seed: 2 };
      const rnn = kind === 'lstm' ? new LSTM(opts) : new GRU({ ...opts, resetAfter: kind === 'gru-reset-after' });
      const x = randn(T * B * I, 6), dO = randn(T * B * 2 * H, 7);
      const fwd = rnn.forward(x, { batch: B, lengths: [8, 3, 6] });
      const bwd = rnn.backward({ dOutputs: dO });
      return { fwd, bwd, grads: rnn.parameters().map((p) => p.grad.slice()) };
    });
    expectBitIdentical(a, b);
  });
  it('streaming (StreamingRunner over a 2-layer stack, syncWeights after a change)', () => {
    const [a, b] = both(() => {
      const I = 5, H = 9, B = 2;
      const opts = { inputSize: I, hiddenSize: H, numLayers: 2, seed: 4 };
      const rnn = kind === 'lstm' ? new LSTM(opts) : new GRU({ ...opts, resetAfter: kind === 'gru-reset-after' });
      const stream = new StreamingRunner(rnn, { batch: B });
      const out: Float32Array[] = [];
      for (let t = 0; t < 12; t++) {
        if (t === 6) { for (const p of rnn.parameters()) p.value[0]! += 0.25; stream.syncWeights(); }
        out.push(stream.step(randn(B * I, 100 + t)).slice());
      }
      return { out, state: stream.state };
    });
    expectBitIdentical(a, b);
  });
  it('TBPTT: chunks, backward each, a parameter change between chunks', () => {
    const [a, b] = both(() => {
      const I = 4, H = 6, B = 2, chunk = 5;
      const cell = makeCell(kind, I, H, 8);
      const tb = new TruncatedBPTT(new SequenceRunner(cell), { batch: B });
      const out: unknown[] = [];
      for (let c = 0; c < 4; c++) {
        const r = tb.forward(randn(chunk * B * I, 20 + c));
        out.push(r, tb.backward({ dOutputs: randn(chunk * B * H, 40 + c) }), grads(cell));
        for (const p of cell.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i]! -= 0.01 * p.grad[i]!;
        cell.zeroGrad();
      }
      return out;
    });
    expectBitIdentical(a, b);
  });
  it('the one-step API: step, forward, backward', () => {
    const [a, b] = both(() => {
      const I = 9, H = 10, B = 5;
      const cell = makeCell(kind, I, H, 9);
      const s0 = cell.initialState(B);
      s0.h.set(randn(B * H, 1));
      const x = randn(B * I, 2);
      const stepped = cell.step(x, s0, B);
      const f = cell.forward(x, s0, B);
      const d = cell.backward(f, kind === 'lstm' ? { h: randn(B * H, 3), c: randn(B * H, 4) } : { h: randn(B * H, 3) });
      return { stepped, state: f.state, d, grads: grads(cell) };
    });
    expectBitIdentical(a, b);
  });
});

describe('backends agree bit for bit, LSTM with a projection (projSize)', () => {
  it('a 2-layer bidirectional stack with lengths, forward and backward', () => {
    const [a, b] = both(() => {
      const I = 5, H = 9, P = 4, T = 7, B = 3;
      const rnn = new LSTM({ inputSize: I, hiddenSize: H, projSize: P, numLayers: 2, bidirectional: true, seed: 12 });
      const x = randn(T * B * I, 13), dO = randn(T * B * 2 * P, 14);
      const fwd = rnn.forward(x, { batch: B, lengths: [7, 2, 5] });
      const bwd = rnn.backward({ dOutputs: dO });
      return { fwd, bwd, grads: rnn.parameters().map((p) => p.grad.slice()) };
    });
    expectBitIdentical(a, b);
  });
});

describe('backends agree bit for bit on the PyTorch fixtures', () => {
  for (const name of fixtureNames('native')) {
    it(name, () => {
      const fx = loadFixture<NativeFixture>(name);
      const [a, b] = both(() => {
        const opts = { inputSize: fx.inputSize, hiddenSize: fx.hiddenSize, seed: 0 };
        const cell: RecurrentCell<CellState> = fx.cell === 'lstm' ? new LSTMCell(opts) : new GRUCell({ ...opts, resetAfter: fx.resetAfter === true });
        // The library's own layout, as test/layers/native-fixtures.test.ts sets it.
        cell.params.weightIh.set(fx.params.weight_ih);
        cell.params.weightHh.set(fx.params.weight_hh);
        cell.params.biasIh!.set(fx.params.bias_ih);
        cell.params.biasHh!.set(fx.params.bias_hh);
        const runner = new SequenceRunner(cell);
        const H = fx.hiddenSize;
        const initial = fx.c0 ? { h: Float32Array.from(fx.h0), c: Float32Array.from(fx.c0) } : { h: Float32Array.from(fx.h0) };
        const fwd = runner.forward(Float32Array.from(fx.inputs), { batch: fx.batch, initialState: initial as CellState });
        const up = fx.upstream;
        const bwd = runner.backward({
          dOutputs: Float32Array.from(up.dOutputs),
          dFinalState: (up.dcN ? { h: Float32Array.from(up.dhN), c: Float32Array.from(up.dcN) } : { h: Float32Array.from(up.dhN) }) as CellState,
        });
        expect(fwd.outputs.length).toBe(fx.steps * fx.batch * H);
        return { fwd, bwd, grads: grads(cell) };
      });
      expectBitIdentical(a, b);
    });
  }
});

describe.each(CELL_KINDS)("'auto' as users get it (products routed by size, js and wasm mixed) equals js bit for bit, %s", (kind) => {
  /** Under 'js', then under 'auto' with the size heuristic in force (setWasmEverySize(false)). */
  function jsThenAuto<R>(fn: () => R): [R, R] {
    setBackend('js');
    const a = fn();
    setBackend('auto');
    setWasmEverySize(false);
    expect(getBackend()).toBe('wasm');
    return [a, fn()];
  }
  it('sizes on both sides of the routing threshold, packed, bidirectional with projSize or peephole', () => {
    for (const [I, H, T, B] of [[1, 2, 3, 1], [16, 64, 9, 1], [32, 128, 5, 4], [3, 40, 7, 33]] as const) {
      const [a, b] = jsThenAuto(() => runnerPass(kind, I, H, T, B, B > 1 ? Array.from({ length: B }, (_, i) => 1 + ((i * 5) % T)) : undefined));
      expectBitIdentical(a, b);
    }
    const [a, b] = jsThenAuto(() => {
      const I = 24, H = 48, T = 6, B = 5;
      const opts = { inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, seed: 4 };
      const rnn = kind === 'lstm' ? new LSTM({ ...opts, projSize: 20 }) : new GRU({ ...opts, resetAfter: kind === 'gru-reset-after' });
      const peep = kind === 'lstm' ? new LSTM({ ...opts, peephole: true }) : null;
      const x = randn(T * B * I, 8);
      const out: unknown[] = [];
      for (const m of peep === null ? [rnn] : [rnn, peep]) {
        const fwd = m.forward(x, { batch: B, lengths: [6, 2, 5, 6, 1] });
        const bwd = m.backward({ dOutputs: randn(fwd.outputs.length, 9) });
        out.push({ fwd, bwd, grads: m.parameters().map((p) => p.grad.slice()) });
      }
      return out;
    });
    expectBitIdentical(a, b);
  });
});
