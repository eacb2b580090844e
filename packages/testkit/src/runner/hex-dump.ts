/** Bytes per line of a {@link formatHexDump}, as `hexdump -C` and `xxd` print them. */
const BYTES_PER_LINE = 16;

/**
 * Bytes as a classic hex dump, an offset, 16 bytes in hex in two groups of 8, and the same bytes
 * as ASCII (`.` for anything not printable), so that text inside frames (a handshake, a close
 * reason, an unmasked payload) reads at a glance:
 *
 *     0000  81 85 37 fa 21 3d 7f 9f  4d 51 58                  |..7.!=..MQX|
 */
export function formatHexDump(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += BYTES_PER_LINE) {
    const row = bytes.subarray(offset, offset + BYTES_PER_LINE);
    const hex = [...row].map((byte) => byte.toString(16).padStart(2, '0'));
    const groups = `${hex.slice(0, 8).join(' ')}  ${hex.slice(8).join(' ')}`.padEnd(BYTES_PER_LINE * 3);
    const ascii = [...row].map((byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.')).join('');
    lines.push(`${offset.toString(16).padStart(4, '0')}  ${groups}  |${ascii}|`);
  }
  return lines;
}
