/*
 * Determinism fingerprint and the page's training run, shared verbatim by the browser page
 * (a classic <script>) and by test-browser.mjs in Node (which evaluates this file with `vm`), so
 * both compute exactly the same thing and can compare bits.
 *
 * fingerprint(RC): fixed-seed LSTM and GRU stacks (bidirectional, two layers, packed lengths)
 * forward + backward on seeded inputs, a Linear head with softmax cross-entropy, and a few Adam
 * steps with gradient clipping; every resulting Float32Array (outputs, states, input and state
 * gradients, parameter gradients, updated parameters) is hashed by its float32 bit patterns with
 * FNV-1a (64-bit). Same library, same seeds → same hex on every engine, or something differs.
 * (Doubles that come from Math.exp/log/pow, whose last bit is the engine's choice, are hashed
 * rounded to float32.)
 *
 * makeAddingTrainer(RC, options): the small adding-problem GRU the page trains live.
 *
 * RC is the library namespace: window.RecurrentCells in the page, the ESM dist in Node.
 */
(function (root, factory) {
  root.RCFingerprint = factory();
})(typeof window !== 'undefined' ? window : globalThis, function () {
  'use strict';

  var FNV_OFFSET = 0xcbf29ce484222325n, FNV_PRIME = 0x100000001b3n, MASK = 0xffffffffffffffffn;

  /** FNV-1a 64 over the bytes of typed arrays (little-endian views of their buffers). */
  function Hasher() { this.h = FNV_OFFSET; }
  Hasher.prototype.add = function (typed) {
    var bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
    var h = this.h;
    for (var i = 0; i < bytes.length; i++) {
      h ^= BigInt(bytes[i]);
      h = (h * FNV_PRIME) & MASK;
    }
    this.h = h;
    return this;
  };
  Hasher.prototype.hex = function () { return this.h.toString(16).padStart(16, '0'); };

  function hashArrays(arrays) {
    var hs = new Hasher();
    for (var i = 0; i < arrays.length; i++) hs.add(arrays[i]);
    return hs.hex();
  }

  /** n float32 values uniform in [lo, hi) from a seeded RC.Random (integer arithmetic only). */
  function uniform(RC, n, seed, lo, hi) {
    return new RC.Random(seed).fillUniform(new Float32Array(n), lo === undefined ? -1 : lo, hi === undefined ? 1 : hi);
  }

  function gradArrays(params) {
    return params.map(function (p) { return p.grad; });
  }

  function valueArrays(params) {
    return params.map(function (p) { return p.value; });
  }

  /** Forward + backward of a stack on seeded data; the arrays to hash, in a fixed order. */
  function stackPass(RC, rnn, T, B, lengths, seed) {
    var D = rnn.numDirections, H = rnn.hiddenSize, LD = rnn.numLayers * D;
    var x = uniform(RC, T * B * rnn.inputSize, seed);
    var h0 = uniform(RC, LD * B * H, seed + 1, -0.5, 0.5);
    var init = rnn.hasCellState ? { h: h0, c: uniform(RC, LD * B * H, seed + 2, -0.5, 0.5) } : { h: h0 };
    var opts = { batch: B, initialState: init };
    if (lengths) opts.lengths = lengths;
    rnn.zeroGrad();
    var f = rnn.forward(x, opts);
    var dOut = uniform(RC, f.outputs.length, seed + 3);
    var dhN = uniform(RC, LD * B * H, seed + 4);
    var dFinal = rnn.hasCellState ? { h: dhN, c: uniform(RC, LD * B * H, seed + 5) } : { h: dhN };
    var g = rnn.backward({ dOutputs: dOut, dFinalState: dFinal });
    var out = [f.outputs, f.finalState.h];
    if (rnn.hasCellState) out.push(f.finalState.c);
    out.push(g.dInputs, g.dInitialState.h);
    if (rnn.hasCellState) out.push(g.dInitialState.c);
    return out.concat(gradArrays(rnn.parameters()));
  }

  /** A few Adam steps of an LSTM + Linear head classifying with softmax cross-entropy. */
  function trainingPass(RC) {
    var T = 6, B = 4, I = 3, H = 8, C = 5;
    var rnn = new RC.LSTM({ inputSize: I, hiddenSize: H, seed: 42 });
    RC.forgetBias(rnn.cells[0], 1);
    RC.orthogonalRecurrent(rnn.cells[0], 7);
    var head = new RC.Linear({ inFeatures: H, outFeatures: C, seed: 43 });
    var params = rnn.parameters().concat(head.parameters());
    var opt = new RC.Adam(params, { lr: 0.01, weightDecay: 1e-3, decoupled: true });
    var rng = new RC.Random(44);
    var dLogits = new Float32Array(B * C), losses = new Float64Array(5), norms = new Float64Array(5);
    var captured = [];
    for (var s = 0; s < 5; s++) {
      var x = uniform(RC, T * B * I, 100 + s);
      var y = new Int32Array(B);
      for (var b = 0; b < B; b++) y[b] = rng.nextUint32() % C;
      rnn.zeroGrad();
      head.zeroGrad();
      var f = rnn.forward(x, { batch: B });
      var hf = head.forward(f.finalState.h, B);
      losses[s] = RC.softmaxCrossEntropy(hf.y, y, C, dLogits);
      var dh = head.backward(hf.tape, dLogits);
      rnn.backward({ dFinalState: { h: dh } });
      norms[s] = RC.clipGradNorm(params, 0.5);
      if (s === 0) captured.push(hf.y.slice(), dLogits.slice(), dh);
      opt.step();
    }
    // The loss is a double computed with Math.exp and Math.log, which ECMAScript leaves
    // implementation-approximated: Node 20 and Chromium 156 differ in its last bit for some
    // inputs. It enters the hash rounded to float32, like every array the library returns.
    return captured.concat(gradArrays(params), valueArrays(params), [Float32Array.from(losses), norms]);
  }

  /**
   * The fingerprint: {fingerprint: hex of everything, parts: {name: hex}}. Each part is also
   * hashed on its own, so a mismatch points at the computation that differs.
   */
  function fingerprint(RC) {
    var parts = {}, all = new Hasher();
    function part(name, arrays) {
      parts[name] = hashArrays(arrays);
      for (var i = 0; i < arrays.length; i++) all.add(arrays[i]);
    }
    part('lstm 2-layer bidirectional packed',
      stackPass(RC, new RC.LSTM({ inputSize: 4, hiddenSize: 6, numLayers: 2, bidirectional: true, seed: 42 }), 7, 3, [7, 5, 2], 1000));
    part('gru (reset before the product)', stackPass(RC, new RC.GRU({ inputSize: 4, hiddenSize: 5, seed: 43 }), 9, 2, null, 2000));
    part('gru resetAfter bidirectional',
      stackPass(RC, new RC.GRU({ inputSize: 3, hiddenSize: 5, bidirectional: true, resetAfter: true, seed: 44 }), 6, 2, null, 3000));
    part('lstm + linear + cross-entropy + adamw', trainingPass(RC));
    return { fingerprint: all.hex(), parts: parts };
  }

  // ---- the adding problem, small: what the page trains live ------------------------------------

  /** x [T, B, 2] (value, marker), y [B]: two markers, one in each half; target their values' sum. */
  function addingBatch(rng, B, T) {
    var x = new Float32Array(T * B * 2), y = new Float32Array(B), half = T >> 1;
    for (var b = 0; b < B; b++) {
      for (var t = 0; t < T; t++) x[(t * B + b) * 2] = rng.next();
      var p1 = Math.floor(rng.next() * half), p2 = half + Math.floor(rng.next() * (T - half));
      x[(p1 * B + b) * 2 + 1] = 1;
      x[(p2 * B + b) * 2 + 1] = 1;
      y[b] = x[(p1 * B + b) * 2] + x[(p2 * B + b) * 2];
    }
    return { x: x, y: y };
  }

  /**
   * A GRU + Linear head learning the adding problem; step() trains one batch and returns its MSE.
   * options: T, hidden, batch, lr, seed (defaults 20, 12, 16, 0.02, 42).
   */
  function makeAddingTrainer(RC, options) {
    var o = options || {};
    var T = o.T || 20, H = o.hidden || 12, B = o.batch || 16, lr = o.lr || 0.02, seed = o.seed || 42;
    var rnn = new RC.GRU({ inputSize: 2, hiddenSize: H, seed: seed });
    var head = new RC.Linear({ inFeatures: H, outFeatures: 1, seed: seed + 1 });
    var params = rnn.parameters().concat(head.parameters());
    var opt = new RC.Adam(params, { lr: lr });
    var rng = new RC.Random(seed + 2), dPred = new Float32Array(B);
    var losses = [];
    return {
      T: T, hidden: H, batch: B, losses: losses,
      step: function () {
        var d = addingBatch(rng, B, T);
        rnn.zeroGrad();
        head.zeroGrad();
        var f = rnn.forward(d.x, { batch: B });
        var hf = head.forward(f.finalState.h, B);
        var loss = RC.mseLoss(hf.y, d.y, dPred);
        rnn.backward({ dFinalState: { h: head.backward(hf.tape, dPred) } });
        RC.clipGradNorm(params, 1);
        opt.step();
        losses.push(loss);
        return loss;
      },
      /** Test MSE on n fresh sequences, and of always answering 1.0. */
      test: function (n) {
        var d = addingBatch(new RC.Random(seed + 1000), n, T);
        var pred = head.run(rnn.run(d.x, { batch: n }).finalState.h, n);
        return { mse: RC.mseLoss(pred, d.y), baseline: RC.mseLoss(new Float32Array(n).fill(1), d.y) };
      },
    };
  }

  /** Hash of a list of JS numbers by their float64 bits. */
  function hashNumbers(xs) {
    return hashArrays([Float64Array.from(xs)]);
  }

  function mean(xs) {
    var s = 0;
    for (var i = 0; i < xs.length; i++) s += xs[i];
    return s / xs.length;
  }

  /** The summary both sides compute from a finished training run. */
  function trainingSummary(trainer, window) {
    var L = trainer.losses, w = window || 20;
    var test = trainer.test(500);
    return {
      steps: L.length,
      lossFirst: L[0], lossLast: L[L.length - 1],
      lossFirstMean: mean(L.slice(0, w)), lossLastMean: mean(L.slice(-w)),
      testMse: test.mse, testBaseline: test.baseline,
      lossHash: hashNumbers(L.concat([test.mse])),
    };
  }

  return {
    Hasher: Hasher, hashArrays: hashArrays, hashNumbers: hashNumbers, fingerprint: fingerprint,
    addingBatch: addingBatch, makeAddingTrainer: makeAddingTrainer, trainingSummary: trainingSummary,
    TRAIN: { T: 20, hidden: 12, batch: 16, lr: 0.02, seed: 42, steps: 400 },
  };
});
