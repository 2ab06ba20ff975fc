/**
 * The shape of src/: imports point down the layers (core → kernels → cells → nn/optim/init →
 * layers → modules → train → io → index), there are no import cycles (type-only imports
 * included), and no function takes more than 6 positional parameters except GEMM kernels, which
 * follow BLAS's argument convention.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const files = sourceFiles(SRC);
const name = (p: string): string => relative(SRC, p).replace(/\\/g, '/');

/** file → the src files it imports (values and types alike). */
const graph = new Map<string, string[]>(files.map((f) => {
  const text = readFileSync(f, 'utf8');
  const deps = [...text.matchAll(/(?:import|export)[^'";]*?from\s+['"](\.[^'"]+)['"]/g)]
    .map((m) => name(resolve(dirname(f), m[1]!.replace(/\.js$/, '.ts'))));
  return [name(f), deps];
}));

/** Rank of each top-level folder: a file may import only from a lower or equal rank. */
const RANK: Record<string, number> = {
  core: 0, kernels: 1, onnx: 1, cells: 2, nn: 3, optim: 3, init: 3, 'gradcheck.ts': 3, layers: 4, modules: 5, train: 6, io: 7, 'index.ts': 8,
};
const rankOf = (f: string): number => RANK[f.split('/')[0]!]!;

/** Every cycle of a graph, each as `a → b → … → a`, found by depth-first search. */
function findCycles(g: Map<string, string[]>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]): void => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') { cycles.push([...path.slice(path.indexOf(f)), f].join(' → ')); return; }
    state.set(f, 'open');
    for (const d of g.get(f) ?? []) visit(d, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of g.keys()) visit(f, []);
  return cycles;
}

describe('src/ architecture', () => {
  it('every file belongs to a known layer', () => {
    for (const f of graph.keys()) expect(rankOf(f), f).toBeTypeOf('number');
  });

  it('imports point down the layers', () => {
    const up: string[] = [];
    for (const [f, deps] of graph) for (const d of deps) if (rankOf(d) > rankOf(f)) up.push(`${f} → ${d}`);
    expect(up).toEqual([]);
  });

  it('has no import cycles', () => {
    expect(findCycles(graph)).toEqual([]);
  });

  it('the cycle finder finds a planted cycle', () => {
    expect(findCycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual(['a → b → c → a']);
  });

  it('no function takes more than 6 positional parameters (GEMM kernels excepted)', () => {
    const long: string[] = [];
    for (const f of files) {
      const sf = ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.ES2020, true);
      const walk = (node: ts.Node): void => {
        if (ts.isFunctionLike(node) && node.parameters.length > 6) {
          const id = (node as ts.FunctionLikeDeclaration).name?.getText(sf)
            ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText(sf) : '(anonymous)');
          const where = `${name(f)}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1} ${id}`;
          // GEMM kernels (BLAS order: C, A, B with offsets and leading dimensions, then M, N, K)
          // and the store helper of their register blocks.
          const blas = node.parameters.some((p) => /^ld[abc]$/.test(p.name.getText(sf)));
          if (!(blas || (name(f) === 'kernels/gemm.ts' && id === 'store4'))) long.push(where);
        }
        ts.forEachChild(node, walk);
      };
      walk(sf);
    }
    expect(long).toEqual([]);
  });
});
