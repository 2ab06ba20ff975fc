/**
 * The README cannot drift: its TypeScript blocks, as written there, type-check under strict
 * against src/ and the self-contained ones run (markers and their syntax: test/helpers/readme.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../src/index.js';
import { expectWithinBar, loadFixture } from './helpers/fixtures.js';
import {
  ENTRIES, extractBlocks, isRunnable, removeRunDir, resetRunDir, ROOT, runBlock, typecheckBlocks,
  type Block, type TypecheckResult,
} from './helpers/readme.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const { blocks, problems } = extractBlocks(README);

let checked: TypecheckResult;
beforeAll(() => {
  checked = typecheckBlocks(blocks);
  resetRunDir();
}, 60_000);
afterAll(removeRunDir);

describe('README', () => {
  it('has TypeScript blocks, and every readme-test marker is well-formed and before one', () => {
    expect(blocks.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('maps exactly the entry points of package.json "exports"', () => {
    const exportsField = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).exports as Record<string, unknown>;
    const names = Object.keys(exportsField).filter((k) => k !== './package.json').map((k) => `recurrent-cells${k.slice(1)}`);
    expect(Object.keys(ENTRIES).sort()).toEqual(names.sort());
  });

  it('mentions npm test', () => {
    expect(README).toMatch(/\bnpm test\b/);
  });

  it('type-checks with valid options', () => {
    expect(checked.global).toEqual([]);
  });

  describe.each(blocks.map((b) => [`README.md:${b.line}`, b] as const))('%s', (_, block) => {
    const diagnostics = (): string[] => checked.byBlock.get(block.line)!;

    if (block.knownFailure !== null) {
      it(`still fails to type-check (known failure: ${block.knownFailure}); once it passes, remove the marker`, () => {
        expect(diagnostics().length).toBeGreaterThan(0);
      });
    } else {
      it('type-checks', () => {
        expect(diagnostics(), diagnostics().join('\n')).toEqual([]);
      });
    }

    if (isRunnable(block)) {
      it('runs', async () => {
        await runBlock(block);
      });
    }
  });

  // Behaviour the README promises of its own code, checked on that code.
  it('the training step lowers the loss on a fixed batch', async () => {
    const trainStep = (await runBlock(blockDefining('trainStep')))['trainStep'] as
      (x: Float32Array, target: Float32Array, T: number, B: number) => number;
    const T = 6, B = 8, rng = new Random(3);
    const x = new Float32Array(T * B * 2).map(() => rng.normal());
    const target = new Float32Array(B).map(() => rng.normal());
    const first = trainStep(x, target, T, B);
    let last = first;
    for (let i = 0; i < 60; i++) last = trainStep(x, target, T, B);
    expect(last).toBeLessThan(first / 4);
  });

  it('Coming from PyTorch: the whole model read by prefix computes PyTorch\'s logits; toPyTorch writes model.state_dict()\'s keys', async () => {
    const fx = loadFixture<{ expected: { logits: number[] }; torchFloat32Error: Record<string, number>; stateDictKeys: string[] }>('torch_nested_model');
    const logits = (await runBlock(blockDefining('logits')))['logits'] as Float32Array;
    expectWithinBar('README logits', logits, fx.expected.logits, fx.torchFloat32Error.logits);
    const sd = (await runBlock(blockDefining('sd')))['sd'] as Record<string, { shape: number[] }>;
    expect(Object.keys(sd)).toEqual(fx.stateDictKeys);
  });
});

// The harness itself, on small made-up Markdown: it must stay right as others edit the README.
describe('README harness', () => {
  it('extracts ts/typescript blocks of any fence, with their markers and README lines', () => {
    const md = [
      '<!-- readme-test: prelude', //               1
      'declare const x: number;', //                  2
      '-->', //                                       3
      '', //                                          4
      '```ts', //                                     5
      'x + 1;', //                                    6
      '```', //                                       7
      '```js', //                                     8
      'not: TypeScript', //                           9
      '```', //                                      10
      '<!-- readme-test: typecheck-only -->', //     11
      '````typescript title="a"', //                12
      '```', //                                      13
      '````', //                                     14
      '~~~ts', //                                    15
      '~~~', //                                      16
    ].join('\n');
    const { blocks, problems } = extractBlocks(md);
    expect(problems).toEqual([]);
    expect(blocks.map((b) => [b.line, b.code.line, b.code.text])).toEqual([[5, 6, 'x + 1;'], [12, 13, '```'], [15, 16, '']]);
    expect(blocks[0]!.prelude).toEqual([{ text: '\ndeclare const x: number;\n', line: 1 }]);
    expect(blocks.map(isRunnable)).toEqual([false, false, true]);
  });

  it('reports a marker that is unknown, lacks a reason, or is not directly before a ts block', () => {
    const md = [
      '<!-- readme-test: typecheck-onyl -->', '```ts', '```',
      '<!-- readme-test: known-failure -->', '```ts', '```',
      '<!-- readme-test: typecheck-only -->', 'text', '```ts', '```',
      '<!-- readme-test: typecheck-only -->', '```sh', '```',
    ].join('\n');
    expect(extractBlocks(md).problems).toEqual([
      'README.md:1: unknown readme-test marker "typecheck-onyl" (typecheck-only, prelude, known-failure)',
      'README.md:4: known-failure needs a reason, e.g. "known-failure issue 9"',
      'README.md:7: readme-test marker not directly before a ts block',
      'README.md:11: readme-test marker not directly before a ts block',
    ]);
  });
});

/** The runnable block that defines `name` at top level (the README may move it, not drop it silently). */
function blockDefining(name: string): Block {
  const pattern = new RegExp(`^(?:function|const|let|class)\\s+${name}\\b`, 'm');
  const block = blocks.find((b) => isRunnable(b) && pattern.test(b.code.text));
  if (block === undefined) throw new Error(`no runnable README block defines ${name}: update this test with the README`);
  return block;
}
