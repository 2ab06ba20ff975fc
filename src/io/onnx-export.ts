/**
 * exportONNX: an LSTM/GRU stack or cell (and an optional Linear head) as an ONNX model, opset 14,
 * IR version 7, for ONNX Runtime and anything else that reads ONNX.
 *
 * The graph (L = numLayers, D = 2 when bidirectional else 1, H = hiddenSize; T and B symbolic):
 *
 *   input [T, B, I] ─► LSTM/GRU node of layer 0 ─► Y [T, D, B, H] ─► Transpose(0, 2, 1, 3) ─►
 *   Reshape [T, B, D·H] ─► layer 1 … ─► output [T, B, D·H]  (─► MatMul Wᵀ + Add b with a head)
 *   each layer's Y_h, Y_c [D, B, H] ─► Concat on axis 0 ─► h_n, c_n [L·D, B, H]
 *
 * A batchFirst stack's `input` [B, T, I] and `output` [B, T, ·] are transposed (perm 1, 0, 2) to
 * and from the time-major layout above.
 * `h0`/`c0` [L·D, B, H] are sliced per layer (rows l·D … l·D + D − 1); `lengths` int32 [B] is
 * every node's sequence_lens. Weights are converted as onnx/gates.ts says (gate blocks reordered;
 * GRU z rows are PyTorch's, i.e. this library's negated), biases as B = [Wb, Rb].
 */
import { LSTMCell } from '../cells/lstm.js';
import { GRUCell } from '../cells/gru.js';
import type { RecurrentCell } from '../cells/cell.js';
import type { CellState } from '../cells/state.js';
import { GRU, LSTM } from '../modules/rnn.js';
import { Linear } from '../nn/linear.js';
import { checkOptionalBoolean, describe, snapshot } from '../core/validate.js';
import { ATTR, DTYPE, encodeModel, type Node, type TensorOut, type ValueInfo } from '../onnx/model.js';
import { reorderGates, swapPeephole } from '../onnx/gates.js';
import { ONNXError } from '../onnx/protobuf.js';
import { cellToPyTorch } from '../cells/pytorch.js';

/** The opset exportONNX writes (ONNX's LSTM/GRU are unchanged since opset 14) and its IR version. */
export const ONNX_OPSET = 14;
const IR_VERSION = 7;

/** Options of `exportONNX`. */
export interface ExportONNXOptions {
  /** Graph inputs `h0` (and `c0` for LSTM), [L·D, B, H] ([B, H] for a cell); default false (zero state). */
  initialState?: boolean;
  /** Graph input `lengths`, int32 [B], each entry's steps (ONNX's sequence_lens); stacks only. Default false. */
  lengths?: boolean;
  /** A Linear layer applied to every step's output: `output` becomes [T, B, outFeatures]. */
  head?: Linear;
  /** The graph's name (default 'recurrent-cells'). */
  graphName?: string;
}

type AnyCell = RecurrentCell<CellState>;

/** What the graph builder needs: the cells in stack order and the stack's shape. */
interface Plan {
  cells: readonly AnyCell[];
  numLayers: number;
  numDirections: number;
  inputSize: number;
  hiddenSize: number;
  isLSTM: boolean;
  /** A cell exported as one step: input [B, I], states [B, H]. */
  oneStep: boolean;
  /** Sequences [B, T, F] at the graph's input and output (transposed to ONNX's time-major inside). */
  batchFirst: boolean;
}

function planOf(module: unknown): Plan {
  if (module instanceof LSTM || module instanceof GRU) {
    const projSize = module instanceof LSTM ? module.projSize : 0;
    if (projSize > 0) {
      throw new ONNXError(`exportONNX: projSize ${projSize} has no ONNX LSTM equivalent (ONNX's LSTM has no projection); export a model without projSize`);
    }
    return {
      batchFirst: module.batchFirst,
      cells: module.cells as readonly AnyCell[], numLayers: module.numLayers, numDirections: module.numDirections,
      inputSize: module.inputSize, hiddenSize: module.hiddenSize, isLSTM: module instanceof LSTM, oneStep: false,
    };
  }
  if (module instanceof LSTMCell || module instanceof GRUCell) {
    return {
      batchFirst: false,
      cells: [module as AnyCell], numLayers: 1, numDirections: 1, inputSize: module.inputSize, hiddenSize: module.hiddenSize,
      isLSTM: module instanceof LSTMCell, oneStep: true,
    };
  }
  throw new TypeError(`module: expected an LSTM, GRU, LSTMCell or GRUCell, got ${describe(module)}`);
}

/** Collects initializers and nodes with unique names. */
class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: TensorOut[] = [];
  private count = 0;

  init(name: string, dims: number[], data: Float32Array | Int32Array | number[]): string {
    const dataType = data instanceof Float32Array ? DTYPE.FLOAT : data instanceof Int32Array ? DTYPE.INT32 : DTYPE.INT64;
    this.initializers.push({ name, dims, dataType, data });
    return name;
  }

  /** Adds a node; returns its output names (given, or `${opType}_${k}_out${j}`). */
  node(opType: string, inputs: string[], outputs: number | string[], attributes: Node['attributes'] = []): string[] {
    const k = this.count++;
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, (_, j) => `${opType}_${k}_out${j}`) : outputs;
    this.nodes.push({ name: `${opType}_${k}`, opType, domain: '', inputs, outputs: outs, attributes });
    return outs;
  }
}

const intAttr = (name: string, i: number): Node['attributes'][number] => ({ name, type: ATTR.INT, i });

/**
 * One layer's W [D, G·H, I], R [D, G·H, H], B [D, 2·G·H] ('' without biases) and (peephole LSTM) P [D, 3H] in ONNX's
 * gate order, from the layer's cells (PyTorch convention via stateDict()).
 */
function layerWeights(b: GraphBuilder, cells: readonly AnyCell[], l: number, isLSTM: boolean): string[] {
  const G = isLSTM ? 4 : 3, H = cells[0]!.hiddenSize, I = cells[0]!.inputSize, GH = G * H, D = cells.length;
  const W = new Float32Array(D * GH * I), R = new Float32Array(D * GH * H), B = new Float32Array(D * 2 * GH);
  let P: Float32Array | null = null;
  cells.forEach((cell, d) => {
    // PyTorch's convention (GRU z rows negated) under untagged keys, whichever GRU form.
    const sd = cellToPyTorch({ ...cell.pytorchLayout(), keyTag: '' }, cell.params, '');
    W.set(reorderGates(sd.weight_ih!.data, G as 3 | 4, true), d * GH * I);
    R.set(reorderGates(sd.weight_hh!.data, G as 3 | 4, true), d * GH * H);
    if (cell.bias) {
      B.set(reorderGates(sd.bias_ih!.data, G as 3 | 4, true), d * 2 * GH);
      B.set(reorderGates(sd.bias_hh!.data, G as 3 | 4, true), d * 2 * GH + GH);
    }
    const peep = (cell.params as { weightPeephole?: Float32Array }).weightPeephole;
    if (peep !== undefined) {
      P ??= new Float32Array(D * 3 * H);
      P.set(swapPeephole(peep), d * 3 * H);
    }
  });
  // No bias: B is left out (ONNX's default B is zero), so a reader sees a bias-free layer.
  const names = [b.init(`W_l${l}`, [D, GH, I], W), b.init(`R_l${l}`, [D, GH, H], R), cells[0]!.bias ? b.init(`B_l${l}`, [D, 2 * GH], B) : ''];
  if (P !== null) names.push(b.init(`P_l${l}`, [D, 3 * H], P));
  return names;
}

/**
 * An ONNX model (opset 14, IR version 7) computing what `module` computes, as the bytes of a
 * .onnx file. `module`: an LSTM or GRU stack (any numLayers, bidirectional, GRU resetAfter either
 * way, peephole LSTM), or an LSTMCell/GRUCell exported as one step.
 *
 * Graph inputs: `input` float [T, B, I] ([B, T, I] for a batchFirst stack; a cell: [B, I]); with `initialState: true`, `h0` and (LSTM)
 * `c0` [L·D, B, H] (a cell: [B, H]); with `lengths: true`, `lengths` int32 [B]. T and B are symbolic.
 * Graph outputs: `output` [T, B, D·H] ([B, T, D·H] batchFirst; a cell: [B, H]; with a head, outFeatures in place of D·H),
 * `h_n` and (LSTM) `c_n` [L·D, B, H] (a cell: [B, H]). Past an entry's length, `output` is zero
 * (the head's bias with a head), as in `run`.
 *
 * A stack's dropout is not exported: the graph computes the stack in eval() mode, as inference does.
 *
 * Throws ONNXError for what ONNX's LSTM/GRU cannot express (projSize) and TypeError/RangeError for
 * bad arguments (a head whose inFeatures is not D·H, lengths on a cell).
 */
export function exportONNX(module: LSTM | GRU | LSTMCell | GRUCell, options: ExportONNXOptions = {}): Uint8Array {
  const plan = planOf(module);
  // Read once, own keys only.
  const o = snapshot('exportONNX options', options, ['initialState', 'lengths', 'head', 'graphName']);
  const initialState = checkOptionalBoolean('initialState', o.initialState, false);
  const lengths = checkOptionalBoolean('lengths', o.lengths, false);
  const head = o.head as Linear | undefined;
  const L = plan.numLayers, D = plan.numDirections, H = plan.hiddenSize, I = plan.inputSize;
  if (head !== undefined) {
    if (!(head instanceof Linear)) throw new TypeError(`head: expected a Linear, got ${describe(head)}`);
    if (head.inFeatures !== D * H) throw new RangeError(`head: expected inFeatures = ${D * H} (the outputs' features), got ${head.inFeatures}`);
  }
  if (lengths && plan.oneStep) throw new TypeError('lengths: a cell is exported as one step and takes no lengths; export a stack');
  const graphName = o.graphName ?? 'recurrent-cells';
  if (typeof graphName !== 'string') throw new TypeError(`graphName: expected a string, got ${describe(graphName)}`);

  const b = new GraphBuilder();
  const inputs: ValueInfo[] = [];
  const stateDims = plan.oneStep ? ['B', H] : [L * D, 'B', H];
  const seq = (F: number): (number | string)[] => (plan.oneStep ? ['B', F] : plan.batchFirst ? ['B', 'T', F] : ['T', 'B', F]);
  const swapTB = { name: 'perm', type: ATTR.INTS, ints: [1, 0, 2] };
  inputs.push({ name: 'input', elemType: DTYPE.FLOAT, dims: seq(I) });
  if (initialState) {
    inputs.push({ name: 'h0', elemType: DTYPE.FLOAT, dims: stateDims });
    if (plan.isLSTM) inputs.push({ name: 'c0', elemType: DTYPE.FLOAT, dims: stateDims });
  }
  if (lengths) inputs.push({ name: 'lengths', elemType: DTYPE.INT32, dims: ['B'] });

  const axis0 = plan.oneStep ? b.init('axis0', [1], [0]) : '';
  let x = plan.oneStep ? b.node('Unsqueeze', ['input', axis0], 1)[0]!
    : plan.batchFirst ? b.node('Transpose', ['input'], 1, [swapTB])[0]! : 'input';   // [B, T, I] → [T, B, I]
  const lastH: string[] = [], lastC: string[] = [];
  const sliceState = (name: string, l: number): string => {
    if (plan.oneStep) return b.node('Unsqueeze', [name, axis0], 1)[0]!;
    if (L === 1) return name;
    const starts = b.init(`${name}_start_l${l}`, [1], [l * D]), ends = b.init(`${name}_end_l${l}`, [1], [(l + 1) * D]);
    return b.node('Slice', [name, starts, ends, b.init(`${name}_axes_l${l}`, [1], [0])], 1)[0]!;
  };
  const reshape = b.init('merge_directions', [3], [0, 0, -1]);
  for (let l = 0; l < L; l++) {
    const cells = plan.cells.slice(l * D, (l + 1) * D);
    const [W, R, B, P] = layerWeights(b, cells, l, plan.isLSTM);
    const nodeInputs = [x, W!, R!, B!, lengths ? 'lengths' : ''];
    if (plan.isLSTM) {
      nodeInputs.push(initialState ? sliceState('h0', l) : '', initialState ? sliceState('c0', l) : '');
      if (P !== undefined) nodeInputs.push(P);
    } else {
      nodeInputs.push(initialState ? sliceState('h0', l) : '');
    }
    while (nodeInputs[nodeInputs.length - 1] === '') nodeInputs.pop();
    const attributes = [
      intAttr('hidden_size', H),
      { name: 'direction', type: ATTR.STRING, s: D === 2 ? 'bidirectional' : 'forward' },
    ];
    if (!plan.isLSTM) attributes.push(intAttr('linear_before_reset', (cells[0] as GRUCell).resetAfter ? 1 : 0));
    const [Y, Yh, Yc] = b.node(plan.isLSTM ? 'LSTM' : 'GRU', nodeInputs, plan.isLSTM ? 3 : 2, attributes);
    lastH.push(Yh!);
    if (plan.isLSTM) lastC.push(Yc!);
    // Y [T, D, B, H] → [T, B, D, H] → [T, B, D·H], the next layer's input.
    x = b.node('Reshape', [b.node('Transpose', [Y!], 1, [{ name: 'perm', type: ATTR.INTS, ints: [0, 2, 1, 3] }])[0]!, reshape], 1)[0]!;
  }
  const finalState = (parts: string[], name: string): void => {
    if (plan.oneStep) b.node('Squeeze', [parts[0]!, axis0], [name]);
    else if (parts.length === 1) b.node('Identity', parts, [name]);
    else b.node('Concat', parts, [name], [intAttr('axis', 0)]);
  };
  let y = plan.oneStep ? b.node('Squeeze', [x, axis0], 1)[0]! : x;
  if (head !== undefined) {
    const wT = new Float32Array(head.inFeatures * head.outFeatures);
    const w = head.params.weight;
    for (let o = 0; o < head.outFeatures; o++) for (let i = 0; i < head.inFeatures; i++) wT[i * head.outFeatures + o] = w[o * head.inFeatures + i]!;
    y = b.node('MatMul', [y, b.init('head_weight_t', [head.inFeatures, head.outFeatures], wT)], 1)[0]!;
    if (head.params.bias) y = b.node('Add', [y, b.init('head_bias', [head.outFeatures], head.params.bias.slice())], 1)[0]!;
  }
  if (plan.batchFirst) b.node('Transpose', [y], ['output'], [swapTB]);   // [T, B, F] → [B, T, F]
  else b.node('Identity', [y], ['output']);
  finalState(lastH, 'h_n');
  if (plan.isLSTM) finalState(lastC, 'c_n');

  const F = head !== undefined ? head.outFeatures : D * H;
  const outputs: ValueInfo[] = [
    { name: 'output', elemType: DTYPE.FLOAT, dims: seq(F) },
    { name: 'h_n', elemType: DTYPE.FLOAT, dims: stateDims },
  ];
  if (plan.isLSTM) outputs.push({ name: 'c_n', elemType: DTYPE.FLOAT, dims: stateDims });
  return encodeModel({
    irVersion: IR_VERSION, opsets: [{ domain: '', version: ONNX_OPSET }], producerName: 'recurrent-cells', producerVersion: '0.2.0',
    graph: { name: graphName, nodes: b.nodes, initializers: b.initializers, inputs, outputs },
  });
}
