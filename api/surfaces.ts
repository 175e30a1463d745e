/** Where each surface lives; server.ts mounts them and `csms serve` prints URLs from the same prefixes. */
export const surfacePrefixes = { ocpp: '/ocpp', ocpi: '/ocpi', graphql: '/graphql', rest: '/api' } as const;
