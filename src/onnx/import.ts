/**
 * Reading the LSTM or GRU nodes of an ONNX model (a file from torch.onnx.export, from exportONNX,
 * or elsewhere) as a stack: one node per layer, in graph order, each node's W, R, B (and P) taken
 * from the graph's initializers (or Constant nodes, possibly through Identity nodes), converted to PyTorch's keys and gate order
 * (onnx/gates.ts) for a stack's loadStateDict.
 *
 * Refused, each with an ONNXError naming the node: external data, `clip`, `input_forget`,
 * `activation_alpha`/`activation_beta`, activations other than the defaults (Sigmoid, Tanh, Tanh
 * for LSTM; Sigmoid, Tanh for GRU), `layout = 1`, `direction = "reverse"` alone, weights computed by
 * the graph rather than stored, and layers whose sizes or directions do not chain into one stack.
 */
import type { Tensor } from '../core/tensor.js';
import { describe, snapshot } from '../core/validate.js';
import { readMaxBytes } from '../core/limits.js';
import { attribute, decodeModel, elementCount, tensorFloats, type Node, type TensorIn, type TensorOut } from './model.js';
import { reorderGates, swapPeephole } from './gates.js';
import { ONNXError } from './protobuf.js';

/** Options of `LSTM.fromONNX` and `GRU.fromONNX`. */
export interface FromONNXOptions {
  /**
   * Which node to read, by name or by index among the graph's LSTM (GRU) nodes: the model becomes
   * a one-layer stack of that node. Default: every LSTM (GRU) node, in graph order, one layer each.
   */
  node?: string | number;
  /**
   * Most bytes the model's weights may decode to (float32), checked before any is decoded;
   * default: the bound in force (1 GiB, see withMaxBytes).
   */
  maxBytes?: number;
}

/** A stack read from an ONNX model: its constructor options and its PyTorch-keyed state dict. */
export interface ONNXStack {
  /** The byte bound the read used (options.maxBytes or the bound in force), for building the stack. */
  maxBytes: number;
  layout: {
    inputSize: number; hiddenSize: number; numLayers: number; bidirectional: boolean; bias: boolean;
    resetAfter: boolean; peephole: boolean;
  };
  stateDict: Record<string, Tensor>;
}

const DEFAULT_ACTIVATIONS = { LSTM: ['sigmoid', 'tanh', 'tanh'], GRU: ['sigmoid', 'tanh'] } as const;

/** One node's attributes, checked. */
function readAttributes(n: Node, opType: 'LSTM' | 'GRU', where: string): { H: number; D: number; linearBeforeReset: boolean } {
  let H = -1, D = 1, linearBeforeReset = false;
  for (const a of n.attributes) {
    switch (a.name) {
      case 'hidden_size':
        if (a.i === undefined || a.i <= 0) throw new ONNXError(`${where}: expected hidden_size a positive integer, got ${a.i}`);
        H = a.i;
        break;
      case 'direction':
        if (a.s === 'forward') D = 1;
        else if (a.s === 'bidirectional') D = 2;
        else throw new ONNXError(`${where}: expected direction "forward" or "bidirectional", got "${a.s}" (a reverse-only layer has no equivalent here)`);
        break;
      case 'linear_before_reset':
        if (opType !== 'GRU') throw new ONNXError(`${where}: unexpected attribute linear_before_reset on an LSTM`);
        linearBeforeReset = (a.i ?? 0) !== 0;
        break;
      case 'input_forget':
        if ((a.i ?? 0) !== 0) throw new ONNXError(`${where}: input_forget = ${a.i} (coupled input and forget gates) is not supported; expected 0`);
        break;
      case 'layout':
        if ((a.i ?? 0) !== 0) throw new ONNXError(`${where}: layout = ${a.i} (batch-major tensors) is not supported; expected 0`);
        break;
      case 'activations': {
        const want = DEFAULT_ACTIVATIONS[opType];
        const got = (a.strings ?? []).map((s) => s.toLowerCase());
        const ok = got.length > 0 && got.length % want.length === 0 && got.every((s, k) => s === want[k % want.length]);
        if (!ok) throw new ONNXError(`${where}: activations [${(a.strings ?? []).join(', ')}] are not supported; expected the defaults (${want.join(', ')} per direction)`);
        break;
      }
      case 'clip':
        throw new ONNXError(`${where}: clip = ${a.f} (cell clipping) is not supported; expected no clip attribute`);
      case 'activation_alpha': case 'activation_beta':
        throw new ONNXError(`${where}: ${a.name} is not supported (only the default activations, without parameters)`);
      default:
        throw new ONNXError(`${where}: unknown attribute "${a.name}" on ${opType}`);
    }
  }
  if (H < 0) throw new ONNXError(`${where}: expected a hidden_size attribute, got none`);
  return { H, D, linearBeforeReset };
}

/**
 * What a node's inputs are looked up in: the stored values by name, and the bytes the weights
 * decode to so far against maxBytes (checked before each tensor is decoded).
 */
interface Store { consts: Map<string, TensorIn | TensorOut>; used: number; max: number }

/** A node input's stored values, shape checked, counted against the budget before decoding. */
function stored(
  store: Store, n: Node, slot: number, label: string, where: string, dims: number[] | null,
): { data: Float32Array; dims: number[] } | null {
  const name = n.inputs[slot];
  if (name === undefined || name === '') return null;
  const t = store.consts.get(name);
  if (t === undefined) {
    throw new ONNXError(`${where}: input ${label} ("${name}") is not an initializer or Constant; expected weights stored in the file (missing initializer)`);
  }
  const tdims = [...t.dims];
  if (dims !== null && (tdims.length !== dims.length || tdims.some((d, k) => d !== dims[k]))) {
    throw new ONNXError(`${where}: input ${label} ("${name}"): expected shape [${dims.join(', ')}], got [${tdims.join(', ')}]`);
  }
  store.used += 4 * elementCount(tdims, `${where}: input ${label} ("${name}")`);
  if (store.used > store.max) {
    throw new ONNXError(`${where}: input ${label} ("${name}"): expected weights of at most maxBytes = ${store.max} bytes decoded, got ${store.used} so far`);
  }
  return { data: tensorFloats(t, `${where}: input ${label} ("${name}")`), dims: tdims };
}

/**
 * The stack held by the `opType` nodes of an ONNX model (untrusted bytes: decoded with every length
 * checked). Throws ONNXError for a malformed file or anything this library cannot carry.
 */
export function readONNXStack(opType: 'LSTM' | 'GRU', bytes: Uint8Array, options: FromONNXOptions = {}): ONNXStack {
  // Read once, own keys only.
  const o = snapshot(`${opType}.fromONNX options`, options, ['node', 'maxBytes']);
  const sel = o.node;
  const maxBytes = readMaxBytes('options.maxBytes', o.maxBytes);
  if (sel !== undefined && typeof sel !== 'string' && !(typeof sel === 'number' && Number.isInteger(sel) && sel >= 0)) {
    throw new TypeError(`node: expected a node name or a non-negative integer index, got ${describe(sel)}`);
  }
  const model = decodeModel(bytes);
  const g = model.graph;
  const consts = new Map<string, TensorIn | TensorOut>();
  for (const t of g.initializers) consts.set(t.name, t);
  // Constant nodes, and Identity nodes of stored values (some exporters route weights through
  // them); nodes are in topological order, so one pass sees every chain.
  for (const n of g.nodes) {
    const out = n.outputs[0];
    if (out === undefined) continue;
    const v = n.opType === 'Constant' ? attribute(n, 'value')?.t : n.opType === 'Identity' ? consts.get(n.inputs[0] ?? '') : undefined;
    if (v !== undefined) consts.set(out, v);
  }
  const all = g.nodes.filter((n) => n.opType === opType && (n.domain === '' || n.domain === 'ai.onnx'));
  if (all.length === 0) {
    const found = [...new Set(g.nodes.map((n) => n.opType))].slice(0, 12).join(', ');
    throw new ONNXError(`graph: expected at least one ${opType} node, got none (node types: ${found || 'no nodes'})`);
  }
  let nodes = all;
  if (sel !== undefined) {
    const pick = typeof sel === 'number' ? all[sel] : all.find((n) => n.name === sel);
    if (pick === undefined) {
      throw new ONNXError(`node: no ${opType} node ${typeof sel === 'number' ? `at index ${sel}` : `named "${sel}"`}; the graph has ${all.length}: ${all.map((n) => `"${n.name}"`).join(', ')}`);
    }
    nodes = [pick];
  }

  const G = opType === 'LSTM' ? 4 : 3;
  const store: Store = { consts, used: 0, max: maxBytes };
  const stateDict: Record<string, Tensor> = {};
  let first: ReturnType<typeof readAttributes> | null = null;
  let inputSize = 0, bias = false, peephole = false;
  nodes.forEach((n, l) => {
    const where = `${opType} node "${n.name}" (layer ${l})`;
    const at = readAttributes(n, opType, where);
    if (first === null) first = at;
    else if (at.H !== first.H || at.D !== first.D || at.linearBeforeReset !== first.linearBeforeReset) {
      throw new ONNXError(`${where}: expected hidden_size ${first.H}, ${first.D === 2 ? 'bidirectional' : 'forward'}${opType === 'GRU' ? `, linear_before_reset ${first.linearBeforeReset ? 1 : 0}` : ''} like layer 0, got hidden_size ${at.H}, ${at.D === 2 ? 'bidirectional' : 'forward'}${opType === 'GRU' ? `, linear_before_reset ${at.linearBeforeReset ? 1 : 0}` : ''}`);
    }
    const { H, D } = at, GH = G * H;
    const W = stored(store, n, 1, 'W', where, null);
    if (W === null) throw new ONNXError(`${where}: expected input W, got none`);
    if (W.dims.length !== 3 || W.dims[0] !== D || W.dims[1] !== GH || W.dims[2]! <= 0) {
      throw new ONNXError(`${where}: input W: expected shape [${D}, ${GH}, inputSize], got [${W.dims.join(', ')}]`);
    }
    const I = W.dims[2]!;
    if (l === 0) inputSize = I;
    else if (I !== D * H) throw new ONNXError(`${where}: input W: expected inputSize ${D * H} (the previous layer's outputs), got ${I}`);
    const R = stored(store, n, 2, 'R', where, [D, GH, H]);
    if (R === null) throw new ONNXError(`${where}: expected input R, got none`);
    const B = stored(store, n, 3, 'B', where, [D, 2 * GH]);
    const P = opType === 'LSTM' ? stored(store, n, 7, 'P', where, [D, 3 * H]) : null;
    if (l === 0) { bias = B !== null; peephole = P !== null; }
    else if ((B !== null) !== bias || (P !== null) !== peephole) {
      throw new ONNXError(`${where}: expected ${bias ? 'a' : 'no'} bias B and ${peephole ? 'a' : 'no'} peephole P like layer 0, got ${B !== null ? 'a' : 'no'} B and ${P !== null ? 'a' : 'no'} P`);
    }
    for (let d = 0; d < D; d++) {
      const suffix = `_l${l}${d === 1 ? '_reverse' : ''}`;
      const put = (key: string, shape: number[], data: Float32Array): void => { stateDict[`${key}${suffix}`] = { dtype: 'float32', shape, data }; };
      put('weight_ih', [GH, I], reorderGates(W.data.subarray(d * GH * I, (d + 1) * GH * I), G, false));
      put('weight_hh', [GH, H], reorderGates(R.data.subarray(d * GH * H, (d + 1) * GH * H), G, false));
      if (B !== null) {
        put('bias_ih', [GH], reorderGates(B.data.subarray(2 * d * GH, (2 * d + 1) * GH), G, false));
        put('bias_hh', [GH], reorderGates(B.data.subarray((2 * d + 1) * GH, (2 * d + 2) * GH), G, false));
      }
      if (P !== null) put('weight_peephole', [3, H], swapPeephole(P.data.subarray(d * 3 * H, (d + 1) * 3 * H)));
    }
  });
  const f = first as ReturnType<typeof readAttributes> | null;
  return {
    maxBytes,
    layout: {
      inputSize, hiddenSize: f!.H, numLayers: nodes.length, bidirectional: f!.D === 2, bias,
      resetAfter: f!.linearBeforeReset, peephole,
    },
    stateDict,
  };
}
