/**
 * A signal that comes this soon after the first is the same Ctrl-C: the terminal sends SIGINT to
 * the whole foreground process group, and a package manager (pnpm, npm) forwards the one it got
 * to the script as well, so one keypress arrives twice a few milliseconds apart.
 */
const SAME_SIGNAL_WINDOW_MS = 1_000;

/**
 * Ctrl-C (SIGINT) or SIGTERM runs `stop` once and exits with 0 when it resolves (1 if it
 * rejects); a second Ctrl-C, pressed while `stop` waits for slow peers, exits at once with 1.
 */
export function stopOnSignals(stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let firstSignalAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    const now = performance.now();
    if (firstSignalAt !== undefined) {
      if (now - firstSignalAt < SAME_SIGNAL_WINDOW_MS) return;
      process.exit(1);
    }
    firstSignalAt = now;
    stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
