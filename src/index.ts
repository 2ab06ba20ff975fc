/**
 * recurrent-cells: LSTM and GRU cells on Float32Array kernels, with hand-written backprop
 * through time. Layout: kernels → cells (forward and backward side by side) → layers (the scan
 * over time, one or two directions) → stacks → what builds on them (training, streaming, files).
 *
 * This entry point is the user API. The GEMM kernels and activations are at
 * `recurrent-cells/kernels`.
 */
export { Random } from './core/random.js';
export { withMaxBytes, DEFAULT_MAX_BYTES, MAX_SIZE, MAX_LAYERS, MAX_KEYS, MAX_ELEMENTS } from './core/limits.js';
export { getBackend, setBackend, type BackendName } from './kernels/backend.js';
export { tensor, type Tensor, type Parameter, type Dtype, type DtypeArrays, type TypedTensor, type AnyTensor } from './core/tensor.js';
export type { TensorInput, NestedNumbers, StateDictOptions, LoadStateDictOptions } from './core/tensor-input.js';
export type { CellParams } from './cells/params.js';
export type { CellState, LSTMState, GRUState } from './cells/state.js';
// The abstract bases are types: their step protocol is internal, so they cannot be subclassed outside.
export type { RecurrentCell, CellOptions, CellForward, CellBackward } from './cells/cell.js';
export { LSTMCell, type LSTMCellOptions } from './cells/lstm.js';
export { GRUCell, type GRUCellOptions } from './cells/gru.js';
export type { RecurrentModule, RunOptions, RunResult, BackwardInput, BackwardResult } from './layers/module.js';
export { SequenceRunner, type SequenceRunnerOptions } from './layers/sequence-runner.js';
export { BidirectionalLayer } from './layers/bidirectional.js';
export type { RecurrentStack } from './modules/rnn.js';
export {
  LSTM, GRU, type StackOptions, type LSTMStackOptions, type GRUStackOptions, type FromPyTorchOptions,
  type StackRunOptions, type StackRunResult, type StackBackwardInput, type StackBackwardResult,
} from './modules/rnn.js';
export { Linear, type LinearOptions, type LinearParams, type LinearForward } from './nn/linear.js';
export {
  Embedding, type EmbeddingOptions, type EmbeddingFromPyTorchOptions, type EmbeddingForward, type EmbeddingIndices,
} from './nn/embedding.js';
export { mseLoss, softmaxCrossEntropy } from './nn/losses.js';
export { SGD, type SGDOptions } from './optim/sgd.js';
export { Adam, type AdamOptions } from './optim/adam.js';
export { clipGradNorm } from './optim/clip.js';
export { Optimizer, type OptimizerState, type OptimizerStateInput } from './optim/optimizer.js';
export { xavierUniform, orthogonal, orthogonalRecurrent, xavierInput, forgetBias } from './init/initializers.js';
export {
  gradCheck, type GradCheckOptions, type GradCheckParam, type GradCheckEntry, type GradCheckResult,
} from './gradcheck.js';
export { TruncatedBPTT, type TBPTTModule, type TruncatedBPTTOptions } from './train/tbptt.js';
export { StreamingRunner, type StreamModule, type StreamingRunnerOptions } from './train/stream.js';
export { saveSafetensors, loadSafetensors, loadSafetensorsMetadata, SafetensorsError } from './io/safetensors.js';
export {
  saveModel, loadModel, saveModelSafetensors, loadModelSafetensors, buildModel,
  type Savable, type SavableModule, type SavableOptimizer, type ModelJSON, type JSONFloat, type PartConfig,
  type LSTMCellConfig, type GRUCellConfig, type LSTMConfig, type GRUConfig, type LinearConfig, type EmbeddingConfig, type SGDConfig, type AdamConfig,
  type CustomModuleConfig, type CustomOptimizerConfig, type SaveModelOptions, type LoadModelOptions, type BuiltModule,
  type PartKind, type BuildableClass, type BuildModelOptions, type ExpectedParts, type BuiltModel,
} from './io/model.js';
export { toPyTorch, type PyTorchPart } from './io/pytorch.js';
export { exportONNX, ONNX_OPSET, type ExportONNXOptions } from './io/onnx-export.js';
export { ONNXError } from './onnx/protobuf.js';
export type { FromONNXOptions } from './onnx/import.js';
