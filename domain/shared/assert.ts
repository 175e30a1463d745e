/** Exhaustiveness check for discriminated unions: a new variant that is not handled fails to compile. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}

/**
 * An invariant that must hold whatever the input: a failure is a bug in our code, not bad input,
 * so it throws a plain Error that nobody is expected to catch.
 */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`invariant violated: ${message}`);
}
