/**
 * The ONNX messages this library writes and reads (onnx/onnx.proto), as plain objects, with their
 * encoder and a bounded decoder. Field numbers:
 *
 *   ModelProto        ir_version 1, producer_name 2, producer_version 3, graph 7, opset_import 8
 *   OperatorSetIdProto domain 1, version 2
 *   GraphProto        node 1, name 2, initializer 5, input 11, output 12, value_info 13
 *   NodeProto         input 1, output 2, name 3, op_type 4, attribute 5, domain 7
 *   AttributeProto    name 1, f 2, i 3, s 4, t 5, g 6, floats 7, ints 8, strings 9, tensors 10, graphs 11, type 20
 *   ValueInfoProto    name 1, type 2;  TypeProto tensor_type 1;  TypeProto.Tensor elem_type 1, shape 2
 *   TensorShapeProto  dim 1;  Dimension dim_value 1, dim_param 2
 *   TensorProto       dims 1, data_type 2, float_data 4, int32_data 5, int64_data 7, name 8, raw_data 9,
 *                     double_data 10, external_data 13, data_location 14
 *
 * Encoding writes a decoded tensor back as it was read (payload copied). Decoding keeps tensor payloads as views of the file until `tensorFloats`/`tensorInts` reads
 * them, after checking that their size matches the declared dims.
 */
import { describe, typedArrayKind } from '../core/validate.js';
import {
  appendInts, expectWire, fieldFloat, fieldInt, fieldString, ONNXError, ProtoWriter, readFields, WIRE,
  type WireField,
} from './protobuf.js';

/** TensorProto.DataType values used here. */
export const DTYPE = { FLOAT: 1, INT32: 6, INT64: 7, DOUBLE: 11 } as const;
/** AttributeProto.AttributeType values. */
export const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 } as const;

/** Most dimensions a tensor may declare, and most elements it may hold (2^31 − 1, protobuf's size limit). */
const MAX_RANK = 16;
const MAX_ELEMENTS = 2 ** 31 - 1;
/** Largest file accepted: protobuf's own 2 GiB limit. */
export const MAX_MODEL_BYTES = 2 ** 31 - 1;

/** A tensor to write: float32 (or int32/int64) data and its dims. */
export interface TensorOut {
  name: string;
  dims: readonly number[];
  dataType: number;
  /** FLOAT: Float32Array; INT32: Int32Array; INT64: numbers (written as int64_data). */
  data: Float32Array | Int32Array | readonly number[];
}

/** A tensor as read: dims, dtype and where its payload lies (decoded by tensorFloats). */
export interface TensorIn {
  name: string;
  dims: number[];
  dataType: number;
  /** true when data_location is EXTERNAL or external_data is present. */
  external: boolean;
  /** Payload fields by number (raw_data 9, float_data 4, int32_data 5, int64_data 7, double_data 10). */
  payload: WireField[];
  bytes: Uint8Array;
}

/** An attribute: one of its value members is set, by `type`. */
export interface Attribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: string;
  floats?: number[];
  ints?: number[];
  strings?: string[];
  t?: TensorOut | TensorIn;
  g?: Graph;
}

/** A node of the graph. */
export interface Node {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Attribute[];
}

/** A graph input or output: element type and dims (numbers, or names of symbolic dims). */
export interface ValueInfo {
  name: string;
  elemType: number;
  dims: (number | string)[];
}

/** A graph. */
export interface Graph {
  name: string;
  nodes: Node[];
  initializers: (TensorOut | TensorIn)[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

/** A model. */
export interface Model {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  graph: Graph;
}

// ---- Encoding ----

function encodeTensor(t: TensorOut | TensorIn): Uint8Array {
  if ('payload' in t) {
    // A tensor as read: its payload fields copied verbatim (and data_location EXTERNAL kept).
    const w = new ProtoWriter().packedInts(1, t.dims).int(2, t.dataType).string(8, t.name);
    for (const f of t.payload) w.copy(f.no, f.wire, t.bytes.subarray(f.start, f.end));
    if (t.external) w.int(14, 1);
    return w.finish();
  }
  const w = new ProtoWriter().packedInts(1, t.dims).int(2, t.dataType).string(8, t.name);
  if (t.dataType === DTYPE.INT64) return w.packedInts(7, t.data as readonly number[]).finish();
  const src = t.data as Float32Array | Int32Array;
  const raw = new Uint8Array(src.length * 4);
  const view = new DataView(raw.buffer);
  for (let k = 0; k < src.length; k++) {
    if (src instanceof Float32Array) view.setFloat32(4 * k, src[k]!, true);
    else view.setInt32(4 * k, src[k]!, true);
  }
  return w.bytes(9, raw).finish();
}

function encodeAttribute(a: Attribute): Uint8Array {
  const w = new ProtoWriter().string(1, a.name);
  if (a.f !== undefined) w.float(2, a.f);
  if (a.i !== undefined) w.int(3, a.i);
  if (a.s !== undefined) w.string(4, a.s);
  if (a.t !== undefined) w.bytes(5, encodeTensor(a.t));
  for (const v of a.floats ?? []) w.float(7, v);
  if (a.ints !== undefined) w.packedInts(8, a.ints);
  for (const s of a.strings ?? []) w.string(9, s);
  return w.int(20, a.type).finish();
}

function encodeNode(n: Node): Uint8Array {
  const w = new ProtoWriter();
  for (const s of n.inputs) w.string(1, s);
  for (const s of n.outputs) w.string(2, s);
  w.string(3, n.name).string(4, n.opType);
  for (const a of n.attributes) w.bytes(5, encodeAttribute(a));
  if (n.domain !== '') w.string(7, n.domain);
  return w.finish();
}

function encodeValueInfo(v: ValueInfo): Uint8Array {
  const shape = new ProtoWriter();
  for (const d of v.dims) {
    shape.bytes(1, typeof d === 'number' ? new ProtoWriter().int(1, d).finish() : new ProtoWriter().string(2, d).finish());
  }
  const tensorType = new ProtoWriter().int(1, v.elemType).bytes(2, shape.finish()).finish();
  return new ProtoWriter().string(1, v.name).bytes(2, new ProtoWriter().bytes(1, tensorType).finish()).finish();
}

function encodeGraph(g: Graph): Uint8Array {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.bytes(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.bytes(5, encodeTensor(t));
  for (const v of g.inputs) w.bytes(11, encodeValueInfo(v));
  for (const v of g.outputs) w.bytes(12, encodeValueInfo(v));
  return w.finish();
}

/** The bytes of an ONNX model file. */
export function encodeModel(m: Model): Uint8Array {
  const w = new ProtoWriter().int(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion);
  w.bytes(7, encodeGraph(m.graph));
  for (const o of m.opsets) {
    const op = new ProtoWriter();
    if (o.domain !== '') op.string(1, o.domain);
    w.bytes(8, op.int(2, o.version).finish());
  }
  return w.finish();
}

// ---- Decoding ----

/** Decoding context: the file and a running path for messages. */
interface Ctx { bytes: Uint8Array }

function sub(ctx: Ctx, f: WireField, what: string, depth: number): WireField[] {
  expectWire(f, WIRE.LEN, what);
  return readFields(ctx.bytes, f.start, f.end, what, depth);
}

function decodeTensor(ctx: Ctx, f: WireField, what: string, depth: number): TensorIn {
  const t: TensorIn = { name: '', dims: [], dataType: 0, external: false, payload: [], bytes: ctx.bytes };
  for (const x of sub(ctx, f, what, depth)) {
    switch (x.no) {
      case 1: appendInts(ctx.bytes, x, t.dims, `${what}.dims`, MAX_RANK); break;
      case 2: t.dataType = fieldInt(ctx.bytes, x, `${what}.data_type`); break;
      case 8: t.name = fieldString(ctx.bytes, x, `${what}.name`); break;
      case 4: case 5: case 7: case 9: case 10: t.payload.push(x); break;
      case 13: t.external = true; break;
      case 14: if (fieldInt(ctx.bytes, x, `${what}.data_location`) === 1) t.external = true; break;
      default: break;
    }
  }
  return t;
}

function decodeAttribute(ctx: Ctx, f: WireField, what: string, depth: number): Attribute {
  const a: Attribute = { name: '', type: 0 };
  const b = ctx.bytes;
  for (const x of sub(ctx, f, what, depth)) {
    switch (x.no) {
      case 1: a.name = fieldString(b, x, `${what}.name`); break;
      case 20: a.type = fieldInt(b, x, `${what}.type`); break;
      case 2: a.f = fieldFloat(b, x, `${what}.f`); break;
      case 3: a.i = fieldInt(b, x, `${what}.i`); break;
      case 4: a.s = fieldString(b, x, `${what}.s`); break;
      case 5: a.t = decodeTensor(ctx, x, `${what}.t`, depth + 1); break;
      case 6: a.g = decodeGraph(ctx, x, `${what}.g`, depth + 1); break;
      case 7: {
        a.floats ??= [];
        if (x.wire === WIRE.LEN) {
          if ((x.end - x.start) % 4 !== 0) throw new ONNXError(`${what}.floats: expected a multiple of 4 bytes, got ${x.end - x.start}`);
          for (let p = x.start; p < x.end; p += 4) a.floats.push(fieldFloat(b, { no: 7, wire: WIRE.I32, start: p, end: p + 4 }, `${what}.floats`));
        } else a.floats.push(fieldFloat(b, x, `${what}.floats`));
        break;
      }
      case 8: appendInts(b, x, (a.ints ??= []), `${what}.ints`, MAX_ELEMENTS); break;
      case 9: (a.strings ??= []).push(fieldString(b, x, `${what}.strings`)); break;
      case 11: decodeGraph(ctx, x, `${what}.graphs`, depth + 1); break;   // checked, not kept
      default: break;
    }
  }
  return a;
}

function decodeNode(ctx: Ctx, f: WireField, what: string, depth: number): Node {
  const n: Node = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: [] };
  const b = ctx.bytes;
  for (const x of sub(ctx, f, what, depth)) {
    switch (x.no) {
      case 1: n.inputs.push(fieldString(b, x, `${what}.input`)); break;
      case 2: n.outputs.push(fieldString(b, x, `${what}.output`)); break;
      case 3: n.name = fieldString(b, x, `${what}.name`); break;
      case 4: n.opType = fieldString(b, x, `${what}.op_type`); break;
      case 5: n.attributes.push(decodeAttribute(ctx, x, `${what}.attribute[${n.attributes.length}]`, depth + 1)); break;
      case 7: n.domain = fieldString(b, x, `${what}.domain`); break;
      default: break;
    }
  }
  return n;
}

function decodeValueInfo(ctx: Ctx, f: WireField, what: string, depth: number): ValueInfo {
  const v: ValueInfo = { name: '', elemType: 0, dims: [] };
  const b = ctx.bytes;
  for (const x of sub(ctx, f, what, depth)) {
    if (x.no === 1) v.name = fieldString(b, x, `${what}.name`);
    else if (x.no === 2) {
      for (const tt of sub(ctx, x, `${what}.type`, depth + 1)) {
        if (tt.no !== 1) continue;   // only tensor types are described
        for (const y of sub(ctx, tt, `${what}.type.tensor_type`, depth + 2)) {
          if (y.no === 1) v.elemType = fieldInt(b, y, `${what}.elem_type`);
          else if (y.no === 2) {
            for (const d of sub(ctx, y, `${what}.shape`, depth + 3)) {
              if (d.no !== 1) continue;
              if (v.dims.length >= MAX_RANK) throw new ONNXError(`${what}.shape: expected at most ${MAX_RANK} dims, got more`);
              let dim: number | string = '?';
              for (const z of sub(ctx, d, `${what}.shape.dim`, depth + 4)) {
                if (z.no === 1) dim = fieldInt(b, z, `${what}.dim_value`);
                else if (z.no === 2) dim = fieldString(b, z, `${what}.dim_param`);
              }
              v.dims.push(dim);
            }
          }
        }
      }
    }
  }
  return v;
}

function decodeGraph(ctx: Ctx, f: WireField, what: string, depth: number): Graph {
  const g: Graph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [] };
  for (const x of sub(ctx, f, what, depth)) {
    switch (x.no) {
      case 1: g.nodes.push(decodeNode(ctx, x, `${what}.node[${g.nodes.length}]`, depth + 1)); break;
      case 2: g.name = fieldString(ctx.bytes, x, `${what}.name`); break;
      case 5: g.initializers.push(decodeTensor(ctx, x, `${what}.initializer[${g.initializers.length}]`, depth + 1)); break;
      case 11: g.inputs.push(decodeValueInfo(ctx, x, `${what}.input[${g.inputs.length}]`, depth + 1)); break;
      case 12: g.outputs.push(decodeValueInfo(ctx, x, `${what}.output[${g.outputs.length}]`, depth + 1)); break;
      default: break;
    }
  }
  return g;
}

/**
 * Decodes an ONNX model file (untrusted): every field checked against the bytes, depth-limited.
 * Tensor payloads stay views of `bytes` until read.
 */
export function decodeModel(bytes: Uint8Array): Model {
  // By brand: a Proxy or look-alike is not bytes (a Node Buffer is a Uint8Array).
  if (typedArrayKind(bytes) !== 'Uint8Array') {
    throw new TypeError(`bytes: expected a Uint8Array holding an ONNX model, got ${describe(bytes)}`);
  }
  if (bytes.length > MAX_MODEL_BYTES) throw new ONNXError(`bytes: expected at most ${MAX_MODEL_BYTES} bytes (protobuf's limit), got ${bytes.length}`);
  if (bytes.length === 0) throw new ONNXError('bytes: expected an ONNX model, got 0 bytes');
  const ctx: Ctx = { bytes };
  const m: Model = { irVersion: 0, opsets: [], producerName: '', producerVersion: '', graph: { name: '', nodes: [], initializers: [], inputs: [], outputs: [] } };
  let graph: WireField | null = null;
  for (const x of readFields(bytes, 0, bytes.length, 'ModelProto', 0)) {
    switch (x.no) {
      case 1: m.irVersion = fieldInt(bytes, x, 'ModelProto.ir_version'); break;
      case 2: m.producerName = fieldString(bytes, x, 'ModelProto.producer_name'); break;
      case 3: m.producerVersion = fieldString(bytes, x, 'ModelProto.producer_version'); break;
      case 7: graph = x; break;
      case 8: {
        const o = { domain: '', version: 0 };
        for (const y of sub(ctx, x, 'ModelProto.opset_import', 1)) {
          if (y.no === 1) o.domain = fieldString(bytes, y, 'opset_import.domain');
          else if (y.no === 2) o.version = fieldInt(bytes, y, 'opset_import.version');
        }
        m.opsets.push(o);
        break;
      }
      default: break;
    }
  }
  if (m.irVersion <= 0) throw new ONNXError(`ModelProto.ir_version: expected a positive IR version, got ${m.irVersion}`);
  if (graph === null) throw new ONNXError('ModelProto.graph: expected a graph, got none');
  if (!m.opsets.some((o) => o.domain === '' || o.domain === 'ai.onnx')) {
    throw new ONNXError(`ModelProto.opset_import: expected an opset of the default domain (ai.onnx), got ${m.opsets.length === 0 ? 'none' : m.opsets.map((o) => `"${o.domain}"`).join(', ')}`);
  }
  m.graph = decodeGraph(ctx, graph, 'graph', 1);
  return m;
}

/** Element count of dims, checked: non-negative, at most MAX_ELEMENTS. */
export function elementCount(dims: readonly number[], what: string): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new ONNXError(`${what}: expected non-negative dims, got [${dims.join(', ')}]`);
    n *= d;
    if (n > MAX_ELEMENTS) throw new ONNXError(`${what}: expected at most ${MAX_ELEMENTS} elements, got dims [${dims.join(', ')}]`);
  }
  return n;
}

const DTYPE_NAMES: Record<number, string> = { 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 6: 'INT32', 7: 'INT64', 9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE' };
export const dtypeName = (t: number): string => DTYPE_NAMES[t] ?? `data_type ${t}`;

/**
 * A FLOAT or DOUBLE tensor's values as float32 (new array), from raw_data (little-endian) or
 * float_data/double_data; sizes checked against dims before anything is allocated.
 */
export function tensorFloats(t: TensorIn | TensorOut, what: string): Float32Array {
  if (!('payload' in t)) {
    if (!(t.data instanceof Float32Array)) throw new ONNXError(`${what}: expected a FLOAT tensor, got ${dtypeName(t.dataType)}`);
    return t.data.slice();
  }
  if (t.external) throw new ONNXError(`${what}: the tensor's data is stored outside the file (external data), which is not supported; save the model with its weights inside`);
  if (t.dataType !== DTYPE.FLOAT && t.dataType !== DTYPE.DOUBLE) {
    throw new ONNXError(`${what}: expected a FLOAT or DOUBLE tensor, got ${dtypeName(t.dataType)}`);
  }
  const n = elementCount(t.dims, what);
  const width = t.dataType === DTYPE.FLOAT ? 4 : 8;
  const typed = t.dataType === DTYPE.FLOAT ? 4 : 10;
  const raw = t.payload.filter((f) => f.no === 9), listed = t.payload.filter((f) => f.no === typed);
  const others = t.payload.filter((f) => f.no !== 9 && f.no !== typed);
  if (others.length > 0) throw new ONNXError(`${what}: ${dtypeName(t.dataType)} tensor carries data in field ${others[0]!.no}, which does not match its type`);
  if (raw.length > 1 || (raw.length === 1 && listed.length > 0)) throw new ONNXError(`${what}: expected one of raw_data or typed data, got both or several`);
  // One run of little-endian values: raw_data, or the packed/unpacked typed list.
  const runs = raw.length === 1 ? raw : listed;
  let bytesTotal = 0;
  for (const f of runs) {
    if (f.wire !== WIRE.LEN && !(f.wire === (width === 4 ? WIRE.I32 : WIRE.I64))) throw new ONNXError(`${what}: unexpected wire type ${f.wire} for tensor data`);
    bytesTotal += f.end - f.start;
  }
  if (bytesTotal !== n * width) {
    throw new ONNXError(`${what}: dims [${t.dims.join(', ')}] need ${n * width} bytes of ${dtypeName(t.dataType)} data, got ${bytesTotal}`);
  }
  const out = new Float32Array(n);
  let k = 0;
  for (const f of runs) {
    const view = new DataView(t.bytes.buffer, t.bytes.byteOffset + f.start, f.end - f.start);
    for (let p = 0; p < f.end - f.start; p += width) out[k++] = width === 4 ? view.getFloat32(p, true) : view.getFloat64(p, true);
  }
  return out;
}

/** An attribute of a node by name, or undefined. */
export function attribute(n: Node, name: string): Attribute | undefined {
  return n.attributes.find((a) => a.name === name);
}

export { ONNXError };
