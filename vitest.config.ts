import { fileURLToPath } from 'node:url';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';
import type { SystemToolName } from './scripts/vitest/system-tools.js';

// Workspace packages export their TypeScript source under the `@ws/source` condition,
// so every test runs against `src` and no build is needed before `pnpm test`.
const sourceConditions = ['@ws/source', ...defaultServerConditions];

const packages = ['core', 'server', 'client', 'testkit', 'redis'];

/**
 * Programs from the operating system a project's tests drive (scripts/vitest/system-tools.ts):
 * missing, they skip those tests with one line locally and fail the run under CI=true.
 */
const SYSTEM_TOOLS_SETUP = fileURLToPath(new URL('./scripts/vitest/system-tools-setup.ts', import.meta.url));
const systemTools: Readonly<Record<string, readonly SystemToolName[]>> = {
  server: ['chromium'],
  testkit: ['chromium'],
  redis: ['redis-server', 'redis-cli'],
  demo: ['chromium', 'redis-server'],
};
function needs(project: string) {
  const tools = systemTools[project];
  return tools === undefined ? {} : { globalSetup: [SYSTEM_TOOLS_SETUP], provide: { systemTools: tools } };
}

export default defineConfig({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions, externalConditions: ['@ws/source'] } },
  test: {
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: {
          name,
          root: `packages/${name}`,
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          testTimeout: 20_000,
          hookTimeout: 20_000,
          ...needs(name),
        },
      })),
      {
        extends: true as const,
        test: {
          name: 'demo',
          root: 'apps/demo',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          ...needs('demo'),
        },
      },
      {
        // The READMEs' examples, and the repository's own scripts and test support.
        extends: true as const,
        test: {
          name: 'docs',
          root: '.',
          include: ['docs/src/**/*.test.ts', 'scripts/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
