/**
 * Saving a trained model (its modules and its optimizer) to JSON or to a safetensors file, and
 * loading it back bit for bit.
 *
 * A model is a set of named parts, e.g. `{ rnn, head, opt }`: cells, LSTM/GRU stacks, Linear
 * layers and optimizers, or anything else with stateDict()/loadStateDict(). Every tensor is
 * stored under `<part>.<key>` with the part's own state-dict keys (PyTorch's: `rnn.weight_ih_l0`,
 * `head.weight`, `opt.0.exp_avg`), and every part's configuration beside them:
 *
 *   parts:   { "rnn": { "kind": "LSTM", "inputSize": 3, "hiddenSize": 16, "bias": true,
 *                       "numLayers": 2, "bidirectional": false },
 *              "head": { "kind": "Linear", "inFeatures": 16, "outFeatures": 1, "bias": true },
 *              "opt": { "kind": "Adam", "lr": 0.01, "beta1": 0.9, …, "step": 120 } }
 *
 * A configuration is what the part's class returns from `config()`, checked against its kind's
 * schema (registry.ts); the encodings are in codec.ts. This file holds the public functions and
 * the live side: reading parts, checking a saved model against them, loading, rolling back.
 *
 * Loading checks each part's configuration against the part it is loaded into (sizes, layers,
 * direction, bias, resetAfter, the optimizer's fixed hyperparameters) and every tensor's key and
 * shape, all before changing anything: a load either succeeds whole or changes nothing. An
 * optimizer gets back its step count and learning rate (as PyTorch's load_state_dict restores
 * param_groups); it must be built over the same parameters in the same order. Gradients are not
 * saved. `buildModel` rebuilds the modules (not optimizers) from the configuration alone, each
 * with its class's `fromConfig`.
 */
import type { Tensor } from '../core/tensor.js';
import { formatShape, shapeSize } from '../core/tensor-input.js';
import { checkObject, describe, hasOwn, isRevoked, ownValue, snapshot, typedArrayKind, typedLength } from '../core/validate.js';
import { checkFloat32Bytes, readMaxBytes, withMaxBytes } from '../core/limits.js';
import type { OptimizerState } from '../optim/optimizer.js';
import {
  decodeModelJSON, decodeModelSafetensors, define, encodeModelJSON, encodeModelSafetensors, isShape, RESERVED_METADATA,
  type ModelJSON, type SavedModel,
} from './codec.js';
import {
  article, buildableEntry, checkConfigMatch, checkPartName, entryOfKind, entryOfPart, readConfig,
  type BuildableClass, type BuiltModule, type CustomOptimizerConfig, type PartConfig, type Savable,
  type SavableModule, type SavableOptimizer,
} from './registry.js';

export type { JSONFloat, ModelJSON } from './codec.js';
export type {
  AdamConfig, BuildableClass, BuiltModule, CustomModuleConfig, CustomOptimizerConfig, GRUCellConfig, GRUConfig,
  EmbeddingConfig, LinearConfig, LSTMCellConfig, LSTMConfig, PartConfig, PartKind, Savable, SavableModule, SavableOptimizer, SGDConfig,
} from './registry.js';

// ---------------------------------------------------------------- public types

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
  /**
   * The most bytes the file may imply (the tensors it decodes to, and any tape or module built
   * meanwhile); default DEFAULT_MAX_BYTES = 1 GiB. Past it, a RangeError (or a SafetensorsError
   * for a safetensors file) is thrown before the memory is allocated.
   */
  maxBytes?: number;
}

/** buildModel's `expect` option: part names, each with the class it must have been saved as. */
export type ExpectedParts = Record<string, BuildableClass>;

/** What buildModel returns for `{ expect: E }`: each expected part as an instance of its class. */
export type BuiltModel<E extends ExpectedParts> = { -readonly [K in keyof E]: InstanceType<E[K]> };

/** Options of buildModel. */
export interface BuildModelOptions<E extends ExpectedParts = ExpectedParts> {
  /**
   * The parts to build, each with its class: `{ rnn: LSTM, head: Linear }`. Each must have been
   * saved under that name as that class's kind (else a RangeError naming the part and both
   * kinds); only these parts are built and returned, other saved parts are ignored. buildModel's
   * return type then names each part's class. Omitted: every saved module of the library's
   * classes is built, typed as BuiltModule.
   */
  expect?: E;
  /**
   * The most bytes the file may imply: its decoded tensors, and the parameters and gradients of
   * the modules its configurations declare (checked before any is built); default 1 GiB.
   */
  maxBytes?: number;
}

// ---------------------------------------------------------------- public functions

/**
 * The model as JSON-ready data (configurations and copies of every tensor).
 * @param parts named parts, e.g. `{ rnn, head, opt }`; names of letters, digits, `_` and `-`
 * @returns ModelJSON; `JSON.stringify` it to store it
 */
export function saveModel(parts: Record<string, Savable>, options: SaveModelOptions = {}): ModelJSON {
  const metadata = checkSaveOptions(options);
  return encodeModelJSON(savedModelOf(inspectParts(parts)), metadata);
}

/**
 * Loads a model saved by saveModel into `parts` (modules and optimizers built with the saved
 * configuration). Checks the parts' names, each configuration, and every tensor's key and shape
 * first; a mismatch throws, naming the part or key and both values, and nothing is loaded.
 * @param saved a ModelJSON, or its JSON text
 * @param parts the parts to load into, by the names they were saved under
 */
export function loadModel(saved: ModelJSON | string, parts: Record<string, Savable>, options: LoadModelOptions = {}): void {
  const { partial, maxBytes } = checkLoadOptions(options);
  withMaxBytes(maxBytes, () => loadParts(decodeModelJSON(saved), parts, partial));
}

/**
 * The model as the bytes of a .safetensors file: tensors as F32 under `<part>.<key>`, the part
 * configurations as JSON text in `__metadata__.parts`. This is the library's checkpoint, not a
 * PyTorch module's state dict: optimizer buffers sit beside the weights, and a GRU with
 * resetAfter: false has keys no nn.GRU loads. For a file `model.load_state_dict(…, strict=True)`
 * accepts, write `saveSafetensors(toPyTorch({ rnn, head }))`.
 * @param parts named parts, e.g. `{ rnn, head, opt }`
 */
export function saveModelSafetensors(parts: Record<string, Savable>, options: SaveModelOptions = {}): Uint8Array {
  const metadata = checkSaveOptions(options);
  return encodeModelSafetensors(savedModelOf(inspectParts(parts)), metadata);
}

/**
 * Loads a model saved by saveModelSafetensors into `parts`; the same checks and all-or-nothing
 * rule as loadModel.
 * @param bytes the file's bytes (any Uint8Array view, e.g. a Node Buffer)
 */
export function loadModelSafetensors(bytes: Uint8Array, parts: Record<string, Savable>, options: LoadModelOptions = {}): void {
  const { partial, maxBytes } = checkLoadOptions(options);
  withMaxBytes(maxBytes, () => loadParts(decodeModelSafetensors(bytes), parts, partial));
}

/**
 * Rebuilds the expected module parts of a saved model, each with its class's `fromConfig`, and
 * loads their weights. With `expect`, the result is typed by the classes named there:
 *
 * ```ts
 * const { rnn, head } = buildModel(bytes, { expect: { rnn: LSTM, head: Linear } });
 * rnn.run(x, { batch: 1 });   // rnn: LSTM, head: Linear
 * ```
 *
 * Exactly the expected parts are built and returned; each must have been saved under its name
 * as its class's kind (a missing part or another kind throws a RangeError naming the part, the
 * kind expected and the kind saved), and other saved parts are ignored. Optimizers are never
 * built: build one over the rebuilt parameters and load it with loadModel(…, { partial: true }).
 * @param saved a ModelJSON or its JSON text (from saveModel), or the bytes of a safetensors file
 *   (from saveModelSafetensors)
 * @param options `expect`: the parts to build and their classes, e.g. `{ rnn: LSTM, head: Linear }`
 */
export function buildModel<E extends ExpectedParts>(saved: ModelJSON | string | Uint8Array, options: { expect: E; maxBytes?: number }): BuiltModel<E>;
/**
 * Rebuilds every module part of a saved model whose class is the library's (LSTMCell, GRUCell,
 * LSTM, GRU, Linear, Embedding) from its configuration, and loads its weights. Optimizers and modules of
 * other classes are not built: build those yourself (an optimizer over the rebuilt parameters)
 * and load them with loadModel(…, { partial: true }). Pass `{ expect }` for typed parts.
 * @param saved a ModelJSON or its JSON text (from saveModel), or the bytes of a safetensors file
 *   (from saveModelSafetensors)
 * @returns the rebuilt modules by part name, e.g. `{ rnn: LSTM, head: Linear }`, typed BuiltModule
 */
export function buildModel(saved: ModelJSON | string | Uint8Array, options?: { expect?: undefined; maxBytes?: number }): Record<string, BuiltModule>;
export function buildModel(saved: ModelJSON | string | Uint8Array, options: BuildModelOptions = {}): Record<string, BuiltModule> {
  const { expected, maxBytes } = checkBuildOptions(options);
  return withMaxBytes(maxBytes, () => buildParts(saved, expected));
}

/** buildModel under its byte bound: checks every configuration against the file, then builds. */
function buildParts(saved: unknown, expected: Map<string, PartConfig['kind']> | null): Record<string, BuiltModule> {
  const model = typedArrayKind(saved) === 'Uint8Array' ? decodeModelSafetensors(saved) : decodeModelJSON(saved);
  const chosen: [string, PartConfig][] = [];
  if (expected === null) {
    for (const [name, config] of model.parts) if (entryOfKind(config.kind).build !== null) chosen.push([name, config]);
  } else {
    const list = [...model.parts.keys()].map((n) => `"${n}"`).join(', ');
    for (const [name, kind] of expected) {
      const config = model.parts.get(name);
      if (config === undefined) {
        throw new RangeError(`options.expect.${name}: expected a saved part "${name}" (${article(kind)}), got none; the model holds ${list}`);
      }
      if (config.kind !== kind) {
        throw new RangeError(`options.expect.${name}: expected part "${name}" saved as ${article(kind)}, got ${article(config.kind)}`);
      }
      chosen.push([name, config]);
    }
  }
  // Every declared configuration against the file's tensors, and the bytes the modules would
  // take, before the first module is built.
  let elements = 0;
  for (const [name, config] of chosen) {
    const shapes = entryOfKind(config.kind).shapes!(config);
    for (const [key, shape] of Object.entries(shapes)) {
      const full = `${name}.${key}`, t = model.tensors.get(full);
      if (t === undefined) throw new RangeError(`model.tensors: missing key "${full}" (expected shape ${formatShape(shape)} by the configuration of "${name}")`);
      if (!sameShape(t.shape, shape)) {
        throw new RangeError(`model.tensors["${full}"]: expected shape ${formatShape(shape)} (the configuration of "${name}"), got ${formatShape(t.shape)}`);
      }
      elements += 2 * shapeSize(shape);   // parameters and gradients
    }
    for (const key of model.tensors.keys()) {
      if (key.startsWith(`${name}.`) && !hasOwn(shapes, key.slice(name.length + 1))) {
        throw new RangeError(`model.tensors: unexpected key "${key}" (${name} has no such tensor)`);
      }
    }
  }
  checkFloat32Bytes('model.parts (the parameters and gradients of the modules declared)', elements);
  const built: Record<string, BuiltModule> = {};
  for (const [name, config] of chosen) define(built, name, entryOfKind(config.kind).build!(config));
  loadParts(model, built, true);
  return built;
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

/** The parts' configurations and tensors as a SavedModel, in part order then state-dict order. */
function savedModelOf(views: PartView[]): SavedModel {
  const model: SavedModel = { parts: new Map(), tensors: new Map() };
  for (const v of views) {
    model.parts.set(v.name, v.config);
    for (const [key, t] of Object.entries(v.tensors)) model.tensors.set(`${v.name}.${key}`, t);
  }
  return model;
}

function inspectPart(name: string, part: unknown): PartView {
  checkPartName('parts', name);
  const where = `parts.${name}`;
  if (typeof part !== 'object' || part === null || isRevoked(part)
    || typeof (part as Savable).stateDict !== 'function' || typeof (part as Savable).loadStateDict !== 'function') {
    throw new TypeError(`${where}: expected a module or optimizer with stateDict() and loadStateDict(), got ${describe(part)}`);
  }
  const state = (part as Savable).stateDict();
  const entry = entryOfPart(part, state);
  const config = readConfig(where, entry, part, state);

  if (entry.role === 'optimizer') {
    const opt = part as SavableOptimizer;
    const st = state as OptimizerState;
    const tensors = checkTensorRecord(`${where}.stateDict().tensors`, st.tensors);
    return {
      name, config, tensors,
      load(data, saved) {
        opt.loadStateDict({ step: (saved as CustomOptimizerConfig).step, tensors: data });
        entry.applyRestored(opt, saved);
      },
      restore() {
        opt.loadStateDict({ step: st.step, tensors });
        entry.applyRestored(opt, config);
      },
    };
  }
  const mod = part as SavableModule;
  const tensors = checkTensorRecord(`${where}.stateDict()`, state);
  return {
    name, config, tensors,
    load(data) { mod.loadStateDict(data); },
    restore() { mod.loadStateDict(tensors); },
  };
}

/** A part's state-dict tensors, checked to be Tensors (shape and matching Float32Array data). */
function checkTensorRecord(where: string, v: unknown): Record<string, Tensor> {
  const rec = checkObject(where, v);
  const out: Record<string, Tensor> = {};
  for (const key of Object.keys(rec)) {
    // Read once, data by brand (a Proxy of a Float32Array is not one).
    const o = snapshot(`${where}["${key}"]`, ownValue(rec, key), ['shape', 'data']);
    if (!isShape(o.shape) || typedArrayKind(o.data) !== 'Float32Array' || typedLength(o.data as Float32Array) !== shapeSize(o.shape)) {
      throw new TypeError(`${where}["${key}"]: expected a Tensor {dtype, shape, data: Float32Array}, got ${describe(o.data)} of shape ${
        isShape(o.shape) ? formatShape(o.shape) : describe(o.shape)}`);
    }
    define(out, key, { dtype: 'float32', shape: o.shape.slice(), data: o.data as Float32Array });
  }
  return out;
}

// ---------------------------------------------------------------- loading

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
  const views = names.map((name) => inspectPart(name, ownValue(p, name)));
  for (const v of views) {
    const saved = model.parts.get(v.name)!;
    checkConfigMatch(`parts.${v.name}`, v.config, saved);
    entryOfKind(saved.kind).checkRestored(`model.parts.${v.name}`, saved);
  }

  // Tensors: for every part loaded, exactly its keys, each of its shape.
  const byName = new Map(views.map((v) => [v.name, v]));
  for (const key of model.tensors.keys()) {
    const part = key.slice(0, key.indexOf('.'));
    const v = byName.get(part);
    if (v !== undefined && !Object.prototype.hasOwnProperty.call(v.tensors, key.slice(part.length + 1))) {
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

  // Everything is checked; should a part still throw (a custom part's own check), every part
  // touched, that one included, is put back.
  const done: PartView[] = [];
  try {
    for (const v of views) {
      done.push(v);
      v.load(data.get(v)!, model.parts.get(v.name)!);
    }
  } catch (err) {
    for (const v of done.reverse()) {
      try {
        v.restore();
      } catch {
        // A custom part that refuses its own state again: the others are still put back.
      }
    }
    throw err;
  }
}

// ---------------------------------------------------------------- options

function checkSaveOptions(options: unknown): Record<string, string> | null {
  const o = snapshot('options', options, ['metadata']);   // own keys, read once
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

function checkLoadOptions(options: unknown): { partial: boolean; maxBytes: number } {
  const o = snapshot('options', options, ['partial', 'maxBytes']);
  if (o.partial !== undefined && typeof o.partial !== 'boolean') {
    throw new TypeError(`options.partial: expected a boolean, got ${describe(o.partial)}`);
  }
  return { partial: o.partial === true, maxBytes: readMaxBytes('options.maxBytes', o.maxBytes) };
}

/** The expected parts and their kinds, or null without `expect`. */
function checkBuildOptions(options: unknown): { expected: Map<string, PartConfig['kind']> | null; maxBytes: number } {
  const o = snapshot('options', options, ['expect', 'maxBytes']);
  const maxBytes = readMaxBytes('options.maxBytes', o.maxBytes);
  if (o.expect === undefined) return { expected: null, maxBytes };
  const e = checkObject('options.expect', o.expect);
  const out = new Map<string, PartConfig['kind']>();
  for (const [name, cls] of Object.entries(e)) {
    checkPartName('options.expect', name);
    out.set(name, buildableEntry(`options.expect.${name}`, cls).kind);
  }
  if (out.size === 0) throw new RangeError('options.expect: expected at least one part and its class, got none');
  return { expected: out, maxBytes };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
