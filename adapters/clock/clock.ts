/** The only way code above the adapters learns the time, so tests can fix it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that stands still until told to move (tests, replays). */
export function fixedClock(start: Date | string): Clock & { advanceMs(ms: number): void; set(at: Date | string): void } {
  let current = new Date(start);
  return {
    now: () => new Date(current),
    advanceMs(ms: number) {
      current = new Date(current.getTime() + ms);
    },
    set(at: Date | string) {
      current = new Date(at);
    },
  };
}
