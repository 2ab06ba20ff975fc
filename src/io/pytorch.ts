/**
 * A whole model as one PyTorch state dict: the parts' state dicts, each under `<name>.`, as
 * `model.state_dict()` of a PyTorch module whose attributes carry those names writes them.
 */
import { GRUCell } from '../cells/gru.js';
import { LSTMCell } from '../cells/lstm.js';
import type { Tensor } from '../core/tensor.js';
import { MAX_KEYS } from '../core/limits.js';
import { checkObject, describe } from '../core/validate.js';
import { GRU, LSTM } from '../modules/rnn.js';
import { Embedding } from '../nn/embedding.js';
import { Linear } from '../nn/linear.js';
import { define } from './codec.js';

/** What toPyTorch takes, and the PyTorch module each equals. */
export type PyTorchPart = LSTMCell | GRUCell | LSTM | GRU | Linear | Embedding;

/**
 * One PyTorch state dict of several modules: part `name`'s keys under `name.` (`rnn.weight_ih_l0`,
 * `head.weight`, `emb.weight`, …), new arrays. A PyTorch module with attributes of those names,
 * each the module below, loads it with `load_state_dict(sd, strict=True)`:
 *
 * | part | PyTorch module |
 * |---|---|
 * | `LSTM` (no `peephole`) | `nn.LSTM(inputSize, hiddenSize, numLayers, bias, bidirectional=…, proj_size=…)` |
 * | `GRU` with `resetAfter: true` | `nn.GRU(…)` likewise |
 * | `LSTMCell` (no `projSize`) / `GRUCell` (`resetAfter: true`) | `nn.LSTMCell` / `nn.GRUCell` |
 * | `Linear` | `nn.Linear(inFeatures, outFeatures, bias)` |
 * | `Embedding` | `nn.Embedding(numEmbeddings, embeddingDim, padding_idx)` |
 *
 * A GRU or GRUCell with `resetAfter: false` (the default) throws: no PyTorch module computes its
 * equations, and its weights under nn.GRU's keys would load into a model that is silently off.
 * Names may contain dots (`encoder.rnn` for a nested attribute); two parts may not write the same key.
 *
 * ```ts
 * writeFileSync('model.safetensors', saveSafetensors(toPyTorch({ emb, rnn, head })));
 * ```
 */
export function toPyTorch(parts: Record<string, PyTorchPart>): Record<string, Tensor> {
  const p = checkObject('parts', parts);
  const out: Record<string, Tensor> = {};
  const names = Object.keys(p);
  if (names.length > MAX_KEYS) throw new RangeError(`parts: expected at most ${MAX_KEYS} parts (the limit), got ${names.length}`);
  for (const name of names) {
    const where = `parts[${JSON.stringify(name)}]`;
    if (name === '' || name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
      throw new RangeError(`${where}: expected a PyTorch attribute path (names joined by "."), got ${JSON.stringify(name)}`);
    }
    const part = p[name];
    if (!(part instanceof LSTM || part instanceof GRU || part instanceof LSTMCell || part instanceof GRUCell
      || part instanceof Linear || part instanceof Embedding)) {
      throw new TypeError(`${where}: expected an LSTM, GRU, LSTMCell, GRUCell, Linear or Embedding, got ${describe(part)}`);
    }
    if ((part instanceof GRU || part instanceof GRUCell) && !part.resetAfter) {
      throw new RangeError(`${where}.resetAfter: expected true (the form nn.GRU computes), got false; ` +
        `PyTorch has no GRU that applies the reset before the recurrent product`);
    }
    if ((part instanceof LSTM || part instanceof LSTMCell) && part.peephole) {
      throw new RangeError(`${where}.peephole: expected false (PyTorch has no peephole LSTM; exportONNX carries it), got true`);
    }
    if (part instanceof LSTMCell && part.projSize > 0) {
      throw new RangeError(`${where}.projSize: expected 0 (nn.LSTMCell has no projection; nn.LSTM has proj_size), got ${part.projSize}`);
    }
    const sd = part.stateDict({ prefix: `${name}.` });
    for (const key of Object.keys(sd)) {
      if (Object.prototype.hasOwnProperty.call(out, key)) throw new RangeError(`${where}: key "${key}" is written by another part too`);
      define(out, key, sd[key]!);
    }
  }
  return out;
}
