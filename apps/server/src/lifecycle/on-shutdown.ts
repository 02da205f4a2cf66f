import exitHook from 'async-exit-hook';

const SIGNALS = { SIGINT: 130, SIGTERM: 0, SIGHUP: 129 } as const;
type Signal = keyof typeof SIGNALS;

/**
 * Runs `shutdown` once on SIGINT, SIGTERM or SIGHUP, then exits: 0 after SIGTERM (an orderly stop),
 * 130 after Ctrl-C, 129 after SIGHUP. The embedded PostgreSQL package installs exit hooks of its own
 * that stop the database at once; they are removed here so that the database stops last, after the
 * work that uses it.
 */
export function onShutdown(shutdown: (signal: Signal) => Promise<void>): void {
  for (const signal of Object.keys(SIGNALS) as Signal[]) exitHook.unhookEvent(signal);
  let stopping = false;
  const handle = (signal: Signal): void => {
    if (stopping) return;
    stopping = true;
    shutdown(signal).then(
      () => process.exit(SIGNALS[signal]),
      (error: unknown) => {
        process.stderr.write(`aiq: stopping failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  for (const signal of Object.keys(SIGNALS) as Signal[]) process.once(signal, () => handle(signal));
}
