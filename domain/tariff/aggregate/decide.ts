import { assertNever } from '../../shared/assert.js';
import { eventFrom } from '../../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../../shared/errors.js';
import { normalizeTimestamp, sameJson, timeMs } from '../../shared/values.js';
import { InvalidTariffError } from '../errors.js';
import { parseTariff } from '../parse.js';
import type { Tariff } from '../schema.js';
import { utcMs } from '../tariff-checks.js';
import type { TariffCommand } from './commands.js';
import { TariffCreated, TariffDeactivated, TariffVersioned, tariffVersionsMax, type TariffEvent } from './events.js';
import type { TariffState } from './state.js';

/** parseTariff's error, named after the command, so the operator sees which command was refused. */
function parse(input: unknown, commandType: string): Tariff {
  let tariff: Tariff;
  try {
    tariff = parseTariff(input);
  } catch (error) {
    if (error instanceof InvalidTariffError) throw new InvalidTariffError(error.issues, commandType);
    throw error;
  }
  // The schema checks dates with Date.parse, which rolls 2025-02-30 over to March 2, while
  // isTariffInForce reads them with utcMs, which gives NaN: such an end_date_time would never end
  // and a start_date_time never hold back. Refuse what the two readings disagree on.
  const issues = (['start_date_time', 'end_date_time'] as const)
    .filter((field) => tariff[field] !== undefined && Number.isNaN(utcMs(tariff[field])))
    .map((field) => ({ path: field, message: `${tariff[field]} is not a real date and time` }));
  if (issues.length > 0) throw new InvalidTariffError(issues, commandType);
  return tariff;
}

/** The later of the tariff's own start and the moment it is recorded: no version applies to the past. */
function validFromOf(tariff: Tariff, recordedAt: string): string {
  if (tariff.start_date_time === undefined) return recordedAt;
  // Read as isTariffInForce reads it, so validFrom and the tariff's own window never disagree.
  const start = new Date(utcMs(tariff.start_date_time)).toISOString();
  return timeMs(start) > timeMs(recordedAt) ? start : recordedAt;
}

export function decideTariff(command: TariffCommand, state: TariffState): TariffEvent[] {
  switch (command.type) {
    case 'CreateTariff': {
      const createdAt = normalizeTimestamp(command.createdAt, 'createdAt', command.type);
      const tariff = parse(command.tariff, command.type);
      if (state.status !== 'none') {
        // The same tariff again is a retry (or `tariffs add` run twice): nothing new.
        if (sameJson(state.versions[0]!.tariff, tariff) && state.versions.length === 1) return [];
        throw new IllegalStateError(`tariff ${state.tariffId} already exists: send a new version instead`, command.type);
      }
      return [eventFrom(TariffCreated, { tariffId: tariff.id, version: 1, tariff, validFrom: validFromOf(tariff, createdAt), createdAt })];
    }
    case 'VersionTariff': {
      const versionedAt = normalizeTimestamp(command.versionedAt, 'versionedAt', command.type);
      const tariff = parse(command.tariff, command.type);
      if (state.status === 'none') throw new IllegalStateError(`tariff ${tariff.id} does not exist: create it first`, command.type);
      if (state.status === 'deactivated') throw new IllegalStateError(`tariff ${state.tariffId} is deactivated`, command.type);
      if (tariff.id !== state.tariffId) throw new InvalidCommandError(`tariff id ${tariff.id} is not this tariff's (${state.tariffId})`, command.type);
      const latest = state.versions.at(-1)!;
      if (sameJson(latest.tariff, tariff)) return [];
      if (tariff.currency !== latest.tariff.currency) {
        // A CDR's currency comes from its tariff; switching mid-life splits receivables silently.
        throw new InvalidCommandError(`currency ${tariff.currency} differs from ${latest.tariff.currency}: create a new tariff`, command.type);
      }
      if (state.versions.length >= tariffVersionsMax) throw new IllegalStateError(`tariff has ${tariffVersionsMax} versions`, command.type);
      let validFrom = validFromOf(tariff, versionedAt);
      if (timeMs(validFrom) < timeMs(latest.validFrom)) validFrom = latest.validFrom;
      return [eventFrom(TariffVersioned, { tariffId: state.tariffId, version: latest.version + 1, tariff, validFrom, versionedAt })];
    }
    case 'DeactivateTariff': {
      const deactivatedAt = normalizeTimestamp(command.deactivatedAt, 'deactivatedAt', command.type);
      if (state.status === 'none') throw new IllegalStateError('no such tariff', command.type);
      if (state.status === 'deactivated') return [];
      const reason = command.reason ?? null;
      if (reason !== null && (reason.length === 0 || reason.length > 255)) throw new InvalidCommandError('reason must be 1 to 255 characters', command.type);
      return [eventFrom(TariffDeactivated, { tariffId: state.tariffId, deactivatedAt, reason })];
    }
    default:
      return assertNever(command, 'tariff command');
  }
}
