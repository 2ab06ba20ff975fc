/**
 * Saving a trained model (its modules and its optimizer) to JSON or to a safetensors file, and
 * loading it back bit for bit.
 *
 * A model is a set of named parts, e.g. `{ rnn, head, opt }`: cells, LSTM/GRU stacks, Linear
 * layers and optimizers, or anything else with stateDict()/loadStateDict(). Every tensor is
 * stored under `<part>.<key>` with the part's own state-dict keys (PyTorch's: `rnn.weight_ih_l0`,
 * `head.weight`, `opt.0.exp_avg`), and every part's configuration beside them:
 *
 *   parts:   { "rnn": { "kind": "LSTM", "inputSize": 3, "hiddenSize": 16, "numLayers": 2,
 *                       "bidirectional": false, "bias": true },
 *              "head": { "kind": "Linear", "inFeatures": 16, "outFeatures": 1, "bias": true },
 *              "opt": { "kind": "Adam", "lr": 0.01, "beta1": 0.9, …, "step": 120 } }
 *
 * Loading checks each part's configuration against the part it is loaded into (sizes, layers,
 * direction, bias, resetAfter, the optimizer's fixed hyperparameters) and every tensor's key and
 * shape, all before changing anything: a load either succeeds whole or changes nothing. An
 * optimizer gets back its step count and learning rate (as PyTorch's load_state_dict restores
 * param_groups); it must be built over the same parameters in the same order. Gradients are not
 * saved. `buildModel` rebuilds the modules (not optimizers) from the configuration alone.
 *
 * JSON (`saveModel` → ModelJSON, for JSON.stringify): each tensor is `{ shape, data }` with data
 * a number array. A float32 value read as a double prints, in JSON.stringify, as the shortest
 * decimal that parses back to the same double, so every finite value round-trips exactly.
 * JSON has no NaN, ±Infinity or −0: those are written as the strings "NaN", "Infinity",
 * "-Infinity" and "-0" (`Number(s)` reads each back; a NaN's payload bits are not kept).
 *
 * safetensors (`saveModelSafetensors` → bytes): the tensors as F32 under the same keys; the
 * header's `__metadata__` (strings only) holds `format`, `version` and `parts` (the
 * configurations as JSON text). Every bit is kept, NaN payloads included.
 */
import { GRUCell, type GRUCellConfig } from '../cells/gru.js';
import { LSTMCell, type LSTMCellConfig } from '../cells/lstm.js';
import { GRU, LSTM, type GRUConfig, type LSTMConfig } from '../modules/rnn.js';
import { Linear, type LinearConfig } from '../nn/linear.js';
import { Adam, type AdamConfig } from '../optim/adam.js';
import { SGD, type SGDConfig } from '../optim/sgd.js';
import type { OptimizerState, OptimizerStateInput } from '../optim/optimizer.js';
import type { Tensor } from '../core/tensor.js';
import { formatShape, shapeSize, type TensorInput } from '../core/tensor-input.js';
import { checkObject, describe } from '../core/validate.js';
import { loadSafetensors, loadSafetensorsMetadata, saveSafetensors } from './safetensors.js';

// ---------------------------------------------------------------- public types

export type { LSTMCellConfig, GRUCellConfig, LSTMConfig, GRUConfig, LinearConfig, SGDConfig, AdamConfig };

/** A module part: anything with a tensor state dict (cells, LSTM/GRU stacks, Linear, your own). */
export interface SavableModule {
  stateDict(): Record<string, Tensor>;
  loadStateDict(stateDict: Record<string, TensorInput>): void;
}

/** An optimizer part: a step count plus tensors (SGD, Adam, or your own of the same shape). */
export interface SavableOptimizer {
  stateDict(): OptimizerState;
  loadStateDict(state: OptimizerStateInput): void;
}

/** Anything saveModel and loadModel take as a part. */
export type Savable = SavableModule | SavableOptimizer;

/** A module of another class: only its keys and shapes are checked. */
export interface CustomModuleConfig { kind: 'module' }
/** An optimizer of another class: its step count is restored. */
export interface CustomOptimizerConfig { kind: 'optimizer'; step: number }

/** What is stored about each part. */
export type PartConfig =
  | LSTMCellConfig | GRUCellConfig | LSTMConfig | GRUConfig | LinearConfig
  | SGDConfig | AdamConfig | CustomModuleConfig | CustomOptimizerConfig;

/** A float32 value in ModelJSON: a number, or one of the strings JSON needs for the others. */
export type JSONFloat = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';

/** A model as JSON-ready data: `JSON.stringify(saveModel(parts))`. See the module comment. */
export interface ModelJSON {
  format: 'recurrent-cells-model';
  version: 1;
  /** Each part's configuration, by part name. */
  parts: Record<string, PartConfig>;
  /** Every tensor, keyed `<part>.<state-dict key>`: row-major data of shape.reduce(×) values. */
  tensors: Record<string, { shape: number[]; data: JSONFloat[] }>;
  /** Your own strings, as given to saveModel (absent when none). */
  metadata?: Record<string, string>;
}

/** Options of saveModel and saveModelSafetensors. */
export interface SaveModelOptions {
  /**
   * Your own strings to store with the model (description, dataset, …): ModelJSON.metadata, or
   * entries of the safetensors `__metadata__` (read them with loadSafetensorsMetadata). The keys
   * `format`, `version` and `parts` are reserved.
   */
  metadata?: Record<string, string>;
}

/** Options of loadModel and loadModelSafetensors. */
export interface LoadModelOptions {
  /**
   * false (default): `parts` must name exactly the saved parts. true: load only the parts given,
   * ignoring the other saved ones (e.g. the weights without the optimizer, for inference).
   */
  partial?: boolean;
}

/** What buildModel can rebuild from a configuration alone. */
export type BuiltModule = LSTMCell | GRUCell | LSTM | GRU | Linear;

// ---------------------------------------------------------------- public functions

const FORMAT = 'recurrent-cells-model';
const VERSION = 1;
const RESERVED_METADATA = ['format', 'version', 'parts'];

/**
 * The model as JSON-ready data (configurations and copies of every tensor).
 * @param parts named parts, e.g. `{ rnn, head, opt }`; names of letters, digits, `_` and `-`
 * @returns ModelJSON; `JSON.stringify` it to store it
 */
export function saveModel(parts: Record<string, Savable>, options: SaveModelOptions = {}): ModelJSON {
  const metadata = checkSaveOptions(options);
  const views = inspectParts(parts);
  const out: ModelJSON = { format: FORMAT, version: VERSION, parts: {}, tensors: {} };
  for (const v of views) {
    define(out.parts, v.name, v.config);
    for (const [key, t] of Object.entries(v.tensors)) {
      define(out.tensors, `${v.name}.${key}`, { shape: t.shape.slice(), data: encodeFloats(t.data) });
    }
  }
  if (metadata !== null) out.metadata = { ...metadata };
  return out;
}

/**
 * Loads a model saved by saveModel into `parts` (modules and optimizers built with the saved
 * configuration). Checks the parts' names, each configuration, and every tensor's key and shape
 * first; a mismatch throws, naming the part or key and both values, and nothing is loaded.
 * @param saved a ModelJSON, or its JSON text
 * @param parts the parts to load into, by the names they were saved under
 */
export function loadModel(saved: ModelJSON | string, parts: Record<string, Savable>, options: LoadModelOptions = {}): void {
  const partial = checkLoadOptions(options);
  loadParts(parseModelJSON(saved), parts, partial);
}

/**
 * The model as the bytes of a .safetensors file: tensors as F32 under `<part>.<key>`, the part
 * configurations as JSON text in `__metadata__.parts`.
 * @param parts named parts, e.g. `{ rnn, head, opt }`
 */
export function saveModelSafetensors(parts: Record<string, Savable>, options: SaveModelOptions = {}): Uint8Array {
  const metadata = checkSaveOptions(options);
  const views = inspectParts(parts);
  const configs: Record<string, PartConfig> = {};
  const tensors: Record<string, Tensor> = {};
  for (const v of views) {
    define(configs, v.name, v.config);
    for (const [key, t] of Object.entries(v.tensors)) define(tensors, `${v.name}.${key}`, t);
  }
  return saveSafetensors(tensors, {
    ...(metadata ?? {}), format: FORMAT, version: String(VERSION), parts: JSON.stringify(configs),
  });
}

/**
 * Loads a model saved by saveModelSafetensors into `parts`; the same checks and all-or-nothing
 * rule as loadModel.
 * @param bytes the file's bytes (any Uint8Array view, e.g. a Node Buffer)
 */
export function loadModelSafetensors(bytes: Uint8Array, parts: Record<string, Savable>, options: LoadModelOptions = {}): void {
  const partial = checkLoadOptions(options);
  loadParts(parseModelSafetensors(bytes), parts, partial);
}

/**
 * Rebuilds the module parts of a saved model from their configurations and loads their weights.
 * Optimizers and modules of other classes are not built: build those yourself (an optimizer
 * over the rebuilt parameters) and load them with loadModel(…, { partial: true }).
 * @param saved a ModelJSON or its JSON text (from saveModel), or the bytes of a safetensors file
 *   (from saveModelSafetensors)
 * @returns the rebuilt modules by part name, e.g. `{ rnn: LSTM, head: Linear }`
 */
export function buildModel(saved: ModelJSON | string | Uint8Array): Record<string, BuiltModule> {
  const model = saved instanceof Uint8Array ? parseModelSafetensors(saved) : parseModelJSON(saved);
  const built: Record<string, BuiltModule> = {};
  for (const [name, config] of model.parts) {
    const build = KINDS[config.kind].build;
    if (build !== null) define(built, name, build(config));
  }
  loadParts(model, built, true);
  return built;
}

// ---------------------------------------------------------------- part kinds

type FieldType = 'int' | 'bool' | 'number';
type Kind = PartConfig['kind'];

interface KindInfo {
  /** Configuration fields and their types (besides `kind`). */
  fields: Record<string, FieldType>;
  /** Whether the kind is an optimizer (state {step, tensors}). */
  optimizer: boolean;
  /** Builds a module of this kind from its configuration, or null. */
  build: ((c: PartConfig) => BuiltModule) | null;
}

const CELL_FIELDS = { inputSize: 'int', hiddenSize: 'int', bias: 'bool' } as const;
const STACK_FIELDS = { ...CELL_FIELDS, numLayers: 'int', bidirectional: 'bool' } as const;

/** Every kind; its fields are read off the part by name (`step` from its state dict). */
const KINDS: Record<Kind, KindInfo> = {
  LSTMCell: { fields: CELL_FIELDS, optimizer: false, build: (c) => new LSTMCell(c as LSTMCellConfig) },
  GRUCell: { fields: { ...CELL_FIELDS, resetAfter: 'bool' }, optimizer: false, build: (c) => new GRUCell(c as GRUCellConfig) },
  LSTM: { fields: STACK_FIELDS, optimizer: false, build: (c) => new LSTM(c as LSTMConfig) },
  GRU: { fields: { ...STACK_FIELDS, resetAfter: 'bool' }, optimizer: false, build: (c) => new GRU(c as GRUConfig) },
  Linear: {
    fields: { inFeatures: 'int', outFeatures: 'int', bias: 'bool' }, optimizer: false, build: (c) => new Linear(c as LinearConfig),
  },
  SGD: {
    fields: { lr: 'number', momentum: 'number', nesterov: 'bool', weightDecay: 'number', dampening: 'number', step: 'int' },
    optimizer: true, build: null,
  },
  Adam: {
    fields: { lr: 'number', beta1: 'number', beta2: 'number', eps: 'number', weightDecay: 'number', decoupled: 'bool', step: 'int' },
    optimizer: true, build: null,
  },
  module: { fields: {}, optimizer: false, build: null },
  optimizer: { fields: { step: 'int' }, optimizer: true, build: null },
};

/** Optimizer fields that loading restores rather than checks. */
const RESTORED_FIELDS = new Set(['lr', 'step']);

/** The kind of a part: its class, else by the shape of its state dict. */
function kindOf(part: object, state: unknown): Kind {
  if (part instanceof LSTMCell) return 'LSTMCell';
  if (part instanceof GRUCell) return 'GRUCell';
  if (part instanceof LSTM) return 'LSTM';
  if (part instanceof GRU) return 'GRU';
  if (part instanceof Linear) return 'Linear';
  if (part instanceof SGD) return 'SGD';
  if (part instanceof Adam) return 'Adam';
  return isOptimizerState(state) ? 'optimizer' : 'module';
}

/** An optimizer's state dict has a numeric step; a module's values are all tensors. */
function isOptimizerState(s: unknown): s is OptimizerState {
  return typeof s === 'object' && s !== null && typeof (s as { step?: unknown }).step === 'number'
    && typeof (s as { tensors?: unknown }).tensors === 'object' && (s as { tensors?: unknown }).tensors !== null;
}

/** "an LSTM", "a GRU", …: the kind with its article, for messages. */
function article(kind: Kind): string {
  return `${['LSTMCell', 'LSTM', 'SGD', 'Adam', 'optimizer'].includes(kind) ? 'an' : 'a'} ${kind}`;
}

// ---------------------------------------------------------------- live parts

/** A part as saving and loading see it. */
interface PartView {
  name: string;
  config: PartConfig;
  /** Its current tensors (copies), by its own keys: what is saved, and the rollback point of a load. */
  tensors: Record<string, Tensor>;
  /** Loads checked data (by its own keys) and the restorable fields of the saved configuration. */
  load(data: Record<string, Tensor>, saved: PartConfig): void;
  /** Puts back what `tensors` and `config` hold. */
  restore(): void;
}

function inspectParts(parts: unknown): PartView[] {
  const p = checkObject('parts', parts);
  const names = Object.keys(p);
  if (names.length === 0) throw new RangeError('parts: expected at least one named part, got none');
  return names.map((name) => inspectPart(name, p[name]));
}

function inspectPart(name: string, part: unknown): PartView {
  checkPartName('parts', name);
  const where = `parts.${name}`;
  if (typeof part !== 'object' || part === null
    || typeof (part as Savable).stateDict !== 'function' || typeof (part as Savable).loadStateDict !== 'function') {
    throw new TypeError(`${where}: expected a module or optimizer with stateDict() and loadStateDict(), got ${describe(part)}`);
  }
  const state = (part as Savable).stateDict();
  const kind = kindOf(part, state);
  const info = KINDS[kind];
  const live = part as unknown as Record<string, unknown>;
  const config = { kind } as Record<string, unknown>;
  for (const field of Object.keys(info.fields)) {
    config[field] = field === 'step' ? (state as OptimizerState).step : live[field];
  }
  checkConfigFields(where, kind, config);

  if (info.optimizer) {
    const opt = part as SavableOptimizer & { lr?: number };
    const st = state as OptimizerState;
    const tensors = checkTensorRecord(`${where}.stateDict().tensors`, st.tensors);
    const hasLr = 'lr' in info.fields;
    return {
      name, config: config as unknown as PartConfig, tensors,
      load(data, saved) {
        opt.loadStateDict({ step: (saved as CustomOptimizerConfig).step, tensors: data });
        if (hasLr) opt.lr = (saved as AdamConfig).lr;
      },
      restore() {
        opt.loadStateDict({ step: st.step, tensors });
        if (hasLr) opt.lr = config.lr as number;
      },
    };
  }
  const mod = part as SavableModule;
  const tensors = checkTensorRecord(`${where}.stateDict()`, state);
  return {
    name, config: config as unknown as PartConfig, tensors,
    load(data) { mod.loadStateDict(data); },
    restore() { mod.loadStateDict(tensors); },
  };
}

/** A part's state-dict tensors, checked to be Tensors (shape and matching Float32Array data). */
function checkTensorRecord(where: string, v: unknown): Record<string, Tensor> {
  const rec = checkObject(where, v);
  for (const [key, t] of Object.entries(rec)) {
    const o = checkObject(`${where}["${key}"]`, t);
    if (!isShape(o.shape) || !(o.data instanceof Float32Array) || o.data.length !== shapeSize(o.shape)) {
      throw new TypeError(`${where}["${key}"]: expected a Tensor {dtype, shape, data: Float32Array}, got ${describe(t)}`);
    }
  }
  return rec as Record<string, Tensor>;
}

// ---------------------------------------------------------------- loading

/** A saved model, parsed and checked in itself (not yet against any parts). */
interface SavedModel {
  parts: Map<string, PartConfig>;
  /** By full key `<part>.<key>`. */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

/** Checks everything against `parts`, then loads every part; undoes the loaded ones if one throws. */
function loadParts(model: SavedModel, parts: unknown, partial: boolean): void {
  const p = checkObject('parts', parts);
  const names = Object.keys(p);
  const savedNames = [...model.parts.keys()];
  const list = savedNames.map((n) => `"${n}"`).join(', ');
  for (const name of names) {
    checkPartName('parts', name);
    if (!model.parts.has(name)) throw new RangeError(`parts: unexpected part "${name}"; the model holds ${list}`);
  }
  if (!partial) {
    for (const name of savedNames) {
      if (!Object.prototype.hasOwnProperty.call(p, name)) {
        throw new RangeError(`parts: missing part "${name}" (saved as ${article(model.parts.get(name)!.kind)}); ` +
          'pass every saved part, or { partial: true } to load only some');
      }
    }
  }
  const views = names.map((name) => inspectPart(name, p[name]));
  for (const v of views) checkConfigMatch(v, model.parts.get(v.name)!);

  // Tensors: for every part loaded, exactly its keys, each of its shape.
  const loading = new Set(names);
  for (const key of model.tensors.keys()) {
    const part = key.slice(0, key.indexOf('.'));
    if (loading.has(part) && !(key.slice(part.length + 1) in views.find((v) => v.name === part)!.tensors)) {
      throw new RangeError(`model.tensors: unexpected key "${key}" (${part} has no such tensor)`);
    }
  }
  const data = new Map<PartView, Record<string, Tensor>>();
  for (const v of views) {
    const own: Record<string, Tensor> = {};
    for (const [key, t] of Object.entries(v.tensors)) {
      const full = `${v.name}.${key}`;
      const s = model.tensors.get(full);
      if (s === undefined) throw new RangeError(`model.tensors: missing key "${full}" (expected shape ${formatShape(t.shape)})`);
      if (!sameShape(s.shape, t.shape)) {
        throw new RangeError(`model.tensors["${full}"]: expected shape ${formatShape(t.shape)}, got ${formatShape(s.shape)}`);
      }
      define(own, key, { dtype: 'float32', shape: s.shape, data: s.data });
    }
    data.set(v, own);
  }

  const done: PartView[] = [];
  try {
    for (const v of views) {
      v.load(data.get(v)!, model.parts.get(v.name)!);
      done.push(v);
    }
  } catch (err) {
    for (const v of done.reverse()) v.restore();
    throw err;
  }
}

/** The saved configuration must describe the live part: same kind, same fields (except lr/step). */
function checkConfigMatch(v: PartView, saved: PartConfig): void {
  const where = `parts.${v.name}`;
  if (saved.kind !== v.config.kind) {
    throw new RangeError(`${where}: expected ${article(saved.kind)} (as saved), got ${v.config.kind}`);
  }
  const live = v.config as unknown as Record<string, unknown>, want = saved as unknown as Record<string, unknown>;
  for (const field of Object.keys(KINDS[saved.kind].fields)) {
    if (RESTORED_FIELDS.has(field)) continue;
    if (!Object.is(live[field], want[field])) {
      throw new RangeError(`${where}.${field}: expected ${String(want[field])} (as saved), got ${String(live[field])}`);
    }
  }
}

function parseModelJSON(saved: unknown): SavedModel {
  let root: unknown = saved;
  if (typeof saved === 'string') {
    try {
      root = JSON.parse(saved);
    } catch (err) {
      throw new SyntaxError(`model: expected JSON text of a saved model, got ${describe(saved)} (${(err as Error).message})`);
    }
  }
  const m = checkObject('model', root);
  checkHeader(m.format, m.version, VERSION);
  const parts = parseConfigs('model.parts', m.parts);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const t = checkObject('model.tensors', m.tensors);
  for (const [key, value] of Object.entries(t)) {
    const where = `model.tensors["${key}"]`;
    checkTensorKey(key, parts);
    const o = checkObject(where, value);
    if (!isShape(o.shape)) throw new TypeError(`${where}.shape: expected an array of non-negative integers, got ${describe(o.shape)}`);
    tensors.set(key, { shape: o.shape.slice(), data: decodeFloats(`${where}.data`, o.data, shapeSize(o.shape)) });
  }
  return { parts, tensors };
}

function parseModelSafetensors(bytes: unknown): SavedModel {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`bytes: expected a Uint8Array, got ${describe(bytes)}`);
  const meta = loadSafetensorsMetadata(bytes);
  const what = 'safetensors __metadata__';
  checkHeader(meta.format, meta.version, String(VERSION), what);
  let configs: unknown;
  try {
    configs = JSON.parse(meta.parts ?? '');
  } catch {
    throw new RangeError(`${what}.parts: expected the part configurations as JSON text, got ${describe(meta.parts)}`);
  }
  const parts = parseConfigs(`${what}.parts`, configs);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [key, t] of Object.entries(loadSafetensors(bytes))) {
    checkTensorKey(key, parts);
    tensors.set(key, { shape: t.shape, data: t.data });
  }
  return { parts, tensors };
}

/** The format marker and version (a number in JSON, a string in safetensors metadata). */
function checkHeader(format: unknown, version: unknown, want: number | string, what = 'model'): void {
  if (format !== FORMAT) {
    throw new RangeError(`${what}.format: expected "${FORMAT}", got ${describe(format)}`);
  }
  if (version !== want) {
    throw new RangeError(`${what}.version: expected ${typeof want === 'string' ? `"${want}"` : want}, got ${describe(version)}`);
  }
}

function parseConfigs(where: string, v: unknown): Map<string, PartConfig> {
  const o = checkObject(where, v);
  const out = new Map<string, PartConfig>();
  for (const [name, c] of Object.entries(o)) {
    checkPartName(where, name);
    const cfg = checkObject(`${where}.${name}`, c);
    const kind = cfg.kind;
    if (typeof kind !== 'string' || !Object.prototype.hasOwnProperty.call(KINDS, kind)) {
      throw new RangeError(`${where}.${name}.kind: expected one of ${Object.keys(KINDS).join(', ')}, got ${describe(kind)}`);
    }
    checkConfigFields(`${where}.${name}`, kind as Kind, cfg);
    out.set(name, cfg as unknown as PartConfig);
  }
  if (out.size === 0) throw new RangeError(`${where}: expected at least one part, got none`);
  return out;
}

function checkConfigFields(where: string, kind: Kind, cfg: Record<string, unknown>): void {
  for (const [field, type] of Object.entries(KINDS[kind].fields)) {
    const x = cfg[field];
    const ok = type === 'bool' ? typeof x === 'boolean'
      : type === 'int' ? Number.isSafeInteger(x) && (x as number) >= 0
        : typeof x === 'number' && Number.isFinite(x);
    if (!ok) {
      const expected = type === 'bool' ? 'a boolean' : type === 'int' ? 'a non-negative integer' : 'a finite number';
      throw new TypeError(`${where}.${field}: expected ${expected}, got ${describe(x)}`);
    }
  }
}

/** A saved tensor key must be `<saved part>.<key>`. */
function checkTensorKey(key: string, parts: Map<string, PartConfig>): void {
  const dot = key.indexOf('.');
  if (dot <= 0 || !parts.has(key.slice(0, dot))) {
    throw new RangeError(`model.tensors: key "${key}" belongs to no saved part; expected "<part>.<key>" with a part of ${
      [...parts.keys()].map((n) => `"${n}"`).join(', ')}`);
  }
}

// ---------------------------------------------------------------- JSON floats

/** Float32 values as JSON-safe values: numbers, and strings for NaN, ±Infinity and −0. */
function encodeFloats(a: Float32Array): JSONFloat[] {
  const out = new Array<JSONFloat>(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    out[i] = Number.isFinite(v) ? (v === 0 && 1 / v < 0 ? '-0' : v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  }
  return out;
}

const SPECIAL: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

/** The inverse of encodeFloats; checks every element and the count. */
function decodeFloats(where: string, v: unknown, n: number): Float32Array {
  if (!Array.isArray(v)) throw new TypeError(`${where}: expected an array of numbers, got ${describe(v)}`);
  if (v.length !== n) throw new RangeError(`${where}: expected ${n} values (the shape's), got ${v.length}`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x: unknown = v[i];
    if (typeof x === 'number') out[i] = x;
    else if (typeof x === 'string' && Object.prototype.hasOwnProperty.call(SPECIAL, x)) out[i] = SPECIAL[x]!;
    else throw new TypeError(`${where}[${i}]: expected a number or one of "NaN", "Infinity", "-Infinity", "-0", got ${describe(x)}`);
  }
  return out;
}

// ---------------------------------------------------------------- small helpers

function checkSaveOptions(options: unknown): Record<string, string> | null {
  const o = checkObject('options', options);
  if (o.metadata === undefined) return null;
  const m = checkObject('options.metadata', o.metadata);
  for (const [k, v] of Object.entries(m)) {
    if (RESERVED_METADATA.includes(k)) {
      throw new RangeError(`options.metadata: expected keys other than the reserved ${RESERVED_METADATA.map((r) => `"${r}"`).join(', ')}, got "${k}"`);
    }
    if (typeof v !== 'string') throw new TypeError(`options.metadata["${k}"]: expected a string, got ${describe(v)}`);
  }
  return m as Record<string, string>;
}

function checkLoadOptions(options: unknown): boolean {
  const o = checkObject('options', options);
  if (o.partial !== undefined && typeof o.partial !== 'boolean') {
    throw new TypeError(`options.partial: expected a boolean, got ${describe(o.partial)}`);
  }
  return o.partial === true;
}

/** Part names: letters, digits, `_` and `-` (no `.`, which separates the part from its keys). */
function checkPartName(where: string, name: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(name) || name === '__proto__') {
    throw new RangeError(`${where}: expected part names of letters, digits, "_" and "-", got "${name}"`);
  }
}

function isShape(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && d >= 0);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Sets an own enumerable property (safe for any key, `__proto__` included). */
function define<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
