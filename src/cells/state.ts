/**
 * The recurrent state and its one shape rule: h, plus c for LSTM, each [R, B, H], where R is the
 * number of state rows per batch entry (1 for a cell or a runner, numLayers·numDirections for a
 * stack, layer-major, forward direction before reverse: PyTorch's h_n layout). Making, reading
 * (checking) and slicing states goes through here.
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

/** The shape of a state: whether it has c, H, and R rows per batch entry. */
export class StateShape {
  constructor(
    /** True for LSTM ({h, c}), false for GRU ({h}). */
    readonly hasCellState: boolean,
    readonly hiddenSize: number,
    /** State rows R per batch entry. */
    readonly rows: number,
    /** How messages spell R, e.g. `numLayers*numDirections` ('' for one row). */
    private readonly rowsName = '',
  ) {}

  /** Elements of h (and of c) for `batch` entries: R·B·H. */
  length(batch: number): number {
    return this.rows * batch * this.hiddenSize;
  }

  /** How messages spell the length. */
  get lengthName(): string {
    return this.rowsName === '' ? 'batch*hiddenSize' : `${this.rowsName}*batch*hiddenSize`;
  }

  /** A zero state: {h, c} or {h}, each [R, B, H]. */
  zeros<S extends CellState>(batch: number): S {
    checkFloat32Bytes(`batch (a state of ${batch} rows)`, (this.hasCellState ? 2 : 1) * this.length(batch));
    return this.wrap(new Float32Array(this.length(batch)), new Float32Array(this.hasCellState ? this.length(batch) : 0));
  }

  /** The public form {h, c} (LSTM) or {h} (GRU) of arrays (not copied). */
  wrap<S extends CellState>(h: Float32Array, c: Float32Array): S {
    return (this.hasCellState ? { h, c } : { h }) as S;
  }

  /**
   * Reads a user's state once: checks it holds h (and c) Float32Arrays of R·B·H and returns the
   * arrays (not copied), so nothing is read from the object again.
   */
  read(name: string, v: unknown, batch: number): StateArrays {
    const st = snapshot(name, v, this.hasCellState ? ['h', 'c'] : ['h']);   // own keys, read once
    const n = this.length(batch);
    const h = checkFloat32Length(`${name}.h`, st.h, n, this.lengthName);
    const c = this.hasCellState ? checkFloat32Length(`${name}.c`, st.c, n, this.lengthName) : EMPTY;
    return { h, c };
  }

  /**
   * Reads upstream gradients once: each member optional (missing means zero), else as `read`.
   */
  readPartial(name: string, v: unknown, batch: number): { h: Float32Array | null; c: Float32Array | null } {
    const st = snapshot(name, v, this.hasCellState ? ['h', 'c'] : ['h']);   // own keys, read once
    const n = this.length(batch);
    const h = st.h === undefined ? null : checkFloat32Length(`${name}.h`, st.h, n, this.lengthName);
    const c = !this.hasCellState || st.c === undefined ? null : checkFloat32Length(`${name}.c`, st.c, n, this.lengthName);
    return { h, c };
  }
}

/** Block k of a state's rows (views): elements [k·size, (k+1)·size) of h, and of c when present. */
export function stateBlock(s: StateArrays, k: number, size: number): StateArrays {
  return { h: s.h.subarray(k * size, (k + 1) * size), c: s.c.length === 0 ? s.c : s.c.subarray(k * size, (k + 1) * size) };
}

const EMPTY = new Float32Array(0);
