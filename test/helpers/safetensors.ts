/**
 * loadSafetensors for files known to hold float tensors only: every tensor checked to have come
 * back as float32, and typed so (loadSafetensors itself types each tensor as AnyTensor).
 */
import { expect } from 'vitest';
import type { Tensor } from '../../src/core/tensor.js';
import { loadSafetensors } from '../../src/io/safetensors.js';

export function loadFloat32(bytes: Uint8Array): Record<string, Tensor> {
  const out = loadSafetensors(bytes);
  for (const [k, t] of Object.entries(out)) expect(t.dtype, k).toBe('float32');
  return out as Record<string, Tensor>;
}
