import { beforeAll, describe, expect, it } from 'vitest';
import { catchUpCdrIssuer, memoryCheckpoint } from '../../commands/process/index.js';
import type { IssuedCdr } from '../../domain/cdr/index.js';
import { csmsUnderTest } from '../../ocpp/translate/shared/test-support.js';

/**
 * The energy of a CDR through the real path, below the server: OCPP 1.6 messages into the CSMS
 * handler, the command bus and the event store, then the CDR process manager. The CDR's energy is
 * what the meter says the session consumed, meterStop − meterStart (ARCHITECTURE.md, Billing).
 */

const at = (minute: number) => new Date(Date.UTC(2025, 5, 1, 13, minute)).toISOString();
const register = (wh: string, context?: string) => ({ value: wh, measurand: 'Energy.Active.Import.Register', unit: 'Wh', ...(context ? { context } : {}) });

/** 0.25 EUR/kWh, 21 % VAT, attached to CP-1's EVSE 1 only: CP-2 charges with no tariff. */
const tariff = {
  country_code: 'NL',
  party_id: 'OCS',
  id: 'KWH',
  currency: 'EUR',
  elements: [{ price_components: [{ type: 'ENERGY', price: 0.25, vat: 21, step_size: 1 }] }],
  last_updated: '2025-05-01T00:00:00Z',
};

describe('CDR energy through OCPP 1.6 and the CDR process manager', () => {
  const csms = csmsUnderTest('ocpp1.6');
  const cdrs = new Map<string, IssuedCdr>();
  const ended = new Map<string, Record<string, unknown>>();

  const session = async (stationId: string, meterStart: number, readings: { minute: number; wh: string }[], stop: { minute: number; meterStop: number; transactionData?: unknown[] }) => {
    const { transactionId } = await csms.call('StartTransaction', { connectorId: 1, idTag: 'TAG1', meterStart, timestamp: at(0) }, { stationId });
    for (const r of readings) {
      await csms.call('MeterValues', { connectorId: 1, transactionId, meterValue: [{ timestamp: at(r.minute), sampledValue: [register(r.wh, 'Sample.Periodic')] }] }, { stationId });
    }
    await csms.call('StopTransaction', { transactionId, idTag: 'TAG1', meterStop: stop.meterStop, timestamp: at(stop.minute), ...(stop.transactionData ? { transactionData: stop.transactionData } : {}) }, { stationId });
    return String(transactionId);
  };

  let doubled: string;
  let free: string;
  let rounded: string;

  beforeAll(async () => {
    const send = (aggregateId: string, command: Parameters<typeof csms.bus.send>[0]['command']) =>
      csms.bus.send({ commandId: `setup-${aggregateId}`, tenantId: 't1', aggregateId, actor: 'user:op', correlationId: 'setup', occurredAt: csms.clock.now().toISOString(), command });
    await send('KWH', { type: 'CreateTariff', tariff, createdAt: csms.clock.now().toISOString() });
    await send('evse:CP-1:1', { type: 'AttachTariff', tariffId: 'KWH', scope: { kind: 'evse', stationId: 'CP-1', evseId: 1 }, attachedAt: csms.clock.now().toISOString() });
    await csms.issueToken('TAG1');

    // The issue's station: transactionData holds a Transaction.Begin reading stamped at the stop time.
    doubled = await session('CP-1', 10_000, [{ minute: 20, wh: '10300' }], {
      minute: 40,
      meterStop: 10_636,
      transactionData: [{ timestamp: at(40), sampledValue: [register('10000', 'Transaction.Begin')] }, { timestamp: at(40), sampledValue: [register('10636', 'Transaction.End')] }],
    });
    free = await session('CP-2', 1_000, [{ minute: 30, wh: '6000' }], { minute: 60, meterStop: 12_000 });
    // A whole-Wh meterStop just below the last (decimal) reading: rounding, not a meter fault.
    rounded = await session('CP-1', 0, [{ minute: 10, wh: '33.39' }], { minute: 15, meterStop: 33 });

    const checkpoint = memoryCheckpoint();
    await catchUpCdrIssuer({ eventStore: csms.eventStore, bus: csms.bus }, checkpoint);
    expect(checkpoint.failures).toEqual([]);
    for (const event of await csms.all()) {
      if (event.type === 'CdrIssued') {
        const issued = event.data as IssuedCdr;
        cdrs.set(issued.transactionId, issued);
      }
      if (event.type === 'TransactionEnded') ended.set(event.streamId.replace('transaction-t1-', ''), event.data as Record<string, unknown>);
    }
  });

  it('a Transaction.Begin reading at the stop time bills 0.636 kWh, not 1.272', () => {
    const { cdr } = cdrs.get(doubled)!;
    expect(cdr.total_energy).toBe('0.6360');
    // 0.636 kWh × 0.25 = 0.159 → 0.16 EUR; × 1.21 = 0.19239 → 0.19.
    expect(cdr.total_energy_cost).toEqual({ excl_vat: '0.1590', incl_vat: '0.1924' });
    expect(cdr.total_cost).toEqual({ excl_vat: '0.16', incl_vat: '0.19' });
  });

  it('a session no tariff applies to still carries its energy and time: 1000 → 12000 Wh is 11 kWh', () => {
    const { cdr } = cdrs.get(free)!;
    expect(cdr.tariffs).toBeUndefined();
    expect(cdr.total_energy).toBe('11.0000');
    expect(cdr.total_time).toBe('1.0000');
    expect(cdr.total_cost).toEqual({ excl_vat: '0.00' });
    expect(cdr.charging_periods).toEqual([{ start_date_time: at(0), dimensions: [{ type: 'ENERGY', volume: '11.0000' }, { type: 'TIME', volume: '1.0000' }] }]);
  });

  it('a reading of 33.39 Wh before a meterStop of 33 is not suspicious; the CDR says 0.033 kWh', () => {
    expect(ended.get(rounded)).toMatchObject({ meterStopWh: '33', suspicious: false });
    expect(cdrs.get(rounded)!.cdr.total_energy).toBe('0.0330');
  });
});
