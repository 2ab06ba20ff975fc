/** Small builders shared by the cell and runner tests. */
import { GRUCell, LSTMCell, Random, type CellState, type RecurrentCell } from '../../src/index.js';

export type CellKind = 'lstm' | 'gru' | 'gru-reset-after';
export const CELL_KINDS: CellKind[] = ['lstm', 'gru', 'gru-reset-after'];

export function makeCell(kind: CellKind, inputSize: number, hiddenSize: number, seed = 1, bias = true): RecurrentCell<CellState> {
  if (kind === 'lstm') return new LSTMCell({ inputSize, hiddenSize, seed, bias });
  return new GRUCell({ inputSize, hiddenSize, seed, bias, resetAfter: kind === 'gru-reset-after' });
}

export function randn(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Random(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

export function randomState(cell: RecurrentCell<CellState>, batch: number, seed: number): CellState {
  const n = batch * cell.hiddenSize;
  return cell.hasCellState ? { h: randn(n, seed, 0.5), c: randn(n, seed + 1, 0.5) } : { h: randn(n, seed, 0.5) };
}

/** Σ a⊙w in float64. */
export function dot(a: ArrayLike<number>, w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * w[i]!;
  return s;
}

export function bitwiseEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
