import { type CaseSelection, catalogue as fullCatalogue, selectCases } from '../catalogue/catalogue.js';
import { type CaseTimeouts, type ConformanceCase, DEFAULT_CASE_TIMEOUTS, type Outcome } from '../catalogue/conformance-case.js';
import type { SecureServerOptions } from 'node:http2';
import { ScriptedHttp2Server } from '../peer/scripted-http2-server.js';
import type { ScriptedPeer } from '../peer/scripted-peer.js';
import { ScriptedServer } from '../peer/scripted-server.js';
import { answerClientCase, notApplicableOverHttp2, type PendingHandshake } from './client-case-answer.js';
import { type CaseResult, type ConformanceReport, buildReport } from './conformance-report.js';
import { executeCase } from './execute-case.js';

export interface AutobahnServerOptions extends Omit<CaseSelection, 'targetKind'> {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 9001, Autobahn's fuzzing server port; 0 picks a free one. */
  readonly port?: number;
  readonly timeouts?: Partial<CaseTimeouts>;
  /**
   * Serve over HTTP/2 (RFC 8441): every path is an extended CONNECT on its own stream. h2c, or h2
   * over TLS with `tls`. Cases that test the HTTP/1.1 upgrade itself are not applicable.
   */
  readonly http2?: boolean;
  /** With `http2`: options for http2.createSecureServer (`key`, `cert`), to serve h2 over TLS. */
  readonly tls?: SecureServerOptions;
  /** Cases to choose from. Default: the whole catalogue. */
  readonly catalogue?: readonly ConformanceCase[];
  readonly onCaseStart?: (conformanceCase: ConformanceCase, index: number, total: number) => void;
  readonly onCaseEnd?: (result: CaseResult, index: number, total: number) => void;
  /** Called on /updateReports with the agent's report. */
  readonly onReport?: (report: ConformanceReport) => void | Promise<void>;
}

/** Autobahn's names for outcomes, for /getCaseStatus. */
const AUTOBAHN_BEHAVIOR: Readonly<Record<Outcome, string>> = {
  pass: 'OK',
  'non-strict': 'NON-STRICT',
  informational: 'INFORMATIONAL',
  fail: 'FAILED',
  'not-applicable': 'UNIMPLEMENTED',
};

/**
 * The testkit as the server of the Autobahn client protocol, so that any WebSocket client
 * with an Autobahn driver can be tested unchanged:
 *
 * - `/getCaseCount`: sends the number of cases as a text message, then closes;
 * - `/runCase?case=N&agent=A`: runs case N (1-based, in id order) with the testkit as server;
 * - `/getCaseInfo?case=N`: sends `{"id","description"}` as JSON;
 * - `/getCaseStatus?case=N&agent=A`: sends `{"behavior"}` as JSON (OK, NON-STRICT, ...);
 * - `/updateReports?agent=A`: builds the agent's report (`onReport`, `waitForReport`), then closes.
 *
 * Connections are served one at a time, in the order they arrive. With `http2` each of them is
 * an extended CONNECT (RFC 8441) on a stream of an h2c or h2 session.
 */
export class AutobahnServer {
  readonly #server: ScriptedServer | ScriptedHttp2Server;
  readonly #cases: readonly ConformanceCase[];
  readonly #options: AutobahnServerOptions;
  readonly #timeouts: CaseTimeouts;
  readonly #results = new Map<string, Map<string, CaseResult>>();
  readonly #startedAt = new Map<string, Date>();
  readonly #reportWaiters: ((report: ConformanceReport) => void)[] = [];
  #running: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(server: ScriptedServer | ScriptedHttp2Server, options: AutobahnServerOptions) {
    this.#server = server;
    this.#options = options;
    this.#timeouts = { ...DEFAULT_CASE_TIMEOUTS, ...options.timeouts };
    this.#cases = selectCases(options.catalogue ?? fullCatalogue, { ...options, targetKind: 'client' });
  }

  static async listen(options: AutobahnServerOptions = {}): Promise<AutobahnServer> {
    const timeouts = { ...DEFAULT_CASE_TIMEOUTS, ...options.timeouts };
    if (options.tls !== undefined && options.http2 !== true) throw new TypeError('The "tls" option applies with "http2"');
    const listen = { host: options.host ?? '127.0.0.1', port: options.port ?? 9001, timeout: timeouts.response };
    const server =
      options.http2 === true
        ? await ScriptedHttp2Server.listen({ ...listen, ...(options.tls === undefined ? {} : { tls: options.tls }) })
        : await ScriptedServer.listen(listen);
    const autobahn = new AutobahnServer(server, options);
    autobahn.#running = autobahn.#serve();
    return autobahn;
  }

  get url(): string {
    return this.#server.url;
  }

  get port(): number {
    return this.#server.port;
  }

  /** The selected cases; /runCase?case=N runs `cases[N - 1]`. */
  get cases(): readonly ConformanceCase[] {
    return this.#cases;
  }

  /** The report of an agent's results so far. */
  report(agent: string): ConformanceReport {
    const results = [...(this.#results.get(agent)?.values() ?? [])];
    const order = new Map(this.#cases.map((conformanceCase, index) => [conformanceCase.id, index]));
    results.sort((left, right) => (order.get(left.id) ?? 0) - (order.get(right.id) ?? 0));
    return buildReport({
      target: { kind: 'client', description: `client "${agent}" through the Autobahn client protocol` },
      agent,
      startedAt: this.#startedAt.get(agent) ?? new Date(),
      results,
    });
  }

  /** Resolves with the report of the next /updateReports. */
  waitForReport(): Promise<ConformanceReport> {
    return new Promise((resolve) => this.#reportWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#server.close();
    await this.#running;
  }

  async #serve(): Promise<void> {
    while (!this.#closed) {
      let upgrade: PendingHandshake;
      try {
        upgrade = await this.#server.nextUpgrade({ timeout: Number.POSITIVE_INFINITY });
      } catch {
        return;
      }
      try {
        await this.#handle(upgrade);
      } catch {
        upgrade.destroy();
      }
    }
  }

  async #handle(upgrade: PendingHandshake): Promise<void> {
    const target = new URL(upgrade.target, 'ws://localhost');
    const agent = target.searchParams.get('agent') ?? 'unknown';
    const caseNumber = Number(target.searchParams.get('case'));
    const conformanceCase = Number.isInteger(caseNumber) ? this.#cases[caseNumber - 1] : undefined;
    switch (target.pathname) {
      case '/getCaseCount':
        return this.#sendAndClose(await upgrade.answer(), String(this.#cases.length));
      case '/getCaseInfo':
        if (conformanceCase === undefined) return upgrade.reject(404, {}, `No case ${target.searchParams.get('case')}`);
        return this.#sendAndClose(
          await upgrade.answer(),
          JSON.stringify({ id: conformanceCase.id, description: conformanceCase.description }),
        );
      case '/getCaseStatus': {
        if (conformanceCase === undefined) return upgrade.reject(404, {}, `No case ${target.searchParams.get('case')}`);
        const result = this.#results.get(agent)?.get(conformanceCase.id);
        const behavior = result === undefined ? 'UNKNOWN' : AUTOBAHN_BEHAVIOR[result.outcome];
        return this.#sendAndClose(await upgrade.answer(), JSON.stringify({ behavior }));
      }
      case '/runCase':
        if (conformanceCase === undefined) return upgrade.reject(404, {}, `No case ${target.searchParams.get('case')}`);
        return this.#runCase(upgrade, conformanceCase, caseNumber, agent);
      case '/updateReports': {
        await this.#sendAndClose(await upgrade.answer(), undefined);
        const report = this.report(agent);
        await this.#options.onReport?.(report);
        for (const resolve of this.#reportWaiters.splice(0)) resolve(report);
        return;
      }
      default:
        return upgrade.reject(404, {}, `Unknown path ${target.pathname}`);
    }
  }

  async #runCase(upgrade: PendingHandshake, conformanceCase: ConformanceCase, caseNumber: number, agent: string): Promise<void> {
    if (!this.#startedAt.has(agent)) this.#startedAt.set(agent, new Date());
    const index = caseNumber - 1;
    this.#options.onCaseStart?.(conformanceCase, index, this.#cases.length);
    let result: CaseResult;
    if (this.#options.http2 === true && conformanceCase.http1Only === true) {
      // The driver connected for the case all the same: it gets a WebSocket that closes at once.
      result = notApplicableOverHttp2(conformanceCase);
      await this.#sendAndClose(await upgrade.answer(), undefined);
    } else {
      result = await executeCase(conformanceCase, {
        target: 'client',
        timeouts: this.#timeouts,
        caseTimeout: conformanceCase.slow === true ? 120_000 : 30_000,
        open: (options) => answerClientCase(upgrade, options),
      });
    }
    let results = this.#results.get(agent);
    if (results === undefined) this.#results.set(agent, (results = new Map()));
    results.set(conformanceCase.id, result);
    this.#options.onCaseEnd?.(result, index, this.#cases.length);
  }

  /** Sends a text message (when given), the close frame, waits briefly for the reply, and closes. */
  async #sendAndClose(peer: ScriptedPeer, message: string | undefined): Promise<void> {
    if (message !== undefined) await peer.sendText(message);
    await peer.sendClose(1000);
    await peer.nextEvent({ timeout: this.#timeouts.close });
    await peer.close();
  }
}
