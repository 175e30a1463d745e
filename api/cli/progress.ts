import cliProgress from 'cli-progress';

/**
 * A progress bar on stderr (stdout stays for results a script may parse). On a terminal it
 * redraws in place; in a log file or CI it prints a plain line now and then instead of flooding.
 */

/** How often a non-terminal gets a progress line. */
export const progressLineIntervalMs = 2_000;

export interface Progress {
  update(done: number, total: number | null): void;
  stop(): void;
}

export function createProgress(label: string): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} events | {duration_formatted}`,
      noTTYOutput: true,
      notTTYSchedule: progressLineIntervalMs,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      // An unknown total (a store that cannot count cheaply) shows the count against itself.
      const knownTotal = total ?? Math.max(done, 1);
      if (!started) {
        bar.start(knownTotal, done);
        started = true;
        return;
      }
      bar.setTotal(Math.max(knownTotal, done));
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
