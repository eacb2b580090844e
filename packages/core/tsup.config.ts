import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', node: 'src/node/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: false,
  // `@ws/core/node` imports the protocol through the package's own name, so both entry
  // points share one copy of every class (instanceof works across them).
  external: ['@ws/core'],
});
