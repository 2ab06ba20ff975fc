#!/usr/bin/env node
// recurrent-cells demo: train real recurrent networks end to end, in plain JavaScript.
//
//   npm run demo                          (builds dist/ first; about a minute on one core)
//   node examples/demo.mjs --quick        a shorter smoke run (results not expected to be good)
//   node examples/demo.mjs --seed 7 --steps 2000 --hidden 24
//
// 1. The adding problem (Hochreiter & Schmidhuber 1997) with an LSTM and a GRU: test MSE on a
//    fresh held-out set against always answering 1.0 (MSE 2/12 ≈ 0.1667).
// 2. A character-level LSTM on the opening of "Alice's Adventures in Wonderland" (examples/data):
//    a sample before and after training, validation loss per character on the held-out last 10%
//    against the uniform (ln V) and unigram baselines.
// 3. A summary table, and the loss curves as examples/out/loss.svg.
//
// Everything is seeded: the same flags print the same numbers (timings aside) on every machine.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Random } from '../dist/index.js';
import { addingBatch, evaluateAdding, trainAdding } from './lib/adding.mjs';
import { CharModel, loadCorpus, trainCharModel, unigramLoss } from './lib/charlm.mjs';
import { Progress } from './lib/progress.mjs';
import { lossPlotSvg, smoothCurve } from './plot-svg.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

const HELP = `usage: node examples/demo.mjs [options]
  --steps N        training steps of each adding-problem model (default 1500);
                   the character model trains 2N/5 steps (default 600)
  --seed N         seed of every initialiser and data stream (default 1)
  --hidden N       hidden size of the adding-problem models (default 16)
  --char-hidden N  hidden size of the character model (default 48)
  --length N       adding-problem sequence length T, >= 50 recommended (default 50)
  --quick          a short smoke run: --steps 400
  --out FILE       where to write the loss plot (default examples/out/loss.svg)
  --help`;

function parseArgs(argv) {
  const o = { steps: 1500, seed: 1, hidden: 16, charHidden: 48, length: 50, quick: false, out: join(HERE, 'out', 'loss.svg') };
  const int = (name, v, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) { console.error(`${name}: expected an integer >= ${min}, got ${v}\n\n${HELP}`); process.exit(2); }
    return n;
  };
  let stepsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) { console.error(`${a}: missing value\n\n${HELP}`); process.exit(2); } return argv[++i]; };
    if (a === '--help' || a === '-h') { console.log(HELP); process.exit(0); }
    else if (a === '--quick') o.quick = true;
    else if (a === '--steps') { o.steps = int(a, val(), 1); stepsGiven = true; }
    else if (a === '--seed') o.seed = int(a, val(), 0);
    else if (a === '--hidden') o.hidden = int(a, val(), 1);
    else if (a === '--char-hidden') o.charHidden = int(a, val(), 1);
    else if (a === '--length') o.length = int(a, val(), 2);
    else if (a === '--out') o.out = val();
    else { console.error(`unknown option ${a}\n\n${HELP}`); process.exit(2); }
  }
  if (o.quick && !stepsGiven) o.steps = 400;
  o.charSteps = Math.max(1, Math.round((o.steps * 2) / 5));
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const t0 = performance.now();
const rows = []; // summary table
const plots = { adding: [], char: [] };
const f = (v, d = 4) => v.toFixed(d);
const sci = (v) => (v < 1e-2 ? v.toExponential(2) : v.toFixed(4));
const section = (s) => console.log(`\n== ${s} ${'='.repeat(Math.max(0, 76 - s.length))}`);

console.log(`recurrent-cells demo  seed ${opts.seed}  steps ${opts.steps}${opts.quick ? '  (quick)' : ''}  node ${process.version}`);

// ---- 1. the adding problem ------------------------------------------------------------------
const T = opts.length, BATCH = 32, TEST = 2000;
section(`1. Adding problem: T = ${T}, batch ${BATCH}, ${opts.steps} Adam steps, test set of ${TEST}`);
console.log('   input per step: (value ~ U[0,1], marker 0/1); two markers, one in each half; target = sum of the two marked values');
const testSet = addingBatch(new Random(opts.seed * 7919 + 104729), TEST, T); // a stream no training run draws from

for (const [kind, name, lr] of [['lstm', 'LSTM', 2e-2], ['gru', 'GRU', 1e-2]]) {
  const label = `adding/${name}`;
  const progress = new Progress(label, opts.steps);
  let ema = null;
  const model = trainAdding({
    kind, hidden: opts.hidden, steps: opts.steps, batch: BATCH, T, lr, seed: opts.seed * 100 + (kind === 'lstm' ? 1 : 11),
    onStep: (step, loss) => { ema = ema === null ? loss : 0.98 * ema + 0.02 * loss; progress.update(step, ema); },
  });
  const seconds = progress.done();
  const { mse, baseline } = evaluateAdding(model, testSet, TEST);
  const ratio = baseline / mse;
  console.log(`${label.padEnd(14)} test MSE ${sci(mse)}   baseline (always 1.0) ${f(baseline)} on this test set, 2/12 = 0.1667 in theory` +
    `   ${ratio.toFixed(0)}x lower   ${seconds.toFixed(1)}s`);
  rows.push({
    task: `adding T=${T}`, model: `${name} H=${opts.hidden}`, metric: 'test MSE', result: sci(mse),
    baseline: `${f(baseline)} (always 1.0)`, ok: mse < baseline / 10, seconds,
    verdict: mse < baseline / 10 ? `${ratio.toFixed(0)}x below baseline`
      : opts.quick ? `${ratio >= 1 ? `${ratio.toFixed(1)}x below baseline` : 'not yet below baseline'} (quick run; a full run reaches 10x)`
        : `FAILED: ${ratio >= 1 ? `only ${ratio.toFixed(1)}x below baseline` : 'not below baseline'}, 10x expected`,
  });
  plots.adding.push({ name: `${name} H=${opts.hidden} (train)`, points: smoothCurve(model.losses, Math.max(1, Math.round(opts.steps / 75))) });
  plots.addingBaseline = baseline;
}

// ---- 2. character-level model ------------------------------------------------------------------
const corpus = loadCorpus(join(HERE, 'data', 'alice.txt'));
const CH = { batch: 32, chunk: 24, lr: 1e-2 };
section(`2. Character model: LSTM H=${opts.charHidden} on examples/data/alice.txt, truncated BPTT`);
const uniform = Math.log(corpus.V), unigram = unigramLoss(corpus.train, corpus.val, corpus.V);
console.log(`   ${corpus.text.length} chars, vocabulary V = ${corpus.V}; train ${corpus.train.length}, validation ${corpus.val.length} (the last 10%)`);
console.log(`   ${CH.batch} streams x chunks of ${CH.chunk} chars, hidden state carried across chunks, ${opts.charSteps} Adam steps`);
const charModel = new CharModel({ V: corpus.V, hidden: opts.charHidden, seed: opts.seed * 100 + 21 });
const PRIME = 'Alice ', SAMPLE_LEN = 240, TEMP = 0.8;
const showSample = (when) => {
  const s = charModel.sample(corpus, PRIME, SAMPLE_LEN, TEMP, new Random(opts.seed * 100 + 31));
  console.log(`   sample ${when} (temperature ${TEMP}, seeded):\n   | ${(PRIME + s).replace(/\n/g, '\n   | ')}`);
};
const val0 = charModel.loss(corpus.val);
showSample('BEFORE training');
const valPoints = [[0, val0]];
{
  const progress = new Progress('char/LSTM', opts.charSteps);
  let ema = null, lastVal = val0;
  const { losses } = trainCharModel(charModel, corpus, {
    ...CH, steps: opts.charSteps, seed: opts.seed, evalEvery: Math.max(1, Math.round(opts.charSteps / 10)),
    onStep: (step, loss) => { ema = ema === null ? loss : 0.95 * ema + 0.05 * loss; progress.update(step, ema, `val ${f(lastVal, 3)}`); },
    onEval: (step, val) => { lastVal = val; valPoints.push([step, val]); },
  });
  const seconds = progress.done();
  const val = valPoints[valPoints.length - 1][1];
  const bits = (v) => v / Math.LN2;
  console.log(`char/LSTM      validation loss ${f(val)} nats/char = ${f(bits(val), 3)} bits/char   (before training ${f(val0)} nats)   ${seconds.toFixed(1)}s`);
  console.log(`               baselines: uniform ln V = ${f(uniform)} nats (${f(bits(uniform), 3)} bits), unigram ${f(unigram)} nats (${f(bits(unigram), 3)} bits)`);
  showSample('AFTER training');
  rows.push({
    task: 'char model', model: `LSTM H=${opts.charHidden}`, metric: 'val nats/char', result: `${f(val, 3)} (${f(bits(val), 2)} bits)`,
    baseline: `${f(uniform, 3)} uniform, ${f(unigram, 3)} unigram`, ok: val < unigram, seconds,
    verdict: val < unigram ? `${f(unigram - val, 2)} nats below unigram`
      : opts.quick ? `${f(val - unigram, 2)} nats above unigram (quick run; a full run goes below)`
        : `FAILED: ${f(val - unigram, 2)} nats above unigram, below expected`,
  });
  plots.char.push({ name: 'train (chunk loss)', points: smoothCurve(losses, Math.max(1, Math.round(opts.charSteps / 60))) });
  plots.char.push({ name: 'validation', points: valPoints, markers: true });
}

// ---- 3. summary and plot ---------------------------------------------------------------------
section('Summary');
const cols = [
  ['task', (r) => r.task], ['model', (r) => r.model], ['metric', (r) => r.metric], ['result', (r) => r.result],
  ['baseline', (r) => r.baseline], ['verdict', (r) => r.verdict], ['time', (r) => `${r.seconds.toFixed(1)}s`],
];
const widths = cols.map(([h, g]) => Math.max(h.length, ...rows.map((r) => g(r).length)));
const fmtRow = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
console.log(fmtRow(cols.map(([h]) => h)));
console.log(fmtRow(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(fmtRow(cols.map(([, g]) => g(r))));

const svg = lossPlotSvg({
  title: `recurrent-cells demo (seed ${opts.seed})`,
  panels: [
    {
      title: `Adding problem, T = ${T}`, xLabel: 'training step', yLabel: 'MSE (batch, window mean)', logY: true, xMin: 0,
      series: plots.adding, baselines: [{ name: `always 1.0 (test ${f(plots.addingBaseline)})`, y: plots.addingBaseline }],
    },
    {
      title: 'Character model (alice.txt)', xLabel: 'training step', xMin: 0, yLabel: 'cross-entropy (nats/char)',
      series: plots.char,
      baselines: [{ name: `uniform ln ${corpus.V}`, y: uniform, color: '#777' }, { name: 'unigram (train frequencies)', y: unigram, color: '#c49a00' }],
    },
  ],
});
mkdirSync(dirname(opts.out), { recursive: true });
writeFileSync(opts.out, svg);
const total = (performance.now() - t0) / 1000;
console.log(`\nloss curves: ${relative(process.cwd(), opts.out) || opts.out}`);
console.log(`total ${total.toFixed(1)}s`);
if (!opts.quick && rows.some((r) => !r.ok)) {
  console.error('demo: a model did not beat its baseline (see the table above)');
  process.exitCode = 1;
}
