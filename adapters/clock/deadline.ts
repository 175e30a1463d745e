/**
 * `work`, or the error `onTimeout()` makes when it has not settled within `ms`. The timer is
 * cleared as soon as either side settles, so a finished call leaves nothing that holds the process
 * open; a `work` that rejects after the deadline is still handled (no unhandled rejection). The work
 * itself is not cancelled: callers bound what they start by other means (pool timeouts, abort signals).
 */
export function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
