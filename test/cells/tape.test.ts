/**
 * The tape holds what backward needs and no more. Per step and batch row: the post-activation
 * gates (G·H, reused in place for the gate gradients), the hidden state h (H), one more vector
 * (H: LSTM tanh(c), GRU r⊙h or W_hn·h + b_hn), the LSTM cell state c (H), and the step's input x (I)
 * for dW_ih. Everything else is per tape, not per step: the transposed weights, one step of
 * scratch, and the bias.
 */
import { describe, expect, it } from 'vitest';
import { makeCell, type CellKind } from '../helpers/cells.js';

describe.each([['lstm', 4, true], ['gru', 3, false], ['gru-reset-after', 3, false]] as [CellKind, number, boolean][])(
  '%s tape size', (kind, G, hasC) => {
    it('grows by G·H + 2H (+H for c) + I floats per step and batch row', () => {
      const I = 5, H = 7, B = 3;
      const cell = makeCell(kind, I, H, 1);
      const floats = (T: number): number => {
        const tape = cell.createTape(T, B, true);
        return [tape.x, tape.gates, tape.h, tape.c, tape.aux].reduce((n, a) => n + a.length, 0);
      };
      const perStepRow = (floats(11) - floats(10)) / B;
      expect(perStepRow).toBe(G * H + 2 * H + (hasC ? H : 0) + I);
      // LSTM: 6·H besides h and x (4 gates, c, tanh c); GRU: 4·H besides h and x.
      expect(perStepRow - H - I).toBe(hasC ? 6 * H : 4 * H);
    });
    it('one step on its own reads the weights in place (no transposed copy)', () => {
      const cell = makeCell(kind, 5, 7, 1);
      expect(cell.createTape(1, 2, false).weightHh.wt).toBeNull();
      expect(cell.createTape(1, 2, true).weightHh.wt!.length).toBe(G * 7 * 7);
    });
  });
