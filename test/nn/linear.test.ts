/**
 * Linear: forward and backward against naive float64 loops, finite differences (gradCheck),
 * PyTorch's init bounds, determinism, and the state-dict contract (keys, shapes, copies,
 * all-or-nothing loading, clear errors).
 */
import { describe, expect, it } from 'vitest';
import { Linear, type LinearForward } from '../../src/nn/linear.js';
import { gradCheck } from '../../src/gradcheck.js';
import { randn } from '../helpers/cells.js';

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i]! - expected[i]!);
    if (!(err <= tol * Math.max(1, Math.abs(expected[i]!)))) {
      expect.fail(`index ${i}: got ${actual[i]}, want ${expected[i]} (|error| ${err.toExponential(2)})`);
    }
  }
}

/** y = x·Wᵀ + b, dx = dy·W, dW = dyᵀ·x, db = Σ dy, in float64 loops. */
function naive(layer: Linear, x: Float32Array, dy: Float32Array, B: number) {
  const I = layer.inFeatures, O = layer.outFeatures, W = layer.params.weight, b = layer.params.bias;
  const y = new Float64Array(B * O), dx = new Float64Array(B * I), dW = new Float64Array(O * I), db = new Float64Array(O);
  for (let r = 0; r < B; r++) {
    for (let o = 0; o < O; o++) {
      let s = b ? b[o]! : 0;
      for (let i = 0; i < I; i++) s += x[r * I + i]! * W[o * I + i]!;
      y[r * O + o] = s;
      db[o] += dy[r * O + o]!;
      for (let i = 0; i < I; i++) {
        dx[r * I + i] += dy[r * O + o]! * W[o * I + i]!;
        dW[o * I + i] += dy[r * O + o]! * x[r * I + i]!;
      }
    }
  }
  return { y, dx, dW, db };
}

describe('Linear: construction and init', () => {
  it('has PyTorch layout and uniform init within ±1/√in', () => {
    const fc = new Linear({ inFeatures: 9, outFeatures: 7, seed: 3 });
    expect(fc.params.weight.length).toBe(63);
    expect(fc.params.bias!.length).toBe(7);
    const k = 1 / 3;
    for (const v of [...fc.params.weight, ...fc.params.bias!]) expect(Math.abs(v)).toBeLessThanOrEqual(k);
    expect(new Set(fc.params.weight).size).toBeGreaterThan(50);
    expect(fc.grads.weight.every((v) => v === 0)).toBe(true);
  });

  it('is deterministic: same seed same bits, another seed other values', () => {
    const a = new Linear({ inFeatures: 5, outFeatures: 4, seed: 11 });
    const b = new Linear({ inFeatures: 5, outFeatures: 4, seed: 11 });
    const c = new Linear({ inFeatures: 5, outFeatures: 4, seed: 12 });
    expect(Buffer.from(a.params.weight.buffer).equals(Buffer.from(b.params.weight.buffer))).toBe(true);
    expect(Array.from(a.params.bias!)).toEqual(Array.from(b.params.bias!));
    expect(Array.from(a.params.weight)).not.toEqual(Array.from(c.params.weight));
  });

  it('bias: false has no bias anywhere', () => {
    const fc = new Linear({ inFeatures: 3, outFeatures: 2, bias: false });
    expect(fc.params.bias).toBeUndefined();
    expect(fc.parameters().map((p) => p.name)).toEqual(['weight']);
    expect(Object.keys(fc.stateDict())).toEqual(['weight']);
  });

  it('rejects bad options', () => {
    expect(() => new Linear({ inFeatures: 0, outFeatures: 2 })).toThrow('inFeatures: expected a positive integer, got 0');
    expect(() => new Linear({ inFeatures: 2, outFeatures: 1.5 })).toThrow('outFeatures: expected a positive integer, got 1.5');
    expect(() => new Linear({ inFeatures: 2, outFeatures: 2, seed: NaN })).toThrow('seed: expected a finite number');
    expect(() => new Linear(null as never)).toThrow('Linear options: expected an object, got null');
  });
});

describe('Linear: forward and backward', () => {
  for (const [B, I, O, bias] of [[1, 3, 2, true], [5, 7, 6, true], [4, 8, 4, false], [6, 1, 9, true]] as const) {
    it(`matches naive loops (batch ${B}, ${I}→${O}, bias ${bias})`, () => {
      const fc = new Linear({ inFeatures: I, outFeatures: O, bias, seed: B + I });
      const x = randn(B * I, 1), dy = randn(B * O, 2);
      const ref = naive(fc, x, dy, B);
      const f = fc.forward(x, B);
      expectClose(f.y, ref.y, 1e-6);
      expect(Array.from(fc.run(x, B))).toEqual(Array.from(f.y));
      const dx = fc.backward(f, dy);
      expectClose(dx, ref.dx, 1e-6);
      expectClose(fc.grads.weight, ref.dW, 1e-6);
      if (bias) expectClose(fc.grads.bias!, ref.db, 1e-6);
    });
  }

  it('backward adds into grads; zeroGrad clears them; a forward result is consumed once', () => {
    const fc = new Linear({ inFeatures: 3, outFeatures: 2, seed: 1 });
    const x = randn(6, 1), dy = randn(4, 2);
    const f = fc.forward(x, 2);
    fc.backward(f, dy);
    const once = fc.grads.weight.slice(), onceB = fc.grads.bias!.slice();
    expect(() => fc.backward(f, dy)).toThrow('forward: this forward result was already consumed by a backward');
    expect(fc.grads.weight).toEqual(once);
    fc.backward(fc.forward(x, 2), dy);
    expectClose(fc.grads.weight, once.map((v) => 2 * v), 1e-6);
    expectClose(fc.grads.bias!, onceB.map((v) => 2 * v), 1e-6);
    fc.zeroGrad();
    expect([...fc.grads.weight, ...fc.grads.bias!].every((v) => v === 0)).toBe(true);
  });

  it('the tape holds a copy of x: changing x after forward does not change the gradients', () => {
    const fc = new Linear({ inFeatures: 3, outFeatures: 2, seed: 1 });
    const x = randn(3, 1), dy = randn(2, 2);
    const ref = naive(fc, x, dy, 1);
    const f = fc.forward(x, 1);
    x.fill(100);
    fc.backward(f, dy);
    expectClose(fc.grads.weight, ref.dW, 1e-6);
  });

  it('passes gradCheck for weight, bias and input', () => {
    const B = 3, I = 4, O = 5;
    const fc = new Linear({ inFeatures: I, outFeatures: O, seed: 7 });
    const x = randn(B * I, 3), dxGrad = new Float32Array(B * I), c = randn(B * O, 4);
    const loss = (): number => {
      const y = fc.run(x, B);
      let s = 0;
      for (let i = 0; i < y.length; i++) s += c[i]! * y[i]! + 0.5 * y[i]! * y[i]!;
      return s;
    };
    const backward = (): void => {
      const f = fc.forward(x, B);
      const y = f.y;
      const dy = y.map((v, i) => c[i]! + v);
      dxGrad.set(fc.backward(f, dy));
    };
    const r = gradCheck({
      params: [...fc.parameters(), { name: 'x', value: x, grad: dxGrad }],
      loss, backward, eps: 1e-2, rtol: 1e-2, atol: 1e-3,
    });
    expect(r.failures).toEqual([]);
    expect(r.checked).toBe(O * I + O + B * I);
  });

  it('validates its arguments before doing anything', () => {
    const fc = new Linear({ inFeatures: 4, outFeatures: 2 });
    expect(() => fc.forward(new Float32Array(10), 3)).toThrow('x: expected length batch*inFeatures = 12, got 10');
    expect(() => fc.run(new Float64Array(12) as never, 3)).toThrow('x: expected a Float32Array, got Float64Array(12)');
    expect(() => fc.run(new Float32Array(12), 0)).toThrow('batch: expected a positive integer, got 0');
    const f = fc.forward(new Float32Array(12), 3);
    expect(() => fc.backward(f, new Float32Array(5))).toThrow('dy: expected length batch*outFeatures = 6, got 5');
    const other = new Linear({ inFeatures: 4, outFeatures: 2 });
    expect(() => other.backward(f, new Float32Array(6))).toThrow("forward: expected the result of this layer's forward(), got object");
    expect(() => fc.backward({} as LinearForward, new Float32Array(6))).toThrow("forward: expected the result of this layer's forward()");
    expect(() => fc.backward(null as never, new Float32Array(6))).toThrow("forward: expected the result of this layer's forward(), got null");
    // Code written before 0.2 passed the tape itself; that still works at run time.
    const legacy = (f as unknown as { tape: LinearForward }).tape;
    expect(Array.from(fc.backward(legacy, new Float32Array(6)))).toEqual(Array.from(fc.backward(fc.forward(new Float32Array(12), 3), new Float32Array(6))));
    fc.zeroGrad();
    expect(fc.grads.weight.every((v) => v === 0)).toBe(true);
  });
});

describe('Linear: state dict', () => {
  it('stateDict and gradDict are copies with PyTorch keys and shapes', () => {
    const fc = new Linear({ inFeatures: 3, outFeatures: 2, seed: 1 });
    const sd = fc.stateDict();
    expect(Object.keys(sd)).toEqual(['weight', 'bias']);
    expect(sd.weight!.shape).toEqual([2, 3]);
    expect(sd.bias!.shape).toEqual([2]);
    expect(sd.weight!.dtype).toBe('float32');
    expect(Array.from(sd.weight!.data)).toEqual(Array.from(fc.params.weight));
    sd.weight!.data[0] = 42;
    expect(fc.params.weight[0]).not.toBe(42);
    const f = fc.forward(randn(3, 1), 1);
    fc.backward(f, randn(2, 2));
    const gd = fc.gradDict();
    expect(gd.weight!.shape).toEqual([2, 3]);
    expect(Array.from(gd.bias!.data)).toEqual(Array.from(fc.grads.bias!));
  });

  it('loadStateDict accepts Tensor, {shape, data: number[]}, Float32Array, number[] and nested arrays', () => {
    const src = new Linear({ inFeatures: 3, outFeatures: 2, seed: 5 });
    const sd = src.stateDict();
    const w = Array.from(sd.weight!.data), b = Array.from(sd.bias!.data);
    const inputs = [
      sd,
      JSON.parse(JSON.stringify({ weight: { ...sd.weight, data: w }, bias: { ...sd.bias, data: b } })),
      { weight: Float32Array.from(w), bias: Float32Array.from(b) },
      { weight: w, bias: b },
      { weight: [w.slice(0, 3), w.slice(3)], bias: b },
    ];
    for (const dict of inputs) {
      const fc = new Linear({ inFeatures: 3, outFeatures: 2, seed: 9 });
      fc.loadStateDict(dict);
      expect(Array.from(fc.params.weight)).toEqual(w);
      expect(Array.from(fc.params.bias!)).toEqual(b);
    }
  });

  it('rejects missing, extra and mis-shaped keys, naming key and shapes, and changes nothing', () => {
    const fc = new Linear({ inFeatures: 3, outFeatures: 2, seed: 1 });
    const before = fc.stateDict();
    const w = new Float32Array(6).fill(1), b = new Float32Array(2).fill(1);
    expect(() => fc.loadStateDict({ weight: w })).toThrow('stateDict: missing key "bias" (expected shape [2])');
    expect(() => fc.loadStateDict({ weight: w, bias: b, extra: b })).toThrow('stateDict: unexpected key "extra"; expected keys "weight", "bias"');
    expect(() => fc.loadStateDict({ weight: { dtype: 'float32', shape: [3, 2], data: w }, bias: b }))
      .toThrow('stateDict["weight"]: expected shape [2, 3], got [3, 2]');
    expect(() => fc.loadStateDict({ weight: [[1, 2], [3, 4], [5, 6]], bias: b }))
      .toThrow('stateDict["weight"]: expected shape [2, 3], got [3, 2]');
    expect(() => fc.loadStateDict({ weight: w, bias: new Float32Array(3) }))
      .toThrow('stateDict["bias"]: expected 2 elements (shape [2]), got 3');
    expect(() => fc.loadStateDict({ weight: w, bias: [1, 'x'] as never }))
      .toThrow('stateDict["bias"][1]: expected a number, got string "x"');
    expect(() => fc.loadStateDict({ weight: w, bias: 'no' as never }))
      .toThrow('stateDict["bias"]: expected a Tensor, Float32Array or number array, got string "no"');
    expect(() => fc.loadStateDict({ weight: { shape: [2, 3], data: [1, 2] }, bias: b }))
      .toThrow('stateDict["weight"].data: expected 6 elements for shape [2, 3], got 2');
    expect(() => fc.loadStateDict({ weight: [[1, 2, 3], [4, 5]], bias: b })).toThrow('stateDict["weight"][1]: expected an array of 3');
    expect(Array.from(fc.params.weight)).toEqual(Array.from(before.weight!.data));
    expect(Array.from(fc.params.bias!)).toEqual(Array.from(before.bias!.data));
  });

  it('fromPyTorch infers sizes from the weight shape and bias from its presence', () => {
    const fc = Linear.fromPyTorch({ weight: [[1, 2, 3], [4, 5, 6]], bias: [0.5, -0.5] });
    expect([fc.inFeatures, fc.outFeatures, fc.bias]).toEqual([3, 2, true]);
    expect(Array.from(fc.run(Float32Array.from([1, 1, 1]), 1))).toEqual([6.5, 14.5]);
    const nb = Linear.fromPyTorch({ weight: { dtype: 'float32', shape: [1, 2], data: Float32Array.from([2, 3]) } });
    expect([nb.inFeatures, nb.outFeatures, nb.bias]).toEqual([2, 1, false]);
    expect(() => Linear.fromPyTorch({ weight: new Float32Array(6) }))
      .toThrow('stateDict["weight"]: expected a tensor with shape [outFeatures, inFeatures] (a Tensor or nested arrays), got flat Float32Array(6)');
    expect(() => Linear.fromPyTorch({ bias: [1] })).toThrow('stateDict: missing key "weight"');
    expect(() => Linear.fromPyTorch({ weight: [[1, 2]], bias: [1, 2] })).toThrow('stateDict["bias"]: expected 1 elements (shape [1]), got 2');
  });
});
