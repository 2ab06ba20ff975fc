/**
 * PyTorch's view of a cell's parameters: key names, shapes, and the GRU z-gate convention.
 *
 * PyTorch's GRU computes h' = (1 − z')⊙n + z'⊙h; this library's z weights the new candidate,
 * h' = (1 − z)⊙h + z⊙n. Since σ(−a) = 1 − σ(a), z = 1 − z' exactly when the z-gate rows (rows
 * [H, 2H)) of weight_ih, weight_hh, bias_ih and bias_hh are negated. Import and export negate
 * those rows; gradients negate the same way (∂L/∂(−w) = −∂L/∂w). Negation is exact.
 */
import type { CellParams } from './params.js';
import type { Tensor } from '../core/tensor.js';
import {
  formatShape, prefixedName, readTensorDict, readTensorInput, selectPrefix, type TensorInput,
} from '../core/tensor-input.js';
import { ownValue } from '../core/validate.js';

/** The four parameter names and their PyTorch stems. */
const NAMES = [
  ['weightIh', 'weight_ih'], ['weightHh', 'weight_hh'], ['biasIh', 'bias_ih'], ['biasHh', 'bias_hh'], ['weightHr', 'weight_hr'],
  ['weightPeephole', 'weight_peephole'],
] as const;

/** What a cell's PyTorch mapping needs to know. */
export interface CellLayout {
  inputSize: number;
  hiddenSize: number;
  gateCount: number;
  bias: boolean;
  /** The LSTM's projection size P (0: none): weight_hh is [G·H, P] and weight_hr [P, H]. */
  projSize: number;
  /** A peephole LSTM: one more key, weight_peephole [3, H] (rows i, f, o; not a PyTorch key). */
  peephole?: boolean;
  /** Rows to negate on the way to/from PyTorch ([start, end) of the gate dimension), or null. */
  negatedRows: readonly [number, number] | null;
  /**
   * Appended to every key: '' for the cells PyTorch has, RESET_BEFORE_TAG for a GRU with
   * resetAfter: false, whose equations no PyTorch module computes.
   */
  keyTag: string;
}

/**
/**
 * The key tag of a GRU with `resetAfter: false` (`weight_ih_l0_reset_before`): PyTorch's nn.GRU
 * and nn.GRUCell apply the reset after the recurrent product, so parameters of the other form
 * must never sit under keys they load (a strict load fails on every key; a non-strict one loads
 * nothing and lists them all as missing, instead of a model that is silently off).
 */
export const RESET_BEFORE_TAG = '_reset_before';

/**
 * Expected shapes under `stem + suffix + keyTag`, e.g. weight_ih_l0_reverse: [G·H, I], in
 * PyTorch's key order (weight_ih, weight_hh, bias_ih, bias_hh, weight_hr).
 */
export function cellShapes(layout: CellLayout, suffix: string): Record<string, number[]> {
  const GH = layout.gateCount * layout.hiddenSize, P = layout.projSize > 0 ? layout.projSize : layout.hiddenSize;
  const tag = layout.keyTag;
  const out: Record<string, number[]> = {
    [`weight_ih${suffix}${tag}`]: [GH, layout.inputSize],
    [`weight_hh${suffix}${tag}`]: [GH, P],
  };
  if (layout.bias) {
    out[`bias_ih${suffix}${tag}`] = [GH];
    out[`bias_hh${suffix}${tag}`] = [GH];
  }
  if (layout.projSize > 0) out[`weight_hr${suffix}${tag}`] = [P, layout.hiddenSize];
  if (layout.peephole === true) out[`weight_peephole${suffix}${tag}`] = [3, layout.hiddenSize];
  return out;
}

/** PyTorch tensors (new arrays) of `source` (a cell's params or grads), keys with `suffix`. */
export function cellToPyTorch(layout: CellLayout, source: CellParams, suffix: string): Record<string, Tensor> {
  const shapes = cellShapes(layout, suffix);
  const out: Record<string, Tensor> = {};
  for (const [ours, stem] of NAMES) {
    const key = `${stem}${suffix}${layout.keyTag}`;
    const v = source[ours];
    if (v === undefined || shapes[key] === undefined) continue;
    const data = v.slice();
    negateRows(layout, data, shapes[key]!);
    out[key] = { dtype: 'float32', shape: shapes[key]!, data };
  }
  return out;
}

/**
 * Copies checked PyTorch arrays (from readTensorDict, keyed with `suffix`) into `target` (a cell's
 * params), negating the z rows where the layout says so.
 */
export function cellFromPyTorch(
  layout: CellLayout, target: CellParams, data: Record<string, Float32Array>, suffix: string,
): void {
  const shapes = cellShapes(layout, suffix);
  for (const [ours, stem] of NAMES) {
    const key = `${stem}${suffix}${layout.keyTag}`;
    const dst = target[ours], src = data[key];
    if (dst === undefined || src === undefined) continue;
    dst.set(src);
    negateRows(layout, dst, shapes[key]!);
  }
}

/** What the multi-cell helpers need of a cell. */
interface MappedCell {
  pytorchLayout(): CellLayout;
  readonly params: CellParams;
  readonly grads: CellParams;
}

/**
 * One PyTorch state dict of several cells (a layer's or a stack's), cell k's keys ending in
 * suffixes[k] (`_l0`, `_l0_reverse`, …): their params, or their grads. New arrays.
 */
export function cellsToPyTorch(
  cells: readonly MappedCell[], suffixes: readonly string[], which: 'params' | 'grads',
): Record<string, Tensor> {
  return Object.assign({}, ...cells.map((c, k) => cellToPyTorch(c.pytorchLayout(), c[which], suffixes[k]!)));
}

/**
 * Loads a state dict of several cells, keys as cellsToPyTorch writes them after `prefix` (keys
 * without it are ignored): every key and shape of every cell is checked before any cell changes
 * (all or nothing).
 */
export function cellsFromPyTorch(
  cells: readonly MappedCell[], suffixes: readonly string[], stateDict: Record<string, TensorInput>, prefix = '',
): void {
  const shapes: Record<string, number[]> = {};
  cells.forEach((c, k) => Object.assign(shapes, cellShapes(c.pytorchLayout(), suffixes[k]!)));
  const data = readTensorDict(prefixedName('stateDict', prefix), selectPrefix('stateDict', stateDict, prefix), shapes);
  cells.forEach((c, k) => cellFromPyTorch(c.pytorchLayout(), c.params, data, suffixes[k]!));
}

function negateRows(layout: CellLayout, data: Float32Array, shape: number[]): void {
  if (layout.negatedRows === null) return;
  const cols = shape.length > 1 ? shape[1]! : 1;
  const [r0, r1] = layout.negatedRows;
  for (let i = r0 * cols; i < r1 * cols; i++) data[i] = -data[i]!;
}

/**
 * Input, hidden and projection size of a PyTorch cell from its weight_ih/weight_hh (and
 * weight_hr) entries (`suffix` as in `_l0`), and whether it has biases: from the shapes when
 * given, else from the element counts (weight_hh holds G·H·H values). A weight_hr [P, H] (an
 * nn.LSTM with proj_size) must come with its shape, and makes weight_hh [G·H, P]. Throws naming
 * the key when they do not fit a G-gate cell.
 */
export function inferCellSizes(
  what: string, dict: Record<string, unknown>, gateCount: number, suffix: string,
): { inputSize: number; hiddenSize: number; bias: boolean; projSize: number } {
  const ih = readTensorInput(`${what}["weight_ih${suffix}"]`, required(what, dict, `weight_ih${suffix}`));
  const hh = readTensorInput(`${what}["weight_hh${suffix}"]`, required(what, dict, `weight_hh${suffix}`));
  const hrKey = `weight_hr${suffix}`, hrValue = ownValue(dict, hrKey);   // own keys only, read once
  let H: number, P = 0;
  if (hrValue !== undefined) {
    if (gateCount !== 4) {
      throw new RangeError(`${what}["${hrKey}"]: unexpected key: only an LSTM has a projection (proj_size), a GRU has none`);
    }
    const hr = readTensorInput(`${what}["${hrKey}"]`, hrValue);
    if (hr.shape === null || hr.shape.length !== 2 || hr.shape[0] === 0 || hr.shape[1]! <= hr.shape[0]!) {
      throw new RangeError(`${what}["${hrKey}"]: expected a tensor of shape [projSize, hiddenSize] with projSize < hiddenSize, got ${
        hr.shape === null ? `${hr.data.length} elements without a shape` : formatShape(hr.shape)}`);
    }
    P = hr.shape[0]!;
    H = hr.shape[1]!;
    if (hh.shape === null ? hh.data.length !== gateCount * H * P
      : hh.shape.length !== 2 || hh.shape[0] !== gateCount * H || hh.shape[1] !== P) {
      throw new RangeError(`${what}["weight_hh${suffix}"]: expected shape [${gateCount * H}, ${P}] (4*hiddenSize, projSize), got ${
        hh.shape === null ? `${hh.data.length} elements` : formatShape(hh.shape)}`);
    }
  } else if (hh.shape !== null) {
    if (hh.shape.length !== 2 || hh.shape[0] !== gateCount * hh.shape[1]! || hh.shape[1] === 0) {
      throw new RangeError(`${what}["weight_hh${suffix}"]: expected shape [${gateCount}*H, H]${
        gateCount === 4 ? ` (or [${gateCount}*H, projSize] with a "${hrKey}")` : ''}, got ${formatShape(hh.shape)}`);
    }
    H = hh.shape[1]!;
  } else {
    H = Math.round(Math.sqrt(hh.data.length / gateCount));
    if (H === 0 || gateCount * H * H !== hh.data.length) {
      throw new RangeError(`${what}["weight_hh${suffix}"]: expected ${gateCount}*H*H elements, got ${hh.data.length}`);
    }
  }
  const GH = gateCount * H;
  let I: number;
  if (ih.shape !== null) {
    if (ih.shape.length !== 2 || ih.shape[0] !== GH || ih.shape[1] === 0) {
      throw new RangeError(`${what}["weight_ih${suffix}"]: expected shape [${GH}, inputSize], got ${formatShape(ih.shape)}`);
    }
    I = ih.shape[1]!;
  } else {
    I = ih.data.length / GH;
    if (!Number.isInteger(I) || I === 0) {
      throw new RangeError(`${what}["weight_ih${suffix}"]: expected a non-zero multiple of ${GH} elements, got ${ih.data.length}`);
    }
  }
  const bias = ownValue(dict, `bias_ih${suffix}`) !== undefined || ownValue(dict, `bias_hh${suffix}`) !== undefined;
  return { inputSize: I, hiddenSize: H, bias, projSize: P };
}

function required(what: string, dict: Record<string, unknown>, key: string): unknown {
  const v = ownValue(dict, key);   // own keys only, read once
  if (v === undefined) throw new RangeError(`${what}: missing key "${key}"${resetBeforeHint(dict, key)}`);
  return v;
}

/**
 * @internal The hint for a missing PyTorch key whose `_reset_before` twin is there: the dict is
 * this library's default GRU (reset before the product), which no PyTorch module computes.
 */
export function resetBeforeHint(dict: Record<string, unknown>, key: string): string {
  if (ownValue(dict, key + RESET_BEFORE_TAG) === undefined) return '';
  return ` (the dict has "${key}${RESET_BEFORE_TAG}": the state dict of a GRU with resetAfter: false, ` +
    'which nn.GRU cannot load; load it with loadStateDict on such a GRU, or use buildModel)';
}
