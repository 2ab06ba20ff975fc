/**
 * The README's TypeScript blocks as tests, so its text cannot drift from the library: every
 * ```ts / ```typescript block is extracted, type-checked under strict against src/, and run when
 * it stands on its own.
 *
 * Markers, in HTML comments (invisible on the rendered page) directly before a block's fence, blank
 * lines allowed in between:
 *
 *   <!-- readme-test: typecheck-only -->         type-check, do not run (e.g. it reads a file)
 *   <!-- readme-test: prelude
 *   declare const rnn: LSTM;                      TypeScript prepended for the type-check only: the
 *   -->                                           free names of a fragment; the block is not run
 *   <!-- readme-test: known-failure issue 9 -->   must still FAIL to type-check (so the fix is noticed)
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Where run blocks are written: inside the repository so vitest transforms their imports of src/ (git-ignored /tmp/). */
const RUN_DIR = join(ROOT, 'tmp', 'readme-blocks');
/**
 * Blocks import the package by name; both the type-check and the runs map each entry point of
 * package.json's "exports" to its source (checked against package.json in readme.test.ts).
 */
export const ENTRIES: Record<string, string> = {
  'recurrent-cells': join(ROOT, 'src', 'index.ts'),
  'recurrent-cells/kernels': join(ROOT, 'src', 'kernels', 'index.ts'),
};

/** Text from the README and the README line (1-based) its first line came from. */
export interface Segment {
  text: string;
  line: number;
}

export interface Block {
  /** README line of the opening fence: the block's name in messages. */
  line: number;
  code: Segment;
  /** Hidden TypeScript prepended for the type-check (`readme-test: prelude`). */
  prelude: Segment[];
  typecheckOnly: boolean;
  /** The reason given by `readme-test: known-failure <reason>`, or null. */
  knownFailure: string | null;
}

export interface Extracted {
  blocks: Block[];
  /** Misplaced or malformed markers, as `README.md:<line>: <what>`. */
  problems: string[];
}

type Marker =
  | { kind: 'typecheck-only'; line: number }
  | { kind: 'known-failure'; line: number; reason: string }
  | { kind: 'prelude'; line: number; segment: Segment };

// ---------------------------------------------------------------- extraction

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const MARKER_START = /^\s*<!--\s*readme-test:/;

/**
 * The TypeScript blocks of a Markdown text with their markers. A marker not followed (across blank
 * lines only) by a TypeScript block is a problem: it would otherwise silently check nothing.
 */
export function extractBlocks(markdown: string): Extracted {
  const lines = markdown.split(/\r?\n/);
  const blocks: Block[] = [];
  const problems: string[] = [];
  let pending: Marker[] = [];
  const orphan = (): void => {
    for (const m of pending) problems.push(`README.md:${m.line}: readme-test marker not directly before a ts block`);
    pending = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = FENCE.exec(line);
    if (fence !== null) {
      const end = closingFence(lines, i, fence[1]!);
      if (isTypeScript(fence[2]!)) {
        const code = { text: lines.slice(i + 1, end).join('\n'), line: i + 2 };
        blocks.push(makeBlock(i + 1, code, pending));
        pending = [];
      } else {
        orphan();
      }
      i = end;
    } else if (MARKER_START.test(line)) {
      const end = commentEnd(lines, i);
      const marker = parseMarker(lines.slice(i, end + 1).join('\n'), i + 1);
      if (typeof marker === 'string') problems.push(marker);
      else pending.push(marker);
      i = end;
    } else if (line.trim() !== '') {
      orphan();
    }
  }
  orphan();
  return { blocks, problems };
}

/** CommonMark: the info string's first word names the language. */
function isTypeScript(info: string): boolean {
  const lang = info.trim().split(/\s+/)[0]!.toLowerCase();
  return lang === 'ts' || lang === 'typescript';
}

/** Index of the line closing the fence opened at `start` (the same character, at least as long), or the last line. */
function closingFence(lines: string[], start: number, open: string): number {
  const close = new RegExp(`^ {0,3}${open[0] === '`' ? '`' : '~'}{${open.length},}\\s*$`);
  for (let i = start + 1; i < lines.length; i++) if (close.test(lines[i]!)) return i;
  return lines.length - 1;
}

/** Index of the line holding the `-->` that ends the comment opened at `start`. */
function commentEnd(lines: string[], start: number): number {
  for (let i = start; i < lines.length; i++) if (lines[i]!.includes('-->')) return i;
  return lines.length - 1;
}

/** One `<!-- readme-test: kind rest -->` comment starting on README line `line`; a string is a problem. */
function parseMarker(comment: string, line: number): Marker | string {
  const body = comment.replace(/^\s*<!--\s*readme-test:[ \t]*/, '').replace(/-->[\s\S]*$/, '');
  const kind = /^[\w-]*/.exec(body)![0];
  const rest = body.slice(kind.length);
  switch (kind) {
    case 'typecheck-only':
      return { kind, line };
    case 'known-failure':
      if (rest.trim() === '') return `README.md:${line}: known-failure needs a reason, e.g. "known-failure issue 9"`;
      return { kind, line, reason: rest.trim() };
    case 'prelude':
      // `rest` starts on the comment's own line, so its line k is README line `line + k`.
      return { kind, line, segment: { text: rest, line } };
    default:
      return `README.md:${line}: unknown readme-test marker "${kind}" (typecheck-only, prelude, known-failure)`;
  }
}

function makeBlock(line: number, code: Segment, markers: Marker[]): Block {
  const block: Block = { line, code, prelude: [], typecheckOnly: false, knownFailure: null };
  for (const m of markers) {
    if (m.kind === 'typecheck-only') block.typecheckOnly = true;
    else if (m.kind === 'known-failure') block.knownFailure = m.reason;
    else block.prelude.push(m.segment);
  }
  return block;
}

/** Run a block only if it stands on its own: a prelude's declarations have no values at run time. */
export function isRunnable(block: Block): boolean {
  return !block.typecheckOnly && block.knownFailure === null && block.prelude.length === 0;
}

// ---------------------------------------------------------------- type-check

/** A block as the type-checker sees it: prelude + code, and the README line of each of its lines. */
interface VirtualFile {
  fileName: string;
  text: string;
  readmeLines: number[];
}

function virtualFile(block: Block): VirtualFile {
  const segments = [...block.prelude, block.code];
  const readmeLines = segments.flatMap((s) => s.text.split('\n').map((_, k) => s.line + k));
  return {
    fileName: join(ROOT, `README.block-${block.line}.ts`),
    text: segments.map((s) => s.text).join('\n'),
    readmeLines,
  };
}

/** The project's tsconfig options, with what README snippets need on top. */
function compilerOptions(): ts.CompilerOptions {
  const file = join(ROOT, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(file, ts.sys.readFile);
  if (error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const project = ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, file).options;
  return {
    ...project,
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2020,
    lib: ['lib.es2020.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    // Snippets name results to show them (`const { dx, dState } = ...`) without using every one.
    noUnusedLocals: false,
    noUnusedParameters: false,
    // Each block is a module of its own, imports or not, so top-level names of blocks cannot collide.
    moduleDetection: ts.ModuleDetectionKind.Force,
    // Only the package's entry points, so a README import of anything else fails.
    paths: Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, [file]])),
  };
}

/** The compiler's default host, serving the virtual block files from memory. */
function compilerHost(options: ts.CompilerOptions, files: Map<string, string>): ts.CompilerHost {
  const host = ts.createCompilerHost(options, true);
  return {
    ...host,
    getCurrentDirectory: () => ROOT,
    fileExists: (f) => files.has(f) || host.fileExists(f),
    readFile: (f) => files.get(f) ?? host.readFile(f),
    getSourceFile: (f, language, onError, create) => {
      const text = files.get(f);
      return text === undefined ? host.getSourceFile(f, language, onError, create) : ts.createSourceFile(f, text, language);
    },
  };
}

export interface TypecheckResult {
  /** Diagnostics per block (by fence line), as `README.md:<line>: <message>`. */
  byBlock: Map<number, string[]>;
  /** Option and global diagnostics: not tied to a block, but every block is suspect. */
  global: string[];
}

/** One ts.Program over all blocks (the library's types are loaded once: seconds, not a minute). */
export function typecheckBlocks(blocks: Block[]): TypecheckResult {
  const options = compilerOptions();
  const files = blocks.map(virtualFile);
  const program = ts.createProgram(
    files.map((f) => f.fileName),
    options,
    compilerHost(options, new Map(files.map((f) => [f.fileName, f.text]))),
  );
  const byBlock = new Map<number, string[]>();
  blocks.forEach((block, k) => {
    const file = files[k]!;
    const source = program.getSourceFile(file.fileName)!;
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    byBlock.set(block.line, diagnostics.map((d) => formatDiagnostic(d, file)));
  });
  const global = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()].map((d) =>
    ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  );
  return { byBlock, global };
}

/** `README.md:<line>: <message>`, the line mapped back through the block's prelude and code. */
function formatDiagnostic(d: ts.Diagnostic, file: VirtualFile): string {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
  if (d.file === undefined || d.start === undefined) return `README.md (block at ${file.fileName}): ${message}`;
  const { line } = d.file.getLineAndCharacterOfPosition(d.start);
  return `README.md:${file.readmeLines[line]}: ${message}`;
}

// ---------------------------------------------------------------- running

/** Empties the folder run blocks are written to. */
export function resetRunDir(): void {
  rmSync(RUN_DIR, { recursive: true, force: true });
  mkdirSync(RUN_DIR, { recursive: true });
}

export function removeRunDir(): void {
  rmSync(RUN_DIR, { recursive: true, force: true });
}

/**
 * Runs a block as an ES module and returns its namespace: every top-level name it declares is
 * exported, so tests can exercise what the README defines (e.g. its `trainStep`).
 */
export async function runBlock(block: Block): Promise<Record<string, unknown>> {
  const file = join(RUN_DIR, `block-${block.line}.mjs`);
  writeFileSync(file, executable(block.code.text));
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    // Name the block; keep the error itself (its stack points into the block's line).
    if (e instanceof Error) e.message = `README.md:${block.line}: the block threw: ${e.message}`;
    throw e;
  }
}

/** The block as JavaScript importing the library's source instead of the package. */
function executable(code: string): string {
  const names = topLevelNames(code);
  const exported = names.length === 0 ? '' : `\nexport { ${names.join(', ')} };\n`;
  const js = ts.transpileModule(code + exported, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2020 },
  }).outputText;
  // `from 'recurrent-cells…'`, `import 'recurrent-cells…'` and `import('recurrent-cells…')`.
  return js.replace(/(\bfrom\s*|\bimport\s*\(?\s*)(['"])(recurrent-cells(?:\/[\w-]+)?)\2/g,
    (whole, lead: string, _q: string, name: string) => (ENTRIES[name] === undefined ? whole : lead + JSON.stringify(ENTRIES[name])));
}

/** Names of the block's own top-level variables, functions and classes (not imports, exports or declares). */
function topLevelNames(code: string): string[] {
  const source = ts.createSourceFile('block.ts', code, ts.ScriptTarget.ES2020);
  const names: string[] = [];
  for (const s of source.statements) {
    const modifiers = ts.canHaveModifiers(s) ? ts.getModifiers(s) ?? [] : [];
    if (modifiers.some((m) => m.kind === ts.SyntaxKind.ExportKeyword || m.kind === ts.SyntaxKind.DeclareKeyword)) continue;
    if (ts.isVariableStatement(s)) for (const d of s.declarationList.declarations) names.push(...bindingNames(d.name));
    else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) && s.name !== undefined) names.push(s.name.text);
  }
  return names;
}

/** The names a declaration binds: `x`, or each name of a destructuring pattern. */
function bindingNames(name: ts.BindingName): string[] {
  if (ts.isIdentifier(name)) return [name.text];
  return name.elements.flatMap((e) => (ts.isOmittedExpression(e) ? [] : bindingNames(e.name)));
}
