/** A TypeScript block of a Markdown file, where it stands, and what it needs declared to compile. */
export interface Snippet {
  /** The Markdown file, as given to {@link extractSnippets} (a path relative to the repository). */
  readonly file: string;
  /** 1-based line of the block's first line of code. */
  readonly line: number;
  readonly code: string;
  /**
   * Declarations the block takes for granted (`declare const socket: Socket;`), from an HTML
   * comment right above it: `<!-- prelude ... -->`. Invisible on a rendered page; empty when the
   * block stands on its own.
   */
  readonly prelude: string;
  /** 1-based line of the prelude's first line, when there is one. */
  readonly preludeLine: number | undefined;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;
const TYPESCRIPT = new Set(['ts', 'typescript', 'mts', 'cts']);
const PRELUDE_START = /^<!--\s*prelude\b(.*)$/;

/**
 * The fenced ```ts blocks of a Markdown document, in order, read from the text itself so that a
 * test never checks a copy that has drifted from what readers see.
 */
export function extractSnippets(markdown: string, file: string): Snippet[] {
  const lines = markdown.split(/\r?\n/);
  const snippets: Snippet[] = [];
  let prelude: { text: string[]; line: number } | undefined;
  let pending: { text: string[]; line: number } | undefined;
  for (let index = 0; index < lines.length; index++) {
    const text = lines[index]!;
    if (pending !== undefined) {
      const end = text.indexOf('-->');
      if (end === -1) {
        pending.text.push(text);
        continue;
      }
      pending.text.push(text.slice(0, end));
      prelude = pending;
      pending = undefined;
      continue;
    }
    const start = PRELUDE_START.exec(text);
    if (start !== undefined && start !== null) {
      const rest = start[1]!;
      const end = rest.indexOf('-->');
      if (end === -1) pending = { text: [rest], line: index + 1 };
      else prelude = { text: [rest.slice(0, end)], line: index + 1 };
      continue;
    }
    const fence = FENCE.exec(text);
    if (fence === null) {
      // A prelude belongs to the block right below it, blank lines aside.
      if (text.trim() !== '') prelude = undefined;
      continue;
    }
    const marker = fence[1]!;
    const language = fence[2]!.toLowerCase();
    const body: string[] = [];
    let close = index + 1;
    while (close < lines.length && !isClosingFence(lines[close]!, marker)) body.push(lines[close++]!);
    if (TYPESCRIPT.has(language)) {
      snippets.push({
        file,
        line: index + 2,
        code: body.join('\n'),
        prelude: prelude === undefined ? '' : prelude.text.join('\n'),
        preludeLine: prelude?.line,
      });
    }
    prelude = undefined;
    index = close;
  }
  return snippets;
}

function isClosingFence(line: string, opening: string): boolean {
  const trimmed = line.trim();
  return trimmed.length >= opening.length && trimmed === opening[0]!.repeat(trimmed.length);
}
