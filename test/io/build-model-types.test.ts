/**
 * buildModel's types: with `expect`, each part is typed by its class, so the README's
 * `const { rnn } = buildModel(bytes, { expect: { rnn: LSTM } }); rnn.run(...)` type-checks under
 * strict. This file fails `tsc --noEmit` (which covers test/) if a type is wrong: the
 * expectTypeOf assertions and the @ts-expect-error lines are checked by the compiler; the test
 * also runs them.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  Adam, buildModel, GRU, Linear, LSTM, saveModel, saveModelSafetensors, SGD, type BuiltModel, type BuiltModule,
} from '../../src/index.js';

function savedBytes(): Uint8Array {
  const rnn = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 });
  const head = new Linear({ inFeatures: 3, outFeatures: 1, seed: 2 });
  const opt = new Adam([...rnn.parameters(), ...head.parameters()]);
  return saveModelSafetensors({ rnn, head, opt });
}

describe('buildModel types', () => {
  it('with expect, each part has its class type; rnn.run type-checks', () => {
    const bytes = savedBytes();
    const { rnn } = buildModel(bytes, { expect: { rnn: LSTM } });
    const { outputs, finalState } = rnn.run(new Float32Array(2 * 2), { batch: 1 });
    expectTypeOf(rnn).toEqualTypeOf<LSTM>();
    expectTypeOf(finalState.c).toEqualTypeOf<Float32Array>();   // an LSTM's state has c
    expect(outputs.length).toBe(2 * 3);

    const built = buildModel(bytes, { expect: { rnn: LSTM, head: Linear } });
    expectTypeOf(built).toEqualTypeOf<{ rnn: LSTM; head: Linear }>();
    expectTypeOf(built).toEqualTypeOf<BuiltModel<{ rnn: typeof LSTM; head: typeof Linear }>>();
    expect(built.head.forward(finalState.h, 1).y.length).toBe(1);
    // @ts-expect-error: only the expected parts are returned
    expect(built.opt).toBeUndefined();
    // @ts-expect-error: rnn is an LSTM, not a GRU
    const asGRU: GRU = built.rnn;
    expect(asGRU).toBeInstanceOf(LSTM);
  });

  it('expect takes only classes buildModel can build', () => {
    const bytes = savedBytes();
    // @ts-expect-error: optimizers are not built from a configuration
    expect(() => buildModel(bytes, { expect: { opt: SGD } })).toThrow('options.expect.opt: expected one of the classes');
    // @ts-expect-error: a part's class, not an instance
    expect(() => buildModel(bytes, { expect: { rnn: new LSTM({ inputSize: 2, hiddenSize: 3 }) } })).toThrow(TypeError);
  });

  it('without expect, the parts are a record of BuiltModule', () => {
    const built = buildModel(savedBytes());
    expectTypeOf(built).toEqualTypeOf<Record<string, BuiltModule>>();
    expectTypeOf(buildModel(JSON.stringify(saveModel({ l: new Linear({ inFeatures: 1, outFeatures: 1 }) })), {}))
      .toEqualTypeOf<Record<string, BuiltModule>>();
    const rnn = built.rnn!;
    // @ts-expect-error: a BuiltModule may be a Linear, which has no run
    expect(() => rnn.run(new Float32Array(2), { batch: 1 })).not.toThrow();
  });
});
