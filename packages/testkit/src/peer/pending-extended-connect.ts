import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { type ExtensionOffer, HandshakeError, type Http2ResponseHeaders, buildExtendedConnectResponse, validateExtendedConnectRequest } from '@ws/core';
import { ExpectationError } from './expectation-error.js';
import type { HttpHeaders, HttpRequestHead } from './http-head.js';
import { ScriptedPeer } from './scripted-peer.js';
import type { Transcript } from './transcript.js';

/** HTTP/2 error code CANCEL (RFC 9113 §7): how RFC 8441 §5 represents an aborted WebSocket stream. */
const CANCEL = 0x8;

/**
 * How to answer an extended CONNECT: 'valid' checks it (RFC 8441 §4, §5) and answers 200 — or
 * the error status when it is invalid, and then `answer` rejects; a function returns the
 * response header block to send (`:status` included), right or wrong on purpose.
 */
export type ExtendedConnectAnswer = 'valid' | ((request: HttpRequestHead) => Http2ResponseHeaders);

export interface ExtendedConnectAcceptOptions {
  readonly handshake?: ExtendedConnectAnswer;
  /** With 'valid': the subprotocol to select. */
  readonly protocol?: string;
  /** With 'valid': the `sec-websocket-extensions` value, or a function of the offers that returns it. */
  readonly extensions?: string | ((offers: readonly ExtensionOffer[]) => string | undefined);
}

/**
 * An HTTP/2 stream whose request (an extended CONNECT, or whatever the client sent) has arrived
 * and not been answered yet. `request` holds the header block as an HTTP request head: method
 * `CONNECT`, target the `:path`, version `2.0`, and every field, pseudo-header fields included.
 */
export class PendingExtendedConnect {
  readonly request: HttpRequestHead;
  readonly stream: ServerHttp2Stream;
  readonly #headers: IncomingHttpHeaders;
  readonly #transcript: Transcript;
  readonly #timeout: number;
  readonly #maskKey: Uint8Array | undefined;

  constructor(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    transcript: Transcript,
    options: { timeout: number; maskKey: Uint8Array | undefined },
  ) {
    this.stream = stream;
    this.#headers = headers;
    this.#transcript = transcript;
    this.#timeout = options.timeout;
    this.#maskKey = options.maskKey;
    const fields: HttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) fields[name] = value;
    this.request = { method: String(headers[':method'] ?? ''), target: String(headers[':path'] ?? ''), httpVersion: '2.0', headers: fields };
  }

  /** The request path and query, e.g. "/runCase?case=3&agent=ws". */
  get target(): string {
    return this.request.target;
  }

  /** Answers the extended CONNECT and hands the stream to a scripted peer in the server role. */
  async answer(options: ExtendedConnectAcceptOptions = {}): Promise<ScriptedPeer> {
    const handshake = options.handshake ?? 'valid';
    let response: Http2ResponseHeaders;
    if (handshake === 'valid') {
      try {
        const { extensions: offers } = validateExtendedConnectRequest({ headers: this.#headers });
        const extensions = typeof options.extensions === 'function' ? options.extensions(offers) : options.extensions;
        response = buildExtendedConnectResponse({ protocol: options.protocol, extensions });
      } catch (error) {
        if (!(error instanceof HandshakeError)) throw error;
        this.reject(error.status, error.headers);
        throw new ExpectationError(
          `The client's extended CONNECT is invalid: ${error.message}`,
          'a valid extended CONNECT (RFC 8441 §4, §5)',
          `${this.request.method} ${this.request.target} (:protocol ${String(this.#headers[':protocol'] ?? 'none')})`,
          this.#transcript.entries(),
        );
      }
    } else {
      response = handshake(this.request);
    }
    this.#respond(response, false);
    return new ScriptedPeer(this.stream, {
      role: 'server',
      transcript: this.#transcript,
      timeout: this.#timeout,
      request: this.request,
      ...(this.#maskKey === undefined ? {} : { maskKey: this.#maskKey }),
    });
  }

  /** Refuses the extended CONNECT with an HTTP status; the stream ends with the response. */
  reject(status: number, headers: Readonly<Record<string, string>> = {}, body?: string): void {
    const fields: Http2ResponseHeaders = { ':status': status };
    for (const [name, value] of Object.entries(headers)) fields[name.toLowerCase()] = value;
    if (!this.#respond(fields, body === undefined)) return;
    if (body !== undefined) this.stream.end(body);
  }

  /** Drops the stream without answering: RST_STREAM with CANCEL. */
  destroy(): void {
    this.#transcript.event('stream reset without an answer (CANCEL)');
    if (!this.stream.closed) this.stream.close(CANCEL);
  }

  #respond(headers: Http2ResponseHeaders, endStream: boolean): boolean {
    if (this.stream.closed || this.stream.headersSent) return false;
    const fields = Object.entries(headers).map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(', ') : String(value)}`);
    this.#transcript.event(`HTTP/2 response: ${fields.join(', ')}${endStream ? ' (END_STREAM)' : ''}`);
    this.stream.respond(headers, { endStream });
    return true;
  }
}
