import { Buffer } from 'node:buffer';
import { formatHex } from './hex.js';

/** One thing that happened on a connection, `at` milliseconds after it was opened. */
export type TranscriptEntry =
  | {
      readonly kind: 'sent' | 'received';
      readonly at: number;
      /** The bytes, or their first `maxEntryBytes` when the write or read was larger. */
      readonly bytes: Buffer;
      /** How many bytes were really written or read. */
      readonly length: number;
    }
  | { readonly kind: 'event'; readonly at: number; readonly description: string };

export interface TranscriptOptions {
  /** Bytes kept per entry; a 16 MiB message is recorded by its start. Default 4096. */
  readonly maxEntryBytes?: number;
  /** Bytes kept in all; the oldest entries are dropped past it. Default 256 KiB. */
  readonly maxBytes?: number;
}

/**
 * Every byte a scripted peer sent and received, with timestamps, in order: what an
 * expectation failure prints so that a broken test shows the wire, not a guess.
 */
export class Transcript {
  readonly #origin = performance.now();
  readonly #entries: TranscriptEntry[] = [];
  readonly #maxEntryBytes: number;
  readonly #maxBytes: number;
  #keptBytes = 0;
  #dropped = 0;

  constructor(options: TranscriptOptions = {}) {
    this.#maxEntryBytes = options.maxEntryBytes ?? 4096;
    this.#maxBytes = options.maxBytes ?? 256 * 1024;
  }

  /** Entries dropped because the transcript outgrew `maxBytes`. */
  get droppedEntries(): number {
    return this.#dropped;
  }

  sent(bytes: Uint8Array): void {
    this.#addBytes('sent', bytes);
  }

  received(bytes: Uint8Array): void {
    this.#addBytes('received', bytes);
  }

  event(description: string): void {
    this.#entries.push({ kind: 'event', at: this.#now(), description });
  }

  entries(): readonly TranscriptEntry[] {
    return [...this.#entries];
  }

  #addBytes(kind: 'sent' | 'received', bytes: Uint8Array): void {
    // Copied: the caller may reuse the buffer, and a frame decoder unmasks received bytes in place.
    const kept = Buffer.from(bytes.subarray(0, this.#maxEntryBytes));
    this.#entries.push({ kind, at: this.#now(), bytes: kept, length: bytes.length });
    this.#keptBytes += kept.length;
    while (this.#keptBytes > this.#maxBytes && this.#entries.length > 1) {
      const oldest = this.#entries.shift()!;
      if (oldest.kind !== 'event') this.#keptBytes -= oldest.bytes.length;
      this.#dropped++;
    }
  }

  #now(): number {
    return Math.round((performance.now() - this.#origin) * 10) / 10;
  }
}

export interface FormatTranscriptOptions {
  /** Only the last `tail` entries. Default: all. */
  readonly tail?: number;
  /** Bytes shown per entry. Default 64. */
  readonly bytesPerEntry?: number;
}

/**
 * A transcript as text, one entry per line:
 *
 *     +0.4ms  sent      7 B  81 85 37 fa 21 3d 7f …
 *     +1.1ms  received  7 B  81 05 48 65 6c 6c 6f
 *     +1.3ms  event          end of stream
 */
export function formatTranscript(entries: readonly TranscriptEntry[], options: FormatTranscriptOptions = {}): string {
  const tail = options.tail ?? entries.length;
  const shown = entries.slice(Math.max(0, entries.length - tail));
  const bytesPerEntry = options.bytesPerEntry ?? 64;
  const lines = shown.map((entry) => {
    const time = `+${entry.at.toFixed(1)}ms`.padStart(10);
    if (entry.kind === 'event') return `${time}  event    ${''.padStart(8)}  ${entry.description}`;
    const size = `${entry.length} B`.padStart(8);
    const shownBytes = entry.bytes.subarray(0, bytesPerEntry);
    const more = entry.length > shownBytes.length ? ` … (+${entry.length - shownBytes.length} B)` : '';
    return `${time}  ${entry.kind.padEnd(8)} ${size}  ${formatHex(shownBytes)}${more}`;
  });
  if (shown.length < entries.length) lines.unshift(`  … ${entries.length - shown.length} earlier entries`);
  return lines.join('\n');
}
