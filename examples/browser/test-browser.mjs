#!/usr/bin/env node
// Browser test: runs examples/browser/index.html in headless Chromium from file:// and checks what
// the page wrote into <pre id="result">:
//   - every PyTorch parity check passed in Chromium, and there were exactly as many as the
//     fixtures have arrays (test/fixtures/*.json of kind "native" and "torch");
//   - the live training's loss fell (mean of the last 20 steps at least 10x below the first 20);
//   - the determinism fingerprint (fingerprint.js) is bit-identical to the one Node computes with
//     the ESM build, on both backends ('js', then the default, which must be 'wasm' in Chromium),
//     and so is the whole training run (hash of every step's loss).
// Exit status 1 (with the reason) unless all hold. Last line: `browser: N passed, M failed`.
//
//   npm run test:browser                                   (builds dist/ first)
//   node examples/browser/test-browser.mjs [--screenshot examples/out/browser.png] [--chromium PATH] [--verbose]
//
// Needs Chromium: apt-get update && apt-get install -y chromium (or set CHROMIUM=/path/to/chrome).
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { buildFixtures, readFixtures } from './build-fixtures.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const PAGE = join(HERE, 'index.html');
const TIMEOUT_MS = 180_000;

function parseArgs(argv) {
  const o = { screenshot: null, chromium: process.env.CHROMIUM || null, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--screenshot') o.screenshot = resolve(argv[++i] ?? join(ROOT, 'examples', 'out', 'browser.png'));
    else if (a.startsWith('--screenshot=')) o.screenshot = resolve(a.slice(13));
    else if (a === '--chromium') o.chromium = argv[++i];
    else if (a === '--verbose' || a === '-v') o.verbose = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node examples/browser/test-browser.mjs [--screenshot FILE.png] [--chromium PATH] [--verbose]');
      process.exit(0);
    } else { console.error(`unknown option ${a}`); process.exit(2); }
  }
  return o;
}

function fail(message) {
  console.error(`test-browser: ${message}`);
  console.log('browser: 0 passed, 1 failed');
  process.exit(1);
}

/** The first Chromium/Chrome executable on PATH (or the one given). */
function findChromium(given) {
  const isExe = (p) => { try { accessSync(p, constants.X_OK); return true; } catch { return false; } };
  if (given) return isExe(given) ? given : null;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome']) {
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      if (dir && isExe(join(dir, name))) return join(dir, name);
    }
  }
  return null;
}

/** Runs Chromium headless on the page (a file:// URL; default index.html) with extra flags; resolves {stdout, stderr, code}. */
function runChromium(exe, extraArgs, url = pathToFileURL(PAGE).href) {
  const profile = mkdtempSync(join(tmpdir(), 'rc-chromium-'));
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--no-first-run', '--no-default-browser-check', `--user-data-dir=${profile}`, '--virtual-time-budget=60000',
    ...extraArgs, url,
  ];
  return new Promise((res, rej) => {
    const child = spawn(exe, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
      rej(new Error(`chromium did not finish within ${TIMEOUT_MS / 1000}s`));
    }, TIMEOUT_MS);
    child.on('error', (e) => { clearTimeout(timer); rej(e); });
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      res({ stdout, stderr, code });
    });
  });
}

const unescapeHtml = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&nbsp;/g, '\u00a0').replace(/&amp;/g, '&');

/** Evaluates a classic script (fingerprint.js, parity.js) in this realm with its own `window`. */
function loadClassic(file) {
  const window = {};
  vm.runInThisContext(`(function (window) {\n${readFileSync(file, 'utf8')}\n})`, { filename: file })(window);
  return window;
}

const opts = parseArgs(process.argv.slice(2));
for (const f of ['dist/index.js', 'dist/recurrent-cells.iife.js']) {
  if (!existsSync(join(ROOT, f))) fail(`${f} is missing: build first (npx tsup, or npm run build)`);
}
const exe = findChromium(opts.chromium);
if (!exe) {
  fail(`${opts.chromium ? `chromium not found at ${opts.chromium}` : 'chromium not found on PATH'}: install it with` +
    ' `apt-get update && apt-get install -y chromium` (or set CHROMIUM=/path/to/chrome)');
}

const built = buildFixtures();
const expectedArrays = readFixtures().reduce((n, f) => n + Object.keys(f.json.torchFloat32Error ?? {}).length, 0);
console.log(`fixtures.js: ${built.fixtures} fixtures, ${built.arrays} arrays (${(built.bytes / 1024).toFixed(0)} KiB)`);

// ---- Node side: the same fingerprint and training run with the ESM build ------------------------
const RC = await import(pathToFileURL(join(ROOT, 'dist', 'index.js')).href);
const FP = loadClassic(join(HERE, 'fingerprint.js')).RCFingerprint;
// The fingerprint on each backend in Node; they must agree (bit-identical kernels), then the page's
// two (js, then its default) must equal them.
RC.setBackend('js');
const nodeFpJs = FP.fingerprint(RC);
const nodeBackend = RC.setBackend('auto');
const nodeFp = FP.fingerprint(RC);
const trainer = FP.makeAddingTrainer(RC, FP.TRAIN);
for (let i = 0; i < FP.TRAIN.steps; i++) trainer.step();
const nodeTrain = FP.trainingSummary(trainer);
const nodeParity = loadClassic(join(HERE, 'parity.js')).RCParity.runParity(RC, Object.fromEntries(readFixtures().map((f) => [f.name, f.json])));

// ---- Chromium side -----------------------------------------------------------------------------
let version = '';
try { version = (await runVersion(exe)).trim(); } catch { /* informational only */ }
async function runVersion(e) {
  return new Promise((res) => {
    const c = spawn(e, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout.on('data', (d) => { out += d; });
    c.on('close', () => res(out));
    c.on('error', () => res(''));
  });
}
console.log(`chromium: ${exe}${version ? ` (${version})` : ''}`);
console.log(`page: ${pathToFileURL(PAGE).href}`);
const t0 = performance.now();
let dom;
try {
  const r = await runChromium(exe, ['--dump-dom']);
  dom = r.stdout;
  if (!dom.includes('<html')) fail(`chromium printed no DOM (exit ${r.code}); stderr:\n${r.stderr.split('\n').slice(-15).join('\n')}`);
} catch (e) {
  fail(`chromium failed: ${e.message}`);
}
console.log(`chromium ran the page in ${((performance.now() - t0) / 1000).toFixed(1)}s`);

const title = (/<title>([\s\S]*?)<\/title>/.exec(dom) ?? [])[1] ?? '';
const pre = /<pre id="result">([\s\S]*?)<\/pre>/.exec(dom);
let page = null;
try { page = pre ? JSON.parse(unescapeHtml(pre[1])) : null; } catch { page = null; }

// ---- checks ------------------------------------------------------------------------------------
let passed = 0, failed = 0;
const check = (ok, text, detail) => {
  if (ok) passed++; else failed++;
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${text}`);
  if (!ok && detail) console.log(`       ${detail}`);
};

check(title === 'done' && page !== null && (page.errors ?? []).length === 0,
  `page finished (title "${title}", result ${page ? 'parsed' : 'missing'}, ${page ? (page.errors ?? []).length : '?'} page errors)`,
  page ? (page.errors ?? []).join('\n       ') : pre ? `unparseable result: ${pre[1].slice(0, 300)}` : 'no <pre id="result"> in the DOM');

const par = page?.parity;
if (par) {
  passed += par.passed;
  failed += par.failed;
  console.log(`  ${par.failed === 0 ? 'ok  ' : 'FAIL'} parity in Chromium: ${par.passed} of ${par.passed + par.failed} arrays within the bar` +
    `${par.worst ? ` (worst error/bar ${par.worstRatio.toFixed(3)}: ${par.worst})` : ''}   [counted as ${par.passed + par.failed} checks]`);
  for (const f of par.failures ?? []) console.log(`       ${f}`);
} else {
  failed += expectedArrays;
  console.log(`  FAIL parity in Chromium: no result   [counted as ${expectedArrays} failed checks]`);
}
check(par !== undefined && par.passed + par.failed === expectedArrays && par.fixtures === built.fixtures,
  `parity count: ${par ? par.passed + par.failed : '?'} checks over ${par?.fixtures ?? '?'} fixtures = ${expectedArrays} arrays of ${built.fixtures} fixtures`);

const fell = page && Number.isFinite(page.lossFirstMean) && Number.isFinite(page.lossLastMean) &&
  page.lossLast < page.lossFirst && page.lossLastMean * 10 < page.lossFirstMean;
check(Boolean(fell),
  page ? `loss fell: mean of first 20 steps ${page.lossFirstMean?.toFixed(4)} → last 20 ${page.lossLastMean?.toFixed(5)}` +
    ` (${(page.lossFirstMean / page.lossLastMean).toFixed(0)}x; need >= 10x); test MSE ${page.testMse?.toFixed(5)} vs ${page.testBaseline?.toFixed(4)} always 1.0`
    : 'loss fell: no result');

check(page?.fingerprint === nodeFp.fingerprint,
  `fingerprint bit-identical: chromium ${page?.fingerprint ?? '?'} ${page?.fingerprint === nodeFp.fingerprint ? '=' : '≠'} node ${nodeFp.fingerprint}`,
  page?.fingerprintParts ? Object.keys(nodeFp.parts).filter((k) => page.fingerprintParts[k] !== nodeFp.parts[k])
    .map((k) => `differs: ${k} chromium ${page.fingerprintParts[k]} node ${nodeFp.parts[k]}`).join('\n       ') : undefined);

check(nodeFpJs.fingerprint === nodeFp.fingerprint,
  `node fingerprints bit-identical across backends: js ${nodeFpJs.fingerprint} ${nodeFpJs.fingerprint === nodeFp.fingerprint ? '=' : '≠'} ${nodeBackend} ${nodeFp.fingerprint}`);
check(page?.backend === 'wasm', `chromium's default backend is wasm (WebAssembly SIMD compiled in the page): ${page?.backend ?? '?'}`);
check(page?.fingerprintJs === nodeFp.fingerprint,
  `fingerprint bit-identical on chromium's js backend: ${page?.fingerprintJs ?? '?'} ${page?.fingerprintJs === nodeFp.fingerprint ? '=' : '≠'} node ${nodeFp.fingerprint}`,
  page?.fingerprintPartsJs ? Object.keys(nodeFp.parts).filter((k) => page.fingerprintPartsJs[k] !== nodeFp.parts[k])
    .map((k) => `differs: ${k} chromium ${page.fingerprintPartsJs[k]} node ${nodeFp.parts[k]}`).join('\n       ') : undefined);

check(page?.lossHash === nodeTrain.lossHash && page?.lossLast === nodeTrain.lossLast,
  `training run bit-identical: ${page?.steps ?? '?'} losses + test MSE hash chromium ${page?.lossHash ?? '?'} ${page?.lossHash === nodeTrain.lossHash ? '=' : '≠'} node ${nodeTrain.lossHash}`);

// The interactive demo page (demo.html), beside the harness: 300 steps by itself, predictions shown.
const demo = await runChromium(exe, ['--dump-dom'], `${pathToFileURL(join(HERE, 'demo.html')).href}?steps=300`).catch((e) => ({ stdout: String(e) }));
const demoMse = /Test MSE over \d+ held-out sequences: ([\d.]+) \(answering 1\.0: ([\d.]+)\)/.exec(demo.stdout);
check(/<title>done<\/title>/.test(demo.stdout) && (demo.stdout.match(/<td class="seq">/g) ?? []).length === 8 &&
  demoMse !== null && Number(demoMse[1]) < Number(demoMse[2]),
  `demo.html?steps=300: finished, 8 predictions shown, test MSE ${demoMse?.[1] ?? '?'} below answering 1.0 (${demoMse?.[2] ?? '?'})`);

console.log(`  (node, same code: parity ${nodeParity.passed}/${nodeParity.passed + nodeParity.failed}, fingerprint ${nodeFp.fingerprint}, loss ${nodeTrain.lossFirstMean.toFixed(4)} → ${nodeTrain.lossLastMean.toFixed(5)})`);
if (opts.verbose && page) console.log(JSON.stringify(page, null, 2));

if (opts.screenshot) {
  mkdirSync(dirname(opts.screenshot), { recursive: true });
  try {
    await runChromium(exe, [`--screenshot=${opts.screenshot}`, '--window-size=1024,1720', '--hide-scrollbars']);
    console.log(existsSync(opts.screenshot) ? `screenshot: ${relative(process.cwd(), opts.screenshot)}` : 'screenshot: chromium wrote no file');
  } catch (e) {
    console.log(`screenshot failed: ${e.message}`);
  }
}

console.log(`browser: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
