import { defineConfig } from 'vitest/config';

// One `npm test` runs the whole suite twice: once on the TypeScript kernels ('js') and once on
// the WebAssembly SIMD kernels ('wasm', every product routed through wasm however small). Both
// must pass: the backends are bit-identical.
export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'js', setupFiles: ['test/helpers/backend-js.ts'] } },
      { extends: true, test: { name: 'wasm', setupFiles: ['test/helpers/backend-wasm.ts'] } },
    ],
  },
});
