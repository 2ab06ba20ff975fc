/**
 * Parity with PyTorch (float64 autograd) on the library's own equations: every kind "native"
 * fixture (test/fixtures/make_cells.py: the LSTM of Hochreiter & Schmidhuber 1997 with the forget
 * gate of Gers et al. 2000; the GRU of Cho et al. 2014, by default
 * n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn), h' = (1 − z) ⊙ h + z ⊙ n, and with resetAfter
 * n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))), through both paths, the SequenceRunner and
 * manual stepping with cell.forward/backward. Outputs, final state, dInputs, dInitialState and
 * every parameter gradient each within the bar of test/helpers/fixtures.ts. The worst error/bar
 * ratio per fixture and path is printed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { GRUCell, LSTMCell, SequenceRunner, type CellState, type LSTMState, type RecurrentCell } from '../../src/index.js';
import { checkFixtureRun, f32, fixtureNames, loadFixture, RatioReport, type FixtureRun, type NativeFixture } from '../helpers/fixtures.js';

const report = new RatioReport();
afterAll(() => report.print('native fixtures vs PyTorch float64 (error / bar, bar = max(4·torchFloat32Error, 1e-6·max(1,|ref|)))'));

function makeCell(fx: NativeFixture): RecurrentCell<CellState> {
  const opts = { inputSize: fx.inputSize, hiddenSize: fx.hiddenSize };
  const cell: RecurrentCell<CellState> = fx.cell === 'lstm'
    ? new LSTMCell(opts)
    : new GRUCell({ ...opts, resetAfter: fx.resetAfter === true });
  cell.params.weightIh.set(fx.params.weight_ih);
  cell.params.weightHh.set(fx.params.weight_hh);
  cell.params.biasIh!.set(fx.params.bias_ih);
  cell.params.biasHh!.set(fx.params.bias_hh);
  return cell;
}

function viaRunner(fx: NativeFixture, cell: RecurrentCell<CellState>): FixtureRun {
  const runner = new SequenceRunner(cell);
  const lstm = fx.cell === 'lstm';
  const initialState = (lstm ? { h: f32(fx.h0), c: f32(fx.c0!) } : { h: f32(fx.h0) }) as CellState;
  const fwd = runner.forward(f32(fx.inputs), { batch: fx.batch, initialState });
  const dFinalState = lstm ? { h: f32(fx.upstream.dhN), c: f32(fx.upstream.dcN!) } : { h: f32(fx.upstream.dhN) };
  const bwd = runner.backward({ dOutputs: f32(fx.upstream.dOutputs), dFinalState });
  return {
    outputs: fwd.outputs, hN: fwd.finalState.h, cN: lstm ? (fwd.finalState as LSTMState).c : undefined,
    dInputs: bwd.dInputs, dh0: bwd.dInitialState.h, dc0: lstm ? (bwd.dInitialState as LSTMState).c : undefined,
  };
}

function viaManualSteps(fx: NativeFixture, cell: RecurrentCell<CellState>): FixtureRun {
  const { steps: T, batch: B, inputSize: I, hiddenSize: H } = fx;
  const lstm = fx.cell === 'lstm';
  const x = f32(fx.inputs), dOut = f32(fx.upstream.dOutputs);
  let state = (lstm ? { h: f32(fx.h0), c: f32(fx.c0!) } : { h: f32(fx.h0) }) as CellState;
  const outputs = new Float32Array(T * B * H);
  const saved = [];
  for (let t = 0; t < T; t++) {
    const s = cell.forward(x.subarray(t * B * I, (t + 1) * B * I), state, B);
    saved.push(s);
    outputs.set(s.state.h, t * B * H);
    state = s.state;
  }
  const dInputs = new Float32Array(T * B * I);
  let dh = f32(fx.upstream.dhN);
  let dc = lstm ? f32(fx.upstream.dcN!) : undefined;
  for (let t = T - 1; t >= 0; t--) {
    for (let j = 0; j < B * H; j++) dh[j] += dOut[t * B * H + j]!;
    const r = cell.backward(saved[t]!, (lstm ? { h: dh, c: dc } : { h: dh }) as CellState);
    dInputs.set(r.dx, t * B * I);
    dh = r.dState.h;
    dc = lstm ? (r.dState as LSTMState).c : undefined;
  }
  return { outputs, hN: state.h, cN: lstm ? (state as LSTMState).c : undefined, dInputs, dh0: dh, dc0: dc };
}

const paths = { runner: viaRunner, manual: viaManualSteps } as const;

describe('native fixtures (the library\'s LSTM and GRU equations) match PyTorch float64', () => {
  const names = fixtureNames('native');
  it('finds the native fixtures', () => {
    expect(names.length).toBeGreaterThanOrEqual(9);
  });
  for (const name of names) {
    for (const [path, run] of Object.entries(paths)) {
      it(`${name} via ${path}`, () => {
        const fx = loadFixture<NativeFixture>(name);
        const cell = makeCell(fx);
        cell.zeroGrad();
        const r = run(fx, cell);
        const check = checkFixtureRun(report, fx, path, r);
        const e = fx.torchFloat32Error, g = fx.gradients;
        check('d weight_ih', cell.grads.weightIh, g.weight_ih!, e.d_weight_ih);
        check('d weight_hh', cell.grads.weightHh, g.weight_hh!, e.d_weight_hh);
        check('d bias_ih', cell.grads.biasIh!, g.bias_ih!, e.d_bias_ih);
        check('d bias_hh', cell.grads.biasHh!, g.bias_hh!, e.d_bias_hh);
      });
    }
  }
});
