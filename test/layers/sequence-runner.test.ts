/**
 * SequenceRunner behaviour beyond the fixtures: chunked = whole (bitwise), runners interleaved
 * without disturbing each other, run = forward, saturation, bias-free cells, a finite-difference
 * gradient check of BPTT for every cell kind, packed lengths, and tape reuse across shapes.
 */
import { describe, expect, it } from 'vitest';
import { gradCheck, SequenceRunner, type CellState, type LSTMState } from '../../src/index.js';
import { bitwiseEqual, CELL_KINDS, dot, makeCell, randn, randomState } from '../helpers/cells.js';

describe.each(CELL_KINDS)('SequenceRunner over %s', (kind) => {
  it('running 10 steps then 7 from the returned state equals 17 at once (outputs bitwise)', () => {
    const I = 5, H = 8, B = 3;
    const cell = makeCell(kind, I, H, 3);
    const x = randn(17 * B * I, 11);
    const h0 = randomState(cell, B, 12);
    const whole = new SequenceRunner(cell).run(x, { batch: B, initialState: h0 });
    const r = new SequenceRunner(cell);
    const a = r.run(x.subarray(0, 10 * B * I), { batch: B, initialState: h0 });
    const b = r.run(x.subarray(10 * B * I), { batch: B, initialState: a.finalState });
    const joined = new Float32Array(17 * B * H);
    joined.set(a.outputs); joined.set(b.outputs, 10 * B * H);
    expect(bitwiseEqual(joined, whole.outputs)).toBe(true);
    expect(bitwiseEqual(b.finalState.h, whole.finalState.h)).toBe(true);
    if (cell.hasCellState) expect(bitwiseEqual((b.finalState as LSTMState).c, (whole.finalState as LSTMState).c)).toBe(true);
  });

  it('manual stepping gives the same outputs as the runner, bitwise', () => {
    const I = 3, H = 6, B = 2, T = 5;
    const cell = makeCell(kind, I, H, 4);
    const x = randn(T * B * I, 21);
    let state = randomState(cell, B, 22);
    const res = new SequenceRunner(cell).run(x, { batch: B, initialState: state });
    for (let t = 0; t < T; t++) {
      state = cell.step(x.subarray(t * B * I, (t + 1) * B * I), state, B);
      expect(bitwiseEqual(state.h, res.outputs.subarray(t * B * H, (t + 1) * B * H))).toBe(true);
    }
  });

  it('two runners used alternately never disturb each other', () => {
    const I = 4, H = 5;
    const cellA = makeCell(kind, I, H, 5), cellB = makeCell(kind, I, H, 6);
    const xa = randn(6 * 2 * I, 31), xb = randn(9 * 3 * I, 32);
    const dOa = randn(6 * 2 * H, 33), dOb = randn(9 * 3 * H, 34);
    // Reference: each alone.
    const soloA = new SequenceRunner(cellA); soloA.forward(xa, { batch: 2 });
    cellA.zeroGrad();
    const refA = soloA.backward({ dOutputs: dOa });
    const gA = cellA.grads.weightHh.slice();
    const soloB = new SequenceRunner(cellB); soloB.forward(xb, { batch: 3 });
    cellB.zeroGrad();
    const refB = soloB.backward({ dOutputs: dOb });
    const gB = cellB.grads.weightHh.slice();
    // Interleaved: A.forward, B.forward, another runner over the same cell A, then the backwards.
    cellA.zeroGrad(); cellB.zeroGrad();
    const rA = new SequenceRunner(cellA), rB = new SequenceRunner(cellB), rA2 = new SequenceRunner(cellA);
    rA.forward(xa, { batch: 2 });
    rB.forward(xb, { batch: 3 });
    rA2.run(randn(4 * 1 * I, 35), { batch: 1 });
    const bB = rB.backward({ dOutputs: dOb });
    const bA = rA.backward({ dOutputs: dOa });
    expect(bitwiseEqual(bA.dInputs, refA.dInputs)).toBe(true);
    expect(bitwiseEqual(bB.dInputs, refB.dInputs)).toBe(true);
    expect(bitwiseEqual(cellA.grads.weightHh, gA)).toBe(true);
    expect(bitwiseEqual(cellB.grads.weightHh, gB)).toBe(true);
  });

  it('run and forward agree; backward accumulates (twice the grads after two passes)', () => {
    const I = 3, H = 4, B = 2, T = 6;
    const cell = makeCell(kind, I, H, 7);
    const x = randn(T * B * I, 41), dO = randn(T * B * H, 42);
    const r = new SequenceRunner(cell);
    const a = r.run(x, { batch: B });
    const f = r.forward(x, { batch: B });
    expect(bitwiseEqual(a.outputs, f.outputs)).toBe(true);
    cell.zeroGrad();
    r.backward({ dOutputs: dO });
    const once = cell.grads.weightIh.slice();
    expect(once.some((v) => v !== 0)).toBe(true);
    r.forward(x, { batch: B });
    r.backward({ dOutputs: dO });
    for (let i = 0; i < once.length; i++) expect(cell.grads.weightIh[i]).toBeCloseTo(2 * once[i]!, 5);
    cell.zeroGrad();
    expect(cell.grads.weightIh.every((v) => v === 0)).toBe(true);
  });

  it('inputs of ±1e4 give finite outputs and gradients (saturated gates)', () => {
    const I = 3, H = 4, B = 2, T = 5;
    const cell = makeCell(kind, I, H, 8);
    const x = randn(T * B * I, 51).map((v) => (v >= 0 ? 1e4 : -1e4));
    const r = new SequenceRunner(cell);
    const f = r.forward(x, { batch: B, initialState: randomState(cell, B, 52) });
    cell.zeroGrad();
    const g = r.backward({ dOutputs: randn(T * B * H, 53) });
    const all = [f.outputs, f.finalState.h, g.dInputs, g.dInitialState.h, ...cell.parameters().map((p) => p.grad)];
    for (const a of all) expect(a.every(Number.isFinite)).toBe(true);
    for (const v of f.outputs) expect(Math.abs(v)).toBeLessThanOrEqual(1);
  });

  it.each([true, false])('BPTT passes a finite-difference gradient check (bias=%s)', (bias) => {
    const I = 2, H = 3, B = 2, T = 4;
    const cell = makeCell(kind, I, H, 9, bias);
    const x = randn(T * B * I, 61);
    const s0 = randomState(cell, B, 62);
    const dO = randn(T * B * H, 63), dhN = randn(B * H, 64), dcN = randn(B * H, 65);
    const dxGrad = new Float32Array(x.length), dh0Grad = new Float32Array(B * H), dc0Grad = new Float32Array(B * H);
    const runner = new SequenceRunner(cell);
    const loss = (): number => {
      const r = runner.run(x, { batch: B, initialState: s0 });
      let l = dot(r.outputs, dO) + dot(r.finalState.h, dhN);
      if (cell.hasCellState) l += dot((r.finalState as LSTMState).c, dcN);
      return l;
    };
    const backward = (): void => {
      runner.forward(x, { batch: B, initialState: s0 });
      const dFinalState = (cell.hasCellState ? { h: dhN, c: dcN } : { h: dhN }) as CellState;
      const g = runner.backward({ dOutputs: dO, dFinalState });
      dxGrad.set(g.dInputs); dh0Grad.set(g.dInitialState.h);
      if (cell.hasCellState) dc0Grad.set((g.dInitialState as LSTMState).c);
    };
    const params = [
      ...cell.parameters(),
      { name: 'inputs', value: x, grad: dxGrad },
      { name: 'h0', value: s0.h, grad: dh0Grad },
      ...(cell.hasCellState ? [{ name: 'c0', value: (s0 as LSTMState).c, grad: dc0Grad }] : []),
    ];
    const res = gradCheck({ params, loss, backward });
    expect(res.checked).toBeGreaterThan(50);
    expect(res.failures).toEqual([]);
    expect(res.ok).toBe(true);
  });

  it('reuses its tape for the same shape and reallocates for a new one', () => {
    const cell = makeCell(kind, 2, 3, 10);
    const r = new SequenceRunner(cell);
    const x1 = randn(4 * 2 * 2, 71), x2 = randn(3 * 1 * 2, 72);
    const a = r.run(x1, { batch: 2 });
    r.run(x2, { batch: 1 });
    const c = r.run(x1, { batch: 2 });
    expect(bitwiseEqual(a.outputs, c.outputs)).toBe(true);
    expect(a.outputs).not.toBe(c.outputs);   // results are the caller's own arrays
  });

  it('packed lengths: padding outputs are zero, final state is each entry\'s own last state, padding gets no gradient', () => {
    const I = 3, H = 4, B = 3, T = 6;
    const lengths = [6, 2, 4];
    const cell = makeCell(kind, I, H, 11);
    const x = randn(T * B * I, 81);
    const s0 = randomState(cell, B, 82);
    const r = new SequenceRunner(cell);
    const f = r.forward(x, { batch: B, initialState: s0, lengths });
    const dO = randn(T * B * H, 83);
    cell.zeroGrad();
    const g = r.backward({ dOutputs: dO, dFinalState: { h: randn(B * H, 84) } as Partial<CellState> });
    for (let b = 0; b < B; b++) {
      // Entry b alone, with its own length, through an unpadded run.
      const L = lengths[b]!;
      const xb = new Float32Array(L * I);
      for (let t = 0; t < L; t++) xb.set(x.subarray((t * B + b) * I, (t * B + b + 1) * I), t * I);
      const sb = (cell.hasCellState
        ? { h: s0.h.slice(b * H, (b + 1) * H), c: (s0 as LSTMState).c.slice(b * H, (b + 1) * H) }
        : { h: s0.h.slice(b * H, (b + 1) * H) }) as CellState;
      const solo = new SequenceRunner(cell).run(xb, { batch: 1, initialState: sb });
      for (let t = 0; t < T; t++) {
        const got = f.outputs.subarray((t * B + b) * H, (t * B + b + 1) * H);
        if (t < L) expect(bitwiseEqual(got, solo.outputs.subarray(t * H, (t + 1) * H))).toBe(true);
        else expect(got.every((v) => v === 0)).toBe(true);
      }
      expect(bitwiseEqual(f.finalState.h.subarray(b * H, (b + 1) * H), solo.finalState.h)).toBe(true);
      for (let t = L; t < T; t++) {
        expect(g.dInputs.subarray((t * B + b) * I, (t * B + b + 1) * I).every((v) => v === 0)).toBe(true);
      }
    }
  });
});
