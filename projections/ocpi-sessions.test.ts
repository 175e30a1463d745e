import { randomUUID } from 'node:crypto';
import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore } from '../adapters/event-store/postgres.js';
import type { EventStore } from '../adapters/event-store/port.js';
import type { SqlDatabase } from '../adapters/sql/port.js';
import { eventFrom } from '../domain/shared/event-definition.js';
import type { DomainEvent } from '../domain/shared/event.js';
import { fold } from '../domain/shared/decider.js';
import { chargingStates, transactionDecider, type TransactionCommand } from '../domain/transaction/index.js';
import { TokenIssued } from '../domain/token/events.js';
import {
  ChargingStateChanged,
  MeterReadingRecorded,
  TransactionAuthorized,
  TransactionEnded,
  TransactionStarted,
  type ChargingState,
  type SampledValue,
  type TransactionEvent,
  type TransactionEventData,
} from '../domain/transaction/events.js';
import { sessionOf, type PeriodRow as OcpiPeriodRow, type SessionRow } from '../ocpi/sessions/objects.js';
import { meteredEnergyWh } from '../commands/process/session-samples.js';
import { sessionSchema, type ChargingPeriod, type Session } from '../ocpi/schemas/index.js';
import { createTestPgliteDatabase } from '../test/support/services.js';
import { migrateProjections, startProjectionRunners } from './index.js';
import { ocpiSessionPeriodsMax, ocpiSessionsProjection, ocpiTokenTypeOf } from './ocpi-sessions.js';
import { verify } from './rebuild.js';

/** Transaction and token events in, `proj_ocpi_sessions` rows out. */

const t = (minute: number, second = 0) => new Date(Date.UTC(2025, 2, 1, 10, minute, second)).toISOString();
const started = (id: string, overrides: Partial<ReturnType<typeof TransactionStarted.schema.parse>> = {}) =>
  eventFrom(TransactionStarted, {
    transactionId: id, stationTransactionId: null, stationId: 'CP-1', evseId: 1, connectorId: 1,
    idToken: { idToken: 'CARD-1', type: 'ISO14443' }, meterStartWh: '1000.1', startedAt: t(0), reservationId: null, ...overrides,
  });
const reading = (minute: number, registerWh: string | null, sampledValues: SampledValue[] = []) =>
  eventFrom(MeterReadingRecorded, { sampledAt: t(minute), registerWh, sampledValues, signedData: null, suspicious: false, late: false });
const state = (minute: number, s: ChargingState, late = false) => eventFrom(ChargingStateChanged, { state: s, changedAt: t(minute), late });
const ended = (minute: number, meterStopWh: string, meterStopSource: 'station' | 'lastReading' = 'station') =>
  eventFrom(TransactionEnded, { meterStopWh, meterStopSource, endedAt: t(minute), reason: 'Local', stoppedBy: null, suspicious: false });
const sampled = (measurand: string, value: string, phase: string | null, unit: string): SampledValue => ({
  value, measurand, phase, unit, multiplier: null, context: null, location: null,
});

/** The CDR's total_energy for the same events (commands/process/cdr-builder.ts: the metered energy in kWh, 4 decimals). */
function cdrTotalEnergy(events: readonly DomainEvent[]): string {
  const data = <T extends TransactionEvent['type']>(type: T) => events.filter((e) => e.type === type).map((e) => e.data as TransactionEventData<T>);
  const session = { started: data('TransactionStarted')[0]!, readings: data('MeterReadingRecorded'), chargingStates: data('ChargingStateChanged'), ended: data('TransactionEnded')[0]! };
  return meteredEnergyWh(session).div(1000).toFixed(4, Decimal.ROUND_HALF_UP);
}

describe('ocpi_sessions projection', () => {
  let db: SqlDatabase;
  let eventStore: EventStore;
  let runners: { stop(): Promise<void>; idle(): Promise<void> };
  let appends = 0;

  beforeAll(async () => {
    db = await createTestPgliteDatabase();
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    runners = startProjectionRunners({ db, eventStore }, { projections: [ocpiSessionsProjection] });
  });
  afterAll(async () => {
    await runners?.stop();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
  });

  /** Appends with recordedAt one second after the previous append; returns it (last_updated follows it). */
  async function append(stream: string, ...events: DomainEvent[]): Promise<string> {
    appends += 1;
    const recordedAt = new Date(Date.UTC(2025, 2, 1, 12, 0, appends)).toISOString();
    const metadata = { tenantId: 'default', correlationId: 'c', causationId: 'c', actor: 'user:test', occurredAt: recordedAt, recordedAt };
    await eventStore.append(stream, events.map((e) => ({ eventId: randomUUID(), type: e.type, schemaVersion: e.schemaVersion, data: e.data as never, metadata })), 'any');
    await runners.idle();
    return recordedAt;
  }
  const session = async (id: string): Promise<Record<string, any>> =>
    (await db.query<Record<string, any>>(`SELECT * FROM proj_ocpi_sessions.sessions WHERE session_id = $1`, [id])).rows[0] ?? {};
  const periods = async (id: string) =>
    (await db.query<Record<string, any>>(`SELECT * FROM proj_ocpi_sessions.charging_periods WHERE session_id = $1 ORDER BY period_index`, [id])).rows;
  const iso = (value: unknown) => new Date(value as string).toISOString();
  /** The session as OCPI sends it (ocpi/sessions/objects.ts), `now` closing an active session's last period. */
  const ocpiSession = async (id: string, now?: Date) =>
    sessionOf((await session(id)) as SessionRow, (await periods(id)) as OcpiPeriodRow[], { locationId: 'L', evseUid: 'E', connectorId: '1' }, 'EUR', { countryCode: 'NL', partyId: 'CSM' }, now);
  /** [start, state-ish dimension type, its volume, ENERGY volume] per period. */
  const shape = (periods: readonly ChargingPeriod[] | undefined) =>
    (periods ?? []).map((p) => {
      const time = p.dimensions.find((d) => d.type === 'TIME' || d.type === 'PARKING_TIME')!;
      return [p.start_date_time.replace('2025-03-01T', '').replace(':00Z', ''), time.type, time.volume, p.dimensions.find((d) => d.type === 'ENERGY')!.volume];
    });
  const num = (value: unknown) => (value === null ? null : String(value));

  it('pending, then active on charging, completed at the end; periods split on each charging-state change; exact kWh', async () => {
    await append('token-default-DE-EMP-CARD-1', eventFrom(TokenIssued, {
      uid: 'CARD-1', tokenType: 'RFID', contractId: 'DE-EMP-C12345678-X', issuer: 'EMP', ownerId: null, visualNumber: null,
      validUntil: null, whitelist: 'ALLOWED', source: 'ocpi', groupId: null, countryCode: 'DE', partyId: 'EMP',
    }));
    await append('transaction-default-tx-1', eventFrom(TransactionAuthorized, {
      stationId: 'CP-1', evseId: 1, idToken: { idToken: 'CARD-1', type: 'ISO14443' }, result: 'Accepted', authorizedAt: t(0), basis: 'token',
    }));
    expect((await session('tx-1')).status).toBe('AUTHORIZED');

    await append('transaction-default-tx-1', started('tx-1'));
    expect(await session('tx-1')).toMatchObject({
      status: 'PENDING', station_id: 'CP-1', station_evse_id: 1, station_connector_id: 1, token_uid: 'CARD-1', token_type: 'RFID',
      contract_id: 'DE-EMP-C12345678-X', token_country_code: 'DE', token_party_id: 'EMP', auth_basis: 'token', remote_start: false, period_count: 1,
    });

    await append('transaction-default-tx-1', state(1, 'Charging'));
    expect((await session('tx-1')).status).toBe('ACTIVE');
    await append('transaction-default-tx-1', reading(10, '1500.3', [
      sampled('Current.Import', '16', 'L1', 'A'), sampled('Current.Import', '15.5', 'L2', 'A'), sampled('Power.Active.Import', '11000', null, 'W'),
    ]));
    await append('transaction-default-tx-1', state(20, 'SuspendedEV'), reading(25, '2000.25'));
    const lastUpdated = await append('transaction-default-tx-1', ended(30, '2100.2'));

    const row = await session('tx-1');
    expect(row.status).toBe('COMPLETED');
    expect(num(row.energy_wh)).toBe('1100.1');
    expect(iso(row.end_date_time)).toBe(t(30));
    expect(iso(row.last_updated)).toBe(lastUpdated);
    const rows = await periods('tx-1');
    expect(rows.map((p) => [iso(p.start_date_time), iso(p.end_at), p.charging_state, num(p.start_register_wh), num(p.end_register_wh)])).toEqual([
      [t(0), t(1), null, '1000.1', '1000.1'],
      // The rise from 10:10 to 10:25 happened while charging (10:10-10:20): none of it is parking's.
      [t(1), t(20), 'Charging', '1000.1', '2000.25'],
      [t(20), t(30), 'SuspendedEV', '2000.25', '2100.2'],
    ]);
    expect([rows[1]!.max_current_a, rows[1]!.min_current_a, rows[1]!.max_power_kw, rows[1]!.min_power_kw].map(num)).toEqual(['16', '15.5', '11', '11']);
    expect(rows[2]!.max_current_a).toBeNull();
  });

  it('energy flowing makes a session active without any charging state; late changes do not split periods', async () => {
    await append('transaction-default-tx-2', started('tx-2', { meterStartWh: null, idToken: { idToken: 'APP-9', type: 'eMAID' } }));
    await append('transaction-default-tx-2', reading(5, '500'));
    expect((await session('tx-2')).status).toBe('PENDING');
    await append('transaction-default-tx-2', reading(6, '500.0001'), state(0, 'Charging', true));
    const row = await session('tx-2');
    expect(row).toMatchObject({ status: 'ACTIVE', token_type: 'APP_USER', contract_id: null, token_country_code: null });
    expect(num(row.energy_wh)).toBe('0.0001');
    expect(row.period_count).toBe(1);
  });

  it('a session that ended without any energy register ever known is INVALID', async () => {
    await append('transaction-default-tx-3', started('tx-3', { meterStartWh: null }), ended(3, '0', 'lastReading'));
    expect((await session('tx-3')).status).toBe('INVALID');
  });

  it(`keeps at most ${ocpiSessionPeriodsMax} periods, then extends the last`, async () => {
    const timed = Array.from({ length: ocpiSessionPeriodsMax + 5 }, (_, i) =>
      eventFrom(ChargingStateChanged, { state: i % 2 === 0 ? 'Charging' : 'SuspendedEV', changedAt: t(1, i % 60).replace(':01:', `:${String(1 + Math.floor(i / 60)).padStart(2, '0')}:`), late: false }),
    );
    await append('transaction-default-tx-4', started('tx-4'), ...timed, ended(30, '1200'));
    const row = await session('tx-4');
    expect(row.period_count).toBe(ocpiSessionPeriodsMax);
    const last = (await periods('tx-4')).at(-1)!;
    expect(last.period_index).toBe(ocpiSessionPeriodsMax - 1);
    expect(iso(last.end_at)).toBe(t(30));
  });

  it('a state reported with the start is the first period, not a second one at the same time; a state at the end adds no trailing period', async () => {
    // 2.0.1: Started carries chargingState EVConnected (same timestamp), Ended carries Idle (same timestamp).
    await append('transaction-default-tx-5', started('tx-5'), state(0, 'EVConnected'), state(2, 'Charging'), reading(10, '1500.1'), state(20, 'EVConnected'));
    await append('transaction-default-tx-5', state(30, 'Idle'), ended(30, '2100.1'));
    const sent = await ocpiSession('tx-5');
    expect(shape(sent.charging_periods)).toEqual([
      ['10:00', 'PARKING_TIME', 0.0333, 0],
      ['10:02', 'TIME', 0.3, 1.1],
      ['10:20', 'PARKING_TIME', 0.1667, 0],
    ]);
    expect(sent.kwh).toBe(1.1);
    expect((await session('tx-5')).period_count).toBe(3);
    expect((await periods('tx-5')).map((p) => p.charging_state)).toEqual(['EVConnected', 'Charging', 'EVConnected']);
  });

  it('energy between two readings goes to the charging time between them: none into parking unless measured there', async () => {
    // 2.0.1 Updated: the state change and the reading share a timestamp; the state is recorded first.
    await append('transaction-default-tx-6', started('tx-6', { meterStartWh: '1000' }), state(0, 'Charging'), reading(10, '1500'));
    await append('transaction-default-tx-6', state(20, 'EVConnected'), reading(20, '2000'), reading(25, '2000'));
    // A register interval across a change (1.6: StatusNotification between two MeterValues): the rise
    // happened while charging. A rise between two readings both in parking was measured there.
    await append('transaction-default-tx-6', reading(30, '2000'), state(35, 'Charging'), reading(40, '2300'), state(45, 'SuspendedEV'), reading(50, '2400'));
    await append('transaction-default-tx-6', reading(55, '2410'), ended(58, '2410'));
    const sent = await ocpiSession('tx-6');
    expect(shape(sent.charging_periods)).toEqual([
      ['10:00', 'TIME', 0.3333, 1],
      ['10:20', 'PARKING_TIME', 0.25, 0],
      ['10:35', 'TIME', 0.1667, 0.4],
      ['10:45', 'PARKING_TIME', 0.2167, 0.01],
    ]);
    expect(sent.kwh).toBe(1.41);
  });

  it('an active session: its last period runs until now, energy until the latest reading', async () => {
    await append('transaction-default-tx-7', started('tx-7', { meterStartWh: '0' }), state(0, 'Charging'), reading(6, '100.00005'));
    const sent = await ocpiSession('tx-7', new Date(t(12)));
    expect(shape(sent.charging_periods)).toEqual([['10:00', 'TIME', 0.2, 0.1]]);
    expect(shape((await ocpiSession('tx-7')).charging_periods)).toEqual([['10:00', 'TIME', 0.1, 0.1]]);
  });

  describe('energy by the one rule for which readings count (domain/transaction/meter-energy.ts)', () => {
    const register = (wh: string, context: string): SampledValue => ({ ...sampled('Energy.Active.Import.Register', wh, null, 'Wh'), context });
    const recordCommand = (minute: number, wh: string, context = 'Sample.Periodic'): TransactionCommand => ({
      type: 'RecordMeterReading', stationId: 'CP-1', sampledAt: t(minute), registerWh: new Decimal(wh), sampledValues: [register(wh, context)],
    });
    /** Each command through the transaction decider, its events appended and projected; the Session's kwh after each. */
    async function kwhAfterEach(id: string, commands: readonly TransactionCommand[]): Promise<{ kwh: number[]; events: DomainEvent[] }> {
      const events: DomainEvent[] = [];
      const kwh: number[] = [];
      for (const command of commands) {
        const decided = transactionDecider.decide(command, fold(transactionDecider, events as never));
        events.push(...decided);
        if (decided.length > 0) await append(`transaction-default-${id}`, ...decided);
        kwh.push((await ocpiSession(id, new Date(t(60)))).kwh);
      }
      return { kwh, events };
    }
    const issueSession = (id: string, transactionData: { minute: number; wh: string; context: string }[], chargingStates: { minute: number; state: ChargingState }[] = []): TransactionCommand[] => [
      { type: 'StartTransaction', transactionId: id, stationId: 'CP-1', evseId: 1, connectorId: 1, idToken: null, meterStartWh: new Decimal(10_000), startedAt: t(0) },
      ...chargingStates.map((c): TransactionCommand => ({ type: 'RecordChargingState', stationId: 'CP-1', state: c.state, changedAt: t(c.minute) })),
      recordCommand(20, '10300'),
      {
        type: 'EndTransaction', stationId: 'CP-1', endedAt: t(40), meterStopWh: new Decimal(10_636), reason: 'Local',
        transactionData: transactionData.map((r) => ({ sampledAt: t(r.minute), registerWh: new Decimal(r.wh), sampledValues: [register(r.wh, r.context)] })),
      },
    ];
    it('a 1.6 Transaction.Begin reading stamped late mid-session neither dips nor moves the kwh', async () => {
      const { kwh } = await kwhAfterEach('begin-late', [
        { type: 'StartTransaction', transactionId: 'begin-late', stationId: 'CP-1', evseId: 1, connectorId: 1, idToken: null, meterStartWh: new Decimal(10_000), startedAt: t(0) },
        recordCommand(10, '10100'),
        recordCommand(20, '10300'),
        recordCommand(30, '10000', 'Transaction.Begin'),
        recordCommand(40, '10450'),
      ]);
      expect(kwh).toEqual([0, 0.1, 0.3, 0.3, 0.45]);
    });

    it("the issue's session (10000 → 10636 Wh, a Transaction.Begin reading at the stop time): the finished Session's kwh is the CDR's total_energy, and its periods put the energy where the EV charged", async () => {
      for (const [id, transactionData] of [
        ['issue-begin-end', [{ minute: 40, wh: '10000', context: 'Transaction.Begin' }, { minute: 40, wh: '10636', context: 'Transaction.End' }]],
        ['issue-end-begin', [{ minute: 40, wh: '10636', context: 'Transaction.End' }, { minute: 40, wh: '10000', context: 'Transaction.Begin' }]],
      ] as const) {
        const { kwh, events } = await kwhAfterEach(id, issueSession(id, [...transactionData], [{ minute: 0, state: 'Charging' }, { minute: 30, state: 'SuspendedEV' }]));
        expect(cdrTotalEnergy(events)).toBe('0.6360');
        expect(kwh.at(-1)).toBe(0.636);
        // The rise after 10300 Wh (at 20) was measured by a reading at 40: it goes to the charging time 20..30, not to parking.
        expect(shape((await ocpiSession(id)).charging_periods)).toEqual([['10:00', 'TIME', 0.5, 0.636], ['10:30', 'PARKING_TIME', 0.1667, 0]]);
      }
    });

    it('a session without meter start whose readings arrive after its end (offline queue): the Session kwh is still the CDR total_energy', async () => {
      const { kwh, events } = await kwhAfterEach('queued-after-end', [
        { type: 'StartTransaction', transactionId: 'queued-after-end', stationId: 'CP-1', evseId: 1, connectorId: 1, idToken: null, meterStartWh: null, startedAt: t(0) },
        { type: 'EndTransaction', stationId: 'CP-1', endedAt: t(40), meterStopWh: new Decimal(10_636), reason: 'Local' },
        recordCommand(20, '10300'),
        recordCommand(5, '10000'),
      ]);
      expect(cdrTotalEnergy(events)).toBe('0.6360');
      expect(kwh).toEqual([0, 0, 0.336, 0.636]);
    });
  });

  describe('property: the charging periods partition the session', () => {
    /** A fact on the station's timeline: seconds after the previous one (0: the same time), and what happened. */
    const factArbitrary = fc.record({
      kind: fc.constantFrom('reading', 'reading', 'state', 'current'),
      afterS: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 900 })),
      riseMwh: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 3_000_000 })),
      state: fc.constantFrom(...chargingStates),
    });
    const scenarioArbitrary = fc.record({
      meterStartWh: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 100_000_000 }).map((mwh) => new Decimal(mwh).div(1000))),
      facts: fc.array(factArbitrary, { maxLength: 14 }),
      end: fc.option(fc.record({ afterS: fc.integer({ min: 0, max: 900 }), riseMwh: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 500_000 })), stop: fc.boolean() })),
      /** Appends split into this many chunks, so the projection meets the events in different batches. */
      chunks: fc.integer({ min: 1, max: 3 }),
    });
    /** Disorder on top: pairs of commands swapped, registers that go down. */
    const disorderArbitrary = fc.record({
      swaps: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 4 }),
      dropAt: fc.option(fc.nat()),
    });
    type Scenario = typeof scenarioArbitrary extends fc.Arbitrary<infer T> ? T : never;
    const startMs = Date.UTC(2025, 2, 1, 10, 0, 0);
    const iso = (ms: number) => new Date(ms).toISOString();
    let runs = 0;

    /** Station commands in timeline order, and the session's end time (null: still running). */
    function commandsOf(id: string, scenario: Scenario): { commands: TransactionCommand[]; endMs: number | null } {
      let atMs = startMs;
      let registerWh = scenario.meterStartWh ?? new Decimal(5000);
      const commands: TransactionCommand[] = [
        { type: 'StartTransaction', transactionId: id, stationId: 'CP-1', evseId: 1, connectorId: 1, idToken: null, meterStartWh: scenario.meterStartWh, startedAt: iso(atMs) },
      ];
      for (const fact of scenario.facts) {
        atMs += fact.afterS * 1000;
        if (fact.kind === 'state') commands.push({ type: 'RecordChargingState', stationId: 'CP-1', state: fact.state, changedAt: iso(atMs) });
        else if (fact.kind === 'current') commands.push({ type: 'RecordMeterReading', stationId: 'CP-1', sampledAt: iso(atMs), registerWh: null, sampledValues: [sampled('Current.Import', String(fact.afterS % 32), 'L1', 'A')] });
        else {
          registerWh = registerWh.plus(new Decimal(fact.riseMwh).div(1000));
          commands.push({ type: 'RecordMeterReading', stationId: 'CP-1', sampledAt: iso(atMs), registerWh });
        }
      }
      if (scenario.end === null) return { commands, endMs: null };
      const endMs = atMs + scenario.end.afterS * 1000;
      const meterStopWh = scenario.end.stop ? registerWh.plus(new Decimal(scenario.end.riseMwh).div(1000)) : null;
      commands.push({ type: 'EndTransaction', stationId: 'CP-1', endedAt: iso(endMs), meterStopWh, reason: 'Local' });
      return { commands, endMs };
    }

    /** The events the transaction decider records for the commands (refused ones are skipped, as a gateway would answer them). */
    function decided(commands: readonly TransactionCommand[]): DomainEvent[] {
      const events: DomainEvent[] = [];
      for (const command of commands) {
        try {
          events.push(...transactionDecider.decide(command, fold(transactionDecider, events as never)));
        } catch {
          // refused: nothing recorded
        }
      }
      return events;
    }

    async function project(events: readonly DomainEvent[], chunks: number): Promise<string> {
      runs += 1;
      const id = `prop-${runs}`;
      const size = Math.ceil(events.length / chunks);
      for (let i = 0; i < events.length; i += size) await append(`transaction-default-${id}`, ...events.slice(i, i + size));
      return id;
    }

    const volume = (period: ChargingPeriod, ...types: string[]) => period.dimensions.find((d) => types.includes(d.type))!;
    const hoursBetween = (fromIso: string, toMs: number) => new Decimal(toMs - Date.parse(fromIso)).div(3_600_000).toDecimalPlaces(4, Decimal.ROUND_HALF_UP);

    /** What must hold of any session: strictly increasing starts from the session's start, each period lasting until the next, energy adding up to kwh. */
    function expectPartition(sent: Session, nowMs: number): void {
      expect(sessionSchema.safeParse(sent).success).toBe(true);
      const periods = sent.charging_periods!;
      expect(periods.length).toBeGreaterThan(0);
      expect(Date.parse(periods[0]!.start_date_time)).toBe(Date.parse(sent.start_date_time));
      const endMs = sent.end_date_time === undefined ? nowMs : Date.parse(sent.end_date_time);
      periods.forEach((period, i) => {
        const next = periods[i + 1];
        if (next !== undefined) expect(Date.parse(next.start_date_time)).toBeGreaterThan(Date.parse(period.start_date_time));
        else if (i > 0) expect(Date.parse(period.start_date_time)).toBeLessThan(endMs);
        const untilMs = next === undefined ? Math.max(endMs, Date.parse(period.start_date_time)) : Date.parse(next.start_date_time);
        expect(volume(period, 'TIME', 'PARKING_TIME').volume).toBe(Number(hoursBetween(period.start_date_time, untilMs).toFixed()));
        expect(volume(period, 'ENERGY').volume).toBeGreaterThanOrEqual(0);
      });
      const energy = periods.reduce((sum, period) => sum.plus(String(volume(period, 'ENERGY').volume)), new Decimal(0));
      expect(energy.toFixed()).toBe(new Decimal(String(sent.kwh)).toFixed());
    }

    /**
     * A parking period gets no energy when the register did not rise across it: every reading from
     * the last time at or before its start to the first time at or after its end is the same
     * (readings sharing a time all count: a rise at one instant is not flat).
     */
    function expectFlatParkingEmpty(sent: Session, events: readonly DomainEvent[], stateAt: (ms: number) => string | null): void {
      const registers: Array<[number, string]> = [];
      for (const event of events) {
        const data = event.data as { startedAt?: string; meterStartWh?: string | null; sampledAt?: string; registerWh?: string | null; endedAt?: string; meterStopWh?: string };
        if (event.type === 'TransactionStarted' && data.meterStartWh != null) registers.push([Date.parse(data.startedAt!), data.meterStartWh]);
        if (event.type === 'MeterReadingRecorded' && data.registerWh != null) registers.push([Date.parse(data.sampledAt!), data.registerWh]);
        if (event.type === 'TransactionEnded') registers.push([Date.parse(data.endedAt!), data.meterStopWh!]);
      }
      const periods = sent.charging_periods!;
      periods.forEach((period, i) => {
        const fromMs = Date.parse(period.start_date_time);
        if (stateAt(fromMs) === 'Charging' || volume(period, 'TIME', 'PARKING_TIME').type !== 'PARKING_TIME') return;
        const untilMs = periods[i + 1] === undefined ? (sent.end_date_time === undefined ? Infinity : Date.parse(sent.end_date_time)) : Date.parse(periods[i + 1]!.start_date_time);
        const beforeMs = Math.max(...registers.filter(([at]) => at <= fromMs).map(([at]) => at));
        const afterMs = Math.min(...registers.filter(([at]) => at >= untilMs).map(([at]) => at));
        if (!Number.isFinite(beforeMs) || !Number.isFinite(afterMs)) return;
        const across = registers.filter(([at]) => at >= beforeMs && at <= afterMs).map(([, wh]) => new Decimal(wh));
        if (across.every((wh) => wh.eq(across[0]!))) expect(volume(period, 'ENERGY').volume).toBe(0);
      });
    }

    it('in station order (equal times in any order): a partition, energy adds up to kwh, flat parking gets none', async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArbitrary, async (scenario) => {
          const { commands, endMs } = commandsOf(`prop-${runs + 1}`, scenario);
          const events = decided(commands);
          const id = await project(events, scenario.chunks);
          // After every fact: an active session's facts reach 14 × 900 s past its start.
          const nowMs = endMs === null ? startMs + 24 * 3_600_000 : endMs + 3_600_000;
          const rows = (await periods(id)) as OcpiPeriodRow[];
          const sent = await ocpiSession(id, new Date(nowMs));
          expectPartition(sent, nowMs);
          if (sent.end_date_time !== undefined) expect(sent.kwh).toBe(Number(cdrTotalEnergy(events)));
          const stateAt = (ms: number) => rows.filter((row) => Date.parse(String(new Date(row.start_date_time).toISOString())) <= ms).at(-1)?.charging_state ?? null;
          expectFlatParkingEmpty(sent, events, stateAt);
        }),
        { numRuns: 20 },
      );
    });

    it('in any order, with registers that go down: still a partition whose energy adds up to kwh', async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArbitrary, disorderArbitrary, async (scenario, disorder) => {
          const { commands } = commandsOf(`prop-${runs + 1}`, scenario);
          const [start, ...rest] = commands;
          for (const [a, b] of disorder.swaps) {
            if (rest.length < 2) break;
            const i = a % rest.length;
            const j = b % rest.length;
            [rest[i], rest[j]] = [rest[j]!, rest[i]!];
          }
          if (disorder.dropAt !== null && rest.length > 0) {
            const target = rest[disorder.dropAt % rest.length]!;
            if (target.type === 'RecordMeterReading' && target.registerWh) rest[disorder.dropAt % rest.length] = { ...target, registerWh: target.registerWh.div(2).toDecimalPlaces(3) };
          }
          const events = decided([start!, ...rest]);
          const id = await project(events, scenario.chunks);
          const nowMs = startMs + 24 * 3_600_000;
          const sent = await ocpiSession(id, new Date(nowMs));
          expectPartition(sent, nowMs);
          if (sent.end_date_time !== undefined) expect(sent.kwh).toBe(Number(cdrTotalEnergy(events)));
        }),
        { numRuns: 20 },
      );
    });
  });

  it('a rebuild gives the same tables (pure, checksummed)', async () => {
    const result = await verify({ store: eventStore, db, log: () => {} }, ocpiSessionsProjection);
    expect(result.identical).toBe(true);
  });

  it('maps OCPP id token types to OCPI TokenType', () => {
    expect(['ISO14443', 'ISO15693', 'Central', 'Local', 'KeyCode', 'eMAID', 'NoAuthorization', 'AD_HOC_USER'].map(ocpiTokenTypeOf)).toEqual([
      'RFID', 'RFID', 'APP_USER', 'RFID', 'RFID', 'APP_USER', 'OTHER', 'AD_HOC_USER',
    ]);
  });
});
