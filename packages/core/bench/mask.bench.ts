/**
 * Masking: ours against ws's, in the same run.
 *
 * Run from packages/core: `pnpm exec tsx --conditions=@ws/source bench/mask.bench.ts` (about 30 s).
 *
 * ws's lib/buffer-util.js exports `mask(source, mask, output, offset, length)` and
 * `unmask(buffer, mask)`. As loaded, it uses `http.websocketMask` where Node has it, else the
 * `bufferutil` addon (an optional peer dependency) from 32/48 bytes up unless WS_NO_BUFFER_UTIL is
 * set, else a byte loop. Its JavaScript path is benchmarked by loading the file with
 * WS_NO_BUFFER_UTIL set and `http.websocketMask` hidden.
 */
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { bench, group, run, summary } from 'mitata';
import { applyMask, maskInto } from '../src/frames/mask.js';

interface BufferUtil {
  mask(source: Uint8Array, mask: Uint8Array, output: Uint8Array, offset: number, length: number): void;
  unmask(buffer: Uint8Array, mask: Uint8Array): void;
}

const require = createRequire(import.meta.url);
// ws's `exports` map hides lib/; an absolute path reaches the file that ws itself loads.
const wsBufferUtilPath = join(dirname(require.resolve('ws/package.json')), 'lib', 'buffer-util.js');
const wsAsLoaded = require(wsBufferUtilPath) as BufferUtil;

/** ws's buffer-util.js evaluated with WS_NO_BUFFER_UTIL set and no `http.websocketMask`: its JavaScript loops. */
function loadWsJavaScript(): BufferUtil {
  const module = { exports: {} as BufferUtil };
  const fileRequire = createRequire(wsBufferUtilPath);
  const fakeRequire = (name: string): unknown => (name === 'http' ? {} : fileRequire(name));
  const previous = process.env.WS_NO_BUFFER_UTIL;
  process.env.WS_NO_BUFFER_UTIL = '1';
  new Function('require', 'module', 'exports', readFileSync(wsBufferUtilPath, 'utf8'))(fakeRequire, module, module.exports);
  if (previous === undefined) delete process.env.WS_NO_BUFFER_UTIL;
  else process.env.WS_NO_BUFFER_UTIL = previous;
  return module.exports;
}

const wsJavaScript = loadWsJavaScript();

let nativeDescription = 'bufferutil is not installed: ws as loaded uses its JavaScript loops';
try {
  createRequire(wsBufferUtilPath)('bufferutil');
  nativeDescription = 'ws as loaded uses the bufferutil addon (unmask from 32 B, mask from 48 B)';
} catch {
  // Reported below.
}
console.log(nativeDescription);

const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

for (const [label, size] of [
  ['16 B', 16],
  ['1 KiB', 1024],
  ['64 KiB', 64 * 1024],
  ['1 MiB', 1024 * 1024],
] as const) {
  // Buffer.allocUnsafe gives pooled, 8-byte-aligned memory for small sizes, as a socket read does.
  const data = Buffer.allocUnsafe(size).fill(0x61);
  // A frame's payload starts after its header: as unaligned as it gets (2-byte header + 4-byte key).
  const frame = Buffer.allocUnsafe(size + 6).fill(0x61);
  const payload = frame.subarray(6);
  const output = Buffer.allocUnsafe(size + 14);

  group(`unmask in place, ${label}`, () => {
    summary(() => {
      bench('@ws/core applyMask', () => applyMask(data, key, 0)).baseline(true);
      bench('@ws/core applyMask, payload at offset 6', () => applyMask(payload, key, 0));
      bench('ws unmask, JavaScript', () => wsJavaScript.unmask(data, key));
      bench('ws unmask, as loaded', () => wsAsLoaded.unmask(data, key));
    });
  });

  group(`mask into a frame buffer, ${label}`, () => {
    summary(() => {
      bench('@ws/core maskInto', () => maskInto(data, output, 6, key)).baseline(true);
      bench('@ws/core maskInto, target offset 8', () => maskInto(data, output, 8, key));
      bench('ws mask, JavaScript', () => wsJavaScript.mask(data, key, output, 6, size));
      bench('ws mask, as loaded', () => wsAsLoaded.mask(data, key, output, 6, size));
    });
  });
}

await run();
