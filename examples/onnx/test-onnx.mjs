#!/usr/bin/env node
// ONNX Runtime check: every kind of model exportONNX writes is run in onnxruntime-node and its
// outputs compared with this library's own (dist/ build): max |ort − ours| ≤ 1e-5 · max(1, max|ours|)
// for each of output, h_n and c_n. onnxruntime-node is not a dependency: .ci/run installs it into a
// scratch folder and passes that folder as ORT_DIR (the folder holding node_modules/onnxruntime-node).
// Without it the check fails (it never skips). Last line: `onnx: N passed, M failed`.
//
//   ORT_DIR=/tmp/ort npm run test:onnx         (builds dist/ first)
import { createRequire } from 'node:module';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cases } from './cases.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
let passed = 0, failed = 0;
const finish = () => { console.log(`onnx: ${passed} passed, ${failed} failed`); process.exit(failed > 0 || passed === 0 ? 1 : 0); };

let ort;
try {
  const dir = process.env.ORT_DIR;
  if (!dir) throw new Error('ORT_DIR is not set (the folder where onnxruntime-node is installed)');
  ort = createRequire(join(resolve(dir), 'package.json'))('onnxruntime-node');
} catch (e) {
  console.error(`onnx: cannot load onnxruntime-node: ${e.message}`);
  failed++;
  finish();
}

const lib = await import(join(ROOT, 'dist', 'index.js'));

for (const c of cases(lib)) {
  let session;
  try {
    session = await ort.InferenceSession.create(c.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (e) {
    console.log(`not ok ${c.name}: onnxruntime refused the model: ${e.message}`);
    failed++;
    continue;
  }
  const feeds = {};
  for (const [name, { type, data, dims }] of Object.entries(c.feeds)) feeds[name] = new ort.Tensor(type, data, dims);
  const got = await session.run(feeds);
  for (const [name, want] of Object.entries(c.expected)) {
    const g = got[name]?.data;
    let diff = Infinity, scale = 1;
    if (g && g.length === want.length) {
      diff = 0;
      for (let k = 0; k < want.length; k++) { diff = Math.max(diff, Math.abs(g[k] - want[k])); scale = Math.max(scale, Math.abs(want[k])); }
    }
    const ok = diff <= 1e-5 * scale;
    console.log(`${ok ? 'ok' : 'not ok'} ${c.name} ${name}: max abs diff ${diff.toExponential(2)} (bar ${(1e-5 * scale).toExponential(2)})`);
    if (ok) passed++; else failed++;
  }
}
finish();
