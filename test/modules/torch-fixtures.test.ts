/**
 * Exact PyTorch interop: every kind "torch" fixture (test/fixtures/make_torch_modules.py: real
 * torch.nn modules, LSTMCell, GRUCell, LSTM, GRU, 2-layer bidirectional, packed variable-length,
 * packed bidirectional GRU) loaded with fromPyTorch from PyTorch's own state dict; outputs, final
 * states, dInputs, dInitialState and every gradient by PyTorch key (gradDict) within the bar of
 * test/helpers/fixtures.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  GRU, GRUCell, LSTM, LSTMCell, SequenceRunner, type CellState, type LSTMState, type RecurrentCell, type Tensor,
} from '../../src/index.js';
import { checkFixtureRun, f32, fixtureNames, loadFixture, RatioReport, type FixtureRun, type TorchFixture } from '../helpers/fixtures.js';

const report = new RatioReport();
afterAll(() => report.print('torch fixtures vs PyTorch float64 (error / bar)'));

function stateDictOf(fx: TorchFixture): Record<string, { shape: number[]; data: Float32Array }> {
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [k, v] of Object.entries(fx.stateDict)) out[k] = { shape: fx.stateDictShapes[k]!, data: f32(v) };
  return out;
}

interface Result extends FixtureRun {
  grads: Record<string, Tensor>;
}

function runCell(fx: TorchFixture, path: 'cell' | 'runner'): Result {
  const lstm = fx.cell === 'lstm';
  const cell = (lstm ? LSTMCell.fromPyTorch(stateDictOf(fx)) : GRUCell.fromPyTorch(stateDictOf(fx))) as RecurrentCell<CellState>;
  const B = fx.batch, H = fx.hiddenSize;
  const s0 = (lstm ? { h: f32(fx.h0), c: f32(fx.c0!) } : { h: f32(fx.h0) }) as CellState;
  // loss = Σ out⊙dOut + Σ hN⊙dhN (+ Σ cN⊙dcN), and out = hN for one step.
  const dh = f32(fx.upstream.dhN);
  for (let j = 0; j < B * H; j++) dh[j] += fx.upstream.dOutputs[j]!;
  const dS = (lstm ? { h: dh, c: f32(fx.upstream.dcN!) } : { h: dh }) as CellState;
  cell.zeroGrad();
  if (path === 'cell') {
    const s = cell.forward(f32(fx.inputs), s0, B);
    const g = cell.backward(s, dS);
    return {
      outputs: s.state.h, hN: s.state.h, cN: lstm ? (s.state as LSTMState).c : undefined,
      dInputs: g.dx, dh0: g.dState.h, dc0: lstm ? (g.dState as LSTMState).c : undefined, grads: cell.gradDict(),
    };
  }
  const r = new SequenceRunner(cell);
  const f = r.forward(f32(fx.inputs), { batch: B, initialState: s0 });
  const g = r.backward({ dFinalState: dS });
  return {
    outputs: f.outputs, hN: f.finalState.h, cN: lstm ? (f.finalState as LSTMState).c : undefined,
    dInputs: g.dInputs, dh0: g.dInitialState.h, dc0: lstm ? (g.dInitialState as LSTMState).c : undefined, grads: cell.gradDict(),
  };
}

function runStack(fx: TorchFixture): Result {
  const lstm = fx.cell === 'lstm';
  const opts = { numLayers: fx.numLayers, bidirectional: fx.bidirectional, batchFirst: fx.batchFirst ?? false, dropout: fx.dropout ?? 0 };
  const rnn = lstm ? LSTM.fromPyTorch(stateDictOf(fx), opts) : GRU.fromPyTorch(stateDictOf(fx), opts);
  expect(rnn.numLayers).toBe(fx.numLayers);
  expect(rnn.bidirectional).toBe(fx.bidirectional);
  expect(rnn.batchFirst).toBe(fx.batchFirst ?? false);
  expect(rnn.projSize).toBe(fx.projSize ?? 0);   // inferred from weight_hr_l0
  expect(rnn.dropout).toBe(fx.dropout ?? 0);
  expect(rnn.training).toBe(true);   // PyTorch's default
  if (fx.training === false) rnn.eval();
  const initialState = (lstm ? { h: f32(fx.h0), c: f32(fx.c0!) } : { h: f32(fx.h0) }) as LSTMState;
  const runOpts = { batch: fx.batch, initialState, lengths: fx.lengths ?? undefined };
  const f = (rnn as LSTM).forward(f32(fx.inputs), runOpts);
  const dFinalState = lstm ? { h: f32(fx.upstream.dhN), c: f32(fx.upstream.dcN!) } : { h: f32(fx.upstream.dhN) };
  rnn.zeroGrad();
  const g = (rnn as LSTM).backward({ dOutputs: f32(fx.upstream.dOutputs), dFinalState: dFinalState as LSTMState });
  return {
    outputs: f.outputs, hN: f.finalState.h, cN: lstm ? f.finalState.c : undefined,
    dInputs: g.dInputs, dh0: g.dInitialState.h, dc0: lstm ? g.dInitialState.c : undefined, grads: rnn.gradDict(),
  };
}

describe('torch fixtures (real torch.nn modules) match PyTorch float64', () => {
  const names = fixtureNames('torch');
  it('finds the torch fixtures', () => expect(names.length).toBeGreaterThanOrEqual(8));
  for (const name of names) {
    const fx0 = loadFixture<TorchFixture>(name);
    const paths = fx0.module.endsWith('Cell') ? (['cell', 'runner'] as const) : (['module'] as const);
    const flags = [fx0.bidirectional ? 'bidirectional' : '', fx0.lengths ? 'packed' : '', fx0.batchFirst ? 'batchFirst' : '',
      fx0.projSize ? `projSize ${fx0.projSize}` : '', fx0.dropout ? `dropout ${fx0.dropout}, eval` : ''].filter((f) => f !== '');
    for (const path of paths) {
      it(`${name} (${[fx0.module, ...flags].join(', ')}) via ${path}`, () => {
        const fx = loadFixture<TorchFixture>(name);
        const r = path === 'module' ? runStack(fx) : runCell(fx, path);
        const check = checkFixtureRun(report, fx, path, r);
        const e = fx.torchFloat32Error, g = fx.gradients;
        const keys = Object.keys(fx.stateDict).sort();
        expect(Object.keys(r.grads).sort()).toEqual(keys);
        for (const k of keys) {
          expect(r.grads[k]!.shape).toEqual(fx.stateDictShapes[k]);
          check(`d ${k}`, r.grads[k]!.data, g[k]!, e[`d_${k}`]);
        }
      });
    }
  }
});
