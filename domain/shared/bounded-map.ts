/**
 * Sets `key` as the most recent entry of `map` and drops the oldest past `entriesMax`: a Map keeps
 * insertion order, so delete-then-set moves a key to the end and the first key is the least
 * recently set. The one least-recently-used table of the code base's bounded in-memory memories
 * (admission standings, reservations, operation ids, connector transactions...). Pure: no clock,
 * no I/O, so every layer may use it.
 */
export function rememberBounded<K, V>(map: Map<K, V>, key: K, value: V, entriesMax: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > entriesMax) map.delete(map.keys().next().value as K);
}
