/**
 * UTF-8 validation of text payloads: ours against ws's, in the same run.
 *
 * Run from packages/core: `pnpm exec tsx --conditions=@ws/source bench/utf8.bench.ts` (about 30 s).
 *
 * ws's `isValidUTF8` (ws/lib/validation.js) uses `buffer.isUtf8` from 24 bytes up on Node >= 18.14,
 * its JavaScript loop below that; the `utf-8-validate` addon is only tried when `isUtf8` is
 * missing, so on Node 20 ws never uses it. It is benchmarked on its own when it is installed (it
 * is an optional peer dependency of ws). ws's pure-JavaScript loop, what ws runs on a Node without
 * `isUtf8` and without the addon, is benchmarked by loading validation.js with `isUtf8` hidden.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { bench, do_not_optimize, group, run, summary } from 'mitata';
import { isValidUtf8, Utf8Validator } from '../src/utf8/utf8-validator.js';

type Validate = (bytes: Uint8Array) => boolean;

const require = createRequire(import.meta.url);
// ws's `exports` map hides lib/; an absolute path reaches the file that ws itself loads.
const wsValidationPath = join(dirname(require.resolve('ws/package.json')), 'lib', 'validation.js');
const wsValidation = require(wsValidationPath) as { isValidUTF8: Validate };

/** ws's validation.js evaluated on a Node without `buffer.isUtf8` and without utf-8-validate: its JavaScript loop. */
function loadWsJavaScriptValidator(): Validate {
  const path = wsValidationPath;
  const module = { exports: {} as { isValidUTF8: Validate } };
  const fakeRequire = (name: string): unknown => {
    if (name === 'buffer') return {};
    if (name === 'utf-8-validate') throw new Error('not used');
    return createRequire(path)(name);
  };
  const previous = process.env.WS_NO_UTF_8_VALIDATE;
  process.env.WS_NO_UTF_8_VALIDATE = '1';
  new Function('require', 'module', 'exports', readFileSync(path, 'utf8'))(fakeRequire, module, module.exports);
  if (previous === undefined) delete process.env.WS_NO_UTF_8_VALIDATE;
  else process.env.WS_NO_UTF_8_VALIDATE = previous;
  return module.exports.isValidUTF8;
}

const wsJavaScript = loadWsJavaScriptValidator();

let utf8Validate: Validate | undefined;
try {
  utf8Validate = require('utf-8-validate') as Validate;
} catch {
  console.log('utf-8-validate is not installed: its rows are skipped.');
}

/** Mixed text: ASCII markup, Latin-1, Greek, CJK and emoji, cut to `size` bytes on a code-point boundary. */
function mixedText(size: number): Buffer {
  const sample = '{"user":"Zoë","text":"Grüße! Καλημέρα κόσμε — 日本語のテキスト 🌍🚀","n":12345} ';
  const bytes = Buffer.from(sample.repeat(Math.ceil(size / Buffer.byteLength(sample)) + 1)).subarray(0, size);
  let end = size;
  while (end > 0 && !isUtf8(bytes.subarray(0, end))) end--;
  return bytes.subarray(0, end);
}

const validator = new Utf8Validator();

for (const [label, size] of [
  ['16 B', 16],
  ['1 KiB', 1024],
  ['64 KiB', 64 * 1024],
  ['1 MiB', 1024 * 1024],
] as const) {
  const text = mixedText(size);
  if (!isValidUtf8(text) || !wsJavaScript(text)) throw new Error('bench input is not valid UTF-8');
  group(`${label} mixed text (${text.length} bytes)`, () => {
    summary(() => {
      bench('@ws/core isValidUtf8', () => do_not_optimize(isValidUtf8(text))).baseline(true);
      bench('@ws/core Utf8Validator, one update', () => {
        validator.reset();
        do_not_optimize(validator.update(text) && validator.finish());
      });
      bench('@ws/core Utf8Validator, 64-byte pieces (JavaScript path)', () => {
        validator.reset();
        for (let start = 0; start < text.length; start += 64) validator.update(text, start, Math.min(start + 64, text.length));
        do_not_optimize(validator.finish());
      });
      bench('ws isValidUTF8 (as loaded: isUtf8 >= 24 B)', () => do_not_optimize(wsValidation.isValidUTF8(text)));
      bench('ws isValidUTF8, JavaScript loop', () => do_not_optimize(wsJavaScript(text)));
      if (utf8Validate !== undefined) {
        const nativeValidate = utf8Validate;
        bench('utf-8-validate addon (not used by ws on Node 20)', () => do_not_optimize(nativeValidate(text)));
      }
    });
  });
}

await run();
