import { describe, expect, it } from 'vitest';
import { given } from '../../../test/support/given-when-then.js';
import { eventFrom } from '../../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../../shared/errors.js';
import { InvalidTariffError } from '../errors.js';
import { parseTariff } from '../parse.js';
import type { Tariff } from '../schema.js';
import {
  TariffCreated,
  TariffDeactivated,
  TariffVersioned,
  tariffDecider,
  tariffInForce,
  tariffVersionsMax,
  type CreateTariff,
  type DeactivateTariff,
  type TariffEvent,
  type VersionTariff,
} from './index.js';

/** The tariff stream's rules: created, versioned (never into the past), deactivated; bad tariffs refused. */

const standard = (overrides: Partial<Tariff> = {}): Tariff =>
  parseTariff({
    country_code: 'NL',
    party_id: 'OCS',
    id: 'STD',
    currency: 'EUR',
    elements: [{ price_components: [{ type: 'ENERGY', price: 0.25, vat: 21, step_size: 1 }] }],
    last_updated: '2025-03-01T00:00:00Z',
    ...overrides,
  });
const cheaper = standard({ elements: [{ price_components: [{ type: 'ENERGY', price: 0.2, vat: 21, step_size: 1 }] }] });

const create = (tariff: unknown = standard(), createdAt = '2025-03-01T10:00:00Z'): CreateTariff => ({ type: 'CreateTariff', tariff, createdAt });
const version = (tariff: unknown, versionedAt = '2025-04-01T10:00:00Z'): VersionTariff => ({ type: 'VersionTariff', tariff, versionedAt });
const deactivate = (deactivatedAt = '2025-05-01T00:00:00Z', reason: string | null = 'replaced'): DeactivateTariff => ({ type: 'DeactivateTariff', deactivatedAt, reason });

const created = (tariff = standard(), validFrom = '2025-03-01T10:00:00.000Z', createdAt = '2025-03-01T10:00:00.000Z') =>
  eventFrom(TariffCreated, { tariffId: tariff.id, version: 1, tariff, validFrom, createdAt });
const versioned = (n: number, tariff: Tariff, validFrom: string, versionedAt = validFrom) =>
  eventFrom(TariffVersioned, { tariffId: tariff.id, version: n, tariff, validFrom, versionedAt });
const deactivated = (deactivatedAt = '2025-05-01T00:00:00.000Z', reason: string | null = 'replaced') =>
  eventFrom(TariffDeactivated, { tariffId: 'STD', deactivatedAt, reason });

/** The version of a history in force for a session starting at `at`, as the CDR issuer asks. */
function versionAt(history: readonly TariffEvent[], at: string): number | null {
  const state = given(tariffDecider, history).state;
  if (state.status === 'none') return null;
  return tariffInForce(state.versions, at, state.deactivatedAt)?.version ?? null;
}

describe('tariff: created', () => {
  it('creates version 1, valid from the moment it is recorded', () => {
    given(tariffDecider, []).when(create()).then([created()]);
  });

  it('a start_date_time in the future is when it starts to apply; one in the past is not (no pricing of the past)', () => {
    const future = standard({ start_date_time: '2025-06-01T00:00:00Z' });
    given(tariffDecider, []).when(create(future)).then([created(future, '2025-06-01T00:00:00.000Z')]);
    const past = standard({ start_date_time: '2024-01-01T00:00:00Z' });
    given(tariffDecider, []).when(create(past)).then([created(past, '2025-03-01T10:00:00.000Z')]);
  });

  it('a start_date_time without a zone is UTC (OCPI DateTime)', () => {
    const noZone = standard({ start_date_time: '2025-06-01T02:00:00' });
    given(tariffDecider, []).when(create(noZone)).then([created(noZone, '2025-06-01T02:00:00.000Z')]);
  });

  it('the same tariff again is a retry and records nothing; another one under the same id is refused', () => {
    given(tariffDecider, [created()]).when(create(standard(), '2025-03-02T00:00:00Z')).then([]);
    given(tariffDecider, [created()]).when(create(cheaper)).thenThrows(IllegalStateError, /already exists: send a new version/);
    // Once versioned, version 1's content is no longer "the same tariff".
    given(tariffDecider, [created(), versioned(2, cheaper, '2025-04-01T10:00:00.000Z')]).when(create()).thenThrows(IllegalStateError, /already exists/);
  });

  it('refuses a time without a zone', () => {
    given(tariffDecider, []).when(create(standard(), '2025-03-01T10:00:00')).thenThrows(InvalidCommandError, /createdAt is not an ISO-8601 time with a zone/);
  });
});

describe('tariff: bad tariffs are refused with nothing changed', () => {
  const bad: [string, unknown, RegExp][] = [
    ['an unknown currency', { ...standard(), currency: 'EUX' }, /EUX is not an ISO 4217/],
    ['no elements', { ...standard(), elements: [] }, /elements/],
    ['a negative price', { ...standard(), elements: [{ price_components: [{ type: 'ENERGY', price: -1, step_size: 1 }] }] }, /price/],
    ['an end before its start', { ...standard(), start_date_time: '2025-06-01T00:00:00Z', end_date_time: '2025-05-01T00:00:00Z' }, /end_date_time: must be after start_date_time/],
    ['an offset other than Z', { ...standard(), start_date_time: '2025-06-01T00:00:00+02:00' }, /start_date_time/],
    ['not an object', 'STD', /./],
  ];
  for (const [what, tariff, reason] of bad) {
    it(`refuses ${what} on create and on version`, () => {
      given(tariffDecider, []).when(create(tariff)).thenThrows(InvalidTariffError, reason);
      given(tariffDecider, [created()]).when(version(tariff)).thenThrows(InvalidTariffError, reason);
    });
  }

  it('refuses a date that does not exist, which Date.parse would roll over (2025-02-30 → March 2)', () => {
    // Found by this test: such an end_date_time used to be accepted and then never ended (utcMs gives NaN).
    const neverEnds = { ...standard(), end_date_time: '2025-02-30T00:00:00Z' };
    given(tariffDecider, []).when(create(neverEnds)).thenThrows(InvalidTariffError, /end_date_time: 2025-02-30T00:00:00Z is not a real date/);
    const neverStarts = { ...standard(), start_date_time: '2025-04-31T00:00:00Z' };
    given(tariffDecider, [created()]).when(version(neverStarts)).thenThrows(InvalidTariffError, /start_date_time: .* is not a real date/);
  });

  it('the refusal names the command, and the state is what it was', () => {
    const history = [created()];
    const before = structuredClone(given(tariffDecider, history).state);
    try {
      tariffDecider.decide(version({ ...standard(), currency: 'EUX' }), given(tariffDecider, history).state);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidTariffError);
      expect((error as InvalidTariffError).commandType).toBe('VersionTariff');
      expect((error as InvalidTariffError).issues).toEqual([{ path: 'currency', message: 'EUX is not an ISO 4217 currency code' }]);
    }
    expect(given(tariffDecider, history).state).toEqual(before);
  });
});

describe('tariff: versioned', () => {
  it('a new version is valid from when it is recorded', () => {
    given(tariffDecider, [created()]).when(version(cheaper)).then([versioned(2, cheaper, '2025-04-01T10:00:00.000Z')]);
  });

  it('the same content as the latest version records nothing', () => {
    given(tariffDecider, [created()]).when(version(standard())).then([]);
    given(tariffDecider, [created(), versioned(2, cheaper, '2025-04-01T10:00:00.000Z')]).when(version(cheaper, '2025-04-02T00:00:00Z')).then([]);
    // Back to version 1's prices is a new version 3, not a no-op.
    given(tariffDecider, [created(), versioned(2, cheaper, '2025-04-01T10:00:00.000Z')])
      .when(version(standard(), '2025-04-02T00:00:00Z'))
      .then([versioned(3, standard(), '2025-04-02T00:00:00.000Z')]);
  });

  it('a version with its own start_date_time in the past still starts now; in the future it starts then', () => {
    const backdated = standard({ ...cheaper, start_date_time: '2025-01-01T00:00:00Z' });
    given(tariffDecider, [created()]).when(version(backdated)).then([versioned(2, backdated, '2025-04-01T10:00:00.000Z')]);
    const scheduled = standard({ ...cheaper, start_date_time: '2025-07-01T00:00:00Z' });
    given(tariffDecider, [created()]).when(version(scheduled)).then([versioned(2, scheduled, '2025-07-01T00:00:00.000Z', '2025-04-01T10:00:00.000Z')]);
  });

  it('validFrom never goes back before the previous version\'s', () => {
    const scheduled = standard({ start_date_time: '2025-07-01T00:00:00Z' });
    given(tariffDecider, [created(scheduled, '2025-07-01T00:00:00.000Z')])
      .when(version(cheaper))
      .then([versioned(2, cheaper, '2025-07-01T00:00:00.000Z', '2025-04-01T10:00:00.000Z')]);
  });

  it('a version applies only to sessions that start at or after its validFrom', () => {
    const history = [created(), versioned(2, cheaper, '2025-04-01T10:00:00.000Z')];
    expect(versionAt(history, '2025-03-01T09:59:59.999Z')).toBeNull();
    expect(versionAt(history, '2025-03-01T10:00:00.000Z')).toBe(1);
    // A session that started a second before the new version keeps version 1's prices.
    expect(versionAt(history, '2025-04-01T09:59:59.000Z')).toBe(1);
    expect(versionAt(history, '2025-04-01T10:00:00.000Z')).toBe(2);
    expect(versionAt(history, '2030-01-01T00:00:00.000Z')).toBe(2);
  });

  it('refuses a currency change: that is a new tariff', () => {
    given(tariffDecider, [created()]).when(version(standard({ currency: 'USD' }))).thenThrows(InvalidCommandError, /currency USD differs from EUR: create a new tariff/);
  });

  it('refuses a version of a tariff that does not exist, is deactivated, or has another id', () => {
    given(tariffDecider, []).when(version(cheaper)).thenThrows(IllegalStateError, /does not exist: create it first/);
    given(tariffDecider, [created(), deactivated()]).when(version(cheaper)).thenThrows(IllegalStateError, /is deactivated/);
    given(tariffDecider, [created()]).when(version(standard({ id: 'OTHER' }))).thenThrows(InvalidCommandError, /tariff id OTHER is not this tariff's \(STD\)/);
  });

  it(`refuses version ${tariffVersionsMax + 1}`, () => {
    const at = (n: number) => new Date(Date.parse('2025-03-01T10:00:00Z') + n * 60_000).toISOString();
    const history: TariffEvent[] = [created()];
    for (let n = 2; n <= tariffVersionsMax; n++) history.push(versioned(n, standard({ last_updated: at(n).replace('.000', '') }), at(n)));
    given(tariffDecider, history).when(version(cheaper, at(tariffVersionsMax + 1))).thenThrows(IllegalStateError, new RegExp(`${tariffVersionsMax} versions`));
  });
});

describe('tariff: deactivated', () => {
  it('deactivates an active tariff; again is a no-op; an unknown tariff is refused', () => {
    given(tariffDecider, [created()]).when(deactivate()).then([deactivated()]);
    given(tariffDecider, [created()]).when({ type: 'DeactivateTariff', deactivatedAt: '2025-05-01T00:00:00Z' }).then([deactivated(undefined, null)]);
    given(tariffDecider, [created(), deactivated()]).when(deactivate('2025-06-01T00:00:00Z')).then([]);
    given(tariffDecider, []).when(deactivate()).thenThrows(IllegalStateError, /no such tariff/);
  });

  it('refuses an empty or overlong reason', () => {
    given(tariffDecider, [created()]).when(deactivate(undefined, '')).thenThrows(InvalidCommandError, /reason/);
    given(tariffDecider, [created()]).when(deactivate(undefined, 'x'.repeat(256))).thenThrows(InvalidCommandError, /reason/);
  });

  it('prices no session that starts at or after the deactivation; earlier ones keep their version', () => {
    const history = [created(), deactivated()];
    expect(versionAt(history, '2025-04-30T23:59:59.999Z')).toBe(1);
    expect(versionAt(history, '2025-05-01T00:00:00.000Z')).toBeNull();
  });

  it('re-creating a deactivated tariff with its content is a retry; other content is refused', () => {
    given(tariffDecider, [created(), deactivated()]).when(create()).then([]);
    given(tariffDecider, [created(), deactivated()]).when(create(cheaper)).thenThrows(IllegalStateError, /already exists/);
  });
});

describe('tariff: tariffInForce at session start and the tariff\'s own start/end dates', () => {
  it('a version outside its own [start_date_time, end_date_time) prices nothing (the caller falls back)', () => {
    const window = standard({ start_date_time: '2025-03-01T00:00:00Z', end_date_time: '2025-04-01T00:00:00Z' });
    const history = [created(window, '2025-03-01T10:00:00.000Z')];
    expect(versionAt(history, '2025-03-15T12:00:00.000Z')).toBe(1);
    expect(versionAt(history, '2025-03-31T23:59:59.999Z')).toBe(1);
    // end_date_time is exclusive.
    expect(versionAt(history, '2025-04-01T00:00:00.000Z')).toBeNull();
  });

  it('the newest version in force is the one asked, even when an older one would still cover the time', () => {
    const shortLived = standard({ ...cheaper, end_date_time: '2025-05-01T00:00:00Z' });
    const history = [created(), versioned(2, shortLived, '2025-04-01T10:00:00.000Z')];
    expect(versionAt(history, '2025-04-15T00:00:00.000Z')).toBe(2);
    // Version 2 replaced version 1: past its end nothing of this tariff applies.
    expect(versionAt(history, '2025-05-01T00:00:00.000Z')).toBeNull();
  });

  it('returns the version id the CDR records and the parsed tariff', () => {
    const state = given(tariffDecider, [created(), versioned(2, cheaper, '2025-04-01T10:00:00.000Z')]).state;
    expect(state.status).toBe('active');
    if (state.status === 'none') return;
    expect(tariffInForce(state.versions, '2025-04-02T00:00:00.000Z')).toEqual({ versionId: 'STD@2', version: 2, tariff: cheaper });
  });
});

describe('tariff: evolve refuses impossible histories', () => {
  it('created twice, versioned out of order or after deactivation', () => {
    expect(() => given(tariffDecider, [created(), created()])).toThrow(/created twice/);
    expect(() => given(tariffDecider, [created(), versioned(3, cheaper, '2025-04-01T10:00:00.000Z')])).toThrow(/version 3 after 1/);
    expect(() => given(tariffDecider, [created(), deactivated(), versioned(2, cheaper, '2025-06-01T00:00:00.000Z')])).toThrow(/versioned while deactivated/);
    expect(() => given(tariffDecider, [created(), deactivated(), deactivated()])).toThrow(/deactivated while deactivated/);
  });
});
