#!/usr/bin/env node
// Benchmark: forward and training (forward + backward) throughput of the recurrent cells, one
// thread, on the configurations of the performance issue. Not a test: it asserts nothing.
//
//   npm run bench                 table
//   npm run bench -- --json       one JSON document
//   npm run bench -- --quick      fewer repetitions
//   npm run bench -- --only lstm  configs whose name contains "lstm"
//
// FLOPs count matrix work only: forward = 2·T·B·(I+H)·G·H (G = 4 LSTM, 3 GRU); training = 3 × that.
// Each figure is the median of several timed runs after a warm-up, timed with performance.now();
// the best run is shown beside it.
import { performance } from 'node:perf_hooks';
import { GRUCell, LSTMCell, SequenceRunner } from '../dist/index.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;

const shapes = [
  { shape: 'T=64 B=32 I=32 H=128', T: 64, B: 32, I: 32, H: 128 },
  { shape: 'T=256 B=1 I=16 H=64 (streaming)', T: 256, B: 1, I: 16, H: 64 },
];
const cells = [
  { cell: 'lstm', make: (I, H) => new LSTMCell({ inputSize: I, hiddenSize: H, seed: 1 }), G: 4 },
  { cell: 'gru', make: (I, H) => new GRUCell({ inputSize: I, hiddenSize: H, seed: 1 }), G: 3 },
  { cell: 'gru-reset-after', make: (I, H) => new GRUCell({ inputSize: I, hiddenSize: H, seed: 1, resetAfter: true }), G: 3 },
];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Median and best ms per call of fn over `runs` timed runs of `inner` calls each, after `warm`
 * calls. The median is the figure to compare; the best shows the code on an uncontended core
 * (shared machines slow down in phases).
 */
function time(fn, { warm, runs, minMs }) {
  for (let i = 0; i < warm; i++) fn();
  // Choose the inner repeat count so one timed run lasts at least minMs.
  let inner = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) fn();
    if (performance.now() - t0 >= minMs) break;
    inner *= 2;
  }
  const samples = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) fn();
    samples.push((performance.now() - t0) / inner);
  }
  return { median: median(samples), best: Math.min(...samples) };
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

const opts = quick ? { warm: 3, runs: 5, minMs: 50 } : { warm: 5, runs: 15, minMs: 100 };
const rows = [];
for (const sh of shapes) {
  for (const c of cells) {
    const name = `${c.cell} ${sh.shape}`;
    if (only && !name.includes(only)) continue;
    const { T, B, I, H } = sh;
    const cell = c.make(I, H);
    const runner = new SequenceRunner(cell);
    const x = fill(T * B * I, 1), dOut = fill(T * B * H, 2);
    const flopFwd = 2 * T * B * (I + H) * c.G * H;
    const fwd = time(() => runner.run(x, { batch: B }), opts);
    const train = time(() => {
      runner.forward(x, { batch: B });
      runner.backward({ dOutputs: dOut });
    }, opts);
    rows.push({
      cell: c.cell, config: sh.shape, T, B, I, H,
      fwd_ms: +fwd.median.toFixed(3), train_ms: +train.median.toFixed(3),
      fwd_gflops: +(flopFwd / fwd.median / 1e6).toFixed(3),
      train_gflops: +((3 * flopFwd) / train.median / 1e6).toFixed(3),
      fwd_steps_per_s: Math.round((T * 1000) / fwd.median),
      train_steps_per_s: Math.round((T * 1000) / train.median),
      fwd_gflops_best: +(flopFwd / fwd.best / 1e6).toFixed(3),
      train_gflops_best: +((3 * flopFwd) / train.best / 1e6).toFixed(3),
    });
    if (!json) process.stderr.write('.');
  }
}

if (json) {
  console.log(JSON.stringify({ node: process.version, date: new Date().toISOString(), results: rows }, null, 2));
} else {
  process.stderr.write('\n');
  const head = ['cell', 'config', 'fwd ms', 'fwd GFLOP/s', '(best)', 'fwd steps/s', 'train ms', 'train GFLOP/s', '(best)', 'train steps/s'];
  const body = rows.map((r) => [r.cell, r.config, r.fwd_ms.toFixed(2), r.fwd_gflops.toFixed(2), r.fwd_gflops_best.toFixed(2),
    String(r.fwd_steps_per_s), r.train_ms.toFixed(2), r.train_gflops.toFixed(2), r.train_gflops_best.toFixed(2),
    String(r.train_steps_per_s)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cols) => '| ' + cols.map((v, i) => (i < 2 ? v.padEnd(w[i]) : v.padStart(w[i]))).join(' | ') + ' |';
  console.log(line(head));
  console.log('|' + w.map((n, i) => (i < 2 ? '-'.repeat(n + 2) : '-'.repeat(n + 1) + ':')).join('|') + '|');
  for (const b of body) console.log(line(b));
  console.log(`\nnode ${process.version}, one thread; FLOPs: forward 2·T·B·(I+H)·G·H, training 3× forward; median (and best) of ${opts.runs} runs.`);
}
