/**
 * A small seeded generator: the same seed gives the same integers, `next()` values and
 * `fillUniform` floats on every platform (integer arithmetic only, via Math.imul and unsigned
 * shifts, then one exact division). SplitMix32-style mixing of a Weyl sequence. `normal()` goes
 * through Math.log and Math.cos, whose last bit ECMAScript leaves to the engine.
 */
export class Random {
  private state: number;

  /** @param seed any finite number; its low 32 bits select the stream. */
  constructor(seed = 0) {
    if (typeof seed !== 'number' || !Number.isFinite(seed)) {
      throw new TypeError(`seed: expected a finite number, got ${describe(seed)}`);
    }
    this.state = seed >>> 0;
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1), with 32 random bits. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /**
   * Fills out with float32 values uniform in [lo, hi) (computed in double, then rounded to float32,
   * which can round a value just below hi up to hi); returns out.
   */
  fillUniform(out: Float32Array, lo: number, hi: number): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.next();
    return out;
  }

  /** Standard normal (Box–Muller, one value per call). */
  normal(): number {
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

function describe(v: unknown): string {
  return typeof v === 'number' ? String(v) : typeof v;
}
