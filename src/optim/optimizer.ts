/**
 * What SGD and Adam share: the Optimizer base class (parameter list, learning rate, step count,
 * zeroGrad, state dict), checking hyperparameters, and the optimizer state dict, a step count
 * plus flat per-parameter buffers.
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
import { checkFloat32, checkObject, describe, findOverlap, isArray, snapshot, typedLength } from '../core/validate.js';

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
  if (!isArray(params) || params.length === 0) {
    throw new TypeError(`params: expected a non-empty array of {name, value, grad}, got ${describe(params)}`);
  }
  const seen = new Map<Float32Array, number>();
  const out: Parameter[] = [];
  const n = params.length;
  for (let k = 0; k < n; k++) {
    // Read once: the arrays checked are the arrays kept.
    const o = snapshot(`params[${k}]`, params[k], ['name', 'value', 'grad']);
    const value = checkFloat32(`params[${k}].value`, o.value);
    const grad = checkFloat32(`params[${k}].grad`, o.grad);
    if (typedLength(grad) !== typedLength(value)) {
      throw new RangeError(`params[${k}].grad: expected length of value = ${typedLength(value)}, got ${typedLength(grad)}`);
    }
    const first = seen.get(value);
    if (first !== undefined) {
      throw new RangeError(`params[${k}]: expected each parameter once, got the value array of params[${first}] again`);
    }
    seen.set(value, k);
    out.push({ name: o.name as string, value, grad });
  }
  // Values and gradients are updated in place: no two of them may share memory.
  const clash = findOverlap(out.flatMap((p) => [p.value, p.grad]));
  if (clash !== null) {
    const name = (i: number): string => `params[${i >> 1}].${i & 1 ? 'grad' : 'value'}`;
    throw new RangeError(`${name(clash[1])}: expected memory apart from every other value and gradient, got an overlap with ${name(clash[0])}`);
  }
  return out;
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
  // Read once: the values checked are the values used.
  const s = snapshot('state', state, ['step', 'tensors']);
  const step = s.step;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
    throw new RangeError(`state.step: expected a non-negative integer, got ${describe(step)}`);
  }
  if (step > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`state.step: expected a non-negative integer at most ${Number.MAX_SAFE_INTEGER} (a safe integer), got ${step}`);
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

/**
 * Base of SGD and Adam: the parameters (their own arrays), the learning rate, the step count,
 * zeroGrad, and the state dict of the subclass's per-parameter buffers.
 */
export abstract class Optimizer {
  /** The parameters updated, each once (their arrays, not copies). */
  protected readonly params: Parameter[];
  protected lrValue: number;
  protected steps = 0;

  /**
   * Checks params, the options object and its `lr` (default `lrDefault`; undefined: required).
   * @param who the class name, for messages (`SGD options: expected an object, got …`)
   */
  protected constructor(params: Parameter[], options: { lr?: number } | undefined, who: string, lrDefault: number | undefined) {
    this.params = checkParameters(params);
    checkObject(`${who} options`, options);
    this.lrValue = checkHyper('lr', options!.lr, lrDefault, (x) => x >= 0, 'a finite number >= 0');
  }

  /** Learning rate; may be changed between steps (schedules), must stay a finite number ≥ 0. */
  get lr(): number {
    return this.lrValue;
  }

  set lr(v: number) {
    this.lrValue = checkHyper('lr', v, undefined, (x) => x >= 0, 'a finite number >= 0');
  }

  /** step() calls so far. */
  get stepCount(): number {
    return this.steps;
  }

  /** Updates every parameter in place from its gradient; allocates nothing. */
  abstract step(): void;

  /** Throws, before anything changes, when one more step would leave the safe integers. */
  protected checkStepCount(): void {
    if (this.steps >= Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`step: expected a step count below ${Number.MAX_SAFE_INTEGER}, got ${this.steps} steps taken`);
    }
  }

  /** Sets the gradient of every parameter to zero. */
  zeroGrad(): void {
    for (const p of this.params) p.grad.fill(0);
  }

  /** A copy of the optimizer state: the step count and the buffers (see OptimizerState). */
  stateDict(): OptimizerState {
    return saveOptimizerState(this.steps, this.buffers());
  }

  /**
   * Restores a state from stateDict() (or from JSON of it). The keys must be exactly those of
   * this optimizer's stateDict(); everything is checked before anything changes.
   */
  loadStateDict(state: OptimizerStateInput): void {
    this.steps = loadOptimizerState(state, this.buffers());
  }

  /** The per-parameter buffers by PyTorch's name (momentum_buffer, exp_avg, exp_avg_sq). */
  protected abstract buffers(): Record<string, Float32Array[]>;
}
