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
import { formatShape, readTensorDict, readTensorInput, type TensorInput } from '../core/tensor-input.js';

/** The four parameter names and their PyTorch stems. */
const NAMES = [
  ['weightIh', 'weight_ih'], ['weightHh', 'weight_hh'], ['biasIh', 'bias_ih'], ['biasHh', 'bias_hh'], ['weightPeephole', 'weight_peephole'],
] as const;

/** What a cell's PyTorch mapping needs to know. */
export interface CellLayout {
  inputSize: number;
  hiddenSize: number;
  gateCount: number;
  bias: boolean;
  /** A peephole LSTM: one more key, weight_peephole [3, H] (rows i, f, o; not a PyTorch key). */
  peephole?: boolean;
  /** Rows to negate on the way to/from PyTorch ([start, end) of the gate dimension), or null. */
  negatedRows: readonly [number, number] | null;
}

/** Expected PyTorch shapes under `prefix + stem + suffix`, e.g. weight_ih_l0_reverse: [G·H, I]. */
export function cellShapes(layout: CellLayout, suffix: string): Record<string, number[]> {
  const GH = layout.gateCount * layout.hiddenSize;
  const out: Record<string, number[]> = {
    [`weight_ih${suffix}`]: [GH, layout.inputSize],
    [`weight_hh${suffix}`]: [GH, layout.hiddenSize],
  };
  if (layout.bias) {
    out[`bias_ih${suffix}`] = [GH];
    out[`bias_hh${suffix}`] = [GH];
  }
  if (layout.peephole === true) out[`weight_peephole${suffix}`] = [3, layout.hiddenSize];
  return out;
}

/** PyTorch tensors (new arrays) of `source` (a cell's params or grads), keys with `suffix`. */
export function cellToPyTorch(layout: CellLayout, source: CellParams, suffix: string): Record<string, Tensor> {
  const shapes = cellShapes(layout, suffix);
  const out: Record<string, Tensor> = {};
  for (const [ours, stem] of NAMES) {
    const key = `${stem}${suffix}`;
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
    const key = `${stem}${suffix}`;
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
 * Loads a state dict of several cells, keys as cellsToPyTorch writes them: every key and shape of
 * every cell is checked before any cell changes (all or nothing).
 */
export function cellsFromPyTorch(cells: readonly MappedCell[], suffixes: readonly string[], stateDict: Record<string, TensorInput>): void {
  const shapes: Record<string, number[]> = {};
  cells.forEach((c, k) => Object.assign(shapes, cellShapes(c.pytorchLayout(), suffixes[k]!)));
  const data = readTensorDict('stateDict', stateDict, shapes);
  cells.forEach((c, k) => cellFromPyTorch(c.pytorchLayout(), c.params, data, suffixes[k]!));
}

function negateRows(layout: CellLayout, data: Float32Array, shape: number[]): void {
  if (layout.negatedRows === null) return;
  const cols = shape.length > 1 ? shape[1]! : 1;
  const [r0, r1] = layout.negatedRows;
  for (let i = r0 * cols; i < r1 * cols; i++) data[i] = -data[i]!;
}

/**
 * Input and hidden size of a PyTorch cell from its weight_ih/weight_hh entries (`suffix` as in
 * `_l0`), and whether it has biases: from the shapes when given, else from the element counts
 * (weight_hh holds G·H·H values). Throws naming the key when they do not fit a G-gate cell.
 */
export function inferCellSizes(
  what: string, dict: Record<string, unknown>, gateCount: number, suffix: string,
): { inputSize: number; hiddenSize: number; bias: boolean } {
  const ih = readTensorInput(`${what}["weight_ih${suffix}"]`, required(what, dict, `weight_ih${suffix}`));
  const hh = readTensorInput(`${what}["weight_hh${suffix}"]`, required(what, dict, `weight_hh${suffix}`));
  let H: number;
  if (hh.shape !== null) {
    if (hh.shape.length !== 2 || hh.shape[0] !== gateCount * hh.shape[1]! || hh.shape[1] === 0) {
      throw new RangeError(`${what}["weight_hh${suffix}"]: expected shape [${gateCount}*H, H], got ${formatShape(hh.shape)}`);
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
  const bias = dict[`bias_ih${suffix}`] !== undefined || dict[`bias_hh${suffix}`] !== undefined;
  return { inputSize: I, hiddenSize: H, bias };
}

function required(what: string, dict: Record<string, unknown>, key: string): unknown {
  if (dict[key] === undefined) throw new RangeError(`${what}: missing key "${key}"`);
  return dict[key];
}
