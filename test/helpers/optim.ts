/**
 * The PyTorch optimizer fixture (test/fixtures/torch_optim.json, made by make_optim.py) and the
 * trajectory check the SGD and Adam tests share: same initial parameters, same gradients per
 * step, parameters after every step and the final state compared with torch.optim's.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { Parameter } from '../../src/core/tensor.js';
import type { Optimizer } from '../../src/optim/optimizer.js';

export interface OptimCase {
  name: string;
  optimizer: 'SGD' | 'Adam';
  options: Record<string, number | boolean>;
  trajectory: number[][][];
  state: Record<string, number[]>;
}
export interface OptimFixture { torch: string; steps: number; init: number[][]; grads: number[][][]; cases: OptimCase[] }

export const optimFixture = JSON.parse(
  readFileSync(new URL('../fixtures/torch_optim.json', import.meta.url), 'utf8'),
) as OptimFixture;

/**
 * Runs `make(params)` through the fixture's steps; every parameter after every step within
 * 2e-7 relative of PyTorch's, the final state within `stateTol` relative.
 */
export function checkTrajectory(c: OptimCase, make: (params: Parameter[]) => Optimizer, stateTol: number): void {
  const fx = optimFixture;
  const params: Parameter[] = fx.init.map((v, i) => ({
    name: `p${i}`, value: Float32Array.from(v), grad: new Float32Array(v.length),
  }));
  const opt = make(params);
  for (let t = 0; t < fx.steps; t++) {
    params.forEach((p, i) => p.grad.set(fx.grads[t]![i]!));
    opt.step();
    params.forEach((p, i) => {
      const want = c.trajectory[t]![i]!;
      p.value.forEach((v, j) => expect(Math.abs(v - want[j]!), `step ${t + 1} p${i}[${j}]`).toBeLessThanOrEqual(2e-7 * Math.max(1, Math.abs(want[j]!))));
    });
  }
  const sd = opt.stateDict();
  expect(sd.step).toBe(fx.steps);
  expect(Object.keys(sd.tensors).sort()).toEqual(Object.keys(c.state).sort());
  for (const [k, want] of Object.entries(c.state)) {
    sd.tensors[k]!.data.forEach((v, j) => expect(Math.abs(v - want[j]!), `${k}[${j}]`).toBeLessThanOrEqual(stateTol * Math.max(1, Math.abs(want[j]!))));
  }
}
