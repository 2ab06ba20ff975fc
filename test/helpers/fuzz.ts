/**
 * Shared by the fuzz suite (test/fuzz): hostile values, a seeded picker, and the check that a
 * failure is a library error (TypeError, RangeError, SyntaxError, Error or SafetensorsError)
 * whose message names the argument, never an engine message.
 */
import { expect } from 'vitest';
import { Random, SafetensorsError } from '../../src/index.js';

/** Fragments of V8's own messages: none may reach a caller. */
const ENGINE = [
  'Invalid typed array length', 'Array buffer allocation failed', 'incompatible receiver', 'Cannot read properties',
  'is not a function', 'is not iterable', 'Maximum call stack', 'Invalid array length', 'out of memory',
  'Cannot convert', 'Offset is outside the bounds', 'Start offset', 'is not a constructor', 'Cannot perform',
  'Cannot create property', 'on a proxy that has been revoked', 'undefined is not', 'null is not',
];

/**
 * Runs fn, which must throw a library error whose message starts with the argument's name (as
 * in `hiddenSize: expected …`) and, when given, contains `names`. Returns the error.
 */
export function expectLibraryError(fn: () => unknown, names?: string): Error {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected a throw${names ? ` naming ${names}` : ''}`).toBeInstanceOf(Error);
  const e = err as Error;
  const cls = e instanceof SafetensorsError || e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError
    || e.constructor === Error;
  expect(cls, `library error class, got ${e.constructor.name}: ${e.message}`).toBe(true);
  for (const f of ENGINE) expect(e.message, 'an engine message leaked').not.toContain(f);
  expect(e.message, 'the message names the argument first').toMatch(/^[\w.[\]"'*_ -]+(\([^)]*\))?[\w.[\]"' -]*: /);
  if (names !== undefined) expect(e.message).toContain(names);
  return e;
}

/**
 * Runs fn: it either returns, or throws a library error (see expectLibraryError). Returns
 * whether it threw.
 */
export function libraryErrorOrNothing(fn: () => unknown): boolean {
  let thrown: unknown;
  try {
    fn();
    return false;
  } catch (e) {
    thrown = e;
  }
  // The error a caller saw, checked as it was thrown (not a second call's).
  expectLibraryError(() => {
    throw thrown;
  });
  return true;
}

/** Values no size, flag or array argument should accept. */
export const HOSTILE: unknown[] = [
  0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 53, 1e9, 1e300, -0.5, '3', '', null, {}, [], [3], true,
  () => 3, Symbol('s'), 10n, new Float64Array(3), new Proxy(new Float32Array(3), {}),
];

/** A seeded picker over a list. */
export function picker(seed: number): { pick<T>(xs: readonly T[]): T; int(n: number): number; rng: Random } {
  const rng = new Random(seed);
  return { rng, int: (n) => rng.nextUint32() % n, pick: (xs) => xs[rng.nextUint32() % xs.length]! };
}

/** A Proxy of a Float32Array (passes instanceof, fails every intrinsic getter). */
export function proxied(n: number): Float32Array {
  return new Proxy(new Float32Array(n), {});
}

/** A revoked Proxy. */
export function revoked(): object {
  const p = Proxy.revocable({}, {});
  p.revoke();
  return p.proxy;
}
