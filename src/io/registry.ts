/**
 * The part kinds of a saved model: which classes save under which kind, the schema of each
 * kind's configuration, and how a live part is recognised and its configuration read.
 *
 * Every savable class owns its configuration: a static `kind`, `config()` (a new plain object,
 * `kind` included) and a static `fromConfig` (modules: `Cls.fromConfig(config)`; optimizers:
 * `Cls.fromConfig(params, config)`). This file lists those classes once (KINDS) and keys them by
 * class: a part is recognised by its `constructor` (a subclass is not its base class: it saves
 * as a custom part), its configuration is read only through `config()` and checked against the
 * kind's schema here, and a module is rebuilt only through `fromConfig`. Parts of other classes
 * keep the kinds 'module' and 'optimizer', told apart by the shape of their stateDict().
 *
 * Imports point down: io imports the classes, the classes never import io.
 */
import { GRUCell, type GRUCellConfig } from '../cells/gru.js';
import { LSTMCell, type LSTMCellConfig } from '../cells/lstm.js';
import { GRU, LSTM, type GRUConfig, type LSTMConfig } from '../modules/rnn.js';
import { Linear, type LinearConfig } from '../nn/linear.js';
import { Embedding, type EmbeddingConfig } from '../nn/embedding.js';
import { Adam, type AdamConfig } from '../optim/adam.js';
import { SGD, type SGDConfig } from '../optim/sgd.js';
import type { Optimizer, OptimizerState, OptimizerStateInput } from '../optim/optimizer.js';
import type { Tensor } from '../core/tensor.js';
import type { TensorInput } from '../core/tensor-input.js';
import { checkObject, describe, ownValue } from '../core/validate.js';
import { MAX_LAYERS, MAX_SIZE } from '../core/limits.js';
import { cellShapes, RESET_BEFORE_TAG, type CellLayout } from '../cells/pytorch.js';

export type { LSTMCellConfig, GRUCellConfig, LSTMConfig, GRUConfig, LinearConfig, EmbeddingConfig, SGDConfig, AdamConfig };

// ---------------------------------------------------------------- public types

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
  | LSTMCellConfig | GRUCellConfig | LSTMConfig | GRUConfig | LinearConfig | EmbeddingConfig
  | SGDConfig | AdamConfig | CustomModuleConfig | CustomOptimizerConfig;

/** A part kind: a class's static `kind`, or 'module' / 'optimizer' for parts of other classes. */
export type PartKind = PartConfig['kind'];

/** What buildModel can rebuild from a configuration alone. */
export type BuiltModule = LSTMCell | GRUCell | LSTM | GRU | Linear | Embedding;

/** The classes of BuiltModule: what buildModel's `expect` option names a part's class with. */
export type BuildableClass = typeof LSTMCell | typeof GRUCell | typeof LSTM | typeof GRU | typeof Linear | typeof Embedding;

// ---------------------------------------------------------------- schema

/**
 * A configuration field's type: a safe non-negative integer, a boolean, a finite number, or a
 * safe non-negative integer or null (an optional index).
 */
type FieldType = 'int' | 'bool' | 'number' | 'intOrNull';

/** The field types a configuration value of type V may be declared with. */
type FieldTypeOf<V> = [V] extends [boolean] ? 'bool' : null extends V ? 'intOrNull' : [V] extends [number] ? 'int' | 'number' : never;

/**
 * A kind's schema: every field of its configuration but `kind`, with its type, in the order
 * files store them (the order of this object's keys). Typed against the class's Config
 * interface, so a field added, renamed or removed there fails to compile here.
 */
type Schema<C> = { readonly [K in Exclude<keyof C, 'kind'>]-?: FieldTypeOf<C[K]> };

/** What the registry knows of a kind. */
export interface KindEntry {
  /** The kind files store: the class's static `kind`, or 'module' / 'optimizer'. */
  readonly kind: PartKind;
  /** The class that saves as this kind; null for 'module' and 'optimizer'. */
  readonly cls: object | null;
  /** A module (state dict of tensors) or an optimizer (state dict `{ step, tensors }`). */
  readonly role: 'module' | 'optimizer';
  /** The configuration's fields (besides `kind`) and their types, in file order. */
  readonly fields: Readonly<Record<string, FieldType>>;
  /**
   * Values of fields added after the first file format, for saved configurations that lack them
   * (a file written before the field existed loads as what it was: e.g. batchFirst false).
   */
  readonly defaults: Readonly<Record<string, boolean | number>>;
  /** Fields a load restores into the live part (lr, step) instead of checking them against it. */
  readonly restored: readonly string[];
  /** The live part's configuration, unchecked (the class's config(); custom parts: from the state). */
  read(part: object, state: unknown): unknown;
  /** Builds a module from a checked configuration; null when the kind cannot be built from it. */
  readonly build: ((config: PartConfig) => BuiltModule) | null;
  /**
   * The state-dict keys and shapes a checked configuration implies (buildable kinds), so that a
   * file's tensors are checked against its configuration before anything is built; null else.
   */
  readonly shapes: ((config: PartConfig) => Record<string, number[]>) | null;
  /** Throws unless the restored fields of a checked configuration are valid values (lr ≥ 0). */
  checkRestored(where: string, config: PartConfig): void;
  /**
   * Puts a checked configuration's restored fields other than `step` (which loadStateDict
   * restores) into a live part of this kind: an optimizer's lr. Does nothing for other kinds.
   */
  applyRestored(part: Savable, config: PartConfig): void;
}

/** A module class as the registry needs it: its kind, config() and fromConfig. */
interface ModuleClass<C extends { kind: string }, M extends BuiltModule & { config(): C }> {
  readonly kind: C['kind'];
  readonly prototype: M;
  fromConfig(config: C): M;
}

/** The configuration type of an optimizer class: what its config() returns. */
type OptimizerConfigOf<O extends Optimizer & { config(): { kind: string; lr: number; step: number } }> = ReturnType<O['config']>;

function moduleKind<C extends { kind: string }, M extends BuiltModule & { config(): C }>(
  cls: ModuleClass<C, M>, fields: Schema<C>, shapes: (config: C) => Record<string, number[]>,
  defaults: Partial<Omit<C, 'kind'>> = {},
): KindEntry {
  return {
    kind: cls.kind as PartKind, cls, role: 'module', fields: fields as Record<string, FieldType>, restored: [],
    defaults: defaults as Record<string, boolean | number>,
    read: (part) => (part as M).config(),
    build: (config) => cls.fromConfig(config as unknown as C),
    shapes: (config) => shapes(config as unknown as C),
    checkRestored: () => {},
    applyRestored: () => {},
  };
}

/** The PyTorch shapes of a cell (gateCount G) or a stack of them, from a checked configuration. */
function recurrentShapes(
  G: number, c: { inputSize: number; hiddenSize: number; bias: boolean; numLayers?: number; bidirectional?: boolean; projSize?: number; peephole?: boolean },
): Record<string, number[]> {
  const L = c.numLayers ?? 0, D = c.bidirectional === true ? 2 : 1, out: Record<string, number[]> = {};
  const projSize = c.projSize ?? 0, P = projSize > 0 ? projSize : c.hiddenSize;   // layer k > 0 reads D·P features
  // A GRU of the reset-before form stores its keys tagged (see cells/pytorch.ts).
  const keyTag = (c as { resetAfter?: boolean }).resetAfter === false ? RESET_BEFORE_TAG : '';
  const cell = (inputSize: number): CellLayout => ({
    inputSize, hiddenSize: c.hiddenSize, gateCount: G, bias: c.bias, projSize, negatedRows: null, keyTag,
    peephole: c.peephole === true,
  });
  if (c.numLayers === undefined) return cellShapes(cell(c.inputSize), '');
  for (let l = 0; l < L; l++) {
    for (let d = 0; d < D; d++) Object.assign(out, cellShapes(cell(l === 0 ? c.inputSize : D * P), `_l${l}${d === 1 ? '_reverse' : ''}`));
  }
  return out;
}

function optimizerKind<O extends Optimizer & { config(): { kind: string; lr: number; step: number } }>(
  cls: { readonly kind: OptimizerConfigOf<O>['kind']; readonly prototype: O }, fields: Schema<OptimizerConfigOf<O>>,
): KindEntry {
  return {
    kind: cls.kind as PartKind, cls, role: 'optimizer', fields: fields as Record<string, FieldType>, restored: ['lr', 'step'], defaults: {},
    read: (part) => (part as O).config(),
    build: null,
    shapes: null,
    checkRestored: (where, config) => {
      const lr = (config as unknown as { lr: number }).lr;
      if (!(lr >= 0)) throw new RangeError(`${where}.lr: expected a finite number >= 0, got ${describe(lr)}`);
    },
    applyRestored: (part, config) => { (part as O).lr = (config as unknown as OptimizerConfigOf<O>).lr; },
  };
}

const CELL = { inputSize: 'int', hiddenSize: 'int', bias: 'bool' } as const;
const STACK = { ...CELL, numLayers: 'int', bidirectional: 'bool', batchFirst: 'bool', dropout: 'number' } as const;
/** The fields later than the first format, and what a file without them means. */
const STACK_DEFAULTS = { batchFirst: false, dropout: 0 } as const;
const PROJ_DEFAULTS = { projSize: 0 } as const;
/** The LSTM's fields after projSize: the peephole flag (absent in a file: false). */
const LSTM_EXTRA = { projSize: 'int', peephole: 'bool' } as const;
const LSTM_DEFAULTS = { ...PROJ_DEFAULTS, peephole: false } as const;

/** A part of another class whose stateDict() is a record of tensors. */
const CUSTOM_MODULE: KindEntry = {
  kind: 'module', cls: null, role: 'module', fields: {}, restored: [], defaults: {},
  read: () => ({ kind: 'module' }), build: null, shapes: null, checkRestored: () => {}, applyRestored: () => {},
};

/** A part of another class whose stateDict() is `{ step, tensors }`. */
const CUSTOM_OPTIMIZER: KindEntry = {
  kind: 'optimizer', cls: null, role: 'optimizer', fields: { step: 'int' }, restored: ['step'], defaults: {},
  read: (_, state) => ({ kind: 'optimizer', step: (state as OptimizerState).step }), build: null, shapes: null,
  checkRestored: () => {}, applyRestored: () => {},
};

/** Every kind, in the order messages list them. */
const KINDS: readonly KindEntry[] = [
  moduleKind(LSTMCell, { ...CELL, ...LSTM_EXTRA }, (c) => recurrentShapes(4, c), LSTM_DEFAULTS),
  moduleKind(GRUCell, { ...CELL, resetAfter: 'bool' }, (c) => recurrentShapes(3, c)),
  moduleKind(LSTM, { ...STACK, ...LSTM_EXTRA }, (c) => recurrentShapes(4, c), { ...STACK_DEFAULTS, ...LSTM_DEFAULTS }),
  moduleKind(GRU, { ...STACK, resetAfter: 'bool' }, (c) => recurrentShapes(3, c), STACK_DEFAULTS),
  moduleKind(Linear, { inFeatures: 'int', outFeatures: 'int', bias: 'bool' },
    (c): Record<string, number[]> => (c.bias ? { weight: [c.outFeatures, c.inFeatures], bias: [c.outFeatures] } : { weight: [c.outFeatures, c.inFeatures] })),
  moduleKind(Embedding, { numEmbeddings: 'int', embeddingDim: 'int', paddingIdx: 'intOrNull' },
    (c): Record<string, number[]> => ({ weight: [c.numEmbeddings, c.embeddingDim] })),
  optimizerKind(SGD, { lr: 'number', momentum: 'number', nesterov: 'bool', weightDecay: 'number', dampening: 'number', step: 'int' }),
  optimizerKind(Adam, {
    lr: 'number', beta1: 'number', beta2: 'number', eps: 'number', weightDecay: 'number', decoupled: 'bool', step: 'int',
  }),
  CUSTOM_MODULE,
  CUSTOM_OPTIMIZER,
];

const BY_KIND = new Map<string, KindEntry>(KINDS.map((e) => [e.kind, e]));
const BY_CLASS = new Map<unknown, KindEntry>(KINDS.filter((e) => e.cls !== null).map((e) => [e.cls, e]));

// ---------------------------------------------------------------- lookups

/** The entry of a part: by its class, else 'optimizer' or 'module' by the shape of its state dict. */
export function entryOfPart(part: object, state: unknown): KindEntry {
  return BY_CLASS.get(part.constructor) ?? (isOptimizerState(state) ? CUSTOM_OPTIMIZER : CUSTOM_MODULE);
}

/** The entry of a kind known to be registered. */
export function entryOfKind(kind: PartKind): KindEntry {
  return BY_KIND.get(kind)!;
}

/**
 * The entry of a class buildModel can build, for `options.expect.<name>`; throws a TypeError
 * naming `where` unless `cls` is one of them.
 */
export function buildableEntry(where: string, cls: unknown): KindEntry {
  const e = BY_CLASS.get(cls);
  if (e === undefined || e.build === null) {
    const given = typeof cls === 'function' && cls.name !== '' ? `class ${cls.name}` : describe(cls);
    const names = KINDS.filter((k) => k.build !== null).map((k) => k.kind).join(', ');
    throw new TypeError(`${where}: expected one of the classes ${names}, got ${given}`);
  }
  return e;
}

/** An optimizer's state dict has a numeric step; a module's values are all tensors. */
function isOptimizerState(s: unknown): s is OptimizerState {
  if (typeof s !== 'object' || s === null) return false;
  const tensors = ownValue(s, 'tensors');
  return typeof ownValue(s, 'step') === 'number' && typeof tensors === 'object' && tensors !== null;
}

/** "an LSTM", "a GRU", …: the kind with its article, for messages. */
export function article(kind: string): string {
  return `${['LSTMCell', 'LSTM', 'SGD', 'Adam', 'optimizer'].includes(kind) ? 'an' : 'a'} ${kind}`;
}

// ---------------------------------------------------------------- configurations

/**
 * A live part's configuration as files store it: what its class's config() returns (custom
 * parts: their kind, and an optimizer's step), checked against the kind's schema and copied in
 * file order. `where` names the part (`parts.rnn`).
 */
export function readConfig(where: string, entry: KindEntry, part: object, state: unknown): PartConfig {
  const raw = entry.read(part, state);
  const c = checkObject(`${where}.config()`, raw);
  if (c.kind !== entry.kind) {
    throw new TypeError(`${where}.config().kind: expected "${entry.kind}" (its class's kind), got ${describe(c.kind)}`);
  }
  for (const field of Object.keys(c)) {
    if (field !== 'kind' && !Object.prototype.hasOwnProperty.call(entry.fields, field)) {
      throw new TypeError(`${where}.config(): expected only the fields kind, ${Object.keys(entry.fields).join(', ')} of ${
        article(entry.kind)}, got also "${field}"`);
    }
  }
  return checkedCopy(where, entry, c);
}

/**
 * A saved configuration, checked: an object with a registered kind and every field of its
 * schema of the right type. Fields the schema does not know are dropped. `where` names it
 * (`model.parts.rnn`).
 */
export function parseConfig(where: string, v: unknown): PartConfig {
  const c = checkObject(where, v);
  const kind = ownValue(c, 'kind');
  const entry = typeof kind === 'string' ? BY_KIND.get(kind) : undefined;
  if (entry === undefined) {
    throw new RangeError(`${where}.kind: expected one of ${KINDS.map((e) => e.kind).join(', ')}, got ${describe(kind)}`);
  }
  return checkedCopy(where, entry, c);
}

/** `{ kind, ...fields }` in schema order, each field checked against its type. */
function checkedCopy(where: string, entry: KindEntry, c: Record<string, unknown>): PartConfig {
  const out: Record<string, unknown> = { kind: entry.kind };
  for (const [field, type] of Object.entries(entry.fields)) {
    const given = ownValue(c, field);   // own keys only, read once
    const x = given === undefined && Object.prototype.hasOwnProperty.call(entry.defaults, field) ? entry.defaults[field] : given;
    const isInt = Number.isSafeInteger(x) && (x as number) >= 0;
    const ok = type === 'bool' ? typeof x === 'boolean'
      : type === 'int' ? isInt
        : type === 'intOrNull' ? isInt || x === null
          : typeof x === 'number' && Number.isFinite(x);
    if (!ok) {
      const expected = type === 'bool' ? 'a boolean' : type === 'int' ? 'a non-negative integer'
        : type === 'intOrNull' ? 'a non-negative integer or null' : 'a finite number';
      throw new TypeError(`${where}.${field}: expected ${expected}, got ${describe(x)}`);
    }
    // Sizes within the documented limits (a step count only within the safe integers).
    const max = field === 'step' ? Number.MAX_SAFE_INTEGER : field === 'numLayers' ? MAX_LAYERS : MAX_SIZE;
    if (type === 'int' && (x as number) > max) {
      throw new RangeError(`${where}.${field}: expected a non-negative integer at most ${max} (the limit), got ${x as number}`);
    }
    out[field] = x;
  }
  return out as unknown as PartConfig;
}

/**
 * A checked configuration as files store it: a field added after format version 1 is left out
 * when it holds the value its absence means (parseConfig puts it back), so the file of a model
 * that does not use the newer options is byte for byte a version 1 file, which older readers load.
 */
export function storedConfig(config: PartConfig): PartConfig {
  const defaults = entryOfKind(config.kind).defaults;
  const out: Record<string, unknown> = {};
  for (const [field, v] of Object.entries(config)) {
    if (!(Object.prototype.hasOwnProperty.call(defaults, field) && Object.is(defaults[field], v))) out[field] = v;
  }
  return out as unknown as PartConfig;
}

/**
 * Throws unless a live part's configuration matches the saved one: the same kind, and the same
 * value of every field a load does not restore (all but lr and step).
 */
export function checkConfigMatch(where: string, live: PartConfig, saved: PartConfig): void {
  if (saved.kind !== live.kind) {
    throw new RangeError(`${where}: expected ${article(saved.kind)} (as saved), got ${live.kind}`);
  }
  const entry = entryOfKind(saved.kind);
  const l = live as unknown as Record<string, unknown>, s = saved as unknown as Record<string, unknown>;
  for (const field of Object.keys(entry.fields)) {
    if (entry.restored.includes(field)) continue;
    if (!Object.is(l[field], s[field])) {
      throw new RangeError(`${where}.${field}: expected ${String(s[field])} (as saved), got ${String(l[field])}`);
    }
  }
}

/** Part names: letters, digits, `_` and `-` (no `.`, which separates the part from its keys). */
export function checkPartName(where: string, name: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(name) || name === '__proto__') {
    throw new RangeError(`${where}: expected part names of letters, digits, "_" and "-", got "${name}"`);
  }
}
