// A character-level language model: one-hot characters → LSTM → Linear → softmax over the
// vocabulary, trained with truncated backprop through time. The training text is cut into
// `batch` contiguous streams read in chunks of `chunk` characters; the hidden state is carried
// from one chunk to the next (as a value: the gradient stops at the chunk boundary).
import { readFileSync } from 'node:fs';
import { Adam, LSTM, Linear, Random, clipGradNorm, forgetBias, softmaxCrossEntropy } from '../../dist/index.js';
import { cosine } from './adding.mjs';

/** The text, its sorted vocabulary, and a 90/10 split (the last 10% held out). */
export function loadCorpus(path, valFraction = 0.1) {
  const text = readFileSync(path, 'utf8');
  const chars = [...new Set(text)].sort();
  const index = new Map(chars.map((c, i) => [c, i]));
  const ids = Int32Array.from(text, (c) => index.get(c));
  const nVal = Math.floor(ids.length * valFraction);
  return { text, chars, index, V: chars.length, train: ids.subarray(0, ids.length - nVal), val: ids.subarray(ids.length - nVal) };
}

/** Cross-entropy (nats/char) of a unigram model fitted to `train` (add-one smoothing), on `val`. */
export function unigramLoss(train, val, V) {
  const counts = new Float64Array(V).fill(1);
  for (const c of train) counts[c]++;
  const total = train.length + V;
  let s = 0;
  for (let i = 1; i < val.length; i++) s -= Math.log(counts[val[i]] / total);
  return s / (val.length - 1);
}

export class CharModel {
  constructor({ V, hidden, seed }) {
    this.V = V;
    this.rnn = new LSTM({ inputSize: V, hiddenSize: hidden, seed });
    forgetBias(this.rnn.cells[0], 1);
    this.head = new Linear({ inFeatures: hidden, outFeatures: V, seed: seed + 1 });
    this.params = [...this.rnn.parameters(), ...this.head.parameters()];
  }

  /** One-hot [T·B, V] of ids (already time-major). */
  oneHot(ids) {
    const x = new Float32Array(ids.length * this.V);
    for (let i = 0; i < ids.length; i++) x[i * this.V + ids[i]] = 1;
    return x;
  }

  /** Mean next-character cross-entropy (nats) over `ids`, from a zero state. */
  loss(ids) {
    const n = ids.length - 1;
    const { outputs } = this.rnn.run(this.oneHot(ids.subarray(0, n)), { batch: 1 });
    return softmaxCrossEntropy(this.head.run(outputs, n), ids.subarray(1), this.V);
  }

  /** `length` characters after `prime`, sampled at `temperature` with the seeded `rng`. */
  sample(corpus, prime, length, temperature, rng) {
    const V = this.V;
    let { outputs, finalState } = this.rnn.run(this.oneHot(Int32Array.from(prime, (c) => corpus.index.get(c))), { batch: 1 });
    let h = outputs.subarray(outputs.length - this.rnn.hiddenSize);
    let out = '';
    const p = new Float64Array(V), x = new Float32Array(V);
    for (let i = 0; i < length; i++) {
      const logits = this.head.run(h, 1);
      let max = -Infinity;
      for (let k = 0; k < V; k++) max = Math.max(max, logits[k] / temperature);
      let sum = 0;
      for (let k = 0; k < V; k++) sum += (p[k] = Math.exp(logits[k] / temperature - max));
      let r = rng.next() * sum, c = 0;
      while (c < V - 1 && (r -= p[c]) >= 0) c++;
      out += corpus.chars[c];
      x.fill(0);
      x[c] = 1;
      ({ outputs, finalState } = this.rnn.run(x, { batch: 1, initialState: finalState }));
      h = outputs;
    }
    return out;
  }
}

/**
 * Truncated-BPTT training on corpus.train.
 * @param {{hidden: number, steps: number, batch: number, chunk: number, lr: number, seed: number,
 *          evalEvery?: number, onStep?: (step: number, loss: number) => void, onEval?: (step: number, val: number) => void}} o
 */
export function trainCharModel(model, corpus, o) {
  const { batch: B, chunk: T } = o;
  const V = model.V, train = corpus.train;
  const span = Math.floor((train.length - 1) / B); // stream b reads train[b·span, (b+1)·span]
  if (span < T + 1) throw new RangeError(`text too short for batch ${B} × chunk ${T}`);
  const opt = new Adam(model.params, { lr: o.lr });
  const x = new Float32Array(T * B * V), y = new Int32Array(T * B), dLogits = new Float32Array(T * B * V);
  const losses = new Float64Array(o.steps);
  let pos = 0, state; // state: carried between chunks; undefined = zeros
  for (let step = 1; step <= o.steps; step++) {
    if (pos + T > span - 1) { pos = 0; state = undefined; } // wrap: start the streams over
    x.fill(0);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const i = b * span + pos + t;
        x[(t * B + b) * V + train[i]] = 1;
        y[t * B + b] = train[i + 1];
      }
    }
    pos += T;
    model.rnn.zeroGrad();
    model.head.zeroGrad();
    const f = model.rnn.forward(x, { batch: B, initialState: state });
    state = f.finalState; // a value: the next chunk's backward stops here
    const { y: logits, tape } = model.head.forward(f.outputs, T * B); // all T·B rows at once
    const loss = softmaxCrossEntropy(logits, y, V, dLogits);
    const dOutputs = model.head.backward(tape, dLogits);
    model.rnn.backward({ dOutputs });
    clipGradNorm(model.params, 5);
    opt.lr = o.lr * cosine(step, o.steps);
    opt.step();
    losses[step - 1] = loss;
    o.onStep?.(step, loss);
    if (o.evalEvery && (step % o.evalEvery === 0 || step === o.steps)) o.onEval?.(step, model.loss(corpus.val));
  }
  return { losses };
}
