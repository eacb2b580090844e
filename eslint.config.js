import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The pure protocol in @ws/core does no I/O: only `@ws/core/node` may touch sockets,
// streams, events and timers. This is the rule that keeps it that way.
const ioModules = ['net', 'http', 'https', 'tls', 'stream', 'events', 'timers', 'dgram', 'http2', 'fs'];
const ioImportPatterns = ioModules.flatMap((name) => [name, `node:${name}`, `${name}/*`, `node:${name}/*`]);

export default tseslint.config(
  {
    ignores: ['**/dist/**', 'bench/dist-deflate/**', '**/node_modules/**', '**/.turbo/**', '**/coverage/**', 'test-artifacts/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        queueMicrotask: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        performance: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use an `as const` object with a derived union type.' },
      ],
    },
  },
  {
    files: ['packages/core/src/**/*.ts'],
    ignores: ['packages/core/src/node/**', 'packages/core/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ioImportPatterns,
              message: 'The pure part of @ws/core does no I/O; put socket code in src/node/.',
            },
          ],
        },
      ],
    },
  },
);
