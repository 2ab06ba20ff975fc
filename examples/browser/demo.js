/*
 * The interactive demo page (demo.html), a classic script so that it works from file://: a GRU or
 * LSTM with a Linear head on its final h learns the adding problem, one Adam step per batch, a few
 * steps per timer callback so the page stays responsive. Start / Stop pause and resume the
 * same model; changing a size (or Reset) builds a new one. Uses window.RecurrentCells and
 * RCFingerprint.addingBatch (fingerprint.js) for the data.
 *
 * `demo.html?steps=N` starts by itself, stops after N steps with the predictions shown and sets
 * document.title to "done" ("error" on a failure): the smoke check of npm run test:browser.
 */
(function () {
  'use strict';
  var RC = window.RecurrentCells, FP = window.RCFingerprint;
  var $ = function (id) { return document.getElementById(id); };
  var TEST_SHOWN = 8, TEST_N = 256, STEPS_PER_FRAME = 4;

  function setStatus(text, bad) {
    $('status').textContent = text;
    $('status').className = bad ? 'bad' : '';
  }

  if (!RC || !FP) {
    setStatus(!RC ? 'dist/recurrent-cells.iife.js did not load: run npm run build in the repository first.' : 'fingerprint.js did not load.', true);
    return;
  }

  var model = null, running = false;

  function settings() {
    return {
      cell: $('cell').value, hidden: Number($('hidden').value), T: Number($('T').value),
      batch: Number($('batch').value), lr: Number($('lr').value), seed: Math.max(0, Math.floor(Number($('seed').value) || 0)),
    };
  }

  /** A fresh model for the current settings, with its fixed test set. */
  function build() {
    var s = settings();
    var Stack = s.cell === 'LSTM' ? RC.LSTM : RC.GRU;
    var rnn = new Stack({ inputSize: 2, hiddenSize: s.hidden, seed: s.seed });
    var head = new RC.Linear({ inFeatures: s.hidden, outFeatures: 1, seed: s.seed + 1 });
    var params = rnn.parameters().concat(head.parameters());
    return {
      s: s, rnn: rnn, head: head, params: params,
      opt: new RC.Adam(params, { lr: s.lr }),
      rng: new RC.Random(s.seed + 2),
      test: FP.addingBatch(new RC.Random(s.seed + 1000), TEST_N, s.T),
      dPred: new Float32Array(s.batch),
      losses: [], started: null, seconds: 0,
    };
  }

  /** One Adam step on a fresh batch; returns its MSE. */
  function step(m) {
    var B = m.s.batch, d = FP.addingBatch(m.rng, B, m.s.T);
    m.rnn.zeroGrad();
    m.head.zeroGrad();
    var f = m.rnn.forward(d.x, { batch: B });
    var hf = m.head.forward(f.finalState.h, B);
    var loss = RC.mseLoss(hf.y, d.y, m.dPred);
    m.rnn.backward({ dFinalState: { h: m.head.backward(hf, m.dPred) } });
    RC.clipGradNorm(m.params, 1);
    m.opt.step();
    m.losses.push(loss);
    return loss;
  }

  /** Predictions on the test set: [TEST_N] values. */
  function predict(m) {
    return m.head.run(m.rnn.run(m.test.x, { batch: TEST_N }).finalState.h, TEST_N);
  }

  function drawLoss(m) {
    var canvas = $('loss'), ctx = canvas.getContext('2d');
    var W = canvas.width, H = canvas.height, pad = { l: 56, r: 12, t: 12, b: 30 };
    var pw = W - pad.l - pad.r, ph = H - pad.t - pad.b, L = m ? m.losses : [];
    var n = Math.max(100, L.length), lo = -4, hi = 0.5;
    var sx = function (i) { return pad.l + (i / n) * pw; };
    var sy = function (v) { var y = Math.min(hi, Math.max(lo, Math.log10(Math.max(v, 1e-6)))); return pad.t + ((hi - y) / (hi - lo)) * ph; };
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
    ctx.font = '11px sans-serif'; ctx.fillStyle = '#333'; ctx.strokeStyle = '#e6e6e6'; ctx.textAlign = 'right';
    for (var k = lo; k <= 0; k++) {
      var y = sy(Math.pow(10, k));
      ctx.beginPath(); ctx.moveTo(pad.l, y); ctx.lineTo(pad.l + pw, y); ctx.stroke();
      ctx.fillText('1e' + k, pad.l - 6, y + 4);
    }
    ctx.textAlign = 'center';
    ctx.fillText('step (' + L.length + ')', pad.l + pw / 2, H - 6);
    ctx.strokeStyle = '#333'; ctx.strokeRect(pad.l, pad.t, pw, ph);
    ctx.setLineDash([6, 4]); ctx.strokeStyle = '#888';
    ctx.beginPath(); ctx.moveTo(pad.l, sy(1 / 6)); ctx.lineTo(pad.l + pw, sy(1 / 6)); ctx.stroke(); ctx.setLineDash([]);
    ctx.textAlign = 'left'; ctx.fillStyle = '#777'; ctx.fillText('always 1.0', pad.l + 6, sy(1 / 6) - 4);
    if (L.length === 0) return;
    ctx.strokeStyle = '#1f77b4'; ctx.lineWidth = 2; ctx.beginPath();
    var acc = 0, w = 20;
    for (var j = 0; j < L.length; j++) {
      acc += L[j];
      if (j >= w) acc -= L[j - w];
      var v = acc / Math.min(j + 1, w);
      if (j === 0) ctx.moveTo(sx(j + 1), sy(v)); else ctx.lineTo(sx(j + 1), sy(v));
    }
    ctx.stroke(); ctx.lineWidth = 1;
  }

  /** The sequence of test entry b as text, the marked values highlighted, shortened when long. */
  function sequenceCell(m, b) {
    var T = m.s.T, x = m.test.x, td = document.createElement('td'), parts = [], last = -2;
    for (var t = 0; t < T; t++) {
      var marked = x[(t * TEST_N + b) * 2 + 1] === 1;
      var near = false;
      for (var u = Math.max(0, t - 1); u <= Math.min(T - 1, t + 1); u++) if (x[(u * TEST_N + b) * 2 + 1] === 1) near = true;
      if (T > 12 && !near && t !== 0 && t !== T - 1) continue;
      if (last >= 0 && t > last + 1) parts.push({ text: '…' });
      parts.push({ text: x[(t * TEST_N + b) * 2].toFixed(2), marked: marked });
      last = t;
    }
    td.className = 'seq';
    parts.forEach(function (p, i) {
      if (i > 0) td.appendChild(document.createTextNode(' '));
      var span = document.createElement('span');
      span.textContent = p.text;
      if (p.marked) span.className = 'marked';
      td.appendChild(span);
    });
    return td;
  }

  function showPredictions(m) {
    var body = $('predictions').tBodies[0];
    body.innerHTML = '';
    if (!m) { $('test-mse').textContent = ''; return; }
    var pred = predict(m), se = 0, base = 0;
    for (var i = 0; i < TEST_N; i++) {
      se += (pred[i] - m.test.y[i]) * (pred[i] - m.test.y[i]);
      base += (1 - m.test.y[i]) * (1 - m.test.y[i]);
    }
    for (var b = 0; b < TEST_SHOWN; b++) {
      var tr = document.createElement('tr'), err = Math.abs(pred[b] - m.test.y[b]);
      var cells = [String(b + 1), null, m.test.y[b].toFixed(3), pred[b].toFixed(3), err.toFixed(3)];
      cells.forEach(function (c, i) {
        var td = c === null ? sequenceCell(m, b) : document.createElement('td');
        if (c !== null) td.textContent = c;
        if (i === 4) td.className = err < 0.05 ? 'good' : err > 0.2 ? 'bad' : '';
        tr.appendChild(td);
      });
      body.appendChild(tr);
    }
    $('test-mse').textContent = 'Test MSE over ' + TEST_N + ' held-out sequences: ' + (se / TEST_N).toFixed(5) +
      ' (answering 1.0: ' + (base / TEST_N).toFixed(4) + ').';
  }

  function report() {
    var m = model, L = m.losses, last = L.slice(-20), mean = 0;
    for (var i = 0; i < last.length; i++) mean += last[i] / last.length;
    setStatus((running ? 'Training' : 'Stopped') + ': ' + m.s.cell + ' H=' + m.s.hidden + ', T=' + m.s.T + ', batch ' + m.s.batch +
      ', lr ' + m.s.lr + ' · step ' + L.length + ' · loss (last 20) ' + (L.length ? mean.toFixed(4) : '–') +
      ' · ' + (L.length / Math.max(m.seconds, 1e-3)).toFixed(0) + ' steps/s');
  }

  var autoSteps = Number((/[?&]steps=(\d+)/.exec(location.search) || [])[1] || 0);
  var framesSinceTable = 0;
  function frame() {
    if (!running) return;
    try {
      var t0 = performance.now();
      for (var i = 0; i < STEPS_PER_FRAME; i++) step(model);
      if (autoSteps > 0 && model.losses.length >= autoSteps) {
        running = false;
        setButtons();
        showPredictions(model);
        report();
        document.title = 'done';
        return;
      }
      model.seconds += (performance.now() - t0) / 1000;
      drawLoss(model);
      if (++framesSinceTable >= 15) { framesSinceTable = 0; showPredictions(model); }
      report();
    } catch (e) {
      running = false;
      setButtons();
      setStatus('Stopped by an error: ' + String(e && e.message || e), true);
      document.title = 'error';
      return;
    }
    setTimeout(frame, 0);
  }

  function setButtons() {
    $('start').disabled = running;
    $('stop').disabled = !running;
  }

  function reset() {
    running = false;
    model = build();
    setButtons();
    drawLoss(model);
    showPredictions(model);
    report();
  }

  $('start').addEventListener('click', function () {
    if (!model) model = build();
    running = true;
    setButtons();
    setTimeout(frame, 0);
  });
  $('stop').addEventListener('click', function () {
    running = false;
    setButtons();
    showPredictions(model);
    report();
  });
  $('reset').addEventListener('click', reset);
  ['cell', 'hidden', 'T', 'batch', 'lr', 'seed'].forEach(function (id) { $(id).addEventListener('change', reset); });
  reset();
  setStatus('Press Start. Changing a setting (or Reset) builds a new model.');
  if (autoSteps > 0) $('start').click();
})();
