import { Buffer } from 'node:buffer';
import { encodePeerHeader64 } from './encode-peer-frame.js';
import type { FuzzConfig } from './fuzz-config.js';
import type { RandomSource } from './random-source.js';
import { invalidText, randomBytes, randomText } from './random-payload.js';
import type { StreamBuilder } from './stream-builder.js';

const PROTOCOL_ERROR = 1002;
const INVALID_PAYLOAD = 1007;
const TOO_BIG = 1009;

const RESERVED_OPCODES = [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf] as const;
const CONTROL_OPCODES = [0x8, 0x9, 0xa] as const;
/**
 * RFC 6455 §7.4.1 reserves 1004, and 1005, 1006 and 1015 "MUST NOT be set as a status code in a
 * Close control frame by an endpoint"; §7.4.2 leaves 0-999 unused and 1016-2999 unassigned, and
 * no code above 4999 exists.
 */
const INVALID_CLOSE_CODES = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] as const;
/**
 * Raw DEFLATE that zlib rejects: BTYPE 11, which RFC 1951 §3.2.3 reserves ("11 - reserved
 * (error)"), and a stored block whose NLEN is not "the one's complement of LEN".
 */
const INVALID_DEFLATE = [[0x06], [0x07, 0x00], [0x00, 0x05, 0x00, 0x00, 0x00, 0x61]] as const;

export interface ViolationContext {
  readonly random: RandomSource;
  readonly config: FuzzConfig;
  readonly builder: StreamBuilder;
  /** Whether permessage-deflate was negotiated (RSV1 then means "compressed"). */
  readonly deflate: boolean;
}

/** One way to break the protocol: appends its frames and returns the close code it calls for. */
type Violation = (context: ViolationContext) => number;

function smallPayload(random: RandomSource): Buffer {
  return randomText(random, random.between(0, 12));
}

const anywhere: readonly Violation[] = [
  // RFC 6455 §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_."
  ({ random, builder }) => {
    builder.frame(true, 0, random.pick(RESERVED_OPCODES), smallPayload(random));
    return PROTOCOL_ERROR;
  },
  // RFC 6455 §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated that defines meanings for non-zero values".
  ({ random, builder }) => {
    builder.frame(true, random.pick([0x40, 0x20, 0x10]), random.pick(CONTROL_OPCODES), Buffer.alloc(0));
    return PROTOCOL_ERROR;
  },
  // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less".
  ({ random, builder }) => {
    builder.frame(true, 0, random.pick(CONTROL_OPCODES), randomBytes(random, random.between(126, 300)));
    return PROTOCOL_ERROR;
  },
  // RFC 6455 §5.5: control frames "MUST NOT be fragmented".
  ({ random, builder }) => {
    builder.frame(false, 0, random.pick([0x9, 0xa]), smallPayload(random));
    return PROTOCOL_ERROR;
  },
  // RFC 6455 §5.1: the server fails on an unmasked frame, the client on a masked one.
  ({ random, builder }) => {
    builder.frame(true, 0, random.pick([0x1, 0x2, 0x9]), smallPayload(random), { masked: !builder.masked });
    return PROTOCOL_ERROR;
  },
  // RFC 6455 §5.2: a 64-bit length whose "most significant bit MUST be 0".
  ({ random, builder }) => {
    builder.raw(
      encodePeerHeader64(
        0x82,
        0x8000_0000 | random.uint32(),
        random.uint32(),
        builder.masked ? builder.maskKey() : undefined,
      ),
    );
    return PROTOCOL_ERROR;
  },
  // A length past 2^53 cannot exist in memory: refused as too big before any arithmetic.
  ({ random, builder }) => {
    builder.raw(
      encodePeerHeader64(
        0x82,
        random.between(0x20_0000, 0x7fff_ffff),
        random.uint32(),
        builder.masked ? builder.maskKey() : undefined,
      ),
    );
    return TOO_BIG;
  },
  // RFC 6455 §5.5.1: a body starts with "a 2-byte unsigned integer", so one byte cannot be one.
  ({ random, builder }) => {
    builder.frame(true, 0, 0x8, randomBytes(random, 1));
    return PROTOCOL_ERROR;
  },
  ({ random, builder }) => {
    const payload = Buffer.concat([Buffer.alloc(2), randomText(random, random.between(0, 20))]);
    payload.writeUInt16BE(random.pick(INVALID_CLOSE_CODES), 0);
    builder.frame(true, 0, 0x8, payload);
    return PROTOCOL_ERROR;
  },
  // RFC 6455 §5.5.1: the close reason is "UTF-8-encoded data"; §8.1 fails on anything else.
  ({ random, builder }) => {
    const payload = Buffer.concat([Buffer.from([0x03, 0xe8]), invalidText(random, random.between(0, 20))]);
    builder.frame(true, 0, 0x8, payload);
    return INVALID_PAYLOAD;
  },
];

const betweenMessages: readonly Violation[] = [
  ...anywhere,
  // RFC 6455 §5.4: a continuation frame only follows a first fragment with FIN clear.
  ({ random, builder }) => {
    builder.frame(random.chance(0.5), 0, 0x0, smallPayload(random));
    return PROTOCOL_ERROR;
  },
  // RFC 6455 §5.2: RSV bits without an extension that defines them (RSV1 is defined by deflate only).
  ({ random, builder, deflate }) => {
    builder.frame(
      true,
      random.pick(deflate ? [0x20, 0x10, 0x60] : [0x40, 0x20, 0x10]),
      random.pick([0x1, 0x2]),
      smallPayload(random),
    );
    return PROTOCOL_ERROR;
  },
  // RFC 6455 §8.1: text that is not UTF-8 fails the connection, whole or fragmented.
  ({ random, builder, config }) => {
    const text = invalidText(random, random.between(0, 40));
    const cut = random.below(text.length + 1);
    // Two fragments are charged 180 bytes each: under a 1 KiB budget the second one could fail
    // with 1009 before its bytes are validated.
    if (config.maxMessageSize < 1024 || random.chance(0.5)) {
      builder.frame(true, 0, 0x1, text);
    } else {
      builder.frame(false, 0, 0x1, text.subarray(0, cut));
      builder.frame(true, 0, 0x0, text.subarray(cut));
    }
    return INVALID_PAYLOAD;
  },
  // RFC 7692 §7.2.2 decompresses with DEFLATE; data zlib cannot decompress is invalid payload.
  ({ random, builder, deflate }) => {
    if (!deflate) {
      builder.frame(true, 0x40, random.pick([0x1, 0x2]), smallPayload(random));
      return PROTOCOL_ERROR;
    }
    builder.frame(true, 0x40, random.pick([0x1, 0x2]), Buffer.from(random.pick(INVALID_DEFLATE)));
    return INVALID_PAYLOAD;
  },
  // A frame announcing more than the limits admit fails from its header, before any payload.
  ({ random, builder, config }) => {
    const limit = Math.min(config.maxFrameSize ?? Infinity, config.maxMessageSize);
    const length = limit + random.between(1, 70_000);
    builder.raw(
      encodePeerHeader64(
        0x82,
        Math.floor(length / 0x1_0000_0000),
        length >>> 0,
        builder.masked ? builder.maskKey() : undefined,
      ),
    );
    builder.raw(randomBytes(random, random.between(0, 16)));
    return TOO_BIG;
  },
];

const insideFragmentedMessage: readonly Violation[] = [
  ...anywhere,
  // RFC 6455 §5.4: "The fragments of one message MUST NOT be interleaved between the fragments of another message".
  ({ random, builder }) => {
    builder.frame(random.chance(0.5), 0, random.pick([0x1, 0x2]), smallPayload(random));
    return PROTOCOL_ERROR;
  },
  // RFC 7692 §6.1: "An endpoint MUST NOT set the "Per-Message Compressed" bit of control frames
  // and non-first fragments of a data message"; without deflate any RSV bit is an error anyway.
  ({ random, builder }) => {
    builder.frame(random.chance(0.5), random.pick([0x40, 0x20, 0x10]), 0x0, smallPayload(random));
    return PROTOCOL_ERROR;
  },
];

/**
 * Appends one violation of RFC 6455 or RFC 7692, sometimes in the middle of a fragmented
 * message, and records in the builder the close code the engine must fail with.
 */
export function appendViolation(context: ViolationContext): void {
  const { random, builder } = context;
  if (random.chance(0.3)) {
    // The message's first fragment, small enough for the smallest limits (125-byte frames,
    // 256-byte messages with 180 bytes charged per fragment): only the violation can fail it.
    // An empty second fragment only where the budget has room for its 180 bytes.
    builder.frame(false, 0, random.pick([0x1, 0x2]), randomText(random, random.between(0, 60)));
    if (context.config.maxMessageSize >= 1024 && random.chance(0.5)) builder.frame(false, 0, 0x0, Buffer.alloc(0));
    builder.fail(random.pick(insideFragmentedMessage)(context));
  } else {
    builder.fail(random.pick(betweenMessages)(context));
  }
}
