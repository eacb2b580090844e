import { Buffer } from 'node:buffer';
import {
  type ExtensionOffer,
  HandshakeError,
  Opcode,
  PERMESSAGE_DEFLATE,
  type PerMessageDeflate,
  type PerMessageDeflateClientOptions,
  type PerMessageDeflateServerOptions,
  acceptPerMessageDeflate,
  acceptPerMessageDeflateResponse,
  offerPerMessageDeflate,
  parseExtensionOffers,
} from '@ws/core';
import type { SendFrameOptions } from '../peer/frame-writer.js';
import type { CaseContext, ConformanceCase, TargetKind, Verdict } from './conformance-case.js';
import { binary, combine, informational, judgeEcho, pass, text } from './judgement.js';

/**
 * One way of negotiating permessage-deflate, seen from both roles the testkit plays: what it
 * offers a server under test, and what it accepts a client under test with.
 */
export interface DeflateCombination {
  /** How the report names it, e.g. "client_no_context_takeover". */
  readonly name: string;
  /** As a client: the offers of one `Sec-WebSocket-Extensions` header, in order of preference. */
  readonly offers: readonly PerMessageDeflateClientOptions[];
  /** As a server: how the client's offer is accepted. */
  readonly accept: PerMessageDeflateServerOptions;
}

/** One message of a compressed echo case. */
export interface CompressedMessage {
  readonly binary: boolean;
  readonly data: Buffer;
}

export interface CompressedEchoSpec {
  readonly id: string;
  readonly section: number;
  readonly description: string;
  readonly rfc: string;
  readonly combination: DeflateCombination;
  /** The messages, made when the case runs (they can be large). */
  readonly messages: () => readonly CompressedMessage[];
  /** Frames each compressed message is cut into. Default 1. */
  readonly fragments?: number;
  readonly targets?: readonly TargetKind[];
}

/** What a negotiation came to: the testkit's side of the agreement, or why there is none. */
interface Negotiated {
  readonly deflate: PerMessageDeflate | undefined;
  /** The response element agreed on, or why nothing was. */
  readonly description: string;
}

/** The testkit compresses every message (no threshold), so that every size is exercised. */
const COMPRESS_EVERYTHING = { threshold: 0 } as const;

const MiB = 1024 * 1024;

/** Policy violation and message too big: how implementations refuse what exceeds their limits. */
const LIMIT_CODES = [1008, 1009] as const;

function responseExtensions(headers: Readonly<Record<string, string | string[]>>): string {
  const value = headers['sec-websocket-extensions'];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

/**
 * The server under test got the combination's offers; its response must be valid for one of
 * them (RFC 7692 §7: otherwise the client "MUST _Fail the WebSocket Connection_", which here is
 * the case failing with the reason). No permessage-deflate element: the server declined.
 */
async function negotiateWithServer(context: CaseContext, combination: DeflateCombination): Promise<Negotiated> {
  const header = combination.offers.map((offer) => offerPerMessageDeflate(offer)).join(', ');
  const peer = await context.open({ headers: { 'Sec-WebSocket-Extensions': header } });
  const answered = responseExtensions(peer.handshakeResponse?.headers ?? {});
  const response = parseExtensionOffers(answered).find((element) => element.name === PERMESSAGE_DEFLATE);
  if (response === undefined) return { deflate: undefined, description: `the server declined "${header}"` };
  let firstError: unknown;
  for (const offer of combination.offers) {
    try {
      const deflate = acceptPerMessageDeflateResponse(response, { ...offer, ...COMPRESS_EVERYTHING });
      return { deflate, description: `offered "${header}", agreed "${answered}"` };
    } catch (error) {
      if (!(error instanceof HandshakeError)) throw error;
      firstError ??= error;
    }
  }
  throw new Error(`the server answered "${answered}" to "${header}": ${(firstError as Error).message}`);
}

/** The client under test made its offer; the testkit accepts it as the combination says. */
async function negotiateWithClient(context: CaseContext, combination: DeflateCombination): Promise<Negotiated> {
  let deflate: PerMessageDeflate | undefined;
  let description = '';
  await context.open({
    acceptExtensions: (offers: readonly ExtensionOffer[]) => {
      const accepted = acceptPerMessageDeflate(offers, { ...combination.accept, ...COMPRESS_EVERYTHING });
      deflate = accepted?.extension;
      description =
        accepted === undefined
          ? `the client offered nothing acceptable with ${combination.name} (${offers.length === 0 ? 'no extension' : offers.map((offer) => offer.name).join(', ')})`
          : `agreed "${accepted.response}"`;
      return accepted?.response;
    },
  });
  return { deflate, description };
}

/**
 * Opens the case's connection with permessage-deflate negotiated as the combination says, and
 * has the observer inflate what the implementation sends. `deflate` is undefined when the
 * implementation did not agree to compression; the caller disposes it otherwise.
 */
export async function openCompressed(context: CaseContext, combination: DeflateCombination): Promise<Negotiated> {
  const negotiated =
    context.target === 'server' ? await negotiateWithServer(context, combination) : await negotiateWithClient(context, combination);
  if (negotiated.deflate !== undefined) context.observer.useDeflate(negotiated.deflate);
  return negotiated;
}

/**
 * The frames of compressed messages: each compressed with the testkit's side of the agreement
 * (RFC 7692 §7.2.1, in order, so a context kept between messages stays in step with the
 * peer's), RSV1 on its first frame only (§6), its payload cut into `fragments` frames.
 */
export function compressedFrames(deflate: PerMessageDeflate, messages: readonly CompressedMessage[], fragments = 1): SendFrameOptions[] {
  const frames: SendFrameOptions[] = [];
  for (const message of messages) {
    const opcode = message.binary ? Opcode.Binary : Opcode.Text;
    if (!deflate.shouldEncode(message.data.length)) {
      // An 8-bit window cannot be compressed with by zlib: RFC 7692 lets any message go uncompressed.
      frames.push({ opcode, payload: message.data });
      continue;
    }
    const payload = Buffer.from(deflate.encode(message.data, true));
    const pieceLength = Math.max(1, Math.ceil(payload.length / fragments));
    for (let offset = 0; offset === 0 || offset < payload.length; offset += pieceLength) {
      const end = Math.min(offset + pieceLength, payload.length);
      frames.push({
        opcode: offset === 0 ? opcode : Opcode.Continuation,
        rsv1: offset === 0,
        fin: end === payload.length,
        payload: payload.subarray(offset, end),
      });
    }
  }
  return frames;
}

/** `count` variations of a payload: each rotated a little further, so later messages repeat earlier ones. */
export function rotations(base: Buffer, count: number): Buffer[] {
  return Array.from({ length: count }, (_, index) => {
    const shift = (index * 37) % Math.max(1, base.length);
    return Buffer.concat([base.subarray(shift), base.subarray(0, shift)]);
  });
}

/** Messages per case: enough to take the context over several times, about 256 KiB in all. */
export function messageCount(size: number): number {
  return Math.min(16, Math.max(4, Math.floor((256 * 1024) / size)));
}

/**
 * A case that negotiates permessage-deflate, sends compressed messages and expects each echoed
 * intact (compressed or not, the implementation's choice; the reason counts how many were).
 * When the implementation does not agree to compression, the case is informational: RFC 7692
 * §5 lets a server decline ("both endpoints proceed without per-message compression"), and a
 * client need not offer it.
 */
export function compressedEchoCase(spec: CompressedEchoSpec): ConformanceCase {
  return {
    id: spec.id,
    section: spec.section,
    description: spec.description,
    rfc: spec.rfc,
    deflate: true,
    ...(spec.targets === undefined ? {} : { targets: spec.targets }),
    async run(context): Promise<Verdict> {
      const negotiated = await openCompressed(context, spec.combination);
      const { deflate } = negotiated;
      if (deflate === undefined) {
        return informational(combine(pass(`permessage-deflate not negotiated: ${negotiated.description}`), await judgeEcho(context, [])));
      }
      try {
        const messages = spec.messages();
        const total = messages.reduce((sum, message) => sum + message.data.length, 0);
        await context.peer.sendFrames(compressedFrames(deflate, messages, spec.fragments));
        const verdict = await judgeEcho(
          context,
          messages.map((message) => (message.binary ? binary(message.data) : text(message.data))),
          { timeout: context.timeouts.response + Math.ceil(total / MiB) * 5000, limitCloseCodes: LIMIT_CODES },
        );
        const compressed = context.observer.compressedMessages;
        return combine(pass(negotiated.description), verdict, pass(`${compressed} of ${messages.length} echoes came compressed`));
      } finally {
        deflate.dispose();
      }
    },
  };
}
