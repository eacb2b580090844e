import { Buffer } from 'node:buffer';

/**
 * What `ClusterAdapter` and `ClusterHub` say to each other over `node:cluster` IPC. Every
 * message carries this key, so both sides leave the application's own IPC messages alone.
 */
export const CLUSTER_MESSAGE_KEY = '@ws/server:cluster';

/**
 * The payload as IPC can carry it: bytes under the `advanced` serialization (structured clone
 * keeps a Buffer a Buffer), base64 under Node's default `json` one (which would turn a Buffer
 * into an array of numbers, about four times the size).
 */
export type WirePayload = string | Uint8Array;

export type ClusterMessage =
  /** Worker to hub, when its adapter is attached: which payload encoding the channel carries. */
  | { readonly [CLUSTER_MESSAGE_KEY]: 'hello' }
  /** Hub to worker: the answer to `hello`. */
  | { readonly [CLUSTER_MESSAGE_KEY]: 'welcome'; readonly advanced: boolean }
  | { readonly [CLUSTER_MESSAGE_KEY]: 'subscribe' | 'unsubscribe'; readonly topic: string }
  /** The worker's adapter closed: the hub drops all its subscriptions. */
  | { readonly [CLUSTER_MESSAGE_KEY]: 'leave' }
  | {
      readonly [CLUSTER_MESSAGE_KEY]: 'publish';
      readonly topic: string;
      readonly payload: WirePayload;
      readonly binary: boolean;
      readonly compress: boolean;
    };

export type ClusterMessageType = ClusterMessage[typeof CLUSTER_MESSAGE_KEY];

/** A message of ours (anything else on the channel is the application's). */
export function clusterMessageType(value: unknown): ClusterMessageType | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const type = (value as Record<string, unknown>)[CLUSTER_MESSAGE_KEY];
  return typeof type === 'string' ? (type as ClusterMessageType) : undefined;
}

export function encodePayload(payload: Buffer, advanced: boolean): WirePayload {
  return advanced ? payload : payload.toString('base64');
}

/** The bytes of a received payload, whichever encoding it came in; undefined for anything else. */
export function decodePayload(payload: unknown): Buffer | undefined {
  if (typeof payload === 'string') return Buffer.from(payload, 'base64');
  if (ArrayBuffer.isView(payload)) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return undefined;
}
