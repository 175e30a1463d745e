import { InvalidCommandError } from '../shared/errors.js';

/** One reason a tariff (or pricing input) was refused, with the JSON path of the field. */
export interface TariffIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * A tariff or pricing input that is wrong on its own. It extends InvalidCommandError so gateways
 * map it like any refused command (OCPI 2001 "invalid or missing parameters").
 */
export class InvalidTariffError extends InvalidCommandError {
  override readonly name = 'InvalidCommandError' as const;
  readonly kind = 'InvalidTariffError';
  constructor(
    readonly issues: readonly TariffIssue[],
    commandType?: string,
  ) {
    super(issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '), commandType);
  }
}

export function refuse(path: string, message: string): never {
  throw new InvalidTariffError([{ path, message }]);
}
