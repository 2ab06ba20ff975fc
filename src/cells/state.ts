/**
 * The recurrent state and its one shape rule: h [R, B, P], plus c [R, B, H] for LSTM, where R is
 * the number of state rows per batch entry (1 for a cell or a runner, numLayers·numDirections for
 * a stack, layer-major, forward direction before reverse: PyTorch's h_n layout) and P the
 * features of h: the LSTM's projSize when it has one, else H (PyTorch's proj_size). Making,
 * reading (checking) and slicing states goes through here.
 */
import { checkFloat32Length, snapshot } from '../core/validate.js';
import { checkFloat32Bytes } from '../core/limits.js';

/** LSTM state: h and c, each [R, B, H]. */
export interface LSTMState {
  h: Float32Array;
  c: Float32Array;
}

/** GRU state: h [R, B, H]. */
export interface GRUState {
  h: Float32Array;
}

/** Any cell's state. */
export type CellState = LSTMState | GRUState;

/** A state's arrays with c always present (length 0 without a cell state): the internal form. */
export interface StateArrays {
  h: Float32Array;
  c: Float32Array;
}

/** The shape of a state: whether it has c, H, P, and R rows per batch entry. */
export class StateShape {
  /** P: features of h, projSize when set, else H. */
  readonly hSize: number;

  constructor(
    /** True for LSTM ({h, c}), false for GRU ({h}). */
    readonly hasCellState: boolean,
    /** H: features of c (and of h without a projection). */
    readonly hiddenSize: number,
    /** State rows R per batch entry. */
    readonly rows: number,
    /** How messages spell R, e.g. `numLayers*numDirections` ('' for one row). */
    private readonly rowsName = '',
    /** The LSTM's projSize P (0: none, h has H features). */
    readonly projSize = 0,
  ) {
    this.hSize = projSize > 0 ? projSize : hiddenSize;
  }

  /** Elements of h for `batch` entries: R·B·P. */
  length(batch: number): number {
    return this.rows * batch * this.hSize;
  }

  /** Elements of c for `batch` entries: R·B·H (0 without a cell state). */
  cellLength(batch: number): number {
    return this.hasCellState ? this.rows * batch * this.hiddenSize : 0;
  }

  /** How messages spell the length of h. */
  get lengthName(): string {
    return this.spell(this.projSize > 0 ? 'projSize' : 'hiddenSize');
  }

  /** How messages spell the length of c. */
  get cellLengthName(): string {
    return this.spell('hiddenSize');
  }

  private spell(features: string): string {
    return this.rowsName === '' ? `batch*${features}` : `${this.rowsName}*batch*${features}`;
  }

  /** A zero state: {h [R, B, P], c [R, B, H]} or {h}. */
  zeros<S extends CellState>(batch: number): S {
    checkFloat32Bytes(`batch (a state of ${batch} rows)`, this.length(batch) + this.cellLength(batch));
    return this.wrap(new Float32Array(this.length(batch)), new Float32Array(this.cellLength(batch)));
  }

  /** The public form {h, c} (LSTM) or {h} (GRU) of arrays (not copied). */
  wrap<S extends CellState>(h: Float32Array, c: Float32Array): S {
    return (this.hasCellState ? { h, c } : { h }) as S;
  }

  /**
   * Reads a user's state once: checks it holds h (R·B·P) and c (R·B·H) Float32Arrays and returns
   * the arrays (not copied), so nothing is read from the object again.
   */
  read(name: string, v: unknown, batch: number): StateArrays {
    const st = snapshot(name, v, this.hasCellState ? ['h', 'c'] : ['h']);   // own keys, read once
    const h = checkFloat32Length(`${name}.h`, st.h, this.length(batch), this.lengthName);
    const c = this.hasCellState ? checkFloat32Length(`${name}.c`, st.c, this.cellLength(batch), this.cellLengthName) : EMPTY;
    return { h, c };
  }

  /**
   * Reads upstream gradients once: each member optional (missing means zero), else as `read`.
   */
  readPartial(name: string, v: unknown, batch: number): { h: Float32Array | null; c: Float32Array | null } {
    const st = snapshot(name, v, this.hasCellState ? ['h', 'c'] : ['h']);   // own keys, read once
    const h = st.h === undefined ? null : checkFloat32Length(`${name}.h`, st.h, this.length(batch), this.lengthName);
    const c = !this.hasCellState || st.c === undefined ? null
      : checkFloat32Length(`${name}.c`, st.c, this.cellLength(batch), this.cellLengthName);
    return { h, c };
  }
}

/**
 * Block k of a state's rows (views): elements [k·size, (k+1)·size) of h, and [k·cSize,
 * (k+1)·cSize) of c when present (cSize differs from size with a projection).
 */
export function stateBlock(s: StateArrays, k: number, size: number, cSize = size): StateArrays {
  return { h: s.h.subarray(k * size, (k + 1) * size), c: s.c.length === 0 ? s.c : s.c.subarray(k * cSize, (k + 1) * cSize) };
}

const EMPTY = new Float32Array(0);
