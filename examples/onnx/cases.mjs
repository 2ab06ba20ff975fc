// The models test-onnx.mjs runs in onnxruntime: each exported with exportONNX, fed the same
// inputs as this library's own run, with the library's outputs as the expected values.
// `lib` is the package (dist/index.js).

/** Deterministic inputs in [−1, 1). */
function fill(lib, n, seed) {
  const a = new Float32Array(n);
  new lib.Random(seed).fillUniform(a, -1, 1);
  return a;
}

/** One stack case: run in this library, exported with the same options. */
function stackCase(lib, name, rnn, { T = 5, B = 3, lengths = null, initialState = false, head = null }) {
  const I = rnn.inputSize, H = rnn.hiddenSize, LD = rnn.numLayers * rnn.numDirections;
  const input = fill(lib, T * B * I, 11);
  rnn.eval();   // inference: no dropout (the export computes eval mode)
  const feeds = { input: { type: 'float32', data: input, dims: rnn.batchFirst ? [B, T, I] : [T, B, I] } };
  const opts = { batch: B };
  if (lengths) {
    opts.lengths = lengths;
    feeds.lengths = { type: 'int32', data: Int32Array.from(lengths), dims: [B] };
  }
  if (initialState) {
    const h = fill(lib, LD * B * H, 12), c = fill(lib, LD * B * H, 13);
    opts.initialState = rnn.hasCellState ? { h, c } : { h };
    feeds.h0 = { type: 'float32', data: h, dims: [LD, B, H] };
    if (rnn.hasCellState) feeds.c0 = { type: 'float32', data: c, dims: [LD, B, H] };
  }
  const r = rnn.run(input, opts);
  let output = r.outputs;
  if (head) output = head.forward(output, T * B).y;
  const expected = { output, h_n: r.finalState.h };
  if (rnn.hasCellState) expected.c_n = r.finalState.c;
  const bytes = lib.exportONNX(rnn, { initialState, lengths: lengths !== null, head: head ?? undefined });
  return { name, bytes, feeds, expected };
}

/** One cell case: one step from a random state. */
function cellCase(lib, name, cell, head = null) {
  const B = 3, I = cell.inputSize, H = cell.hiddenSize;
  const x = fill(lib, B * I, 21), h = fill(lib, B * H, 22), c = fill(lib, B * H, 23);
  const state = cell.hasCellState ? { h, c } : { h };
  const next = cell.step(x, state, B);
  const feeds = { input: { type: 'float32', data: x, dims: [B, I] }, h0: { type: 'float32', data: h, dims: [B, H] } };
  if (cell.hasCellState) feeds.c0 = { type: 'float32', data: c, dims: [B, H] };
  const expected = { output: head ? head.forward(next.h, B).y : next.h, h_n: next.h };
  if (cell.hasCellState) expected.c_n = next.c;
  return { name, bytes: lib.exportONNX(cell, { initialState: true, head: head ?? undefined }), feeds, expected };
}

/** The module with its peephole weights redrawn in [−1, 1), large enough to matter. */
function peepholed(lib, m) {
  const cells = m.cells ?? [m];
  cells.forEach((c, k) => new lib.Random(100 + k).fillUniform(c.params.weightPeephole, -1, 1));
  return m;
}

/** Every case, in a fixed order. */
export function cases(lib) {
  const { LSTM, GRU, LSTMCell, GRUCell, Linear } = lib;
  const big = { inputSize: 4, hiddenSize: 6, numLayers: 2, bidirectional: true };
  const full = { lengths: [5, 2, 4], initialState: true };
  const out = [
    stackCase(lib, 'LSTM 1 layer', new LSTM({ inputSize: 4, hiddenSize: 6, seed: 1 }), {}),
    stackCase(lib, 'LSTM 2 layers bidirectional, lengths, initial state', new LSTM({ ...big, seed: 2 }), full),
    stackCase(lib, 'LSTM 2 layers, no bias', new LSTM({ inputSize: 4, hiddenSize: 5, numLayers: 2, bias: false, seed: 3 }), { initialState: true }),
    stackCase(lib, 'GRU (reset before) 1 layer', new GRU({ inputSize: 4, hiddenSize: 6, seed: 4 }), {}),
    stackCase(lib, 'GRU (reset before) 2 layers bidirectional, lengths, initial state', new GRU({ ...big, seed: 5 }), full),
    stackCase(lib, 'GRU (resetAfter) 2 layers bidirectional, lengths, initial state', new GRU({ ...big, resetAfter: true, seed: 6 }), full),
    stackCase(lib, 'LSTM bidirectional with a head', new LSTM({ inputSize: 4, hiddenSize: 6, bidirectional: true, seed: 7 }),
      { head: new Linear({ inFeatures: 12, outFeatures: 3, seed: 8 }), lengths: [5, 5, 3] }),
    stackCase(lib, 'GRU (resetAfter) with a head, initial state', new GRU({ inputSize: 4, hiddenSize: 6, resetAfter: true, seed: 9 }),
      { head: new Linear({ inFeatures: 6, outFeatures: 2, seed: 10 }), initialState: true }),
    stackCase(lib, 'peephole LSTM 2 layers bidirectional, lengths, initial state', peepholed(lib, new LSTM({ ...big, peephole: true, seed: 15 })), full),
    stackCase(lib, 'peephole LSTM with a head', peepholed(lib, new LSTM({ inputSize: 4, hiddenSize: 6, peephole: true, seed: 16 })),
      { head: new Linear({ inFeatures: 6, outFeatures: 3, seed: 17 }), lengths: [3, 5, 1] }),
    stackCase(lib, 'LSTM batchFirst 2 layers bidirectional (dropout 0.3, eval), lengths, initial state, head',
      new LSTM({ ...big, batchFirst: true, dropout: 0.3, seed: 19 }), { ...full, head: new Linear({ inFeatures: 12, outFeatures: 3, seed: 20 }) }),
    stackCase(lib, 'GRU (reset before) batchFirst 2 layers, lengths', new GRU({ inputSize: 4, hiddenSize: 6, numLayers: 2, batchFirst: true, seed: 21 }),
      { lengths: [2, 5, 4] }),
    cellCase(lib, 'peephole LSTMCell one step', peepholed(lib, new LSTMCell({ inputSize: 4, hiddenSize: 6, peephole: true, seed: 18 }))),
    cellCase(lib, 'LSTMCell one step', new LSTMCell({ inputSize: 4, hiddenSize: 6, seed: 11 })),
    cellCase(lib, 'GRUCell (reset before) one step', new GRUCell({ inputSize: 4, hiddenSize: 6, seed: 12 })),
    cellCase(lib, 'GRUCell (resetAfter) one step with a head', new GRUCell({ inputSize: 4, hiddenSize: 6, resetAfter: true, seed: 13 }),
      new Linear({ inFeatures: 6, outFeatures: 2, seed: 14 })),
  ];
  return out;
}
