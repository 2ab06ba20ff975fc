/*
 * PyTorch parity checks on the reference fixtures (test/fixtures/*.json, PyTorch float64
 * autograd; format and tolerance in shared/fixtures/README.md), as test/runner/native-fixtures.test.ts
 * and test/modules/torch-fixtures.test.ts do them, but runnable in a page (a classic <script>) and
 * in Node (test-browser.mjs evaluates this file with `vm`).
 *
 * One check per array that the fixture gives a torchFloat32Error for (outputs, hN, cN, d_inputs,
 * d_h0, d_c0 and each parameter gradient), with the bar
 *   max |error| ≤ max(4 × torchFloat32Error, 1e-6 × max(1, max |reference|)).
 *   kind "native": the library's own equations via SequenceRunner forward + backward.
 *   kind "torch":  LSTMCell/GRUCell.fromPyTorch (cell.forward/backward, one step) or
 *                  LSTM/GRU.fromPyTorch (stacks, bidirectional, packed lengths, batchFirst, projSize,
 *                  dropout in eval mode); gradients via gradDict().
 */
(function (root, factory) {
  root.RCParity = factory();
})(typeof window !== 'undefined' ? window : globalThis, function () {
  'use strict';

  function f32(a) { return Float32Array.from(a); }

  function bar(reference, torchErr) {
    var maxRef = 0;
    for (var i = 0; i < reference.length; i++) maxRef = Math.max(maxRef, Math.abs(reference[i]));
    return Math.max(4 * torchErr, 1e-6 * Math.max(1, maxRef));
  }

  /** {maxErr, bar, ratio, ok, at, message?} for one array. */
  function compare(actual, reference, torchErr) {
    if (typeof torchErr !== 'number') return { ok: false, message: 'fixture has no torchFloat32Error for it' };
    if (!actual) return { ok: false, message: 'no such array in the result' };
    if (!reference) return { ok: false, message: 'no reference array in the fixture' };
    if (actual.length !== reference.length) {
      return { ok: false, message: 'length ' + actual.length + ', expected ' + reference.length };
    }
    var b = bar(reference, torchErr), worst = 0, at = -1;
    for (var i = 0; i < reference.length; i++) {
      var e = Math.abs(actual[i] - reference[i]);
      if (!(e <= worst)) { worst = e; at = i; }
    }
    return { maxErr: worst, bar: b, ratio: worst / b, at: at, ok: worst / b <= 1 };
  }

  function initialState(fx) {
    return fx.cell === 'lstm' ? { h: f32(fx.h0), c: f32(fx.c0) } : { h: f32(fx.h0) };
  }

  function finalUpstream(fx) {
    return fx.cell === 'lstm' ? { h: f32(fx.upstream.dhN), c: f32(fx.upstream.dcN) } : { h: f32(fx.upstream.dhN) };
  }

  function stateDictOf(fx) {
    var out = {};
    Object.keys(fx.stateDict).forEach(function (k) { out[k] = { shape: fx.stateDictShapes[k], data: f32(fx.stateDict[k]) }; });
    return out;
  }

  /** kind "native": SequenceRunner over a cell holding the fixture's parameters. */
  function runNative(RC, fx) {
    var opts = { inputSize: fx.inputSize, hiddenSize: fx.hiddenSize };
    var cell = fx.cell === 'lstm' ? new RC.LSTMCell(opts)
      : new RC.GRUCell({ inputSize: fx.inputSize, hiddenSize: fx.hiddenSize, resetAfter: fx.resetAfter === true });
    cell.params.weightIh.set(fx.params.weight_ih);
    cell.params.weightHh.set(fx.params.weight_hh);
    cell.params.biasIh.set(fx.params.bias_ih);
    cell.params.biasHh.set(fx.params.bias_hh);
    cell.zeroGrad();
    var runner = new RC.SequenceRunner(cell);
    var f = runner.forward(f32(fx.inputs), { batch: fx.batch, initialState: initialState(fx) });
    var g = runner.backward({ dOutputs: f32(fx.upstream.dOutputs), dFinalState: finalUpstream(fx) });
    return {
      path: 'SequenceRunner',
      arrays: {
        outputs: f.outputs, hN: f.finalState.h, cN: f.finalState.c,
        d_inputs: g.dInputs, d_h0: g.dInitialState.h, d_c0: g.dInitialState.c,
        d_weight_ih: cell.grads.weightIh, d_weight_hh: cell.grads.weightHh,
        d_bias_ih: cell.grads.biasIh, d_bias_hh: cell.grads.biasHh,
      },
      shapes: {},
    };
  }

  /** kind "torch", LSTMCell/GRUCell: one cell.forward + cell.backward. */
  function runTorchCell(RC, fx) {
    var lstm = fx.cell === 'lstm';
    var cell = lstm ? RC.LSTMCell.fromPyTorch(stateDictOf(fx)) : RC.GRUCell.fromPyTorch(stateDictOf(fx));
    var n = fx.batch * fx.hiddenSize;
    // loss = Σ out⊙dOut + Σ hN⊙dhN (+ Σ cN⊙dcN), and out = hN for one step.
    var dS = finalUpstream(fx);
    for (var j = 0; j < n; j++) dS.h[j] += fx.upstream.dOutputs[j];
    cell.zeroGrad();
    var s = cell.forward(f32(fx.inputs), initialState(fx), fx.batch);
    var g = cell.backward(s, dS);
    return gradResult(fx.module + '.fromPyTorch, cell.forward/backward', cell.gradDict(), {
      outputs: s.state.h, hN: s.state.h, cN: s.state.c, d_inputs: g.dx, d_h0: g.dState.h, d_c0: g.dState.c,
    });
  }

  /** kind "torch", LSTM/GRU stacks: forward + backward with the fixture's layers, directions, lengths. */
  function runTorchStack(RC, fx) {
    var lstm = fx.cell === 'lstm';
    // batch_first and dropout are not in a state dict (proj_size is: weight_hr_l0); dropout fixtures run in eval mode.
    var o = { numLayers: fx.numLayers, bidirectional: fx.bidirectional, batchFirst: fx.batchFirst === true, dropout: fx.dropout || 0 };
    var rnn = lstm ? RC.LSTM.fromPyTorch(stateDictOf(fx), o) : RC.GRU.fromPyTorch(stateDictOf(fx), o);
    if (rnn.numLayers !== fx.numLayers || rnn.bidirectional !== fx.bidirectional) throw new Error('layout not as in the fixture');
    if (rnn.projSize !== (fx.projSize || 0)) throw new Error('projSize ' + rnn.projSize + ', expected ' + (fx.projSize || 0));
    if (fx.training === false) rnn.eval();
    var runOpts = { batch: fx.batch, initialState: initialState(fx) };
    if (fx.lengths) runOpts.lengths = fx.lengths;
    var f = rnn.forward(f32(fx.inputs), runOpts);
    rnn.zeroGrad();
    var g = rnn.backward({ dOutputs: f32(fx.upstream.dOutputs), dFinalState: finalUpstream(fx) });
    return gradResult(fx.module + '.fromPyTorch', rnn.gradDict(), {
      outputs: f.outputs, hN: f.finalState.h, cN: f.finalState.c,
      d_inputs: g.dInputs, d_h0: g.dInitialState.h, d_c0: g.dInitialState.c,
    });
  }

  function gradResult(path, grads, arrays) {
    var shapes = {};
    Object.keys(grads).forEach(function (k) { arrays['d_' + k] = grads[k].data; shapes['d_' + k] = grads[k].shape; });
    return { path: path, arrays: arrays, shapes: shapes };
  }

  /** Reference array of a torchFloat32Error key: expected.* for values, gradients.* for d_*. */
  function reference(fx, key) {
    if (key.slice(0, 2) === 'd_') return fx.gradients[key.slice(2)];
    return fx.expected[key];
  }

  /**
   * Runs every fixture of kind "native" or "torch" in `fixtures` ({name: fixture} or an array).
   * Returns {passed, failed, fixtures, checks: [{fixture, path, array, ok, maxErr, bar, ratio, message?}], worst}.
   */
  function runParity(RC, fixtures) {
    var list = Array.isArray(fixtures) ? fixtures : Object.keys(fixtures).sort().map(function (k) { return fixtures[k]; });
    list = list.filter(function (fx) { return fx && (fx.kind === 'native' || fx.kind === 'torch'); });
    var checks = [], passed = 0, failed = 0, worst = null;
    list.forEach(function (fx) {
      var keys = Object.keys(fx.torchFloat32Error);
      var r = null, error = null;
      try {
        r = fx.kind === 'native' ? runNative(RC, fx) : /Cell$/.test(fx.module) ? runTorchCell(RC, fx) : runTorchStack(RC, fx);
      } catch (e) {
        error = String(e && e.stack || e);
      }
      keys.forEach(function (key) {
        var c;
        if (error !== null) c = { ok: false, message: 'threw: ' + error.split('\n')[0] };
        else {
          c = compare(r.arrays[key], reference(fx, key), fx.torchFloat32Error[key]);
          var shape = r.shapes[key], want = fx.stateDictShapes && fx.stateDictShapes[key.slice(2)];
          if (c.ok && shape && want && shape.join(',') !== want.join(',')) {
            c = { ok: false, message: 'shape [' + shape + '], expected [' + want + ']' };
          }
        }
        c.fixture = fx.name;
        c.path = r ? r.path : fx.kind;
        c.array = key;
        checks.push(c);
        if (c.ok) passed++; else failed++;
        if (c.ratio !== undefined && (worst === null || c.ratio > worst.ratio)) worst = c;
      });
    });
    return { passed: passed, failed: failed, fixtures: list.length, checks: checks, worst: worst };
  }

  return { runParity: runParity, compare: compare, bar: bar };
});
