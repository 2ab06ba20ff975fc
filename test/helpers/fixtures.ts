/**
 * Loading the PyTorch float64 reference fixtures in test/fixtures and comparing against them.
 *
 * The fixtures are made by scripts in test/fixtures (see test/fixtures/README.md), run from the
 * repository root with /usr/bin/python3 and PyTorch:
 *   kind "native" (the library's LSTM and GRU equations): test/fixtures/make_cells.py
 *   kind "torch" (real torch.nn modules, through fromPyTorch): test/fixtures/make_torch_modules.py
 * Each array holds PyTorch autograd's float64 result, and torchFloat32Error how far PyTorch's own
 * float32 run of the same computation lands from it. The bar for every array:
 * max |error| ≤ max(4 × torchFloat32Error, 1e-6 × max(1, max|ref|)), four times PyTorch's own float32
 * error with a floor of about eight float32 ulps of the array's largest value.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export interface NativeFixture {
  name: string;
  kind: 'native';
  cell: 'lstm' | 'gru';
  resetAfter: boolean | null;
  inputSize: number;
  hiddenSize: number;
  steps: number;
  batch: number;
  params: { weight_ih: number[]; weight_hh: number[]; bias_ih: number[]; bias_hh: number[] };
  inputs: number[];
  h0: number[];
  c0?: number[];
  expected: { outputs: number[]; hN: number[]; cN?: number[] };
  upstream: { dOutputs: number[]; dhN: number[]; dcN?: number[] };
  gradients: Record<string, number[]>;
  torchFloat32Error: Record<string, number>;
}

export interface TorchFixture {
  name: string;
  kind: 'torch';
  module: 'LSTM' | 'GRU' | 'LSTMCell' | 'GRUCell';
  cell: 'lstm' | 'gru';
  inputSize: number;
  hiddenSize: number;
  steps: number;
  batch: number;
  numLayers: number;
  bidirectional: boolean;
  lengths: number[] | null;
  /** make_torch_options.py: sequences [B, T, F] (absent: false). */
  batchFirst?: boolean;
  /** make_torch_options.py: nn.LSTM's proj_size P (absent or 0: none); h is [L·D, B, P], c0Shape [L·D, B, H]. */
  projSize?: number;
  /** make_torch_options.py: nn.LSTM/GRU(dropout=p), run in eval mode (training false). */
  dropout?: number;
  training?: boolean;
  c0Shape?: number[];
  stateDict: Record<string, number[]>;
  stateDictShapes: Record<string, number[]>;
  inputs: number[];
  h0: number[];
  h0Shape: number[];
  c0?: number[];
  expected: { outputs: number[]; hN: number[]; cN?: number[] };
  upstream: { dOutputs: number[]; dhN: number[]; dcN?: number[] };
  gradients: Record<string, number[]>;
  torchFloat32Error: Record<string, number>;
}

export function loadFixture<T = NativeFixture | TorchFixture>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, `${name}.json`), 'utf8')) as T;
}

export function fixtureNames(kind: 'native' | 'torch'): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .filter((n) => (loadFixture<{ kind: string }>(n)).kind === kind)
    .sort();
}

export const f32 = (a: number[]): Float32Array => Float32Array.from(a);

/** The bar for one array: max(4 × torchFloat32Error, 1e-6 × max(1, max|ref|)). */
export function tolerance(reference: ArrayLike<number>, torchErr: number): number {
  let maxRef = 0;
  for (let i = 0; i < reference.length; i++) maxRef = Math.max(maxRef, Math.abs(reference[i]!));
  return Math.max(4 * torchErr, 1e-6 * Math.max(1, maxRef));
}

/**
 * Asserts actual ≈ reference within the fixture bar; returns the error ratio (max error / bar).
 * The failure message names the array and the worst index.
 */
export function expectWithinBar(
  what: string, actual: ArrayLike<number>, reference: ArrayLike<number>, torchErr: number | undefined,
): number {
  expect(torchErr, `${what}: fixture has no torchFloat32Error`).toBeTypeOf('number');
  expect(actual.length, `${what}: length`).toBe(reference.length);
  const bar = tolerance(reference, torchErr!);
  let worst = 0, at = -1;
  for (let i = 0; i < reference.length; i++) {
    const e = Math.abs(actual[i]! - reference[i]!);
    if (!(e <= worst)) { worst = e; at = i; }
  }
  const ratio = worst / bar;
  if (!(ratio <= 1)) {
    expect.fail(`${what}: max |error| ${worst.toExponential(3)} at index ${at} (got ${actual[at]}, want ${reference[at]}) exceeds bar ${bar.toExponential(3)} (ratio ${ratio.toFixed(2)})`);
  }
  return ratio;
}

/** Collects worst ratios per fixture for a printed summary. */
export class RatioReport {
  private rows: { fixture: string; path: string; ratio: number; array: string }[] = [];

  add(fixture: string, path: string, array: string, ratio: number): void {
    this.rows.push({ fixture, path, ratio, array });
  }

  print(title: string): void {
    const byKey = new Map<string, { ratio: number; array: string }>();
    for (const r of this.rows) {
      const k = `${r.fixture} [${r.path}]`;
      const cur = byKey.get(k);
      if (!cur || r.ratio > cur.ratio) byKey.set(k, { ratio: r.ratio, array: r.array });
    }
    const lines = [...byKey.entries()].map(([k, v]) => `  ${k.padEnd(44)} worst error/bar ${v.ratio.toFixed(3)} (${v.array})`);
    const worst = [...byKey.entries()].reduce<[string, { ratio: number; array: string }] | undefined>(
      (w, e) => (w && w[1].ratio >= e[1].ratio ? w : e), undefined);
    if (worst) lines.push(`  worst overall: ${worst[1].ratio.toFixed(3)} (${worst[0]} ${worst[1].array})`);
    console.log(`${title}\n${lines.join('\n')}`);
  }
}

/** What one run of a fixture produced: outputs and final state, input and initial-state gradients. */
export interface FixtureRun {
  outputs: Float32Array; hN: Float32Array; cN?: Float32Array;
  dInputs: Float32Array; dh0: Float32Array; dc0?: Float32Array;
}

/** Compares one array with its fixture reference within the bar, recording the ratio in the report. */
export type FixtureCheck = (array: string, actual: ArrayLike<number>, ref: number[], torchErr: number | undefined) => void;

/**
 * Checks a run's outputs, final state (c for LSTM) and gradients with respect to the inputs and the
 * initial state against fixture fx, each within the bar, recording the ratios under (fx.name, path).
 * Returns the check, for the parameter gradients, whose keys differ between fixture kinds.
 */
export function checkFixtureRun(
  report: RatioReport, fx: NativeFixture | TorchFixture, path: string, r: FixtureRun,
): FixtureCheck {
  const e = fx.torchFloat32Error, ex = fx.expected, g = fx.gradients;
  const check: FixtureCheck = (array, actual, ref, err) =>
    report.add(fx.name, path, array, expectWithinBar(`${fx.name}/${path}/${array}`, actual, ref, err));
  check('outputs', r.outputs, ex.outputs, e.outputs);
  check('hN', r.hN, ex.hN, e.hN);
  check('dInputs', r.dInputs, g.inputs!, e.d_inputs);
  check('dh0', r.dh0, g.h0!, e.d_h0);
  if (fx.cell === 'lstm') {
    check('cN', r.cN!, ex.cN!, e.cN);
    check('dc0', r.dc0!, g.c0!, e.d_c0);
  }
  return check;
}
