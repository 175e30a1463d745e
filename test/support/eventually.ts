/** How often `eventually` probes again. */
export const eventuallyPollIntervalMs = 100;

/**
 * Polls `probe` until it returns something truthy, for results that arrive asynchronously
 * (projections catching up, a process manager issuing a CDR). Bounded: throws after `timeoutMs`
 * with the last value or error, so a failing test says what it was waiting for.
 */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs: number, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms (last: ${String(last)})`);
    await new Promise((resolve) => setTimeout(resolve, eventuallyPollIntervalMs));
  }
}
