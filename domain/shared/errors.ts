/**
 * A command that the current state does not allow. Gateways map it to their protocol's error
 * (OCPP CALLERROR, OCPI status code, GraphQL error); nothing is appended.
 */
export class IllegalStateError extends Error {
  override readonly name = 'IllegalStateError';
  constructor(
    message: string,
    readonly commandType?: string,
  ) {
    super(commandType ? `${commandType}: ${message}` : message);
  }
}

/** A command whose content is wrong on its own (bad amount, unknown connector...). */
export class InvalidCommandError extends Error {
  override readonly name = 'InvalidCommandError';
  constructor(
    message: string,
    readonly commandType?: string,
  ) {
    super(commandType ? `${commandType}: ${message}` : message);
  }
}
