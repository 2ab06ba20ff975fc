/**
 * A named array with a shape, as in a PyTorch state dict or a safetensors file.
 * `data` is row-major and holds exactly shape.reduce(×) elements.
 */
export interface Tensor {
  dtype: 'float32';
  shape: number[];
  data: Float32Array;
}

/**
 * A trainable parameter: its values and the gradient that backward adds into (same length).
 * Optimizers, gradient clipping and gradCheck take lists of these.
 */
export interface Parameter {
  /** A stable name, e.g. `weightIh`, or in a stack `l0_reverse.weightIh`. */
  name: string;
  /** The values, updated in place by optimizers. */
  value: Float32Array;
  /** The gradient, same length as value. */
  grad: Float32Array;
}
