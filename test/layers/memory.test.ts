/**
 * Memory: the runner's tape is allocated once per (steps, batch) and reused, and nothing is kept
 * across calls: after a warm-up, 100 forward/backward passes grow the heap by less than 1 MB.
 * Memory counts the JS heap plus ArrayBuffer backing stores, measured after full collections.
 */
import { describe, expect, it } from 'vitest';
import { SequenceRunner } from '../../src/index.js';
import { CELL_KINDS, makeCell, randn } from '../helpers/cells.js';
import { exposeGc } from '../helpers/gc.js';

const gc = exposeGc();
/** JS heap plus ArrayBuffer backing stores (Float32Array data lives outside the V8 heap). */
const used = (): number => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };

describe.each(CELL_KINDS)('memory, %s', (kind) => {
  it('has a collector to measure with', () => {
    expect(typeof gc).toBe('function');
  });
  it('100 forward/backward passes grow the heap by < 1 MB after warm-up', () => {
    const T = 32, B = 8, I = 16, H = 32;
    const cell = makeCell(kind, I, H, 1);
    const runner = new SequenceRunner(cell);
    const x = randn(T * B * I, 1), dO = randn(T * B * H, 2);
    const pass = (): void => { runner.forward(x, { batch: B }); runner.backward({ dOutputs: dO }); };
    for (let i = 0; i < 10; i++) pass();
    gc!(); gc!();
    const before = used();
    for (let i = 0; i < 100; i++) pass();
    gc!(); gc!();
    const grown = used() - before;
    expect(grown).toBeLessThan(1 << 20);
    // The measurement can see growth: keeping every result alive is caught.
    const kept: Float32Array[] = [];
    gc!();
    const before2 = used();
    for (let i = 0; i < 100; i++) kept.push(runner.run(x, { batch: B }).outputs);
    gc!();
    expect(used() - before2).toBeGreaterThan(100 * T * B * H * 4 * 0.9);
    expect(kept.length).toBe(100);
  });
});
