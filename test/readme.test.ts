/**
 * The README's quick start and training step, as written there (kept in sync by hand): they run,
 * produce the documented shapes, and the training step lowers the loss.
 */
import { describe, expect, it } from 'vitest';
import { Adam, clipGradNorm, Linear, LSTM, LSTMCell, mseLoss, Random, SequenceRunner } from '../src/index.js';

describe('README', () => {
  it('quick start', () => {
    const batch = 2, I = 3, H = 16, T = 5;
    const cell = new LSTMCell({ inputSize: I, hiddenSize: H, seed: 1 });
    let state = cell.initialState(batch);
    const x = new Float32Array(batch * I).fill(0.5);
    state = cell.step(x, state, batch);
    const s = cell.forward(x, state, batch);
    cell.zeroGrad();
    const { dx, dState } = cell.backward(s, { h: new Float32Array(batch * H).fill(1) });
    expect(dx.length).toBe(batch * I);
    expect(dState.h.length).toBe(batch * H);
    expect(dState.c.length).toBe(batch * H);
    expect(cell.grads.weightIh.some((v) => v !== 0)).toBe(true);

    const runner = new SequenceRunner(cell);
    const inputs = new Float32Array(T * batch * I).map((_, i) => Math.sin(i));
    const { outputs, finalState } = runner.forward(inputs, { batch });
    expect(outputs.length).toBe(T * batch * H);
    expect(finalState.c.length).toBe(batch * H);
    const dOutputs = new Float32Array(outputs.length).fill(1);
    cell.zeroGrad();
    const { dInputs, dInitialState } = runner.backward({ dOutputs });
    expect(dInputs.length).toBe(T * batch * I);
    expect(dInitialState.h.length).toBe(batch * H);
  });

  it('training step lowers the loss on a fixed batch', () => {
    const rnn = new LSTM({ inputSize: 2, hiddenSize: 16, seed: 1 });
    const head = new Linear({ inFeatures: 16, outFeatures: 1, seed: 2 });
    const params = [...rnn.parameters(), ...head.parameters()];
    const opt = new Adam(params, { lr: 0.01 });
    function trainStep(x: Float32Array, target: Float32Array, T: number, B: number): number {
      const H = 16;
      opt.zeroGrad();
      const { outputs } = rnn.forward(x, { batch: B });
      const last = outputs.subarray((T - 1) * B * H);
      const fwd = head.forward(last, B);
      const dy = new Float32Array(B);
      const loss = mseLoss(fwd.y, target, dy);
      const dOutputs = new Float32Array(T * B * H);
      dOutputs.set(head.backward(fwd, dy), (T - 1) * B * H);
      rnn.backward({ dOutputs });
      clipGradNorm(params, 1.0);
      opt.step();
      return loss;
    }
    const T = 6, B = 8, rng = new Random(3);
    const x = new Float32Array(T * B * 2).map(() => rng.normal());
    const target = new Float32Array(B).map(() => rng.normal());
    const first = trainStep(x, target, T, B);
    let last = first;
    for (let i = 0; i < 60; i++) last = trainStep(x, target, T, B);
    expect(last).toBeLessThan(first / 4);
  });
});
