/**
 * A cell's parameters (or their gradients) in PyTorch's layout, G = 4 (LSTM: gate blocks i,f,g,o)
 * or 3 (GRU: r,z,n), and their fixed order.
 */

/** A cell's parameters or gradients; the arrays are the cell's own. */
export interface CellParams {
  /** [G·H, I] input-to-hidden weights. */
  readonly weightIh: Float32Array;
  /** [G·H, H] hidden-to-hidden weights. */
  readonly weightHh: Float32Array;
  /** [G·H] input-side bias (absent when the cell was built with bias: false). */
  readonly biasIh?: Float32Array;
  /** [G·H] hidden-side bias (absent when the cell was built with bias: false). */
  readonly biasHh?: Float32Array;
  /**
   * [P, H] the LSTM's projection of h (PyTorch's weight_hr, present only with projSize P > 0;
   * weightHh is then [G·H, P]).
   */
  readonly weightHr?: Float32Array;
  /**
   * [3, H] peephole weights of a peephole LSTM (rows i, f, o: diagonal weights on c_{t−1} for i
   * and f, on c_t for o); absent otherwise.
   */
  readonly weightPeephole?: Float32Array;
}

/** The names of CellParams in their fixed order (PyTorch's: weight_hr after the biases; then this library's weightPeephole). */
export const PARAM_NAMES = ['weightIh', 'weightHh', 'biasIh', 'biasHh', 'weightHr', 'weightPeephole'] as const;

/** The parameter (or gradient) arrays in the fixed order: weightIh, weightHh, biasIh, biasHh, weightHr, weightPeephole. */
export function paramList(p: CellParams): Float32Array[] {
  const out = [p.weightIh, p.weightHh];
  if (p.biasIh) out.push(p.biasIh);
  if (p.biasHh) out.push(p.biasHh);
  if (p.weightHr) out.push(p.weightHr);
  if (p.weightPeephole) out.push(p.weightPeephole);
  return out;
}
