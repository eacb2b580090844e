import type { ClientHttp2Session } from 'node:http2';
import { HandshakeError } from '@ws/core';

/** At most this many WebSockets share one session (fewer if the server's SETTINGS say so). */
export const DEFAULT_MAX_STREAMS_PER_SESSION = 100;

/** One HTTP/2 session and the WebSockets it carries. */
export class PooledSession {
  readonly #ready: Promise<ClientHttp2Session | undefined>;
  readonly #onEmpty: (pooled: PooledSession) => void;
  #session: ClientHttp2Session | undefined;
  #failed = false;
  #active = 0;

  constructor(opening: Promise<ClientHttp2Session | undefined>, onEmpty: (pooled: PooledSession) => void) {
    this.#onEmpty = onEmpty;
    this.#ready = opening.then(
      (session) => {
        this.#session = session;
        this.#failed = session === undefined;
        if (session !== undefined) session.once('close', () => onEmpty(this));
        return session;
      },
      (error: unknown) => {
        this.#failed = true;
        throw error;
      },
    );
  }

  /** The session once it is open and allows extended CONNECT; undefined when its opener fell back to HTTP/1.1. */
  get ready(): Promise<ClientHttp2Session | undefined> {
    return this.#ready;
  }

  /** Whether another WebSocket may be opened on it: open (or opening), not going away, with room. */
  get hasRoom(): boolean {
    if (this.#failed) return false;
    const session = this.#session;
    if (session === undefined) return this.#active < DEFAULT_MAX_STREAMS_PER_SESSION;
    if (session.closed || session.destroyed) return false;
    const limit = Math.min(session.remoteSettings.maxConcurrentStreams ?? Infinity, DEFAULT_MAX_STREAMS_PER_SESSION);
    return this.#active < limit;
  }

  claim(): void {
    this.#active++;
  }

  /**
   * A WebSocket (or an attempt) on it ended. The last one closes the session: an idle session
   * would keep the process alive and hold a connection the server may want back.
   */
  release(): void {
    this.#active--;
    if (this.#active > 0) return;
    this.#onEmpty(this);
    if (this.#session !== undefined && !this.#session.closed) this.#session.close();
  }
}

/**
 * The HTTP/2 sessions WebSockets share, by origin and TLS settings: a WebSocket goes to a
 * session of its key with room (an opening one included, so that WebSockets opened at once
 * share it), else a new session is opened. Sessions leave the pool when they close or go idle.
 * Also remembers the keys whose server turned out to have no HTTP/2 extended CONNECT, for
 * `http2: 'auto'`.
 */
export class Http2SessionPool {
  readonly #sessions = new Map<string, PooledSession[]>();
  readonly #http1Only = new Set<string>();

  isHttp1Only(key: string): boolean {
    return this.#http1Only.has(key);
  }

  markHttp1Only(key: string): void {
    this.#http1Only.add(key);
  }

  /**
   * A session for `key` with a WebSocket claimed on it (`release` it when the WebSocket ends),
   * or undefined when `open` fell back to HTTP/1.1. Rejects with what `open` rejected with.
   */
  async acquire(key: string, open: () => Promise<ClientHttp2Session | undefined>): Promise<{ session: ClientHttp2Session; pooled: PooledSession } | undefined> {
    let pooled = this.#sessions.get(key)?.find((candidate) => candidate.hasRoom);
    if (pooled === undefined) {
      pooled = new PooledSession(open(), (gone) => this.#forget(key, gone));
      const list = this.#sessions.get(key) ?? [];
      list.push(pooled);
      this.#sessions.set(key, list);
    }
    pooled.claim();
    let session: ClientHttp2Session | undefined;
    try {
      session = await pooled.ready;
    } catch (error) {
      pooled.release();
      throw error;
    }
    if (session === undefined) {
      pooled.release();
      return undefined;
    }
    if (session.closed || session.destroyed) {
      pooled.release();
      throw new HandshakeError('WS_ERR_HANDSHAKE_NETWORK', 'The HTTP/2 session closed before the WebSocket could be opened', { status: 0 });
    }
    return { session, pooled };
  }

  #forget(key: string, gone: PooledSession): void {
    const list = this.#sessions.get(key);
    if (list === undefined) return;
    const index = list.indexOf(gone);
    if (index !== -1) list.splice(index, 1);
    if (list.length === 0) this.#sessions.delete(key);
  }
}

/** The pool every client connection shares. */
export const http2Sessions = new Http2SessionPool();

const objectIds = new WeakMap<object, number>();
let nextObjectId = 1;

/**
 * The pool key of a target and its connection settings: the origin (a Unix socket's path
 * included) and every setting that shapes the transport, objects (a CA, a secure context, a
 * `createConnection`) by identity.
 */
export function sessionKey(origin: string, settings: Readonly<Record<string, unknown>>, names: readonly string[]): string {
  let key = origin;
  for (const name of names) {
    const value = settings[name];
    if (value === undefined) continue;
    if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
      let id = objectIds.get(value);
      if (id === undefined) {
        id = nextObjectId++;
        objectIds.set(value, id);
      }
      key += `|${name}=#${id}`;
    } else {
      key += `|${name}=${JSON.stringify(value)}`;
    }
  }
  return key;
}
