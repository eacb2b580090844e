import type { SecureServerOptions } from 'node:http2';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { type CaseTimeouts, type ConformanceCase, DEFAULT_CASE_TIMEOUTS, type TargetKind } from '../catalogue/conformance-case.js';
import type { RequestHeaders } from '../peer/client-handshake.js';
import { ScriptedPeer } from '../peer/scripted-peer.js';
import { ScriptedHttp2Server } from '../peer/scripted-http2-server.js';
import { ScriptedServer } from '../peer/scripted-server.js';
import { answerClientCase, notApplicableOverHttp2 } from './client-case-answer.js';
import type { CaseResult } from './conformance-report.js';
import { executeCase } from './execute-case.js';

/**
 * What to test. A server: its ws:// URL (it must echo text as text and binary as binary). A
 * client: a function that connects it to the given URL and makes it echo every message until
 * the connection closes; the returned promise (if any) should settle once it is closed.
 */
export type ConformanceTarget =
  | string
  | URL
  | { readonly server: string | URL; readonly headers?: RequestHeaders }
  | { readonly client: (url: string) => unknown };

export interface SessionOptions {
  /** Name of the implementation under test, for reports and the Autobahn `agent` parameter. */
  readonly agent?: string;
  readonly timeouts?: Partial<CaseTimeouts>;
  /** Upper bound of one case, ms. Default 30 s (120 s for slow cases). */
  readonly caseTimeout?: number;
  /**
   * Every case's WebSocket on an HTTP/2 stream opened with an extended CONNECT (RFC 8441).
   * Server targets: the testkit connects h2c with prior knowledge for ws:// and http://, h2 by
   * ALPN for wss:// and https://. Client targets: the testkit serves h2c (a ws:// URL), or h2
   * over TLS with `tls` (a wss:// URL), with SETTINGS_ENABLE_CONNECT_PROTOCOL; the connect
   * function must open its WebSocket over HTTP/2. Cases that test the HTTP/1.1 upgrade itself
   * are reported as not applicable.
   */
  readonly http2?: boolean;
  /**
   * Server targets: options for tls.connect with a wss:// or https:// URL, e.g. `ca`. Client
   * targets with `http2`: options for http2.createSecureServer, `key` and `cert` at least.
   */
  readonly tls?: TlsConnectionOptions;
}

/** What kind of target this is and a line describing it. */
export function describeTarget(target: ConformanceTarget): { kind: TargetKind; description: string } {
  if (typeof target === 'string' || target instanceof URL) return { kind: 'server', description: String(target) };
  if ('server' in target) return { kind: 'server', description: String(target.server) };
  return { kind: 'client', description: 'client driven through a connect function' };
}

/**
 * Runs cases one at a time against one target; a vitest suite keeps one for all its cases.
 * For a client target it listens on a free port of 127.0.0.1 (over HTTP/2 with `http2`) and
 * calls the connect function once per case with `<url>/runCase?case=N&agent=A`.
 */
export class ConformanceSession {
  readonly kind: TargetKind;
  readonly agent: string;
  readonly timeouts: CaseTimeouts;
  readonly #target: ConformanceTarget;
  readonly #caseTimeout: number | undefined;
  readonly #http2: boolean;
  readonly #tls: TlsConnectionOptions | undefined;
  readonly #server: ScriptedServer | ScriptedHttp2Server | undefined;
  #caseNumber = 0;

  private constructor(target: ConformanceTarget, options: SessionOptions, server: ScriptedServer | ScriptedHttp2Server | undefined) {
    this.#target = target;
    this.kind = describeTarget(target).kind;
    this.agent = options.agent ?? (this.kind === 'server' ? 'server' : 'client');
    this.timeouts = { ...DEFAULT_CASE_TIMEOUTS, ...options.timeouts };
    this.#caseTimeout = options.caseTimeout;
    this.#http2 = options.http2 === true;
    this.#tls = options.tls;
    this.#server = server;
  }

  static async open(target: ConformanceTarget, options: SessionOptions = {}): Promise<ConformanceSession> {
    if (describeTarget(target).kind === 'server') return new ConformanceSession(target, options, undefined);
    if (options.tls !== undefined && options.http2 !== true) {
      throw new TypeError('The "tls" option applies to a client target with "http2": the testkit serves HTTP/1.1 without TLS');
    }
    const listen = { timeout: options.timeouts?.response ?? DEFAULT_CASE_TIMEOUTS.response };
    const server =
      options.http2 === true
        ? await ScriptedHttp2Server.listen({ ...listen, ...(options.tls === undefined ? {} : { tls: options.tls as SecureServerOptions }) })
        : await ScriptedServer.listen(listen);
    return new ConformanceSession(target, options, server);
  }

  /** The scripted server's URL, for a client target. */
  get url(): string | undefined {
    return this.#server?.url;
  }

  async runCase(conformanceCase: ConformanceCase): Promise<CaseResult> {
    this.#caseNumber++;
    const caseTimeout = this.#caseTimeout ?? (conformanceCase.slow === true ? 120_000 : 30_000);
    const target = this.#target;
    if (typeof target === 'string' || target instanceof URL || 'server' in target) {
      const url = typeof target === 'string' || target instanceof URL ? target : target.server;
      const baseHeaders = typeof target === 'string' || target instanceof URL ? {} : (target.headers ?? {});
      if (this.#http2 && conformanceCase.http1Only === true) return notApplicableOverHttp2(conformanceCase);
      return executeCase(conformanceCase, {
        target: 'server',
        timeouts: this.timeouts,
        caseTimeout,
        open: (options) =>
          ScriptedPeer.connect(url, {
            headers: { ...baseHeaders, ...options.headers },
            handshake: options.handshake ?? 'valid',
            timeout: this.timeouts.response,
            ...(options.method === undefined ? {} : { method: options.method }),
            ...(this.#http2 ? { http2: true } : {}),
            ...(this.#tls === undefined ? {} : { tls: this.#tls }),
          }),
      });
    }
    if (this.#http2 && conformanceCase.http1Only === true) return notApplicableOverHttp2(conformanceCase);
    return this.#runClientCase(conformanceCase, target.client, caseTimeout);
  }

  async #runClientCase(conformanceCase: ConformanceCase, connect: (url: string) => unknown, caseTimeout: number): Promise<CaseResult> {
    const server = this.#server!;
    server.discardPending();
    const url = `${server.url}/runCase?case=${this.#caseNumber}&agent=${encodeURIComponent(this.agent)}`;
    const upgrade = server.nextUpgrade({ timeout: this.timeouts.response * 2 });
    upgrade.catch(() => undefined);
    const driverErrors: string[] = [];
    const driving = Promise.resolve()
      .then(() => connect(url))
      .then(
        () => undefined,
        (error: unknown) => {
          driverErrors.push(error instanceof Error ? error.message : String(error));
        },
      );
    const result = await executeCase(conformanceCase, {
      target: 'client',
      timeouts: this.timeouts,
      caseTimeout,
      open: async (options) => answerClientCase(await upgrade, options),
    });
    // The next case must not overlap this one: give the client time to finish, bounded.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([driving, new Promise((resolve) => (timer = setTimeout(resolve, this.timeouts.close)))]);
    clearTimeout(timer);
    const notes = driverErrors.map((message) => `the client's connect function reported: ${message}`);
    return notes.length === 0 ? result : { ...result, notes: [...result.notes, ...notes] };
  }

  async close(): Promise<void> {
    await this.#server?.close();
  }
}
