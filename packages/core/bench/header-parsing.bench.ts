/**
 * Handshake header parsing: ours against ws's, in the same run, on typical values and on 64 KiB
 * pathological ones. Every parser here must stay linear in the value's length; the 64 KiB rows
 * show it (a quadratic parser takes seconds there, not microseconds).
 *
 * Run: `pnpm bench` in packages/core (after the core table), or on its own:
 *   pnpm exec tsx --conditions=@ws/source bench/header-parsing.bench.ts
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { bench, do_not_optimize, group, run, summary } from 'mitata';
import { parseExtensionOffers, parseTokenList } from '../src/handshake/header-tokens.js';

const require = createRequire(import.meta.url);
// ws's `exports` map hides lib/; an absolute path reaches the files that ws itself loads.
const wsLib = join(dirname(require.resolve('ws/package.json')), 'lib');
const wsExtension = require(join(wsLib, 'extension.js')) as { parse: (header: string) => unknown };
const wsSubprotocol = require(join(wsLib, 'subprotocol.js')) as { parse: (header: string) => unknown };

const KIB_64 = 64 * 1024;

/** Runs a parser that may throw on malformed input; either outcome is a result. */
function attempt(parse: (value: string) => unknown, value: string): unknown {
  try {
    return parse(value);
  } catch (error) {
    return error;
  }
}

const tokenListCases: [string, string][] = [
  ['typical: "chat, superchat"', 'chat, superchat'],
  ['64 KiB of "a,"', 'a,'.repeat(KIB_64 / 2)],
  ['64 KiB of ", " (empty elements)', ', '.repeat(KIB_64 / 2)],
  ['64 KiB of spaces between two tokens (ws CVE-2021-32640 shape)', `b${' '.repeat(KIB_64)}x`],
];

for (const [label, value] of tokenListCases) {
  group(`token list, ${label}`, () => {
    summary(() => {
      bench('@ws/core parseTokenList', () => do_not_optimize(attempt(parseTokenList, value))).baseline(true);
      bench('ws subprotocol.parse', () => do_not_optimize(attempt(wsSubprotocol.parse, value)));
    });
  });
}

const extensionCases: [string, string][] = [
  ['typical permessage-deflate offer', 'permessage-deflate; client_max_window_bits; server_max_window_bits=10'],
  ['64 KiB of "a;" (repeated parameter)', 'a;'.repeat(KIB_64 / 2)],
  ['64 KiB of "a," (many offers)', 'a,'.repeat(KIB_64 / 2)],
  ['64 KiB of distinct parameters', `x${Array.from({ length: 8000 }, (_, index) => `; p${index}=${index}`).join('')}`],
  ['64 KiB quoted value', `x; a="${'b'.repeat(KIB_64)}"`],
  ['64 KiB of escapes in a quoted value', `x; a="${'\\b'.repeat(KIB_64 / 2)}"`],
  ['64 KiB unterminated quoted value', `x; a="${'b'.repeat(KIB_64)}`],
  ['64 KiB of quotes', '"'.repeat(KIB_64)],
  ['64 KiB of spaces around ";" and "="', `x${' '.repeat(KIB_64 / 2)}; a${' '.repeat(KIB_64 / 4)}=${' '.repeat(KIB_64 / 4)}1`],
];

for (const [label, value] of extensionCases) {
  group(`extensions, ${label}`, () => {
    summary(() => {
      bench('@ws/core parseExtensionOffers', () => do_not_optimize(attempt(parseExtensionOffers, value))).baseline(
        true,
      );
      bench('ws extension.parse', () => do_not_optimize(attempt(wsExtension.parse, value)));
    });
  });
}

await run();
