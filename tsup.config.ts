import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
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
