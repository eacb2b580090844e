import { describe, expect, it } from 'vitest';
import { extractSnippets } from './extract-snippets.js';
import { snippetSource, typeCheckSnippets } from './type-check-snippets.js';
import { fileURLToPath } from 'node:url';

const MARKDOWN = [
  '# Title', //                                   1
  '',
  '```sh',
  'npm install x',
  '```', //                                       5
  '',
  '```ts',
  "const a: number = 'one';",
  '```',
  '', //                                          10
  '<!-- prelude',
  'declare const socket: { write(data: string): void };',
  '-->',
  '```typescript',
  "socket.write('hello');", //                    15
  'socket.write(1);',
  '```',
  '<!-- prelude declare const late: number; -->',
  'A paragraph between the comment and the block.',
  '```ts', //                                     20
  'late;',
  '````',
].join('\n');

describe('extractSnippets', () => {
  const snippets = extractSnippets(MARKDOWN, 'README.md');

  it('takes the TypeScript blocks with the line of their first line of code', () => {
    expect(snippets.map((snippet) => [snippet.line, snippet.code])).toEqual([
      [8, "const a: number = 'one';"],
      [15, "socket.write('hello');\nsocket.write(1);"],
      [21, 'late;'],
    ]);
  });

  it('gives a block the prelude of the HTML comment right above it, and no other', () => {
    expect(snippets[1]).toMatchObject({ prelude: '\ndeclare const socket: { write(data: string): void };\n', preludeLine: 11 });
    expect(snippets[0]!.prelude).toBe('');
    expect(snippets[2]!.prelude).toBe('');
  });

  it('places type errors at their line of the Markdown file', () => {
    const diagnostics = typeCheckSnippets(snippets, fileURLToPath(new URL('..', import.meta.url)));
    expect(diagnostics.map((diagnostic) => [diagnostic.line, diagnostic.message.slice(0, 7)])).toEqual([
      [8, 'TS2322:'],
      [16, 'TS2345:'],
      [21, 'TS2304:'],
    ]);
    expect(snippetSource(snippets[0]!)).toContain('export {};');
  });
});
