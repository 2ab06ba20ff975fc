/** V8's collector for memory tests: the global gc() under --expose-gc, else exposed at run time. */
import v8 from 'node:v8';
import vm from 'node:vm';

export function exposeGc(): (() => void) | null {
  const global = (globalThis as { gc?: () => void }).gc;
  if (typeof global === 'function') return global;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}
