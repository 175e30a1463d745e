import { describe, expect, it } from 'vitest';
import { given } from '../../../test/support/given-when-then.js';
import { eventFrom } from '../../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../../shared/errors.js';
import { parseTariff } from '../parse.js';
import type { Tariff } from '../schema.js';
import {
  TariffAttached,
  TariffCreated,
  TariffDeactivated,
  TariffDetached,
  attachedTariffAt,
  parseScope,
  scopeChangesMax,
  scopeKey,
  scopesForSession,
  tariffDecider,
  tariffInForceForSession,
  tariffScopeDecider,
  type AttachTariff,
  type DetachTariff,
  type ScopeAttachments,
  type TariffEvent,
  type TariffScope,
  type TariffScopeEvent,
  type TariffState,
} from './index.js';

/** Which tariff applies where: attachments per scope, never backdated; the most specific scope wins. */

const evse: TariffScope = { kind: 'evse', stationId: 'CP-1', evseId: 1 };
const attach = (tariffId: string, attachedAt = '2025-03-01T10:00:00Z', scope: TariffScope = evse): AttachTariff => ({ type: 'AttachTariff', tariffId, scope, attachedAt });
const detach = (detachedAt = '2025-04-01T00:00:00Z', scope: TariffScope = evse): DetachTariff => ({ type: 'DetachTariff', scope, detachedAt });
const attached = (tariffId: string, attachedAt = '2025-03-01T10:00:00.000Z', scope: TariffScope = evse) => eventFrom(TariffAttached, { tariffId, scope, attachedAt });
const detached = (tariffId: string, detachedAt = '2025-04-01T00:00:00.000Z', scope: TariffScope = evse) => eventFrom(TariffDetached, { tariffId, scope, detachedAt });

describe('tariffscope: attached', () => {
  it('attaches a tariff to a scope', () => {
    given(tariffScopeDecider, []).when(attach('STD')).then([attached('STD')]);
  });

  it('attaching the tariff already attached records nothing; another tariff replaces it', () => {
    given(tariffScopeDecider, [attached('STD')]).when(attach('STD', '2025-03-05T00:00:00Z')).then([]);
    given(tariffScopeDecider, [attached('STD')]).when(attach('NIGHT', '2025-03-05T00:00:00Z')).then([attached('NIGHT', '2025-03-05T00:00:00.000Z')]);
  });

  it('refuses a backdated attachment: sessions already priced would be priced differently', () => {
    given(tariffScopeDecider, [attached('STD')]).when(attach('NIGHT', '2025-03-01T09:59:59Z')).thenThrows(IllegalStateError, /is before the scope's last change/);
    given(tariffScopeDecider, [attached('STD'), detached('STD')]).when(attach('STD', '2025-03-31T00:00:00Z')).thenThrows(IllegalStateError, /before the scope's last change/);
    // The same instant as the last change is not the past.
    given(tariffScopeDecider, [attached('STD')]).when(attach('NIGHT', '2025-03-01T10:00:00Z')).then([attached('NIGHT')]);
  });

  it('refuses a bad scope, another scope than the stream\'s, a bad tariff id or a time without zone', () => {
    given(tariffScopeDecider, []).when(attach('STD', undefined, { kind: 'evse', stationId: 'CP-1', evseId: 0 })).thenThrows(InvalidCommandError, /invalid scope/);
    given(tariffScopeDecider, []).when(attach('STD', undefined, { kind: 'planet' } as never)).thenThrows(InvalidCommandError, /invalid scope/);
    given(tariffScopeDecider, [attached('STD')]).when(attach('NIGHT', '2025-03-05T00:00:00Z', { kind: 'tenant' })).thenThrows(InvalidCommandError, /scope differs/);
    given(tariffScopeDecider, []).when(attach('')).thenThrows(InvalidCommandError, /tariffId must be 1 to 36/);
    given(tariffScopeDecider, []).when(attach('x'.repeat(37))).thenThrows(InvalidCommandError, /tariffId must be 1 to 36/);
    given(tariffScopeDecider, []).when(attach('STD', '2025-03-01T10:00:00')).thenThrows(InvalidCommandError, /attachedAt is not an ISO-8601 time with a zone/);
  });

  it(`refuses change ${scopeChangesMax + 1} of a scope`, () => {
    const at = (n: number) => new Date(Date.parse('2025-01-01T00:00:00Z') + n * 60_000).toISOString();
    const history: TariffScopeEvent[] = [];
    for (let n = 0; n < scopeChangesMax; n++) history.push(attached(n % 2 === 0 ? 'A' : 'B', at(n)));
    given(tariffScopeDecider, history).when(attach('C', at(scopeChangesMax))).thenThrows(IllegalStateError, new RegExp(`${scopeChangesMax} changes`));
  });
});

describe('tariffscope: detached', () => {
  it('detaches the attached tariff; with nothing attached it records nothing', () => {
    given(tariffScopeDecider, [attached('STD')]).when(detach()).then([detached('STD')]);
    given(tariffScopeDecider, []).when(detach()).then([]);
    given(tariffScopeDecider, [attached('STD'), detached('STD')]).when(detach('2025-05-01T00:00:00Z')).then([]);
  });

  it('refuses a backdated detachment', () => {
    given(tariffScopeDecider, [attached('STD')]).when(detach('2025-02-01T00:00:00Z')).thenThrows(IllegalStateError, /is before the scope's last change/);
  });

  it('evolve refuses detaching a tariff that was not attached', () => {
    expect(() => given(tariffScopeDecider, [attached('STD'), detached('NIGHT')])).toThrow(/detached NIGHT, which was not attached/);
  });
});

describe('tariffscope: which tariff was attached when a session started', () => {
  const changes = given(tariffScopeDecider, [
    attached('STD', '2025-03-01T10:00:00.000Z'),
    attached('NIGHT', '2025-03-10T00:00:00.000Z'),
    detached('NIGHT', '2025-04-01T00:00:00.000Z'),
  ]).state.changes;

  it('nothing before the first attachment, each tariff from its change on (inclusive), nothing after detaching', () => {
    expect(attachedTariffAt(changes, '2025-03-01T09:59:59.999Z')).toBeNull();
    expect(attachedTariffAt(changes, '2025-03-01T10:00:00.000Z')).toBe('STD');
    expect(attachedTariffAt(changes, '2025-03-09T23:59:59.999Z')).toBe('STD');
    expect(attachedTariffAt(changes, '2025-03-10T00:00:00.000Z')).toBe('NIGHT');
    expect(attachedTariffAt(changes, '2025-04-01T00:00:00.000Z')).toBeNull();
  });
});

describe('scopes: keys and the CLI form', () => {
  it('parses every form and refuses the rest', () => {
    expect(parseScope('tenant')).toEqual({ kind: 'tenant' });
    expect(parseScope('location:LOC-1')).toEqual({ kind: 'location', locationId: 'LOC-1' });
    expect(parseScope('token-group:FLEET')).toEqual({ kind: 'tokenGroup', groupId: 'FLEET' });
    // A station id may itself hold a colon: the EVSE is the last part.
    expect(parseScope('evse:CP:A:2')).toEqual({ kind: 'evse', stationId: 'CP:A', evseId: 2 });
    for (const bad of ['', 'tenant:x', 'location:', 'evse:CP-1', 'evse:CP-1:0', 'evse:CP-1:x', 'planet:earth']) {
      expect(() => parseScope(bad), bad).toThrow(InvalidCommandError);
    }
  });

  it('every scope has its own stream key', () => {
    const keys = [{ kind: 'tenant' }, { kind: 'location', locationId: 'L' }, evse, { kind: 'tokenGroup', groupId: 'G' }].map((s) => scopeKey(s as TariffScope));
    expect(keys).toEqual(['tenant', 'location:L', 'evse:CP-1:1', 'tokengroup:G']);
  });
});

describe('lookup: the most specific scope with a tariff in force wins', () => {
  const tariffOf = (id: string, extra: Partial<Tariff> = {}): Tariff =>
    parseTariff({
      country_code: 'NL',
      party_id: 'OCS',
      id,
      currency: 'EUR',
      elements: [{ price_components: [{ type: 'ENERGY', price: 0.3, step_size: 1 }] }],
      last_updated: '2025-01-01T00:00:00Z',
      ...extra,
    });
  const stateOf = (events: TariffEvent[]): TariffState => given(tariffDecider, events).state;
  const createdAt = (tariff: Tariff, at = '2025-01-01T00:00:00.000Z') =>
    eventFrom(TariffCreated, { tariffId: tariff.id, version: 1, tariff, validFrom: at, createdAt: at });
  const tariffs = new Map<string, TariffState>([
    ['FLEET', stateOf([createdAt(tariffOf('FLEET'))])],
    ['FAST', stateOf([createdAt(tariffOf('FAST'))])],
    ['SITE', stateOf([createdAt(tariffOf('SITE'))])],
    ['BASE', stateOf([createdAt(tariffOf('BASE'))])],
    ['GONE', stateOf([createdAt(tariffOf('GONE')), eventFrom(TariffDeactivated, { tariffId: 'GONE', deactivatedAt: '2025-02-01T00:00:00.000Z', reason: null })])],
    ['PROMO', stateOf([createdAt(tariffOf('PROMO', { end_date_time: '2025-02-01T00:00:00Z' }))])],
  ]);
  const session = { stationId: 'CP-1', evseId: 1, tokenGroupId: 'G1', locationId: 'LOC-1' };
  const scopes = scopesForSession(session);
  const withTariffs = (ids: (string | null)[], at = '2025-01-01T00:00:00.000Z'): ScopeAttachments[] =>
    scopes.map((scope, i) => ({ scope, changes: ids[i] ? [{ tariffId: ids[i]!, at }] : [] }));
  const winner = (ids: (string | null)[], startedAt = '2025-03-01T12:00:00.000Z') =>
    tariffInForceForSession(withTariffs(ids), (id) => tariffs.get(id), startedAt);

  it('orders scopes token group, EVSE, location, tenant; no group without a token group', () => {
    expect(scopes.map((s) => s.kind)).toEqual(['tokenGroup', 'evse', 'location', 'tenant']);
    expect(scopesForSession({ ...session, tokenGroupId: null }).map((s) => s.kind)).toEqual(['evse', 'location', 'tenant']);
  });

  it('takes the first scope with a tariff', () => {
    expect(winner(['FLEET', 'FAST', 'SITE', 'BASE'])).toMatchObject({ versionId: 'FLEET@1', scope: { kind: 'tokenGroup', groupId: 'G1' } });
    expect(winner([null, 'FAST', 'SITE', 'BASE'])).toMatchObject({ versionId: 'FAST@1', scope: evse });
    expect(winner([null, null, 'SITE', 'BASE'])).toMatchObject({ versionId: 'SITE@1', scope: { kind: 'location', locationId: 'LOC-1' } });
    expect(winner([null, null, null, 'BASE'])).toMatchObject({ versionId: 'BASE@1', scope: { kind: 'tenant' } });
    expect(winner([null, null, null, null])).toBeNull();
  });

  it('falls through a scope whose tariff is deactivated, past its end_date_time or unknown', () => {
    expect(winner(['GONE', 'FAST', null, 'BASE'])).toMatchObject({ versionId: 'FAST@1' });
    expect(winner(['PROMO', null, null, 'BASE'])).toMatchObject({ versionId: 'BASE@1' });
    expect(winner(['NO-SUCH', null, 'SITE', null])).toMatchObject({ versionId: 'SITE@1' });
    // Before the deactivation and within the promotion, they win.
    expect(winner(['GONE', 'FAST'], '2025-01-15T00:00:00.000Z')).toMatchObject({ versionId: 'GONE@1' });
    expect(winner(['PROMO', 'FAST'], '2025-01-15T00:00:00.000Z')).toMatchObject({ versionId: 'PROMO@1' });
  });

  it('reads each scope at the session start: an attachment made after the start does not apply', () => {
    const later = scopes.map((scope, i) => ({ scope, changes: i === 1 ? [{ tariffId: 'FAST', at: '2025-03-01T12:00:00.001Z' }] : i === 3 ? [{ tariffId: 'BASE', at: '2025-01-01T00:00:00.000Z' }] : [] }));
    expect(tariffInForceForSession(later, (id) => tariffs.get(id), '2025-03-01T12:00:00.000Z')).toMatchObject({ versionId: 'BASE@1' });
    expect(tariffInForceForSession(later, (id) => tariffs.get(id), '2025-03-01T12:00:00.001Z')).toMatchObject({ versionId: 'FAST@1' });
  });
});
