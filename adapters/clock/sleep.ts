/**
 * Waits `ms`, or less when `signal` aborts. Removes its abort listener either way: a loop that
 * sleeps on one long-lived signal (a runner polling every 100 ms) must not pile up listeners.
 */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
