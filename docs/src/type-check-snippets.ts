import path from 'node:path';
import ts from 'typescript';
import type { Snippet } from './extract-snippets.js';

/** A compiler error, at its place in the Markdown file. */
export interface SnippetDiagnostic {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/**
 * What a user's `tsc --strict` sees: Node's types, ES2022 modules resolved the way Node resolves
 * them. `@ws/source` makes `@ws/*` resolve to the packages' `src`, so no build is needed and an
 * example is checked against the code as it is now.
 */
const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2023.d.ts'],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  customConditions: ['@ws/source'],
  types: ['node'],
  skipLibCheck: true,
  noEmit: true,
};

/** The source a snippet is compiled as: its prelude, then its code, as one module. */
export function snippetSource(snippet: Snippet): string {
  // `export {}` makes a block without imports a module too, so that blocks never share names.
  return `${snippet.prelude}\n${snippet.code}\nexport {};\n`;
}

/**
 * Type-checks every snippet as a module of its own, all in one program (one pass over the
 * packages' sources). Each snippet lives, for module resolution, as a file that does not exist
 * in `directory`: a folder whose package.json says `"type": "module"` and whose node_modules
 * hold the `@ws/*` packages. Returns the errors found in the snippets, placed in the Markdown.
 */
export function typeCheckSnippets(snippets: readonly Snippet[], directory: string): SnippetDiagnostic[] {
  const virtualFiles = new Map<string, Snippet>();
  snippets.forEach((snippet, index) => {
    const name = `${snippet.file.replace(/[^A-Za-z0-9]+/g, '-')}-${snippet.line}`;
    virtualFiles.set(path.join(directory, `.readme-snippet-${index}-${name}.ts`), snippet);
  });
  const host = ts.createCompilerHost(COMPILER_OPTIONS, true);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (fileName) => virtualFiles.has(fileName) || fileExists.call(host, fileName);
  host.readFile = (fileName) => {
    const snippet = virtualFiles.get(fileName);
    return snippet === undefined ? readFile.call(host, fileName) : snippetSource(snippet);
  };
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const snippet = virtualFiles.get(fileName);
    if (snippet === undefined) return getSourceFile.call(host, fileName, languageVersion, onError, shouldCreate);
    return ts.createSourceFile(fileName, snippetSource(snippet), languageVersion, true);
  };
  const program = ts.createProgram({ rootNames: [...virtualFiles.keys()], options: COMPILER_OPTIONS, host });
  const found: SnippetDiagnostic[] = program.getOptionsDiagnostics().map((diagnostic) => ({
    file: '(compiler options)',
    line: 0,
    message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
  }));
  for (const [fileName, snippet] of virtualFiles) {
    const sourceFile = program.getSourceFile(fileName)!;
    const diagnostics = [...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)];
    for (const diagnostic of diagnostics) {
      const { line } = sourceFile.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      found.push({
        file: snippet.file,
        line: markdownLine(snippet, line),
        message: `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
      });
    }
  }
  return found;
}

/** Maps a 0-based line of {@link snippetSource} back to the 1-based line of the Markdown file. */
function markdownLine(snippet: Snippet, sourceLine: number): number {
  const preludeLines = snippet.prelude.split('\n').length;
  if (sourceLine < preludeLines) return (snippet.preludeLine ?? snippet.line) + sourceLine;
  return snippet.line + (sourceLine - preludeLines);
}
