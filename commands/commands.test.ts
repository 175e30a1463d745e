import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../adapters/clock/clock.js';
import { openMemoryEventStore } from '../adapters/event-store/memory.js';
import { WrongExpectedRevisionError, type EventStore } from '../adapters/event-store/port.js';
import { IllegalStateError, InvalidCommandError } from '../domain/shared/errors.js';
import { stationDecider } from '../domain/station/index.js';
import type { Command } from './bus.js';
import { CommandBusOverloadedError, createCommandBus } from './bus.js';
import type { CommandEnvelope } from './envelope.js';
import { commandRetryAttemptsMax, createCommandHandler, eventIdFor, streamReadPageSizeMax } from './handler.js';

const clock = fixedClock('2025-03-01T12:00:00.000Z');
let commandCounter = 0;
function envelope<C extends Command>(command: C, overrides: Partial<CommandEnvelope<C>> = {}): CommandEnvelope<C> {
  commandCounter += 1;
  return {
    commandId: `cmd-${commandCounter}`,
    tenantId: 't1',
    aggregateId: 'CP-1',
    actor: 'station:CP-1',
    correlationId: `msg-${commandCounter}`,
    occurredAt: '2025-03-01T12:59:58+01:00',
    command,
    ...overrides,
  };
}
const register = { type: 'RegisterStation', stationId: 'CP-1', securityProfile: 1, passwordHash: 'h' } as const;
const configuration = (key: string, value: string) => ({ type: 'RecordConfiguration', entries: [{ key, value }] }) as const;
const noSleep = { sleep: async () => {}, random: () => 0.5 };

/** Appends a competing event from "another node" before each of the first `times` appends to the stream. */
function withCompetingWriter(inner: EventStore, times: number) {
  let competing = 0;
  let appendCalls = 0;
  const store: EventStore = {
    ...inner,
    async append(streamId, events, expected) {
      appendCalls += 1;
      if (competing < times) {
        competing += 1;
        await createCommandHandler(stationDecider, { eventStore: inner, clock })(envelope(configuration(`Other${competing}`, '1')));
      }
      return inner.append(streamId, events, expected);
    },
  };
  return { store, appendCalls: () => appendCalls };
}

describe('command bus', () => {
  it('routes a command to its aggregate, appends its events with metadata and deterministic ids', async () => {
    const eventStore = openMemoryEventStore();
    const bus = createCommandBus({ eventStore, clock });
    const sent = envelope(register);
    const result = await bus.send(sent);
    expect(result).toMatchObject({ streamId: 'station-t1-CP-1', nextExpectedRevision: 0, duplicate: false });
    expect(result.position).not.toBeNull();
    expect(result.events).toHaveLength(1);
    const [event] = result.events;
    expect(event).toMatchObject({
      type: 'StationRegistered',
      schemaVersion: 1,
      revision: 0,
      eventId: eventIdFor('station-t1-CP-1', sent.commandId, 0),
      data: { stationId: 'CP-1', securityProfile: 1, passwordHash: 'h' },
    });
    expect(event!.metadata).toEqual({
      tenantId: 't1',
      correlationId: sent.correlationId,
      causationId: sent.commandId,
      actor: 'station:CP-1',
      occurredAt: '2025-03-01T11:59:58.000Z',
      recordedAt: '2025-03-01T12:00:00.000Z',
    });
    expect(await eventStore.readStream('station-t1-CP-1')).toEqual(result.events);
  });

  it('routes transaction and token commands to their own streams', async () => {
    const bus = createCommandBus({ eventStore: openMemoryEventStore(), clock });
    const started = await bus.send(
      envelope(
        { type: 'StartTransaction', transactionId: 'tx-1', stationId: 'CP-1', evseId: 1, connectorId: 1, meterStartWh: new Decimal(0), startedAt: '2025-03-01T12:00:00Z' },
        { aggregateId: 'tx-1' },
      ),
    );
    expect(started.streamId).toBe('transaction-t1-tx-1');
    const token = await bus.send(
      envelope(
        { type: 'IssueToken', uid: 'U1', tokenType: 'RFID', contractId: 'C1', issuer: 'op', whitelist: 'ALWAYS', source: 'local' },
        { aggregateId: 'U1' },
      ),
    );
    expect(token.streamId).toBe('token-t1-U1');
  });

  it('the same command twice appends once; the second send returns the original events as a duplicate', async () => {
    const eventStore = openMemoryEventStore();
    const bus = createCommandBus({ eventStore, clock });
    const sent = envelope(register);
    const first = await bus.send(sent);
    await bus.send(envelope(configuration('HeartbeatInterval', '300'))); // the state moves on meanwhile
    clock.advanceMs(60_000);
    const second = await bus.send(sent);
    expect(second.duplicate).toBe(true);
    expect(second.events).toEqual(first.events);
    expect(second.nextExpectedRevision).toBe(1);
    expect(await eventStore.readStream('station-t1-CP-1')).toHaveLength(2);
  });

  it('a refused command propagates its typed error and appends nothing', async () => {
    const eventStore = openMemoryEventStore();
    const bus = createCommandBus({ eventStore, clock });
    await expect(bus.send(envelope({ type: 'ChangeStationSecurity', securityProfile: 3 }))).rejects.toThrow(IllegalStateError);
    await expect(bus.send(envelope({ type: 'RegisterStation', stationId: 'CP-1', securityProfile: 2 }))).rejects.toThrow(InvalidCommandError);
    expect(await eventStore.headPosition()).toBeNull();
  });

  it('a command that decides nothing appends nothing and says where the stream is', async () => {
    const bus = createCommandBus({ eventStore: openMemoryEventStore(), clock });
    const noOp = await bus.send(envelope({ type: 'DisconnectStation', connectionId: 'c1', disconnectedAt: '2025-03-01T12:00:00Z' }));
    expect(noOp).toEqual({ streamId: 'station-t1-CP-1', events: [], nextExpectedRevision: 'no_stream', position: null, duplicate: false });
    await bus.send(envelope(register));
    const sent = envelope(register);
    const again = await bus.send(sent);
    expect(again).toMatchObject({ events: [], nextExpectedRevision: 0, position: null, duplicate: false });
    // Its retry decides again, harmlessly.
    expect(await bus.send(sent)).toEqual(again);
  });

  it('refuses an unknown command type and a malformed envelope', async () => {
    const bus = createCommandBus({ eventStore: openMemoryEventStore(), clock });
    await expect(bus.send(envelope({ type: 'LaunchRocket' } as never))).rejects.toThrow(/unknown command type/);
    await expect(bus.send(envelope(register, { commandId: '' }))).rejects.toThrow(InvalidCommandError);
    await expect(bus.send(envelope(register, { occurredAt: 'yesterday' }))).rejects.toThrow(/occurredAt/);
  });

  it('runs commands to one stream one after another, so a burst does not conflict with itself', async () => {
    let sleeps = 0;
    const eventStore = openMemoryEventStore();
    const bus = createCommandBus({ eventStore, clock, options: { sleep: async () => void (sleeps += 1) } });
    const keys = Array.from({ length: 30 }, (_, i) => `Key${i}`);
    const results = await Promise.all(keys.map((key) => bus.send(envelope(configuration(key, 'v')))));
    expect(results.map((result) => result.events[0]!.revision).sort((a, b) => a - b)).toEqual(keys.map((_, i) => i));
    expect(sleeps).toBe(0);
    expect(bus.pending()).toBe(0);
  });

  it('refuses fast when too many commands are pending', async () => {
    const bus = createCommandBus({ eventStore: openMemoryEventStore(), clock, options: { pendingMax: 2 } });
    const sends = [1, 2, 3].map((i) => bus.send(envelope(configuration(`K${i}`, 'v'))));
    await expect(sends[2]).rejects.toThrow(CommandBusOverloadedError);
    await Promise.all(sends.slice(0, 2));
  });

  it('bounds the commands in flight across streams', async () => {
    const inner = openMemoryEventStore();
    let inFlight = 0;
    let inFlightSeen = 0;
    const slow: EventStore = {
      ...inner,
      async readStream(streamId, options) {
        inFlight += 1;
        inFlightSeen = Math.max(inFlightSeen, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight -= 1;
        return inner.readStream(streamId, options);
      },
    };
    const bus = createCommandBus({ eventStore: slow, clock, options: { inFlightMax: 3 } });
    await Promise.all(Array.from({ length: 12 }, (_, i) => bus.send(envelope(register, { aggregateId: `CP-${i}` }))));
    expect(inFlightSeen).toBe(3);
  });
});

describe('command handler', () => {
  it('reloads and decides again when another writer appended between read and append', async () => {
    const inner = openMemoryEventStore();
    const { store, appendCalls } = withCompetingWriter(inner, 1);
    const handle = createCommandHandler(stationDecider, { eventStore: store, clock, options: noSleep });
    const result = await handle(envelope(configuration('HeartbeatInterval', '300')));
    expect(appendCalls()).toBe(2);
    expect(result.events[0]).toMatchObject({ revision: 1, type: 'StationConfigurationChanged', data: { key: 'HeartbeatInterval' } });
    expect((await inner.readStream('station-t1-CP-1')).map((event) => event.data['key'])).toEqual(['Other1', 'HeartbeatInterval']);
  });

  it('gives up with the conflict error after a bounded number of attempts', async () => {
    const inner = openMemoryEventStore();
    const { store, appendCalls } = withCompetingWriter(inner, Infinity);
    const sleeps: number[] = [];
    const handle = createCommandHandler(stationDecider, { eventStore: store, clock, options: { sleep: async (ms) => void sleeps.push(ms), random: () => 1 } });
    await expect(handle(envelope(configuration('HeartbeatInterval', '300')))).rejects.toThrow(WrongExpectedRevisionError);
    expect(appendCalls()).toBe(commandRetryAttemptsMax);
    expect(sleeps).toEqual([10, 20, 40, 80]); // exponential, capped, jittered by `random`
    const keys = (await inner.readStream('station-t1-CP-1')).map((event) => event.data['key']);
    expect(keys).not.toContain('HeartbeatInterval');
  });

  it('the same command racing itself appends once', async () => {
    const eventStore = openMemoryEventStore();
    const handle = createCommandHandler(stationDecider, { eventStore, clock, options: noSleep });
    const sent = envelope(register);
    const [a, b] = await Promise.all([handle(sent), handle(sent)]);
    expect(await eventStore.readStream('station-t1-CP-1')).toHaveLength(1);
    expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
    expect(a.events).toEqual(b.events);
  });

  it('pages through a stream longer than one read', async () => {
    const eventStore = openMemoryEventStore();
    const handle = createCommandHandler(stationDecider, { eventStore, clock });
    const batches = 3;
    for (let batch = 0; batch < batches; batch += 1) {
      const entries = Array.from({ length: 500 }, (_, i) => ({ key: `K${batch * 500 + i}`, value: 'v' }));
      await handle(envelope({ type: 'RecordConfiguration', entries }));
    }
    expect(batches * 500).toBeGreaterThan(streamReadPageSizeMax);
    // Keys from the last page are known (no-op); a new value for one is recorded after all 1,500.
    expect((await handle(envelope(configuration('K1499', 'v')))).events).toEqual([]);
    expect((await handle(envelope(configuration('K1499', 'w')))).events[0]!.revision).toBe(1500);
  });

  it('upcasts stored events before folding them', async () => {
    const eventStore = openMemoryEventStore();
    const bus = createCommandBus({ eventStore, clock });
    const tx = { aggregateId: 'tx-1' };
    await bus.send(
      envelope({ type: 'StartTransaction', transactionId: 'tx-1', stationId: 'CP-1', evseId: 1, connectorId: 1, meterStartWh: new Decimal(1000), startedAt: '2025-03-01T10:00:00Z' }, tx),
    );
    // A reading stored by an older version, in kWh.
    await eventStore.append(
      'transaction-t1-tx-1',
      [
        {
          eventId: '8f1d7c3e-8a40-4d7e-9d4e-3b6a9f0f2a11',
          type: 'MeterReadingRecorded',
          schemaVersion: 1,
          data: { sampledAt: '2025-03-01T10:30:00.000Z', registerKwh: '3.25', signedData: null, suspicious: false },
          metadata: { tenantId: 't1', correlationId: 'm', causationId: 'old', actor: 'station:CP-1', occurredAt: '2025-03-01T10:30:00.000Z', recordedAt: '2025-03-01T10:30:01.000Z' },
        },
      ],
      0,
    );
    const ended = await bus.send(envelope({ type: 'EndTransaction', endedAt: '2025-03-01T11:00:00Z', reason: 'EVDisconnected' }, tx));
    expect(ended.events[0]!.data).toMatchObject({ meterStopWh: '3250', meterStopSource: 'lastReading' });
  });
});
