/**
 * What the orchestrator hands a Node load generator (TCP or HTTP/2), as JSON in its first
 * argument: open `connections` to `port`, then either hold them open (`idle`) or keep `window`
 * echoes of `size` bytes in flight on each for `seconds`.
 */
export interface LoadSettings {
  port: number;
  connections: number;
  size?: number;
  window?: number;
  seconds?: number;
  idle?: boolean;
}

/** The settings this process was started with. */
export function loadSettingsFromArguments(): LoadSettings {
  return JSON.parse(process.argv[2]!) as LoadSettings;
}
