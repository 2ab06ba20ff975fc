/**
 * LSTM and GRU stacks beyond the PyTorch fixtures: a finite-difference gradient check of the
 * whole 2-layer bidirectional packed stack; bitwise agreement with hand-composed SequenceRunners
 * (one layer, the reverse direction, layer chaining); packed-sequence semantics entry by entry;
 * argument errors with their messages; deterministic seeding.
 */
import { describe, expect, it } from 'vitest';
import {
  GRU, gradCheck, LSTM, SequenceRunner,
  type CellState, type GradCheckParam, type LSTMState, type RecurrentStack, type StackOptions,
} from '../../src/index.js';
import { bitwiseEqual, dot, randn } from '../helpers/cells.js';

type Kind = 'lstm' | 'gru' | 'gru-reset-after';
const KINDS: Kind[] = ['lstm', 'gru', 'gru-reset-after'];
type Stack = RecurrentStack<CellState>;

function makeStack(kind: Kind, o: StackOptions): Stack {
  const s = kind === 'lstm' ? new LSTM(o) : new GRU({ ...o, resetAfter: kind === 'gru-reset-after' });
  return s as unknown as Stack;
}

function state(lstm: boolean, h: Float32Array, c?: Float32Array): CellState {
  return lstm ? { h, c: c! } : { h };
}

/** Rows [T, B, F] → the rows of entry b, steps 0..len−1 ([len, 1, F]). */
function entryPrefix(x: Float32Array, B: number, F: number, b: number, len: number): Float32Array {
  const out = new Float32Array(len * F);
  for (let t = 0; t < len; t++) out.set(x.subarray((t * B + b) * F, (t * B + b + 1) * F), t * F);
  return out;
}

/** Time-reversed [T, B, F] (whole sequence). */
function reverseTime(x: Float32Array, T: number, B: number, F: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let t = 0; t < T; t++) out.set(x.subarray(t * B * F, (t + 1) * B * F), (T - 1 - t) * B * F);
  return out;
}

/** States [K, B, H] → entry b's slice [K, 1, H]. */
function stateEntry(s: Float32Array, K: number, B: number, H: number, b: number): Float32Array {
  const out = new Float32Array(K * H);
  for (let k = 0; k < K; k++) out.set(s.subarray((k * B + b) * H, (k * B + b + 1) * H), k * H);
  return out;
}

/** Features [f0, f0 + width) of every row of [rows, F]. */
function columns(x: Float32Array, F: number, f0: number, width: number): Float32Array {
  const rows = x.length / F, out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * F + f0, r * F + f0 + width), r * width);
  return out;
}

function gradSnapshot(s: Stack): Float32Array[] {
  return s.parameters().map((p) => p.grad.slice());
}

function expectBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  if (!bitwiseEqual(actual, expected)) {
    let at = 0;
    while (Object.is(actual[at], expected[at])) at++;
    expect.fail(`${what}: differs at ${at}: ${actual[at]} vs ${expected[at]}`);
  }
}

// ---------------------------------------------------------------- gradient check

describe.each(KINDS)('%s stack: finite-difference gradient check', (kind) => {
  it('2 layers, bidirectional, lengths [5, 2, 4]: every parameter, input and initial state', () => {
    const I = 2, H = 3, T = 5, B = 3, L = 2, D = 2;
    const lengths = [5, 2, 4];
    const lstm = kind === 'lstm';
    const rnn = makeStack(kind, { inputSize: I, hiddenSize: H, numLayers: L, bidirectional: true, seed: 17 });
    const K = L * D * B * H;
    const x = randn(T * B * I, 1), h0 = randn(K, 2, 0.5), c0 = randn(K, 3, 0.5);
    const w = randn(T * B * D * H, 4), u = randn(K, 5), v = randn(K, 6);
    const dx = new Float32Array(x.length), dh0 = new Float32Array(K), dc0 = new Float32Array(K);
    const opts = () => ({ batch: B, lengths, initialState: state(lstm, h0, c0) });
    const loss = () => {
      const r = rnn.run(x, opts());
      return dot(r.outputs, w) + dot(r.finalState.h, u) + (lstm ? dot((r.finalState as LSTMState).c, v) : 0);
    };
    const backward = () => {
      rnn.forward(x, opts());
      const g = rnn.backward({ dOutputs: w, dFinalState: state(lstm, u, v) });
      dx.set(g.dInputs);
      dh0.set(g.dInitialState.h);
      if (lstm) dc0.set((g.dInitialState as LSTMState).c);
    };
    const params: GradCheckParam[] = [
      ...rnn.parameters(),
      { name: 'inputs', value: x, grad: dx },
      { name: 'h0', value: h0, grad: dh0 },
      ...(lstm ? [{ name: 'c0', value: c0, grad: dc0 }] : []),
    ];
    expect(params.length).toBe(4 * L * D + (lstm ? 3 : 2));
    const res = gradCheck({ params, loss, backward });
    expect(res.failures).toEqual([]);
    expect(res.ok).toBe(true);
    expect(res.checked).toBe(params.reduce((n, p) => n + p.value.length, 0));
    // The check is not vacuous: every parameter and state gradient has non-zero entries.
    for (const p of params) expect(p.grad.some((g) => g !== 0), `${p.name} has a non-zero gradient`).toBe(true);
    // Padding inputs get exactly zero (and the finite differences agreed).
    for (let b = 0; b < B; b++) {
      for (let t = lengths[b]!; t < T; t++) {
        expect(dx.subarray((t * B + b) * I, (t * B + b + 1) * I).every((g) => g === 0)).toBe(true);
      }
    }
  });
});

// ---------------------------------------------------------------- equal to hand-composed runners

describe.each(KINDS)('%s stack equals hand-composed SequenceRunners (bitwise)', (kind) => {
  const lstm = kind === 'lstm';

  for (const lengths of [undefined, [6, 3, 5]]) {
    it(`one unidirectional layer is a SequenceRunner over its cell: outputs, state and grads (lengths ${JSON.stringify(lengths)})`, () => {
      const I = 4, H = 5, T = 6, B = 3;
      const rnn = makeStack(kind, { inputSize: I, hiddenSize: H, seed: 7 });
      expect(rnn.cells.length).toBe(1);
      const cell = rnn.cells[0]!;
      const x = randn(T * B * I, 1), s0 = state(lstm, randn(B * H, 2, 0.5), randn(B * H, 3, 0.5));
      const dO = randn(T * B * H, 4), dS = state(lstm, randn(B * H, 5), randn(B * H, 6));
      const f = rnn.forward(x, { batch: B, initialState: s0, lengths });
      rnn.zeroGrad();
      const g = rnn.backward({ dOutputs: dO, dFinalState: dS });
      const grads = gradSnapshot(rnn);

      cell.zeroGrad();
      const runner = new SequenceRunner(cell);
      const rf = runner.forward(x, { batch: B, initialState: s0, lengths });
      const rg = runner.backward({ dOutputs: dO, dFinalState: dS });
      expectBits(f.outputs, rf.outputs, 'outputs');
      expectBits(f.finalState.h, rf.finalState.h, 'hN');
      expectBits(g.dInputs, rg.dInputs, 'dInputs');
      expectBits(g.dInitialState.h, rg.dInitialState.h, 'dh0');
      if (lstm) {
        expectBits((f.finalState as LSTMState).c, (rf.finalState as LSTMState).c, 'cN');
        expectBits((g.dInitialState as LSTMState).c, (rg.dInitialState as LSTMState).c, 'dc0');
      }
      cell.parameters().forEach((p, i) => expectBits(p.grad, grads[i]!, `grad ${p.name}`));
      expect(grads.some((a) => a.some((v) => v !== 0))).toBe(true);
    });
  }

  it('bidirectional without lengths: reverse direction = its runner on the time-reversed input', () => {
    const I = 3, H = 4, T = 5, B = 2, D = 2;
    const rnn = makeStack(kind, { inputSize: I, hiddenSize: H, bidirectional: true, seed: 8 });
    const [fwd, rev] = [rnn.cells[0]!, rnn.cells[1]!];
    const x = randn(T * B * I, 11);
    const h0 = randn(D * B * H, 12, 0.5), c0 = randn(D * B * H, 13, 0.5);
    const dO = randn(T * B * D * H, 14), dhN = randn(D * B * H, 15), dcN = randn(D * B * H, 16);
    const n = B * H;
    const f = rnn.forward(x, { batch: B, initialState: state(lstm, h0, c0) });
    rnn.zeroGrad();
    const g = rnn.backward({ dOutputs: dO, dFinalState: state(lstm, dhN, dcN) });
    const grads = gradSnapshot(rnn);

    rnn.zeroGrad();
    const slot = (a: Float32Array, k: number) => a.slice(k * n, (k + 1) * n);
    const rf = new SequenceRunner(fwd), rr = new SequenceRunner(rev);
    const of = rf.forward(x, { batch: B, initialState: state(lstm, slot(h0, 0), slot(c0, 0)) });
    const or = rr.forward(reverseTime(x, T, B, I), { batch: B, initialState: state(lstm, slot(h0, 1), slot(c0, 1)) });
    expectBits(columns(f.outputs, D * H, 0, H), of.outputs, 'forward half of outputs');
    expectBits(columns(f.outputs, D * H, H, H), reverseTime(or.outputs, T, B, H), 'reverse half of outputs');
    expectBits(slot(f.finalState.h, 0), of.finalState.h, 'hN forward');
    expectBits(slot(f.finalState.h, 1), or.finalState.h, 'hN reverse');
    // The reverse direction's final state is its output at step 0.
    expectBits(slot(f.finalState.h, 1), columns(f.outputs, D * H, H, H).subarray(0, n), 'hN reverse = outputs[0] reverse half');
    if (lstm) {
      expectBits(slot((f.finalState as LSTMState).c, 0), (of.finalState as LSTMState).c, 'cN forward');
      expectBits(slot((f.finalState as LSTMState).c, 1), (or.finalState as LSTMState).c, 'cN reverse');
    }

    const gf = rf.backward({ dOutputs: columns(dO, D * H, 0, H), dFinalState: state(lstm, slot(dhN, 0), slot(dcN, 0)) });
    const gr = rr.backward({ dOutputs: reverseTime(columns(dO, D * H, H, H), T, B, H), dFinalState: state(lstm, slot(dhN, 1), slot(dcN, 1)) });
    const dx = new Float32Array(gf.dInputs);
    const back = reverseTime(gr.dInputs, T, B, I);
    for (let i = 0; i < dx.length; i++) dx[i] += back[i]!;
    expectBits(g.dInputs, dx, 'dInputs = forward + un-reversed reverse');
    expectBits(slot(g.dInitialState.h, 0), gf.dInitialState.h, 'dh0 forward');
    expectBits(slot(g.dInitialState.h, 1), gr.dInitialState.h, 'dh0 reverse');
    if (lstm) expectBits(slot((g.dInitialState as LSTMState).c, 1), (gr.dInitialState as LSTMState).c, 'dc0 reverse');
    rnn.parameters().forEach((p, i) => expectBits(p.grad, grads[i]!, `grad ${p.name}`));
  });

  it('layer chaining: layer 1 takes the D·H concatenated outputs of layer 0 (inputSize D·H)', () => {
    const I = 3, H = 4, T = 4, B = 2;
    for (const bidirectional of [false, true]) {
      const D = bidirectional ? 2 : 1;
      const rnn = makeStack(kind, { inputSize: I, hiddenSize: H, numLayers: 3, bidirectional, seed: 9 });
      expect(rnn.cells.length).toBe(3 * D);
      rnn.cells.forEach((c, k) => {
        const want = k < D ? I : D * H;
        expect(c.inputSize, `cell ${k} inputSize`).toBe(want);
        expect(c.hiddenSize).toBe(H);
        expect(c.params.weightIh.length).toBe(c.gateCount * H * want);
      });
      const sd = rnn.stateDict();
      const tag = kind === 'gru' ? '_reset_before' : '';   // see cells/pytorch.ts RESET_BEFORE_TAG
      expect(sd[`weight_ih_l0${tag}`]!.shape).toEqual([rnn.cells[0]!.gateCount * H, I]);
      expect(sd[`weight_ih_l1${tag}`]!.shape).toEqual([rnn.cells[0]!.gateCount * H, D * H]);
      expect(sd[`weight_ih_l2${tag}`]!.shape).toEqual([rnn.cells[0]!.gateCount * H, D * H]);

      // Compose by hand: each layer's directions run on the previous layer's concatenated outputs.
      const x = randn(T * B * I, 21);
      const out = rnn.run(x, { batch: B });
      let layerIn = x, In = I;
      const hN = new Float32Array(3 * D * B * H);
      for (let l = 0; l < 3; l++) {
        const Y = new Float32Array(T * B * D * H);
        for (let d = 0; d < D; d++) {
          const k = l * D + d;
          const r = new SequenceRunner(rnn.cells[k]!).run(d === 0 ? layerIn : reverseTime(layerIn, T, B, In), { batch: B });
          const o = d === 0 ? r.outputs : reverseTime(r.outputs, T, B, H);
          for (let row = 0; row < T * B; row++) Y.set(o.subarray(row * H, (row + 1) * H), row * D * H + d * H);
          hN.set(r.finalState.h, k * B * H);
        }
        layerIn = Y; In = D * H;
      }
      expectBits(out.outputs, layerIn, `outputs (D = ${D})`);
      expectBits(out.finalState.h, hN, `hN (D = ${D})`);
    }
  });

  it('run and forward agree bitwise; parameters() are the cells\' own arrays under layer names', () => {
    const rnn = makeStack(kind, { inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, seed: 10 });
    const x = randn(4 * 2 * 2, 31);
    const a = rnn.run(x, { batch: 2 }), b = rnn.forward(x, { batch: 2 });
    expectBits(a.outputs, b.outputs, 'outputs');
    expectBits(a.finalState.h, b.finalState.h, 'hN');
    const ps = rnn.parameters();
    const stems = ['weightIh', 'weightHh', 'biasIh', 'biasHh'];
    expect(ps.map((p) => p.name)).toEqual(['l0', 'l0_reverse', 'l1', 'l1_reverse'].flatMap((s) => stems.map((t) => `${s}.${t}`)));
    expect(ps[4]!.value).toBe(rnn.cells[1]!.params.weightIh);
    expect(ps[4]!.grad).toBe(rnn.cells[1]!.grads.weightIh);
  });
});

// ---------------------------------------------------------------- packed sequences

describe.each(KINDS)('%s stack: packed sequences (lengths [5, 2, 4])', (kind) => {
  const lstm = kind === 'lstm';
  const I = 3, H = 4, T = 5, B = 3, L = 2, D = 2, K = L * D;
  const lengths = [5, 2, 4];

  it('padding outputs are zero in both directions; each entry equals running it alone; padding gets no gradient', () => {
    const rnn = makeStack(kind, { inputSize: I, hiddenSize: H, numLayers: L, bidirectional: true, seed: 12 });
    const x = randn(T * B * I, 41);
    const h0 = randn(K * B * H, 42, 0.5), c0 = randn(K * B * H, 43, 0.5);
    const dO = randn(T * B * D * H, 44), dhN = randn(K * B * H, 45), dcN = randn(K * B * H, 46);
    // x is random in the padding too: it must not matter.
    const f = rnn.forward(x, { batch: B, lengths, initialState: state(lstm, h0, c0) });
    rnn.zeroGrad();
    const g = rnn.backward({ dOutputs: dO, dFinalState: state(lstm, dhN, dcN) });
    const batchGrads = gradSnapshot(rnn);

    for (let b = 0; b < B; b++) {
      const len = lengths[b]!;
      for (let t = len; t < T; t++) {
        const row = f.outputs.subarray((t * B + b) * D * H, (t * B + b + 1) * D * H);
        expect(Array.from(row), `outputs[${t}, ${b}] (both directions)`).toEqual(Array(D * H).fill(0));
        const dRow = g.dInputs.subarray((t * B + b) * I, (t * B + b + 1) * I);
        expect(Array.from(dRow), `dInputs[${t}, ${b}]`).toEqual(Array(I).fill(0));
      }
    }
    // Last layer: the forward direction's final state is its output at the entry's last step, the
    // reverse direction's is its output at step 0.
    for (let b = 0; b < B; b++) {
      const len = lengths[b]!;
      const hF = f.finalState.h.subarray(((K - 2) * B + b) * H, ((K - 2) * B + b + 1) * H);
      const hR = f.finalState.h.subarray(((K - 1) * B + b) * H, ((K - 1) * B + b + 1) * H);
      expectBits(hF, f.outputs.slice(((len - 1) * B + b) * D * H, ((len - 1) * B + b) * D * H + H), `hN fwd entry ${b}`);
      expectBits(hR, f.outputs.slice(b * D * H + H, b * D * H + 2 * H), `hN rev entry ${b} = output at step 0`);
    }

    const soloGradSum = batchGrads.map((a) => new Float64Array(a.length));
    for (let b = 0; b < B; b++) {
      const len = lengths[b]!;
      const s0 = state(lstm, stateEntry(h0, K, B, H, b), stateEntry(c0, K, B, H, b));
      rnn.zeroGrad();
      const sf = rnn.forward(entryPrefix(x, B, I, b, len), { batch: 1, initialState: s0 });
      const sg = rnn.backward({
        dOutputs: entryPrefix(dO, B, D * H, b, len),
        dFinalState: state(lstm, stateEntry(dhN, K, B, H, b), stateEntry(dcN, K, B, H, b)),
      });
      expectBits(entryPrefix(f.outputs, B, D * H, b, len), sf.outputs, `entry ${b} outputs`);
      expectBits(stateEntry(f.finalState.h, K, B, H, b), sf.finalState.h, `entry ${b} hN (all layers, both directions)`);
      if (lstm) expectBits(stateEntry((f.finalState as LSTMState).c, K, B, H, b), (sf.finalState as LSTMState).c, `entry ${b} cN`);
      expectBits(entryPrefix(g.dInputs, B, I, b, len), sg.dInputs, `entry ${b} dInputs`);
      expectBits(stateEntry(g.dInitialState.h, K, B, H, b), sg.dInitialState.h, `entry ${b} dh0`);
      if (lstm) expectBits(stateEntry((g.dInitialState as LSTMState).c, K, B, H, b), (sg.dInitialState as LSTMState).c, `entry ${b} dc0`);
      gradSnapshot(rnn).forEach((a, i) => { for (let j = 0; j < a.length; j++) soloGradSum[i]![j]! += a[j]!; });
    }
    // Parameter gradients: the batch's are the sum of the entries' (up to summation order).
    batchGrads.forEach((a, i) => {
      for (let j = 0; j < a.length; j++) expect(Math.abs(a[j]! - soloGradSum[i]![j]!)).toBeLessThan(1e-5);
    });
  });

  it('layer 0 reverse final state: the reverse cell run over the entry reversed, i.e. after processing step 0', () => {
    const rnn = makeStack(kind, { inputSize: I, hiddenSize: H, bidirectional: true, seed: 13 });
    const x = randn(T * B * I, 51);
    const f = rnn.run(x, { batch: B, lengths });
    for (let b = 0; b < B; b++) {
      const len = lengths[b]!;
      const prefix = entryPrefix(x, B, I, b, len);
      const rev = new SequenceRunner(rnn.cells[1]!).run(reverseTime(prefix, len, 1, I), { batch: 1 });
      expectBits(f.finalState.h.subarray((B + b) * H, (B + b + 1) * H), rev.finalState.h, `entry ${b} reverse hN`);
      const fwd = new SequenceRunner(rnn.cells[0]!).run(prefix, { batch: 1 });
      expectBits(f.finalState.h.subarray(b * H, (b + 1) * H), fwd.finalState.h, `entry ${b} forward hN`);
      // Not the state after the padded steps: with lengths omitted the reverse direction starts at T − 1.
      if (len < T) {
        const full = rnn.run(x, { batch: B });
        expect(bitwiseEqual(full.finalState.h.subarray((B + b) * H, (B + b + 1) * H), rev.finalState.h)).toBe(false);
      }
    }
  });

  it('lengths all equal to T give the same bits as no lengths', () => {
    const rnn = makeStack(kind, { inputSize: I, hiddenSize: H, numLayers: L, bidirectional: true, seed: 14 });
    const x = randn(T * B * I, 61);
    const a = rnn.run(x, { batch: B, lengths: [T, T, T] }), b = rnn.run(x, { batch: B });
    expectBits(a.outputs, b.outputs, 'outputs');
    expectBits(a.finalState.h, b.finalState.h, 'hN');
  });
});

// ---------------------------------------------------------------- errors

describe.each(KINDS)('%s stack: argument errors', (kind) => {
  const lstm = kind === 'lstm';
  const I = 2, H = 3, T = 5, B = 3, L = 2, D = 2;
  const fresh = () => makeStack(kind, { inputSize: I, hiddenSize: H, numLayers: L, bidirectional: true, seed: 20 });
  const x = randn(T * B * I, 71);
  const snapshot = (s: Stack) => s.parameters().flatMap((p) => [p.value.slice(), p.grad.slice()]);
  const expectUnchanged = (s: Stack, snap: Float32Array[]) =>
    s.parameters().flatMap((p) => [p.value, p.grad]).forEach((a, i) => expectBits(a, snap[i]!, `array ${i}`));

  it('forward/run: inputs, batch, initialState and lengths, by name and size', () => {
    const rnn = fresh();
    const snap = snapshot(rnn);
    const nK = L * D * B * H;
    type Opts = Parameters<Stack['run']>[1];
    const cases: [Float32Array, Opts, ErrorConstructor, string][] = [
      [new Float32Array(T * B * I + 1), { batch: B }, RangeError, `inputs: expected a non-zero multiple of batch*inputSize = ${B * I}, got ${T * B * I + 1}`],
      [new Float32Array(0), { batch: B }, RangeError, `inputs: expected a non-zero multiple of batch*inputSize = ${B * I}, got 0`],
      [Array.from(x) as never, { batch: B }, TypeError, `inputs: expected a Float32Array, got Array(${x.length})`],
      [x, { batch: 0 }, RangeError, 'batch: expected a positive integer, got 0'],
      [x, { batch: 1.5 }, RangeError, 'batch: expected a positive integer, got 1.5'],
      [x, undefined as never, TypeError, 'options: expected an object, got undefined'],
      [x, { batch: 4 }, RangeError, `inputs: expected a non-zero multiple of batch*inputSize = 8, got ${x.length}`],
      [x, { batch: B, initialState: state(lstm, new Float32Array(B * H), new Float32Array(nK)) }, RangeError,
        `initialState.h: expected length numLayers*numDirections*batch*hiddenSize = ${nK}, got ${B * H}`],
      [x, { batch: B, initialState: 5 as never }, TypeError, 'initialState: expected an object, got 5'],
      [x, { batch: B, initialState: { h: new Float64Array(nK) } as never }, TypeError,
        `initialState.h: expected a Float32Array, got Float64Array(${nK})`],
      [x, { batch: B, lengths: [5, 2] }, RangeError, 'lengths: expected batch = 3 entries, got 2'],
      [x, { batch: B, lengths: [5, 6, 4] }, RangeError, 'lengths[1]: expected an integer in 1..steps = 5, got 6'],
      [x, { batch: B, lengths: [5, 2, 0] }, RangeError, 'lengths[2]: expected an integer in 1..steps = 5, got 0'],
      [x, { batch: B, lengths: [2.5, 2, 1] }, RangeError, 'lengths[0]: expected an integer in 1..steps = 5, got 2.5'],
      [x, { batch: B, lengths: [5, '2', 1] as never }, RangeError, 'lengths[1]: expected an integer in 1..steps = 5, got string "2"'],
      [x, { batch: B, lengths: 5 as never }, TypeError, 'lengths: expected an array of 3 integers, got 5'],
    ];
    if (lstm) {
      cases.push(
        [x, { batch: B, initialState: { h: new Float32Array(nK) } as never }, TypeError, 'initialState.c: expected a Float32Array, got undefined'],
        [x, { batch: B, initialState: { h: new Float32Array(nK), c: new Float32Array(nK - 1) } as never }, RangeError,
          `initialState.c: expected length numLayers*numDirections*batch*hiddenSize = ${nK}, got ${nK - 1}`],
      );
    }
    for (const [inputs, options, type, msg] of cases) {
      for (const method of ['run', 'forward'] as const) {
        let err: unknown;
        try { rnn[method](inputs, options); } catch (e) { err = e; }
        expect(err, `${method}: ${msg}`).toBeInstanceOf(type);
        expect((err as Error).message).toBe(msg);
      }
    }
    // Nothing was kept: there is no forward to run backward on.
    expect(() => rnn.backward({})).toThrow('backward: no forward tape; call forward() first');
    expectUnchanged(rnn, snap);
  });

  it('backward: before forward, twice, after run; bad upstream gradients change nothing', () => {
    const rnn = fresh();
    expect(() => rnn.backward({})).toThrow(Error);
    expect(() => rnn.backward({})).toThrow('backward: no forward tape; call forward() first');
    expect(() => rnn.backward()).toThrow('backward: no forward tape; call forward() first');
    rnn.forward(x, { batch: B, lengths: [5, 2, 4] });
    rnn.zeroGrad();
    const snap = snapshot(rnn);
    const nOut = T * B * D * H, nK = L * D * B * H;
    expect(() => rnn.backward({ dOutputs: new Float32Array(nOut - 1) }))
      .toThrow(`dOutputs: expected length steps*batch*numDirections*hiddenSize = ${nOut}, got ${nOut - 1}`);
    expect(() => rnn.backward({ dOutputs: new Float32Array(T * B * H) }))
      .toThrow(`dOutputs: expected length steps*batch*numDirections*hiddenSize = ${nOut}, got ${T * B * H}`);
    expect(() => rnn.backward({ dOutputs: Array(nOut).fill(0) as never })).toThrow(`dOutputs: expected a Float32Array, got Array(${nOut})`);
    expect(() => rnn.backward({ dFinalState: { h: new Float32Array(B * H) } as never }))
      .toThrow(`dFinalState.h: expected length numLayers*numDirections*batch*hiddenSize = ${nK}, got ${B * H}`);
    expect(() => rnn.backward({ dFinalState: 3 as never })).toThrow('dFinalState: expected an object, got 3');
    expect(() => rnn.backward(7 as never)).toThrow('upstream: expected an object, got 7');
    if (lstm) {
      expect(() => rnn.backward({ dFinalState: { c: new Float32Array(nK + 1) } as never }))
        .toThrow(`dFinalState.c: expected length numLayers*numDirections*batch*hiddenSize = ${nK}, got ${nK + 1}`);
    }
    expectUnchanged(rnn, snap);
    // The failed calls consumed nothing: a correct backward still runs, once.
    const g = rnn.backward({ dOutputs: randn(nOut, 72) });
    expect(g.dInputs.length).toBe(T * B * I);
    expect(rnn.parameters().some((p) => p.grad.some((v) => v !== 0))).toBe(true);
    const after = snapshot(rnn);
    const consumed = 'backward: the last forward was already consumed by a backward (or run() replaced it); call forward() again';
    expect(() => rnn.backward({})).toThrow(consumed);
    expectUnchanged(rnn, after);
    rnn.forward(x, { batch: B });
    rnn.run(x, { batch: B });
    expect(() => rnn.backward({})).toThrow(consumed);
    // A failed forward leaves the earlier forward usable.
    rnn.forward(x, { batch: B });
    expect(() => rnn.forward(new Float32Array(5), { batch: B })).toThrow(RangeError);
    expect(() => rnn.backward({})).not.toThrow();
  });

  it('missing upstream members count as zero', () => {
    const rnn = fresh();
    rnn.forward(x, { batch: B });
    rnn.zeroGrad();
    const g = rnn.backward({});
    expect(g.dInputs.every((v) => v === 0)).toBe(true);
    expect(g.dInitialState.h.length).toBe(L * D * B * H);
    expect(rnn.parameters().every((p) => p.grad.every((v) => v === 0))).toBe(true);
  });

  it('constructor arguments', () => {
    const base = { inputSize: 2, hiddenSize: 3 };
    const cases: [object, ErrorConstructor, string][] = [
      [{ ...base, numLayers: 0 }, RangeError, 'numLayers: expected a positive integer, got 0'],
      [{ ...base, numLayers: 1.5 }, RangeError, 'numLayers: expected a positive integer, got 1.5'],
      [{ ...base, numLayers: '2' }, RangeError, 'numLayers: expected a positive integer, got string "2"'],
      [{ ...base, bidirectional: 'yes' }, TypeError, 'bidirectional: expected a boolean, got string "yes"'],
      [{ ...base, bidirectional: 1 }, TypeError, 'bidirectional: expected a boolean, got 1'],
      [{ ...base, bias: 0 }, TypeError, 'bias: expected a boolean, got 0'],
      [{ inputSize: 0, hiddenSize: 3 }, RangeError, 'inputSize: expected a positive integer, got 0'],
      [{ inputSize: 2, hiddenSize: -3 }, RangeError, 'hiddenSize: expected a positive integer, got -3'],
      [{ inputSize: 2 }, RangeError, 'hiddenSize: expected a positive integer, got undefined'],
      [{ ...base, seed: NaN }, TypeError, 'seed: expected a finite number, got NaN'],
    ];
    for (const [opts, type, msg] of cases) {
      let err: unknown;
      try { makeStack(kind, opts as StackOptions); } catch (e) { err = e; }
      expect(err, msg).toBeInstanceOf(type);
      expect((err as Error).message).toBe(msg);
    }
    const who = lstm ? 'LSTM' : 'GRU';
    expect(() => (lstm ? new LSTM(undefined as never) : new GRU(undefined as never))).toThrow(`${who} options: expected an object, got undefined`);
    expect(() => (lstm ? new LSTM(4 as never) : new GRU(4 as never))).toThrow(`${who} options: expected an object, got 4`);
    if (!lstm) {
      expect(() => new GRU({ ...base, resetAfter: 'no' as never })).toThrow('resetAfter: expected a boolean, got string "no"');
    }
  });
});

// ---------------------------------------------------------------- determinism

describe.each(KINDS)('%s stack: seeding', (kind) => {
  const o = { inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true };
  it('same seed, same bits (weights and outputs); different seed, different weights', () => {
    const a = makeStack(kind, { ...o, seed: 5 }), b = makeStack(kind, { ...o, seed: 5 }), c = makeStack(kind, { ...o, seed: 6 });
    const pa = a.parameters(), pb = b.parameters(), pc = c.parameters();
    pa.forEach((p, i) => {
      expectBits(pb[i]!.value, p.value, p.name);
      expect(bitwiseEqual(pc[i]!.value, p.value), `${p.name} differs for another seed`).toBe(false);
    });
    const x = randn(4 * 2 * 3, 81);
    const ra = a.run(x, { batch: 2, lengths: [4, 3] }), rb = b.run(x, { batch: 2, lengths: [4, 3] });
    expectBits(ra.outputs, rb.outputs, 'outputs');
    expectBits(ra.finalState.h, rb.finalState.h, 'hN');
    // The default seed is 0, and fixed.
    const d0 = makeStack(kind, o), d1 = makeStack(kind, { ...o, seed: 0 });
    d0.parameters().forEach((p, i) => expectBits(p.value, d1.parameters()[i]!.value, `default seed ${p.name}`));
  });

  it('different cells of a stack get different weights, each within PyTorch\'s ±1/√H', () => {
    const s = makeStack(kind, { ...o, numLayers: 3, seed: 5 });
    const cells = s.cells;
    for (let i = 0; i < cells.length; i++) {
      for (let j = i + 1; j < cells.length; j++) {
        expect(bitwiseEqual(cells[i]!.params.weightHh, cells[j]!.params.weightHh), `cells ${i} and ${j} weightHh`).toBe(false);
        expect(bitwiseEqual(cells[i]!.params.biasIh!, cells[j]!.params.biasIh!), `cells ${i} and ${j} biasIh`).toBe(false);
      }
    }
    // Same-shaped input weights differ too (layer 0 forward vs reverse).
    expect(bitwiseEqual(cells[0]!.params.weightIh, cells[1]!.params.weightIh)).toBe(false);
    const bound = 1 / Math.sqrt(o.hiddenSize);
    for (const p of s.parameters()) for (const v of p.value) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
  });
});
