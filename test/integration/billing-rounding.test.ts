import { Decimal } from 'decimal.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { catchUpCdrIssuer, memoryCheckpoint } from '../../commands/process/index.js';
import { loadState } from '../../commands/process/streams.js';
import type { IssuedCdr, OcpiCdr } from '../../domain/cdr/index.js';
import { entriesOf, ledgerDecider, ledgerJournalId } from '../../domain/ledger/index.js';
import { streamName } from '../../domain/shared/event.js';
import { csmsUnderTest } from '../../ocpp/translate/shared/test-support.js';

/**
 * CDR rounding through the real path below the server: OCPP 1.6 messages, the command bus, the
 * event store, the CDR process manager and the ledger (ARCHITECTURE.md, Rounding):
 * - a minimum price charged on a 0 kWh session keeps the minimum's VAT, and the ledger posts it,
 *   also under a tariff of two VAT rates (the minimum's own rate, domain/ledger/vat.ts);
 * - the charging periods add up to total_energy, total_time and total_parking_time.
 */

const at = (minute: number) => new Date(Date.UTC(2025, 5, 1, 13, minute)).toISOString();

/** 0.30 EUR/kWh at 21 % VAT, at least 1.00 / 1.21; on CP-1 only (CP-2 charges with no tariff). */
const tariff = {
  country_code: 'NL',
  party_id: 'OCS',
  id: 'MIN',
  currency: 'EUR',
  min_price: { excl_vat: 1, incl_vat: 1.21 },
  elements: [{ price_components: [{ type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 }] }],
  last_updated: '2025-05-01T00:00:00Z',
};

/** ENERGY at 21 %, PARKING_TIME at 9 %, at least 1.00 / 1.21; on CP-3 only. */
const twoRateTariff = {
  ...tariff,
  id: 'MIN-2RATE',
  elements: [{ price_components: [{ type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 }, { type: 'PARKING_TIME', price: 2, vat: 9, step_size: 60 }] }],
};

const volumesOf = (cdr: OcpiCdr, ...types: string[]) =>
  cdr.charging_periods.reduce((sum, p) => p.dimensions.reduce((s, d) => (types.includes(d.type) ? s.plus(d.volume) : s), sum), new Decimal(0)).toFixed(4);

describe('CDR rounding through OCPP 1.6, the CDR process manager and the ledger', () => {
  const csms = csmsUnderTest('ocpp1.6');
  const cdrs = new Map<string, IssuedCdr>();
  let ledgerLines: Map<string, string[]>;

  /** A session from 0 to `meterStop` Wh, starting at minute `from`, with connector statuses (charging states) at minutes after it. */
  const session = async (stationId: string, from: number, meterStop: number, minutes: number, statuses: { minute: number; status: string }[] = []) => {
    const { transactionId } = await csms.call('StartTransaction', { connectorId: 1, idTag: 'TAG1', meterStart: 0, timestamp: at(from) }, { stationId });
    for (const s of statuses) await csms.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: s.status, timestamp: at(from + s.minute) }, { stationId });
    await csms.call('StopTransaction', { transactionId, idTag: 'TAG1', meterStop, timestamp: at(from + minutes) }, { stationId });
    return String(transactionId);
  };

  let empty: string;
  let pricedThirds: string;
  let freeThirds: string;
  let twoRateEmpty: string;

  beforeAll(async () => {
    const send = (aggregateId: string, command: Parameters<typeof csms.bus.send>[0]['command']) =>
      csms.bus.send({ commandId: `setup-${aggregateId}`, tenantId: 't1', aggregateId, actor: 'user:op', correlationId: 'setup', occurredAt: csms.clock.now().toISOString(), command });
    await send('MIN', { type: 'CreateTariff', tariff, createdAt: csms.clock.now().toISOString() });
    await send('evse:CP-1:1', { type: 'AttachTariff', tariffId: 'MIN', scope: { kind: 'evse', stationId: 'CP-1', evseId: 1 }, attachedAt: csms.clock.now().toISOString() });
    await send('MIN-2RATE', { type: 'CreateTariff', tariff: twoRateTariff, createdAt: csms.clock.now().toISOString() });
    await send('evse:CP-3:1', { type: 'AttachTariff', tariffId: 'MIN-2RATE', scope: { kind: 'evse', stationId: 'CP-3', evseId: 1 }, attachedAt: csms.clock.now().toISOString() });
    await csms.issueToken('TAG1');

    empty = await session('CP-1', 0, 0, 5);
    // 1 Wh over charging, parking, charging, a minute each: 0.333 / 0.334 / 0.333 Wh in whole mWh.
    const thirds = [
      { minute: 0, status: 'Charging' },
      { minute: 1, status: 'SuspendedEV' },
      { minute: 2, status: 'Charging' },
    ];
    pricedThirds = await session('CP-1', 10, 1, 3, thirds);
    freeThirds = await session('CP-2', 10, 1, 3, thirds);
    twoRateEmpty = await session('CP-3', 20, 0, 5);

    const checkpoint = memoryCheckpoint();
    await catchUpCdrIssuer({ eventStore: csms.eventStore, bus: csms.bus }, checkpoint);
    expect(checkpoint.failures).toEqual([]);
    for (const event of await csms.all()) if (event.type === 'CdrIssued') cdrs.set((event.data as IssuedCdr).transactionId, event.data as IssuedCdr);
    expect(cdrs.size).toBe(4);
    const ledger = await loadState(csms.eventStore, ledgerDecider, streamName('ledger', 't1', ledgerJournalId));
    ledgerLines = new Map([...entriesOf(ledger)].map((entry) => [entry.entryId, entry.lines.map((line) => `${line.side} ${line.account.split(':')[0]} ${line.account.startsWith('vat') ? `${line.account} ` : ''}${line.amount}`)]));
  });

  it('a 0 kWh session under a minimum price: the CDR charges 1.00 / 1.21 and the ledger posts 0.21 VAT', () => {
    const { cdr } = cdrs.get(empty)!;
    expect(cdr.total_energy).toBe('0.0000');
    expect(cdr.total_cost).toEqual({ excl_vat: '1.00', incl_vat: '1.21' });
    expect(ledgerLines.get(`cdr:${cdr.country_code}-${cdr.party_id}:${cdr.id}`)).toEqual(['debit receivable 1.21', 'credit revenue 1', 'credit vat-payable vat-payable:21 0.21']);
  });

  it('a 0 kWh session under the minimum of a two-rate tariff (21 % / 9 %): the ledger posts the minimum\'s 0.21 at 21 %', () => {
    const { cdr } = cdrs.get(twoRateEmpty)!;
    expect(cdr.total_cost).toEqual({ excl_vat: '1.00', incl_vat: '1.21' });
    expect(ledgerLines.get(`cdr:${cdr.country_code}-${cdr.party_id}:${cdr.id}`)).toEqual(['debit receivable 1.21', 'credit revenue 1', 'credit vat-payable vat-payable:21 0.21']);
  });

  it('1 Wh over three one-minute periods, priced and unpriced: the periods add up to total_energy 0.0010 and total_time 0.0500', () => {
    for (const id of [pricedThirds, freeThirds]) {
      const { cdr } = cdrs.get(id)!;
      expect(cdr.charging_periods.map((p) => p.dimensions.map((d) => `${d.type} ${d.volume}`))).toEqual([
        ['ENERGY 0.0003', 'TIME 0.0167'],
        ['ENERGY 0.0004', 'PARKING_TIME 0.0167'],
        ['ENERGY 0.0003', 'TIME 0.0166'],
      ]);
      expect(cdr.total_energy).toBe('0.0010');
      expect(volumesOf(cdr, 'ENERGY')).toBe(cdr.total_energy);
      expect(cdr.total_time).toBe('0.0500');
      expect(volumesOf(cdr, 'TIME', 'PARKING_TIME')).toBe(cdr.total_time);
    }
    expect(cdrs.get(pricedThirds)!.cdr.total_parking_time).toBe('0.0167');
  });
});
