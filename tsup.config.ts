import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts', kernels: 'src/kernels/index.ts' },
    format: ['esm', 'cjs'],
    // Members marked @internal (the step protocol, tapes) stay out of the published types.
    dts: { compilerOptions: { stripInternal: true } },
    sourcemap: true,
    clean: true,
    target: 'es2020',
  },
  {
    // A classic <script> bundle: window.RecurrentCells.
    entry: { 'recurrent-cells': 'src/index.ts' },
    format: ['iife'],
    globalName: 'RecurrentCells',
    minify: false,
    sourcemap: true,
    target: 'es2020',
    outExtension: () => ({ js: '.iife.js' }),
  },
]);
