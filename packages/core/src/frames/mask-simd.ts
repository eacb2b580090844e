/*
 * Masking with WebAssembly SIMD: a 97-byte module, assembled below from its instructions, that
 * XORs its own memory with the key 16 bytes at a time. Data outside its memory is copied in,
 * XORed and copied out in blocks of 64 KiB; with those two copies it still masks about twice as
 * fast as the JavaScript word loop from a few KiB on (`bench/mask.bench.ts`). The module is
 * compiled on the first call, so a process that never masks that much pays nothing for it; where
 * WebAssembly SIMD is missing, `simdMask` returns false and the JavaScript loop does the work.
 *
 * The module, in WebAssembly text format:
 *
 *   (module
 *     (memory (export "memory") 2)
 *     (func (export "xor") (param $length i32) (param $key i32)
 *       (local $at i32) (local $lanes v128)
 *       (local.set $lanes (i32x4.splat (local.get $key)))
 *       (block $done
 *         (loop $next
 *           (br_if $done (i32.ge_u (local.get $at) (local.get $length)))
 *           (v128.store (local.get $at) (v128.xor (v128.load (local.get $at)) (local.get $lanes)))
 *           (local.set $at (i32.add (local.get $at) (i32.const 16)))
 *           (br $next)))))
 */

/** Bytes masked per call into the module: one 64 KiB page, a multiple of 16 and of the key's 4. */
const BLOCK = 64 * 1024;

const Op = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  emptyType: 0x40,
  localGet: 0x20,
  localSet: 0x21,
  i32Const: 0x41,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  simdPrefix: 0xfd,
  v128Load: 0x00,
  v128Store: 0x0b,
  i32x4Splat: 0x11,
  v128Xor: 0x51,
} as const;
const Type = { i32: 0x7f, v128: 0x7b, func: 0x60 } as const;
/** v128.load/store memory argument: alignment 2^4 (16 bytes), offset 0. */
const V128_MEMARG = [4, 0];
/** Parameters 0 ($length) and 1 ($key), then locals 2 ($at) and 3 ($lanes). */
const [LENGTH, KEY, AT, LANES] = [0, 1, 2, 3];

const xorBody = [
  2, 1, Type.i32, 1, Type.v128, // two local groups: one i32, one v128
  Op.localGet, KEY, Op.simdPrefix, Op.i32x4Splat, Op.localSet, LANES,
  Op.block, Op.emptyType,
  Op.loop, Op.emptyType,
  Op.localGet, AT, Op.localGet, LENGTH, Op.i32GeU, Op.brIf, 1,
  Op.localGet, AT,
  Op.localGet, AT, Op.simdPrefix, Op.v128Load, ...V128_MEMARG,
  Op.localGet, LANES, Op.simdPrefix, Op.v128Xor,
  Op.simdPrefix, Op.v128Store, ...V128_MEMARG,
  Op.localGet, AT, Op.i32Const, 16, Op.i32Add, Op.localSet, AT,
  Op.br, 0,
  Op.end, Op.end, Op.end,
];

function section(id: number, content: readonly number[]): number[] {
  return [id, content.length, ...content];
}

function name(text: string): number[] {
  return [text.length, ...Array.from(text, (character) => character.charCodeAt(0))];
}

const moduleBytes = Uint8Array.from([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
  ...section(1, [1, Type.func, 2, Type.i32, Type.i32, 0]), // type 0: (i32, i32) -> ()
  ...section(3, [1, 0]), // function 0 has type 0
  ...section(5, [1, 0, 2]), // one memory of 2 pages, no maximum
  ...section(7, [2, ...name('memory'), 2, 0, ...name('xor'), 0, 0]),
  ...section(10, [1, xorBody.length, ...xorBody]),
]);

interface MaskModule {
  readonly memory: Uint8Array;
  readonly xor: (length: number, key: number) => void;
}

/** The part of the WebAssembly JavaScript API used here (the project's TypeScript lib has no DOM types). */
interface WebAssemblyApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object) => { readonly exports: { readonly memory: { readonly buffer: ArrayBuffer }; readonly xor: MaskModule['xor'] } };
}

function instantiate(): MaskModule | undefined {
  const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (api === undefined) return undefined;
  try {
    // Compiling fails where SIMD is not supported: the JavaScript loop is used then.
    const { exports } = new api.Instance(new api.Module(moduleBytes));
    return { memory: new Uint8Array(exports.memory.buffer), xor: exports.xor };
  } catch {
    return undefined;
  }
}

/** Compiled on first use; null where WebAssembly SIMD is not available. */
let maskModule: MaskModule | null | undefined;

/**
 * Writes `source[sourceStart..sourceStart + length)` XORed with the key stream into `target` from
 * `targetStart` (the same bytes for in place). `key` is the key stream's next four bytes as an
 * unsigned big-endian number (its high byte applies first), as mask.ts keeps it. Returns false,
 * having done nothing, where WebAssembly SIMD is not available.
 */
export function simdMask(source: Uint8Array, sourceStart: number, length: number, target: Uint8Array, targetStart: number, key: number): boolean {
  if (maskModule === undefined) maskModule = instantiate() ?? null;
  if (maskModule === null) return false;
  const { memory, xor } = maskModule;
  // WebAssembly memory is little-endian on every platform: the key's first byte is the low one.
  const lanes = ((key >>> 24) | ((key >>> 8) & 0xff00) | ((key & 0xff00) << 8) | (key << 24)) | 0;
  for (let done = 0; done < length; done += BLOCK) {
    const count = Math.min(BLOCK, length - done);
    memory.set(source.subarray(sourceStart + done, sourceStart + done + count));
    // Up to 15 bytes past `count` are XORed too: they are the module's own scratch.
    xor((count + 15) & ~15, lanes);
    target.set(memory.subarray(0, count), targetStart + done);
  }
  return true;
}
