/**
 * recurrent-cells: LSTM and GRU cells on Float32Array kernels, with hand-written backprop
 * through time. Layout: kernels → cells (forward and backward side by side) → runner → what
 * builds on them.
 */
export { gemmNN, gemmNT, gemmTN } from './kernels/gemm.js';
export { gemmReference } from './kernels/gemm-reference.js';
export { sigmoid, tanh } from './kernels/activations.js';
export { Random } from './core/random.js';
export type { Tensor, Parameter } from './core/tensor.js';
export { CellTape } from './cells/tape.js';
export {
  RecurrentCell,
  paramList,
  type CellParams,
  type CellState,
  type LSTMState,
  type GRUState,
  type CellOptions,
  type CellForward,
  type CellBackward,
} from './cells/cell.js';
export { LSTMCell, type LSTMCellOptions } from './cells/lstm.js';
export { GRUCell, type GRUCellOptions } from './cells/gru.js';
export {
  SequenceRunner,
  type RunOptions,
  type RunResult,
  type BackwardInput,
  type BackwardResult,
} from './runner/sequence-runner.js';
export {
  gradCheck,
  type GradCheckOptions,
  type GradCheckParam,
  type GradCheckEntry,
  type GradCheckResult,
} from './gradcheck.js';
export { saveSafetensors, loadSafetensors, loadSafetensorsMetadata, SafetensorsError } from './io/safetensors.js';
