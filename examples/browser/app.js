/*
 * The page's script (classic, no modules: it must work from file://). Uses window.RecurrentCells
 * (dist/recurrent-cells.iife.js), window.RC_FIXTURES (fixtures.js, made by build-fixtures.mjs),
 * window.RCFingerprint (fingerprint.js) and window.RCParity (parity.js).
 *
 * 1. fingerprint, 2. parity checks (both synchronous, fast), 3. trains a GRU in chunks of steps
 * between setTimeout callbacks so the canvas updates, then writes the machine-readable result
 * into <pre id="result"> and sets document.title to "done" ("error" when something threw).
 */
(function () {
  'use strict';
  var RC = window.RecurrentCells, FP = window.RCFingerprint, PARITY = window.RCParity;
  var errors = [];
  var result = {};
  var $ = function (id) { return document.getElementById(id); };

  window.addEventListener('error', function (e) { errors.push(String(e.message || e)); });

  function setStatus(text, cls) {
    var s = $('status');
    s.textContent = text;
    s.className = cls || '';
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function finish() {
    result.errors = errors;
    result.userAgent = navigator.userAgent;
    $('result').textContent = JSON.stringify(result);
    // Never green on zero checks: a parity run that checked nothing is a failure.
    var ok = errors.length === 0 && result.parity && result.parity.arrays > 0 && result.parity.failed === 0 &&
      result.lossLastMean < result.lossFirstMean;
    setStatus(ok
      ? 'Done: parity ' + result.parity.passed + '/' + (result.parity.passed + result.parity.failed) +
        ' arrays, loss ' + result.lossFirstMean.toFixed(3) + ' → ' + result.lossLastMean.toFixed(4) + ', fingerprint ' + result.fingerprint + '.'
      : 'Finished with problems: ' + (errors.length ? errors.join('; ') : 'see below'), ok ? 'ok' : 'bad');
    document.title = errors.length ? 'error' : 'done';
  }

  function stage(name, fn) {
    try {
      fn();
    } catch (e) {
      errors.push(name + ': ' + String(e && e.stack || e));
    }
  }

  if (!RC || !FP || !PARITY) {
    errors.push(!RC ? 'window.RecurrentCells is missing: run npm run build first (it writes dist/recurrent-cells.iife.js)'
      : 'fingerprint.js or parity.js did not load');
    finish();
    return;
  }
  if (!window.RC_FIXTURES) errors.push('fixtures.js is missing: run npm run build (it writes dist/ and examples/browser/fixtures.js)');

  // ---- 1. fingerprint -------------------------------------------------------------------------
  // Once per backend: 'js' (TypeScript kernels), then the default 'auto' (WebAssembly SIMD here),
  // which the parity checks and the training below then use. Both must equal Node's fingerprint.
  stage('fingerprint', function () {
    RC.setBackend('js');
    var fpJs = FP.fingerprint(RC);
    result.backend = RC.setBackend('auto');
    var fp = FP.fingerprint(RC);
    result.fingerprintJs = fpJs.fingerprint;
    result.fingerprintPartsJs = fpJs.parts;
    result.fingerprint = fp.fingerprint;
    result.fingerprintParts = fp.parts;
    var body = $('fingerprint').tBodies[0];
    var tr = el('tr');
    tr.appendChild(el('th', 'fingerprint (js)'));
    tr.appendChild(el('td')).appendChild(el('code', fpJs.fingerprint));
    body.appendChild(tr);
    tr = el('tr');
    tr.appendChild(el('th', 'fingerprint (' + result.backend + ')'));
    tr.appendChild(el('td')).appendChild(el('code', fp.fingerprint));
    body.appendChild(tr);
    Object.keys(fp.parts).forEach(function (k) {
      var r = el('tr');
      r.appendChild(el('td', k));
      r.appendChild(el('td')).appendChild(el('code', fp.parts[k]));
      body.appendChild(r);
    });
  });

  // ---- 2. parity ------------------------------------------------------------------------------
  stage('parity', function () {
    var p = PARITY.runParity(RC, window.RC_FIXTURES || {});
    var byFixture = {};
    p.checks.forEach(function (c) {
      var f = byFixture[c.fixture] || (byFixture[c.fixture] = { path: c.path, passed: 0, total: 0, worst: null, failures: [] });
      f.total++;
      if (c.ok) f.passed++; else f.failures.push(c.array + (c.message ? ' (' + c.message + ')' : ' ratio ' + (c.ratio || 0).toFixed(2)));
      if (c.ratio !== undefined && (!f.worst || c.ratio > f.worst.ratio)) f.worst = c;
    });
    var body = $('parity').tBodies[0];
    Object.keys(byFixture).forEach(function (name) {
      var f = byFixture[name], r = el('tr');
      r.appendChild(el('td', name));
      r.appendChild(el('td', f.path));
      r.appendChild(el('td', f.passed + '/' + f.total, f.passed === f.total ? 'pass' : 'fail'));
      r.appendChild(el('td', f.worst ? f.worst.ratio.toFixed(3) : '–', 'num'));
      r.appendChild(el('td', f.failures.length ? 'FAILED: ' + f.failures.join(', ') : f.worst ? f.worst.array : ''));
      body.appendChild(r);
    });
    $('parity-summary').innerHTML = '';
    $('parity-summary').appendChild(p.checks.length === 0
      ? el('span', 'No parity checks ran (no fixtures loaded): nothing was verified.', 'fail')
      : el('span', p.passed + ' of ' + (p.passed + p.failed) + ' arrays within the bar over ' + p.fixtures +
        ' fixtures' + (p.worst ? '; worst ratio ' + p.worst.ratio.toFixed(3) + ' (' + p.worst.fixture + ' ' + p.worst.array + ')' : ''),
        p.failed === 0 ? 'pass' : 'fail'));
    result.parity = {
      passed: p.passed, failed: p.failed, fixtures: p.fixtures, arrays: p.checks.length,
      worstRatio: p.worst ? p.worst.ratio : null, worst: p.worst ? p.worst.fixture + ' ' + p.worst.array : null,
      failures: p.checks.filter(function (c) { return !c.ok; }).map(function (c) {
        return c.fixture + ' ' + c.array + ': ' + (c.message || 'max error ' + c.maxErr + ' > bar ' + c.bar);
      }),
    };
  });

  // ---- 3. live training -----------------------------------------------------------------------
  var cfg = FP.TRAIN;
  var trainer;
  stage('training setup', function () { trainer = FP.makeAddingTrainer(RC, cfg); });
  if (!trainer) { finish(); return; }
  $('train-desc').textContent = 'GRU with ' + cfg.hidden + ' hidden units + Linear head, Adam (lr ' + cfg.lr + ') with gradient clipping, batches of ' +
    cfg.batch + ' sequences of length T = ' + cfg.T + '; target = sum of the two marked values. Always answering 1.0 scores MSE ≈ 0.1667.';

  var canvas = $('loss'), ctx = canvas.getContext('2d');
  var t0 = performance.now();

  function draw() {
    var W = canvas.width, H = canvas.height, m = { l: 58, r: 14, t: 14, b: 34 };
    var pw = W - m.l - m.r, ph = H - m.t - m.b, L = trainer.losses;
    var lo = -4, hi = 1; // log10 range of the y axis
    var sx = function (i) { return m.l + (i / cfg.steps) * pw; };
    var sy = function (v) { var y = Math.log10(Math.max(v, 1e-6)); y = Math.min(hi, Math.max(lo, y)); return m.t + ((hi - y) / (hi - lo)) * ph; };
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
    ctx.font = '11px sans-serif'; ctx.fillStyle = '#333'; ctx.strokeStyle = '#e6e6e6'; ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    for (var k = lo; k <= hi; k++) {
      var y = sy(Math.pow(10, k));
      ctx.beginPath(); ctx.moveTo(m.l, y); ctx.lineTo(m.l + pw, y); ctx.stroke();
      ctx.fillText('1e' + k, m.l - 6, y + 4);
    }
    ctx.textAlign = 'center';
    for (var s = 0; s <= cfg.steps; s += 50) {
      var x = sx(s);
      ctx.beginPath(); ctx.moveTo(x, m.t); ctx.lineTo(x, m.t + ph); ctx.stroke();
      ctx.fillText(String(s), x, m.t + ph + 15);
    }
    ctx.fillText('training step', m.l + pw / 2, H - 4);
    ctx.save(); ctx.translate(14, m.t + ph / 2); ctx.rotate(-Math.PI / 2); ctx.fillText('MSE (log scale)', 0, 0); ctx.restore();
    ctx.strokeStyle = '#333'; ctx.strokeRect(m.l, m.t, pw, ph);
    // baseline
    ctx.setLineDash([6, 4]); ctx.strokeStyle = '#888';
    ctx.beginPath(); ctx.moveTo(m.l, sy(1 / 6)); ctx.lineTo(m.l + pw, sy(1 / 6)); ctx.stroke();
    ctx.setLineDash([]);
    // raw losses, then a 20-step moving average
    ctx.strokeStyle = 'rgba(31,119,180,0.3)'; ctx.beginPath();
    for (var i = 0; i < L.length; i++) { if (i === 0) ctx.moveTo(sx(i + 1), sy(L[i])); else ctx.lineTo(sx(i + 1), sy(L[i])); }
    ctx.stroke();
    ctx.strokeStyle = '#1f77b4'; ctx.lineWidth = 2; ctx.beginPath();
    var acc = 0;
    for (var j = 0; j < L.length; j++) {
      acc += L[j];
      if (j >= 20) acc -= L[j - 20];
      var v = acc / Math.min(j + 1, 20);
      if (j === 0) ctx.moveTo(sx(j + 1), sy(v)); else ctx.lineTo(sx(j + 1), sy(v));
    }
    ctx.stroke(); ctx.lineWidth = 1;
    // legend
    ctx.textAlign = 'left';
    var lx = m.l + pw - 240, ly = m.t + 10;
    ctx.fillStyle = 'rgba(255,255,255,0.9)'; ctx.fillRect(lx, ly, 230, 58); ctx.strokeStyle = '#bbb'; ctx.strokeRect(lx, ly, 230, 58);
    ctx.fillStyle = '#333';
    ctx.strokeStyle = 'rgba(31,119,180,0.3)'; ctx.beginPath(); ctx.moveTo(lx + 8, ly + 14); ctx.lineTo(lx + 30, ly + 14); ctx.stroke();
    ctx.fillText('batch MSE', lx + 36, ly + 18);
    ctx.strokeStyle = '#1f77b4'; ctx.lineWidth = 2; ctx.beginPath(); ctx.moveTo(lx + 8, ly + 30); ctx.lineTo(lx + 30, ly + 30); ctx.stroke(); ctx.lineWidth = 1;
    ctx.fillText('20-step mean', lx + 36, ly + 34);
    ctx.setLineDash([6, 4]); ctx.strokeStyle = '#888'; ctx.beginPath(); ctx.moveTo(lx + 8, ly + 46); ctx.lineTo(lx + 30, ly + 46); ctx.stroke(); ctx.setLineDash([]);
    ctx.fillText('always 1.0 (0.1667)', lx + 36, ly + 50);

    var secs = (performance.now() - t0) / 1000;
    $('train-stats').textContent = 'step ' + L.length + '/' + cfg.steps + ' · loss ' + (L.length ? L[L.length - 1].toFixed(4) : '–') +
      ' · ' + (L.length / Math.max(secs, 1e-3)).toFixed(0) + ' steps/s';
  }

  var CHUNK = 10;
  function trainChunk() {
    stage('training', function () {
      for (var i = 0; i < CHUNK && trainer.losses.length < cfg.steps; i++) trainer.step();
      draw();
    });
    if (errors.length === 0 && trainer.losses.length < cfg.steps) {
      setStatus('Training: step ' + trainer.losses.length + '/' + cfg.steps + '…');
      setTimeout(trainChunk, 0);
      return;
    }
    stage('training summary', function () {
      var s = FP.trainingSummary(trainer);
      Object.keys(s).forEach(function (k) { result[k] = s[k]; });
      result.trainSeconds = (performance.now() - t0) / 1000;
      $('train-stats').textContent += ' · test MSE ' + s.testMse.toFixed(5) + ' (always 1.0: ' + s.testBaseline.toFixed(4) + ')' +
        ' · mean loss, first 20 steps ' + s.lossFirstMean.toFixed(4) + ' → last 20 ' + s.lossLastMean.toFixed(5);
    });
    finish();
  }
  setStatus('Training…');
  setTimeout(trainChunk, 0);
})();
