import { describe, expect, it } from 'vitest';
import { rememberBounded } from './bounded-map.js';

describe('rememberBounded', () => {
  it('keeps at most entriesMax keys, dropping the least recently set', () => {
    const map = new Map<string, number>();
    rememberBounded(map, 'a', 1, 2);
    rememberBounded(map, 'b', 2, 2);
    rememberBounded(map, 'a', 3, 2); // 'a' is now the most recent
    rememberBounded(map, 'c', 4, 2);
    expect([...map]).toEqual([
      ['a', 3],
      ['c', 4],
    ]);
  });
});
