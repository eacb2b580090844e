import {
  acceptPerMessageDeflate,
  acceptPerMessageDeflateResponse,
  ClientProtocol,
  offerPerMessageDeflate,
  parseExtensionOffers,
  type PerMessageDeflate,
  type PerMessageDeflateClientOptions,
  type PerMessageDeflateServerOptions,
  type Protocol,
  ReceiveMode,
  ServerProtocol,
} from '@ws/core';
import type { RandomSource } from './random-source.js';

/** permessage-deflate as both ends configured it; negotiated for real by `createEndpoints`. */
export interface DeflateSetup {
  /** What the client offers and keeps to. */
  readonly client: PerMessageDeflateClientOptions;
  /** What the server accepts and asks for. */
  readonly server: PerMessageDeflateServerOptions;
}

/** Everything about the engine under test that a fuzz case varies. Plain data: it goes into replay files. */
export interface FuzzConfig {
  readonly side: 'server' | 'client';
  /** Undefined: no extension negotiated. */
  readonly deflate?: DeflateSetup | undefined;
  readonly maxMessageSize: number;
  /** Undefined: the default (16 MiB), so that only `maxMessageSize` limits a message. */
  readonly maxFrameSize?: number | undefined;
  readonly maxPendingPongs: number;
  readonly receiveMode: ReceiveMode;
  readonly deferCloseEcho: boolean;
}

export interface FuzzEndpoints {
  readonly protocol: Protocol;
  /**
   * The other end's extension, from the same negotiation: it compresses what the fuzzer sends
   * and decompresses what the engine sends.
   */
  readonly peerDeflate: PerMessageDeflate | undefined;
  /** Frees the zlib engines of both ends. */
  dispose(): void;
}

/**
 * Small limits, so that the 1009 and 1008 paths are hit often by inputs of a few KiB. 64 KiB is
 * still above zlib's 32 KiB window, so compressed messages can refer back across a whole
 * window; a rare 512 KiB lets a message reach the assembler's 256 KiB preallocation path.
 */
const MESSAGE_SIZES: readonly (readonly [number, number])[] = [
  [50, 64 * 1024],
  [20, 8 * 1024],
  [20, 1024],
  [10, 256],
  [1, 512 * 1024],
];
const FRAME_SIZES: readonly (readonly [number, number | undefined])[] = [
  [6, undefined],
  [2, 16 * 1024],
  [1, 512],
  [1, 125],
];
const PENDING_PONGS: readonly (readonly [number, number])[] = [
  [6, 256],
  [2, 8],
  [1, 1],
];
const THRESHOLDS = [0, 0, 16, 1024] as const;

function maybe<T>(random: RandomSource, probability: number, value: () => T): T | undefined {
  return random.chance(probability) ? value() : undefined;
}

function randomDeflate(random: RandomSource): DeflateSetup {
  // Window bits down to 8 on purpose: an 8-bit limit makes one side decline or never compress.
  const client: PerMessageDeflateClientOptions = {
    serverNoContextTakeover: random.chance(0.3),
    clientNoContextTakeover: random.chance(0.4),
    serverMaxWindowBits: maybe(random, 0.25, () => random.between(8, 15)),
    clientMaxWindowBits: maybe(random, 0.25, () => random.between(9, 15)),
    threshold: random.pick(THRESHOLDS),
    level: maybe(random, 0.2, () => random.pick([0, 6, 9])),
  };
  const server: PerMessageDeflateServerOptions = {
    serverNoContextTakeover: random.chance(0.5),
    clientNoContextTakeover: random.chance(0.2),
    serverMaxWindowBits: maybe(random, 0.25, () => random.between(9, 15)),
    clientMaxWindowBits: maybe(random, 0.25, () => random.between(8, 15)),
    threshold: random.pick(THRESHOLDS),
    level: maybe(random, 0.2, () => random.pick([0, 6, 9])),
  };
  return { client, server };
}

export function randomConfig(random: RandomSource): FuzzConfig {
  return {
    side: random.chance(0.5) ? 'server' : 'client',
    deflate: random.chance(0.5) ? randomDeflate(random) : undefined,
    maxMessageSize: random.weighted(MESSAGE_SIZES),
    maxFrameSize: random.weighted(FRAME_SIZES),
    maxPendingPongs: random.weighted(PENDING_PONGS),
    receiveMode: random.chance(0.25) ? ReceiveMode.Stream : ReceiveMode.Message,
    deferCloseEcho: random.chance(0.4),
  };
}

/**
 * Runs the RFC 7692 negotiation the way the server and client packages do (offer header,
 * parsed, accepted; response checked by the client), so every extension pair the fuzzer
 * uses is one a real handshake can produce.
 */
function negotiate(setup: DeflateSetup): { server: PerMessageDeflate; client: PerMessageDeflate } | undefined {
  const offers = parseExtensionOffers(offerPerMessageDeflate(setup.client));
  const acceptance = acceptPerMessageDeflate(offers, setup.server);
  if (acceptance === undefined) return undefined;
  return {
    server: acceptance.extension,
    client: acceptPerMessageDeflateResponse(acceptance.responseOffer, setup.client),
  };
}

/** Builds the engine under test for `config`, and its peer's extension. */
export function createEndpoints(config: FuzzConfig, maskKeySource: () => Uint8Array): FuzzEndpoints {
  const pair = config.deflate === undefined ? undefined : negotiate(config.deflate);
  const isServer = config.side === 'server';
  const deflate = isServer ? pair?.server : pair?.client;
  const peerDeflate = isServer ? pair?.client : pair?.server;
  const options = {
    maxMessageSize: config.maxMessageSize,
    maxFrameSize: config.maxFrameSize,
    maxPendingPongs: config.maxPendingPongs,
    receiveMode: config.receiveMode,
    deferCloseEcho: config.deferCloseEcho,
    extensions: deflate === undefined ? [] : [deflate],
  };
  const protocol = isServer ? new ServerProtocol(options) : new ClientProtocol({ ...options, maskKeySource });
  return {
    protocol,
    peerDeflate,
    dispose() {
      deflate?.dispose();
      peerDeflate?.dispose();
    },
  };
}
