import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', node: 'src/node/index.ts', wire: 'src/wire.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // `@ws/core` and `@ws/core/wire` import the same modules by relative path: split, they share
  // one copy of each (the `InvalidStateError` a wire-level mask function throws is the one the
  // main entry exports, so `instanceof` holds), where unsplit each entry would bundle its own.
  splitting: true,
  // `@ws/core/node` imports the protocol through the package's own name, so it shares one copy
  // of every class with the main entry (instanceof works across them).
  external: ['@ws/core'],
});
