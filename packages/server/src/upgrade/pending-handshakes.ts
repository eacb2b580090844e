import type { Duplex } from 'node:stream';
import { HandshakeError } from '@ws/core';
import { negotiateUpgrade, type UpgradeOutcome, type UpgradePolicy } from './handle-upgrade.js';
import { peerSocketOf } from './handshake-transport.js';
import type { WebSocketRequest } from './web-socket-request.js';

/** How a negotiation ends: the hooks decided (accepted or rejected), or the server refuses. */
export interface HandshakeAnswer<Data> {
  /** The hooks decided; the outcome is answered with a 101 and a connection, or their rejection. */
  settle(outcome: UpgradeOutcome<Data>): void;
  /** Timed out, the server is shutting down, or a hook threw: answered with `error.status`. */
  refuse(error: HandshakeError): void;
}

/** The signal handed to the handshake hooks when the handshake is decided synchronously. */
const NEVER_ABORTED = new AbortController().signal;

/** A hook or the negotiation threw something unexpected: the server's fault, 500. */
function handshakeFailed(cause: unknown): HandshakeError {
  return new HandshakeError('WS_ERR_HANDSHAKE_REJECTED', 'The handshake failed', { status: 500, cause });
}

/**
 * The handshakes a server is deciding: each runs the upgrade policy's checks and hooks, and
 * an asynchronous one (an `authenticate` hook) is bounded by the handshake timeout, aborted
 * when the client goes away or the server shuts down, and answered exactly once.
 */
export class PendingHandshakes<Data> {
  readonly #policy: UpgradePolicy<Data>;
  readonly #timeout: number;
  readonly #onFinished: () => void;
  /** Sockets between the `'upgrade'` event and the 101 (or the refusal), with their abort switch. */
  readonly #inProgress = new Map<Duplex, AbortController>();

  /** `onFinished` runs each time an asynchronous handshake leaves the set, before it is answered. */
  constructor(policy: UpgradePolicy<Data>, timeout: number, onFinished: () => void) {
    this.#policy = policy;
    this.#timeout = timeout;
    this.#onFinished = onFinished;
  }

  /** How many asynchronous handshakes are still undecided. */
  get size(): number {
    return this.#inProgress.size;
  }

  /** Aborts every undecided handshake; a 503 `reason` refuses each at once (server shutdown). */
  abortAll(reason: HandshakeError): void {
    for (const controller of [...this.#inProgress.values()]) controller.abort(reason);
  }

  /** Decides the handshake of `request` on `socket` and hands the result to `answer`, once. */
  negotiate(request: WebSocketRequest, socket: Duplex, answer: HandshakeAnswer<Data>): void {
    const remoteAddress = peerSocketOf(socket).remoteAddress;
    if (this.#policy.authenticate === undefined) {
      // Nothing asynchronous to wait for: decided and answered now, with no timer or signal.
      let outcome: UpgradeOutcome<Data>;
      try {
        // Synchronous when there is no `authenticate` hook (see `negotiateUpgrade`).
        outcome = negotiateUpgrade(request, this.#policy, { remoteAddress, signal: NEVER_ABORTED }) as UpgradeOutcome<Data>;
      } catch (error) {
        answer.refuse(handshakeFailed(error));
        return;
      }
      answer.settle(outcome);
      return;
    }

    const controller = new AbortController();
    this.#inProgress.set(socket, controller);
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      socket.off('close', onClose);
      this.#inProgress.delete(socket);
      this.#onFinished();
      return true;
    };
    const timer = setTimeout(() => {
      const error = new HandshakeError('WS_ERR_HANDSHAKE_TIMEOUT', `No handshake within ${this.#timeout} ms`);
      controller.abort(error);
      if (finish()) answer.refuse(error);
    }, this.#timeout);
    timer.unref?.();
    const onClose = (): void => {
      controller.abort(new HandshakeError('WS_ERR_HANDSHAKE_ABORTED', 'The client went away'));
      finish();
    };
    socket.once('close', onClose);
    controller.signal.addEventListener('abort', () => {
      // Server shutdown aborts from outside; the timer and the socket's close call `finish` themselves.
      const reason: unknown = controller.signal.reason;
      if (reason instanceof HandshakeError && reason.status === 503 && finish()) answer.refuse(reason);
    });

    Promise.resolve()
      .then(() => negotiateUpgrade(request, this.#policy, { remoteAddress, signal: controller.signal }))
      .then(
        (outcome) => {
          if (finish()) answer.settle(outcome);
          else if (outcome.accepted) outcome.deflate?.dispose();
        },
        (error: unknown) => {
          if (finish()) answer.refuse(handshakeFailed(error));
        },
      );
  }
}
