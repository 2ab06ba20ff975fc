#!/usr/bin/env node
// Benchmark: forward and training (forward + backward) throughput, one thread, both backends side by
// side, then the peer libraries where they are installed. Not a test: it asserts nothing.
//
//   npm run bench                       table
//   npm run bench -- --json             one JSON document
//   npm run bench -- --quick            fewer repetitions
//   npm run bench -- --only lstm        configs whose name contains "lstm"
//   npm run bench -- --anchors DIR      the peers' folder (default: $RC_ANCHORS, ../shared/anchors
//                                       or /tmp/anchors, the first holding node_modules); --no-peers
//
// Ours: the 'js' and 'wasm' backends alternate call by call in this process, so both see the same
// machine; a figure is the median over rounds, and wasm÷js is the median of the per-round ratios.
// Peers run as child processes after ours, with the scripts of the shared anchors folder
// (tfjs-layers cpu and wasm, brain.js, PyTorch with one thread): same run, not the same process.
//
// FLOPs count matrix work only: forward = 2·T·B·(I+H)·G·H (G = 4 LSTM, 3 GRU); training = 3 × that.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as rc from '../dist/index.js';

const { GRUCell, LSTMCell, SequenceRunner } = rc;
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : null);
const json = flag('--json');
const quick = flag('--quick');
const only = value('--only');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const shapes = [
  { shape: 'T=64 B=32 I=32 H=128', T: 64, B: 32, I: 32, H: 128 },
  { shape: 'T=256 B=1 I=16 H=64 (streaming)', T: 256, B: 1, I: 16, H: 64 },
];
const cells = [
  { cell: 'lstm', make: (I, H) => new LSTMCell({ inputSize: I, hiddenSize: H, seed: 1 }), G: 4 },
  { cell: 'gru', make: (I, H) => new GRUCell({ inputSize: I, hiddenSize: H, seed: 1 }), G: 3 },
  { cell: 'gru-reset-after', make: (I, H) => new GRUCell({ inputSize: I, hiddenSize: H, seed: 1, resetAfter: true }), G: 3 },
];

/** The backends this build offers: 'js' always, 'wasm' where it compiles here. */
function availableBackends() {
  if (typeof rc.setBackend !== 'function') return ['js'];
  const list = ['js'];
  try {
    rc.setBackend('wasm');
    list.push('wasm');
  } catch {
    // no SIMD here: js only
  }
  rc.setBackend('auto');
  return list;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fill(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

/**
 * Times fn once per backend per round, alternating, after a warm-up (wasm's optimising compiler
 * takes over after ~20 calls). Each sample repeats fn `inner` times so it lasts at least minMs.
 * Returns per backend the median ms per call and, against the first backend, the median ratio.
 */
function timeAlternating(fn, backends, { warm, rounds, minMs }) {
  const use = (b) => typeof rc.setBackend === 'function' && rc.setBackend(b);
  for (const b of backends) {
    use(b);
    for (let i = 0; i < warm; i++) fn();
  }
  let inner = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) fn();
    if (performance.now() - t0 >= minMs) break;
    inner *= 2;
  }
  const samples = backends.map(() => []);
  for (let r = 0; r < rounds; r++) {
    backends.forEach((b, k) => {
      use(b);
      const t0 = performance.now();
      for (let i = 0; i < inner; i++) fn();
      samples[k].push((performance.now() - t0) / inner);
    });
  }
  use('auto');
  return backends.map((b, k) => ({
    backend: b,
    ms: median(samples[k]),
    overFirst: median(samples[0].map((s0, r) => s0 / samples[k][r])),
  }));
}

/** The anchors folder: scripts plus an npm install of the peers (see ../shared/anchors/README.md). */
function findAnchors() {
  if (flag('--no-peers')) return null;
  const candidates = [value('--anchors'), process.env.RC_ANCHORS, join(root, '../shared/anchors'), '/tmp/anchors'];
  for (const dir of candidates) if (dir && existsSync(join(dir, 'tfjs_lstm.cjs'))) return resolve(dir);
  return null;
}

/** One peer measurement as its script's JSON line, or null where the peer is not installed. */
function peer(anchors, command, argv) {
  try {
    const out = execFileSync(command, argv, { cwd: anchors, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 600_000 });
    const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
    return line ? JSON.parse(line) : null;
  } catch {
    return null;
  }
}

function peersFor(anchors, cell, sh) {
  if (!anchors || cell === 'gru-reset-after') return {};
  const { T, B, I, H } = sh;
  const dims = [T, B, I, H].map(String);
  const hasNodeModules = existsSync(join(anchors, 'node_modules'));
  const reps = quick ? '3' : '7';
  const result = {};
  if (hasNodeModules) {
    result['tfjs cpu'] = peer(anchors, process.execPath, ['tfjs_lstm.cjs', 'cpu', cell, ...dims, B === 1 ? reps : '3']);
    result['tfjs wasm'] = peer(anchors, process.execPath, ['tfjs_lstm.cjs', 'wasm', cell, ...dims, reps]);
    if (cell === 'lstm' && B === 1) result['brain.js'] = peer(anchors, process.execPath, ['brainjs_lstm.cjs', String(T), String(I), String(H)]);
  }
  result.PyTorch = peer(anchors, '/usr/bin/python3', ['torch_rnn.py', cell, ...dims, quick ? '10' : '30', '1']);
  for (const k of Object.keys(result)) if (!result[k]) delete result[k];
  return result;
}

const backends = availableBackends();
const anchors = findAnchors();
const opts = quick ? { warm: 25, rounds: 7, minMs: 50 } : { warm: 25, rounds: 21, minMs: 100 };
const rows = [];
for (const sh of shapes) {
  for (const c of cells) {
    const name = `${c.cell} ${sh.shape}`;
    if (only && !name.includes(only)) continue;
    const { T, B, I, H } = sh;
    const runner = new SequenceRunner(c.make(I, H));
    const x = fill(T * B * I, 1), dOut = fill(T * B * H, 2);
    const flopFwd = 2 * T * B * (I + H) * c.G * H;
    const fwd = timeAlternating(() => runner.run(x, { batch: B }), backends, opts);
    const train = timeAlternating(() => {
      runner.forward(x, { batch: B });
      runner.backward({ dOutputs: dOut });
    }, backends, opts);
    const ours = Object.fromEntries(backends.map((b, k) => [b, {
      fwd_ms: +fwd[k].ms.toFixed(3), train_ms: +train[k].ms.toFixed(3),
      fwd_gflops: +(flopFwd / fwd[k].ms / 1e6).toFixed(3),
      train_gflops: +((3 * flopFwd) / train[k].ms / 1e6).toFixed(3),
      fwd_over_js: +fwd[k].overFirst.toFixed(2), train_over_js: +train[k].overFirst.toFixed(2),
    }]));
    rows.push({ cell: c.cell, config: sh.shape, T, B, I, H, ours, peers: peersFor(anchors, c.cell, sh) });
    if (!json) process.stderr.write('.');
  }
}

if (json) {
  console.log(JSON.stringify({ node: process.version, date: new Date().toISOString(), backends, anchors, results: rows }, null, 2));
} else {
  process.stderr.write('\n');
  const peerNames = [...new Set(rows.flatMap((r) => Object.keys(r.peers)))];
  const fastest = backends[backends.length - 1];
  const head = ['config', 'pass', ...backends.map((b) => `${b} GFLOP/s`), ...(backends.length > 1 ? [`${fastest}÷js`] : []),
    ...peerNames, ...peerNames.map((p) => `${fastest}÷${p}`)];
  const body = [];
  for (const r of rows) {
    for (const pass of ['fwd', 'train']) {
      const g = (o) => (o ? o[`${pass}_gflops`].toFixed(2) : '—');
      const mine = r.ours[fastest][`${pass}_gflops`];
      body.push([`${r.cell} ${r.config}`, pass === 'fwd' ? 'forward' : 'training',
        ...backends.map((b) => g(r.ours[b])),
        ...(backends.length > 1 ? [r.ours[fastest][`${pass}_over_js`].toFixed(2) + '×'] : []),
        ...peerNames.map((p) => g(r.peers[p])),
        ...peerNames.map((p) => (r.peers[p] ? (mine / r.peers[p][`${pass}_gflops`]).toFixed(2) + '×' : '—'))]);
    }
  }
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cols) => '| ' + cols.map((v, i) => (i < 2 ? v.padEnd(w[i]) : v.padStart(w[i]))).join(' | ') + ' |';
  console.log(line(head));
  console.log('|' + w.map((n, i) => (i < 2 ? '-'.repeat(n + 2) : '-'.repeat(n + 1) + ':')).join('|') + '|');
  for (const b of body) console.log(line(b));
  console.log(`\nnode ${process.version}, one thread. Ours: median of ${opts.rounds} rounds` + (backends.length > 1
    ? `, backends ${backends.join(' and ')} alternating call by call; ${fastest}÷js is the median per-round ratio.`
    : ' (js backend only in this build or on this machine).'));
  console.log(anchors
    ? `Peers: child processes of ${anchors} after ours (their scripts' medians); ratios are ours÷peer, same run.`
    : 'Peers: none found (set --anchors DIR or RC_ANCHORS to a copy of ../shared/anchors with npm install done).');
  console.log('FLOPs: forward 2·T·B·(I+H)·G·H, training 3× forward.');
}
