/**
 * `recurrent-cells/kernels`: the Float32Array kernels under the cells, for users who build their
 * own layers. Each checks its arguments (types, sizes, that every block lies inside its array,
 * that the output does not overlap an input) and then runs the kernel the cells use, so results
 * are bit-identical to the library's own.
 *
 * GEMMs follow BLAS's argument order: C with its offset and leading dimension, then A, then B,
 * then M, N, K and `accumulate` (false: C = product; true: C += product). Matrices are row-major
 * blocks of larger arrays: row i of C starts at cOff + i·ldc.
 */
import * as raw from './gemm.js';
import { gemmReference as rawReference } from './gemm-reference.js';
import { sigmoid as rawSigmoid, tanh as rawTanh } from './activations.js';
import { checkFloat32, describe, typedLength } from '../core/validate.js';

type Gemm = typeof raw.gemmNN;

/** C[M,N] (+)= A[M,K] · B[K,N]. */
export const gemmNN: Gemm = checked('gemmNN', raw.gemmNN, false, false);
/** C[M,N] (+)= A[M,K] · B[N,K]ᵀ. */
export const gemmNT: Gemm = checked('gemmNT', raw.gemmNT, false, true);
/** C[M,N] (+)= A[K,M]ᵀ · B[K,N]. */
export const gemmTN: Gemm = checked('gemmTN', raw.gemmTN, true, false);

/**
 * The naive reference: C[M,N] (+)= op(A) · op(B), op(A) = Aᵀ (A stored [K,M]) when transA, op(B)
 * = Bᵀ (B stored [N,K]) when transB; each sum in float64 over ascending k, rounded once. The
 * fast kernels agree with it bit for bit.
 */
export function gemmReference(
  transA: boolean,
  transB: boolean,
  C: Float32Array, cOff: number, ldc: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  M: number, N: number, K: number,
  accumulate: boolean,
): void {
  checkFlag('transA', transA);
  checkFlag('transB', transB);
  checkGemm({ C, cOff, ldc, A, aOff, lda, B, bOff, ldb, M, N, K, accumulate }, transA, transB);
  rawReference(transA, transB, C, cOff, ldc, A, aOff, lda, B, bOff, ldb, M, N, K, accumulate);
}

/** The logistic function σ(x) = 1 / (1 + e^(−x)) as the cells compute it (|error| < 2e-11). */
export function sigmoid(x: number): number {
  return rawSigmoid(checkNumber('x', x));
}

/** tanh(x) as the cells compute it (|error| < 5e-11). */
export function tanh(x: number): number {
  return rawTanh(checkNumber('x', x));
}

interface GemmArgs {
  C: unknown; cOff: unknown; ldc: unknown;
  A: unknown; aOff: unknown; lda: unknown;
  B: unknown; bOff: unknown; ldb: unknown;
  M: unknown; N: unknown; K: unknown; accumulate: unknown;
}

function checked(name: string, kernel: Gemm, transA: boolean, transB: boolean): Gemm {
  const f: Gemm = (C, cOff, ldc, A, aOff, lda, B, bOff, ldb, M, N, K, accumulate) => {
    checkGemm({ C, cOff, ldc, A, aOff, lda, B, bOff, ldb, M, N, K, accumulate }, transA, transB);
    kernel(C, cOff, ldc, A, aOff, lda, B, bOff, ldb, M, N, K, accumulate);
  };
  Object.defineProperty(f, 'name', { value: name });
  return f;
}

/** Every check of a GEMM call; throws naming the argument, what was expected and what was given. */
function checkGemm(a: GemmArgs, transA: boolean, transB: boolean): void {
  const M = count('M', a.M), N = count('N', a.N), K = count('K', a.K);
  checkFlag('accumulate', a.accumulate);
  const C = block('C', a.C, a.cOff, a.ldc, [M, N]);
  const A = block('A', a.A, a.aOff, a.lda, transA ? [K, M] : [M, K]);
  const B = block('B', a.B, a.bOff, a.ldb, transB ? [N, K] : [K, N]);
  for (const [name, other] of [['A', A], ['B', B]] as const) {
    if (C.extent > 0 && other.extent > 0 && C.array.buffer === other.array.buffer) {
      const c0 = C.array.byteOffset + 4 * C.start, c1 = c0 + 4 * C.extent;
      const o0 = other.array.byteOffset + 4 * other.start, o1 = o0 + 4 * other.extent;
      if (c0 < o1 && o0 < c1) throw new RangeError(`C: expected memory apart from ${name} (the kernel reads ${name} while writing C), got an overlap`);
    }
  }
}

/** A [rows, cols] block at off with leading dimension ld: checks it lies inside the array. */
function block(name: string, v: unknown, off: unknown, ld: unknown, [rows, cols]: number[]): { array: Float32Array; start: number; extent: number } {
  const array = checkFloat32(name, v);
  const o = count(`${name === 'C' ? 'c' : name.toLowerCase()}Off`, off);
  const l = count(`ld${name.toLowerCase()}`, ld);
  if (l < cols!) throw new RangeError(`ld${name.toLowerCase()}: expected at least the row length ${cols}, got ${l}`);
  const extent = rows! === 0 || cols! === 0 ? 0 : (rows! - 1) * l + cols!;
  const length = typedLength(array);   // the internal slot: an own `length` property cannot lie
  if (o + extent > length) {
    throw new RangeError(`${name}: expected at least ${o + extent} elements (a [${rows}, ${cols}] block at offset ${o}, leading dimension ${l}), got ${length}`);
  }
  return { array, start: o, extent };
}

function count(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name}: expected a non-negative integer, got ${describe(v)}`);
  return v;
}

function checkFlag(name: string, v: unknown): void {
  if (typeof v !== 'boolean') throw new TypeError(`${name}: expected a boolean, got ${describe(v)}`);
}

function checkNumber(name: string, v: unknown): number {
  if (typeof v !== 'number') throw new TypeError(`${name}: expected a number, got ${describe(v)}`);
  return v;
}
