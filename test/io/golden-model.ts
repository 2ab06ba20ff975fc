/**
 * A fixed model of every part kind (the seven classes, a custom module and a custom optimizer),
 * with NaN, ±Infinity and −0 among its weights and optimizers that have stepped: the format
 * tests save it and compare with the files under test/fixtures/model_v1.* written by version 1
 * of the format.
 */
import { Adam, GRU, GRUCell, Linear, LSTM, LSTMCell, SGD, type Tensor } from '../../src/index.js';
import { randn } from '../helpers/cells.js';

/** A module that is not one of the library's classes. */
export class GoldenCustomModule {
  values = Float32Array.from([1.5, -2, 3]);
  stateDict(): Record<string, Tensor> {
    return { values: { dtype: 'float32', shape: [3], data: this.values.slice() } };
  }
  loadStateDict(sd: Record<string, unknown>): void {
    this.values.set((sd.values as Tensor).data);
  }
}

/** An optimizer-shaped part that is not one of the library's classes. */
export class GoldenCustomOptimizer {
  step = 7;
  buf = Float32Array.from([0.25, 0.5]);
  stateDict() {
    return { step: this.step, tensors: { '0.buf': { dtype: 'float32' as const, shape: [2], data: this.buf.slice() } } };
  }
  loadStateDict(s: { step: number; tensors: Record<string, unknown> }): void {
    this.step = s.step;
    this.buf.set((s.tensors['0.buf'] as Tensor).data);
  }
}

/** Builds the golden model; every value is a function of the seeds below. */
export function goldenModel() {
  const cell = new LSTMCell({ inputSize: 2, hiddenSize: 2, bias: false, seed: 1 });
  const gcell = new GRUCell({ inputSize: 2, hiddenSize: 2, resetAfter: true, seed: 2 });
  const rnn = new LSTM({ inputSize: 2, hiddenSize: 2, numLayers: 2, bidirectional: true, seed: 3 });
  const gru = new GRU({ inputSize: 2, hiddenSize: 2, seed: 4 });
  const head = new Linear({ inFeatures: 4, outFeatures: 2, seed: 5 });
  head.params.weight.set([NaN, -0, Infinity, -Infinity], 2);
  const sgd = new SGD(cell.parameters(), { lr: 0.1, momentum: 0.9, dampening: 0.25, weightDecay: 0.01 });
  const adam = new Adam(gru.parameters(), { lr: 0.01, beta1: 0.8, eps: 1e-6, weightDecay: 0.02, decoupled: true });
  for (let k = 0; k < 2; k++) {
    for (const [i, p] of [...cell.parameters(), ...gru.parameters()].entries()) p.grad.set(randn(p.grad.length, 100 * k + i));
    sgd.step();
    adam.step();
  }
  sgd.lr = 0.05;   // a schedule's change: saved and restored
  return { cell, gcell, rnn, gru, head, sgd, adam, custom: new GoldenCustomModule(), customOpt: new GoldenCustomOptimizer() };
}

/** The metadata the fixtures were saved with. */
export const GOLDEN_METADATA = { note: 'golden model, format version 1' };
