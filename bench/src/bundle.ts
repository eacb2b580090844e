/**
 * Bundles benchmark entry points the way the packages are published (tsup, ESM, no
 * `keepNames`), with the workspace packages taken from their sources. The benchmarks run these
 * bundles with plain `node`, not the sources through tsx: tsx compiles with esbuild's
 * `keepNames`, which gives every closure a runtime `name` assignment, a cost in memory and time
 * that the published packages (and ws) do not have.
 */
export async function bundle(entry: Record<string, string>, outDir: string): Promise<void> {
  // Loaded on use: the bundled benchmark processes import this module too, and never build.
  const { build } = await import('tsup');
  await build({
    entry,
    outDir,
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    splitting: false,
    sourcemap: false,
    dts: false,
    clean: true,
    silent: true,
    keepNames: false,
    // The workspace packages are bundled from their sources; ws and the tools stay installed packages.
    noExternal: [/^@ws\//],
    external: ['ws', 'bufferutil', 'utf-8-validate', 'tsup'],
    esbuildOptions(options) {
      options.conditions = ['@ws/source'];
    },
  });
}
