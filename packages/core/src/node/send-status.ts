/** What became of a message handed to `send`. */
export const SendStatus = {
  /** Handed to the transport, which is not backed up. */
  Sent: 'sent',
  /** Handed to the transport, which is backed up: wait for `'drain'` before sending more. */
  Queued: 'queued',
  /** Not sent: the buffered amount was over the limit and the policy is `drop`. */
  Dropped: 'dropped',
  /** Not sent: the connection is closing or closed (or was just closed by the `close` policy). */
  Closed: 'closed',
} as const;

export type SendStatus = (typeof SendStatus)[keyof typeof SendStatus];

/** What `send` does when `bufferedAmount` is over `maxBufferedAmount`. */
export const BackpressurePolicy = {
  /** Queue anyway and report `queued`; the caller waits for `'drain'` (or uses `sendAsync`). */
  Wait: 'wait',
  /** Drop the message and report `dropped`. */
  Drop: 'drop',
  /** Close the connection with 1008 and report `closed` (uWebSockets.js' `closeOnBackpressureLimit`). */
  Close: 'close',
} as const;

export type BackpressurePolicy = (typeof BackpressurePolicy)[keyof typeof BackpressurePolicy];
