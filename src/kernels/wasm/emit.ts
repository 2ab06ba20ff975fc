/**
 * A WebAssembly module written byte by byte: unsigned/signed LEB128 integers, the module's
 * sections, and a function-body builder with the opcodes the kernels use (core, and 0xFD-prefixed
 * SIMD). Binary format: WebAssembly Core Specification 2.0, chapter 5; SIMD opcodes from the
 * fixed-width SIMD proposal, relaxed_madd (0xFD 0x107) from the relaxed-SIMD proposal.
 */

/** Appends v ≥ 0 as unsigned LEB128. */
export function uleb(out: number[], v: number): void {
  if (!(v >= 0)) throw new RangeError(`uleb: expected a non-negative integer, got ${v}`);
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

/** Appends a 32-bit integer as signed LEB128. */
export function sleb(out: number[], v: number): void {
  v |= 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) { out.push(byte); return; }
    out.push(byte | 0x80);
  }
}

/** Value types. */
export const I32 = 0x7f, F64 = 0x7c, V128 = 0x7b;

/** A function body: locals, then instructions appended by the methods (each returns this). */
export class Body {
  readonly code: number[] = [];
  /** op: one-byte opcode followed by immediates already encoded. */
  op(...bytes: number[]): this { this.code.push(...bytes); return this; }
  get(i: number): this { this.code.push(0x20); uleb(this.code, i); return this; }
  set(i: number): this { this.code.push(0x21); uleb(this.code, i); return this; }
  i32(v: number): this { this.code.push(0x41); sleb(this.code, v); return this; }
  /** f64.const +0. */
  f64Zero(): this { this.code.push(0x44, 0, 0, 0, 0, 0, 0, 0, 0); return this; }
  /** A 0xFD-prefixed SIMD instruction, its opcode as unsigned LEB128, then the given immediates. */
  simd(opcode: number, ...imm: number[]): this {
    this.code.push(0xfd); uleb(this.code, opcode);
    for (const b of imm) uleb(this.code, b);
    return this;
  }
  /** A memory access: opcode (core or SIMD) with memarg {align (log2), offset}. */
  mem(opcode: number, simd: boolean, align: number, offset: number): this {
    if (simd) this.simd(opcode); else this.code.push(opcode);
    uleb(this.code, align); uleb(this.code, offset);
    return this;
  }
}

/** Core opcodes used by the kernels. */
export const OP = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, void: 0x40,
  select: 0x1b, f32Load: 0x2a, f64Load: 0x2b, f64PromoteF32: 0xbb, f64Eq: 0x61, f64Ne: 0x62,
  i32Eqz: 0x45, i32Eq: 0x46, i32LtS: 0x48, i32GtS: 0x4a, i32GeS: 0x4e, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c,
  i32And: 0x71,
} as const;

/** SIMD opcodes (after the 0xFD prefix). */
export const SIMD = {
  load: 0x00, store: 0x0b, const: 0x0c, f64x2Splat: 0x14, load32Zero: 0x5c, load64Zero: 0x5d,
  store32Lane: 0x5a, store64Lane: 0x5b, f32x4DemoteF64x2Zero: 0x5e, f64x2PromoteLowF32x4: 0x5f,
  f64x2Add: 0xf0, f64x2Sub: 0xf1, f64x2Mul: 0xf2, f64x2RelaxedMadd: 0x107,
} as const;

/** One exported function: its i32 parameter count, extra locals by type, and its body. */
export interface FunctionDef {
  name: string;
  params: number;
  locals: Array<[count: number, type: number]>;
  body: Body;
}

/**
 * The module's bytes: one memory of `pages` 64 KiB pages (no maximum) exported as "memory", and
 * the functions (all parameters i32, no results), exported by name.
 */
export function moduleBytes(functions: FunctionDef[], pages: number): Uint8Array<ArrayBuffer> {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const section = (id: number, content: number[]): void => {
    out.push(id); uleb(out, content.length); out.push(...content);
  };
  const vec = (items: number[][]): number[] => {
    const v: number[] = []; uleb(v, items.length);
    for (const it of items) v.push(...it);
    return v;
  };
  const name = (s: string): number[] => {
    const v: number[] = []; uleb(v, s.length);
    for (let i = 0; i < s.length; i++) v.push(s.charCodeAt(i));
    return v;
  };
  // 1 type per function: (i32 × params) → ().
  section(1, vec(functions.map((f) => {
    const t = [0x60]; uleb(t, f.params);
    for (let i = 0; i < f.params; i++) t.push(I32);
    t.push(0x00);
    return t;
  })));
  section(3, vec(functions.map((_, i) => { const v: number[] = []; uleb(v, i); return v; })));
  const mem = [0x00]; uleb(mem, pages);
  section(5, vec([mem]));
  section(7, vec([
    [...name('memory'), 0x02, 0x00],
    ...functions.map((f, i) => { const e = [...name(f.name), 0x00]; uleb(e, i); return e; }),
  ]));
  section(10, vec(functions.map((f) => {
    const body: number[] = [];
    uleb(body, f.locals.length);
    for (const [count, type] of f.locals) { uleb(body, count); body.push(type); }
    body.push(...f.body.code, OP.end);
    const sized: number[] = []; uleb(sized, body.length);
    return [...sized, ...body];
  })));
  return new Uint8Array(out);
}
