import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { extractSnippets } from './extract-snippets.js';
import { typeCheckSnippets } from './type-check-snippets.js';

const docs = fileURLToPath(new URL('..', import.meta.url));
const root = path.resolve(docs, '..');

/** The repository's README and every package's and app's: found, not listed, so a new one is checked too. */
function readmes(): string[] {
  const nested = ['packages', 'apps'].flatMap((folder) =>
    readdirSync(path.join(root, folder), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(path.join(root, folder, entry.name, 'README.md')))
      .map((entry) => `${folder}/${entry.name}/README.md`),
  );
  return ['README.md', ...nested];
}

const files = readmes();
const snippets = files.flatMap((file) => extractSnippets(readFileSync(path.join(root, file), 'utf8'), file));
// One program for every block: the packages' sources are read and checked once.
const diagnostics = typeCheckSnippets(snippets, docs);

describe('the TypeScript examples in the READMEs type-check under tsc --strict against the packages', () => {
  it('finds the examples', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'packages/core/README.md', 'packages/server/README.md']));
    expect(snippets.length).toBeGreaterThan(10);
  });

  it.each(files)('%s', (file) => {
    const errors = diagnostics.filter((diagnostic) => diagnostic.file === file || diagnostic.line === 0);
    expect(errors.map((error) => `${error.file}:${error.line}: ${error.message}`)).toEqual([]);
  });
});
