import { describe, expect, it } from 'vitest';
import {
  addressKey,
  backoffMs,
  FailureBook,
  passwordFailureBackoffBaseMs,
  passwordFailureBackoffMaxMs,
  passwordFailureMemoryMs,
  throttleKeysMax,
  TieredWorkQueue,
} from './station-auth-throttle.js';

describe('failure books', () => {
  it('block a key once its allowance is used up, doubling the block per further failure, capped', () => {
    const book = new FailureBook(3);
    expect(book.recordFailure('CP-1', 0)).toBe(0);
    expect(book.recordFailure('CP-1', 0)).toBe(0);
    expect(book.blockedForMs('CP-1', 0)).toBe(0);
    expect(book.recordFailure('CP-1', 0)).toBe(passwordFailureBackoffBaseMs);
    expect(book.blockedForMs('CP-1', 400)).toBe(passwordFailureBackoffBaseMs - 400);
    expect(book.blockedForMs('CP-1', passwordFailureBackoffBaseMs)).toBe(0);
    // Past the block, one more failure blocks again, twice as long.
    expect(book.recordFailure('CP-1', 2_000)).toBe(2 * passwordFailureBackoffBaseMs);
    expect(backoffMs(0)).toBe(passwordFailureBackoffBaseMs);
    expect(backoffMs(40)).toBe(passwordFailureBackoffMaxMs);
    expect(book.failures('CP-2', 0)).toBe(0);
  });

  it('forget a key that stayed quiet long enough after its block', () => {
    const book = new FailureBook(1);
    const blockedMs = book.recordFailure('CP-1', 0);
    expect(book.failures('CP-1', blockedMs + passwordFailureMemoryMs)).toBe(1);
    expect(book.failures('CP-1', blockedMs + passwordFailureMemoryMs + 1)).toBe(0);
    expect(book.recordFailure('CP-1', blockedMs + passwordFailureMemoryMs + 2)).toBe(passwordFailureBackoffBaseMs); // a fresh start
  });

  it(`hold at most ${throttleKeysMax} keys, dropping the least recently failed`, () => {
    const book = new FailureBook(5);
    for (let i = 0; i <= throttleKeysMax; i++) book.recordFailure(`10.0.${i >> 8}.${i & 255}`, 0);
    expect(book.size()).toBe(throttleKeysMax);
    expect(book.failures('10.0.0.0', 0)).toBe(0);
    expect(book.failures('10.0.0.1', 0)).toBe(1);
  });
});

describe('address keys', () => {
  it('take IPv4 as is, IPv4-mapped IPv6 as IPv4, and IPv6 by its /64', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::7')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey(undefined)).toBe('unknown');
  });
});

describe('tiered work queue', () => {
  it('runs the lowest tier first, asks again before starting, and refuses beyond its bound', async () => {
    const queue = new TieredWorkQueue(1, 3, () => new Error('full'));
    const started: string[] = [];
    let release: () => void = () => {};
    const blocker = queue.submit(() => 0, () => null, () => new Promise<void>((resolve) => (release = resolve)));
    const tiers: Record<string, number> = { a: 3, b: 1, c: 0 };
    const job = (name: string, refusal: () => Error | null = () => null) =>
      queue.submit(() => tiers[name]!, refusal, async () => void started.push(name));
    const a = job('a');
    const b = job('b', () => new Error('b is blocked now'));
    const c = job('c');
    await expect(job('d')).rejects.toThrow('full');
    expect(queue.waiting()).toBe(3);
    release();
    await Promise.all([blocker, a, c]);
    await expect(b).rejects.toThrow('b is blocked now');
    expect(started).toEqual(['c', 'a']);
    expect(queue.running()).toBe(0);
  });
});
