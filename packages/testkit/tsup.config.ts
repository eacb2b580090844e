import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', vitest: 'src/vitest/index.ts', cli: 'src/cli.ts' },
  // vitest is the user's own test runner: never bundled. `@ws/testkit/vitest` imports the main
  // entry by the package's own name, so both share one copy of every class.
  external: ['vitest', '@ws/testkit'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: false,
});
