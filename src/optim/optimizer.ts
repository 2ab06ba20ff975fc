/**
 * What SGD and Adam share: checking the parameter list and hyperparameters, and the optimizer
 * state dict, a step count plus flat per-parameter buffers.
 *
 * The state dict is JSON-friendly and maps one-to-one onto a safetensors file:
 *   { step: 3, tensors: { "0.exp_avg": {dtype, shape: [12], data}, "0.exp_avg_sq": …, "1.exp_avg": … } }
 * Buffer keys are `<parameter index>.<buffer name>` with PyTorch's buffer names (momentum_buffer,
 * exp_avg, exp_avg_sq) and indices in the order the parameters were given, as PyTorch's
 * optimizer state_dict numbers them. Tensors go into a safetensors file as they are and `step`
 * into its metadata; for JSON, write `data` with Array.from (loadStateDict accepts number[]).
 * Hyperparameters (lr, betas, …) are not part of it: build the optimizer with the same options.
 */
import type { Parameter, Tensor } from '../core/tensor.js';
import { makeTensor, readTensorDict, type TensorInput } from '../core/tensor-input.js';
import { checkFloat32, checkObject, describe } from '../core/validate.js';

/** An optimizer's state: see the module comment. */
export interface OptimizerState {
  /** step() calls so far. */
  step: number;
  /** Buffers keyed `<parameter index>.<buffer name>`, each of shape [parameter length]; copies. */
  tensors: Record<string, Tensor>;
}

/** What loadStateDict accepts: an OptimizerState whose tensors may be any TensorInput. */
export interface OptimizerStateInput {
  step: number;
  tensors: Record<string, TensorInput>;
}

/** Throws unless params is a non-empty array of Parameters with matching lengths, each value once. */
export function checkParameters(params: unknown): Parameter[] {
  if (!Array.isArray(params) || params.length === 0) {
    throw new TypeError(`params: expected a non-empty array of {name, value, grad}, got ${describe(params)}`);
  }
  const seen = new Map<Float32Array, number>();
  params.forEach((p: unknown, k) => {
    const o = checkObject(`params[${k}]`, p);
    const value = checkFloat32(`params[${k}].value`, o.value);
    const grad = checkFloat32(`params[${k}].grad`, o.grad);
    if (grad.length !== value.length) {
      throw new RangeError(`params[${k}].grad: expected length of value = ${value.length}, got ${grad.length}`);
    }
    const first = seen.get(value);
    if (first !== undefined) {
      throw new RangeError(`params[${k}]: expected each parameter once, got the value array of params[${first}] again`);
    }
    seen.set(value, k);
  });
  return (params as Parameter[]).map((p) => ({ name: p.name, value: p.value, grad: p.grad }));
}

/**
 * Returns v (or dflt when undefined) after checking it is a finite number with `ok(v)`;
 * `expected` words the condition, as in `a finite number >= 0`.
 */
export function checkHyper(name: string, v: unknown, dflt: number | undefined, ok: (x: number) => boolean, expected: string): number {
  const x = v === undefined ? dflt : v;
  if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x)) {
    throw new RangeError(`${name}: expected ${expected}, got ${describe(v)}`);
  }
  return x;
}

/** The state dict of `step` and the named buffers (one array per parameter), copied. */
export function saveOptimizerState(step: number, buffers: Record<string, Float32Array[]>): OptimizerState {
  const tensors: Record<string, Tensor> = {};
  for (const [name, arrays] of Object.entries(buffers)) {
    arrays.forEach((a, i) => { tensors[`${i}.${name}`] = makeTensor([a.length], a.slice()); });
  }
  return { step, tensors };
}

/**
 * Checks `state` against the named buffers (every key present, none extra, each of its buffer's
 * length) and only then copies it in; returns the step count.
 */
export function loadOptimizerState(state: unknown, buffers: Record<string, Float32Array[]>): number {
  const s = checkObject('state', state);
  const step = s.step;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
    throw new RangeError(`state.step: expected a non-negative integer, got ${describe(step)}`);
  }
  const shapes: Record<string, number[]> = {};
  for (const [name, arrays] of Object.entries(buffers)) {
    arrays.forEach((a, i) => { shapes[`${i}.${name}`] = [a.length]; });
  }
  const data = readTensorDict('state.tensors', s.tensors, shapes);
  for (const [name, arrays] of Object.entries(buffers)) {
    arrays.forEach((a, i) => a.set(data[`${i}.${name}`]!));
  }
  return step;
}
