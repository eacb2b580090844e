import ts from 'typescript';
import type { Snippet } from './extract-snippets.js';

/**
 * Runs a snippet's code (not its prelude) with the names its prelude declares bound to real
 * values, and its imports answered from `modules`: the block as readers see it, executed, with
 * no copy of it anywhere. The code is compiled to CommonJS, so `require` is the only way out.
 */
export function runSnippet(snippet: Snippet, bindings: Readonly<Record<string, unknown>>, modules: Readonly<Record<string, unknown>>): void {
  const { outputText } = ts.transpileModule(snippet.code, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, sourceMap: false },
    fileName: `${snippet.file}-${snippet.line}.ts`,
  });
  const require = (specifier: string): unknown => {
    if (Object.hasOwn(modules, specifier)) return modules[specifier];
    throw new Error(`${snippet.file}:${snippet.line} imports ${specifier}, which the runner does not provide`);
  };
  const names = Object.keys(bindings);
  // The snippet is the repository's own README, compiled just above: running it is the point.
  const run = new Function('require', 'exports', ...names, outputText) as (...values: unknown[]) => void;
  run(require, {}, ...names.map((name) => bindings[name]));
}
