import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { asyncCommandsCloseWaitMs, asyncCommandsInFlightMax, createAsyncCommandRunner } from '../../ocpi/commands/async-results.js';
import { commandResultOf } from '../../ocpi/commands/results.js';

/** The bound on station commands in flight, and a close that never waits on them forever. */

describe('asynchronous OCPI command runner', () => {
  // The close bound is shortened here (the server's is asyncCommandsCloseWaitMs, 5 s): the test
  // shows that a close leaves stuck work after the bound, not that 5 s pass.
  it(`refuses work beyond ${asyncCommandsInFlightMax} in flight, frees a slot when one ends, and closes within its bound (${asyncCommandsCloseWaitMs} ms in the server) of stuck work`, async () => {
    const closeWaitMs = 300;
    const app = Fastify({ logger: false, forceCloseConnections: true });
    const runner = createAsyncCommandRunner(app, 'test', closeWaitMs);
    await app.ready();
    let finishOne: () => void = () => {};
    expect(runner.start(() => new Promise<void>((resolve) => (finishOne = resolve)))).toBe(true);
    for (let i = 1; i < asyncCommandsInFlightMax; i += 1) expect(runner.start(() => new Promise<void>(() => {}))).toBe(true);
    expect(runner.start(async () => {})).toBe(false);
    finishOne();
    await new Promise((resolve) => setImmediate(resolve));
    expect(runner.inFlight()).toBe(asyncCommandsInFlightMax - 1);
    expect(runner.start(() => new Promise<void>(() => {}))).toBe(true);

    const closingAt = Date.now();
    await app.close();
    const closeMs = Date.now() - closingAt;
    expect(closeMs).toBeGreaterThanOrEqual(closeWaitMs - 50);
    expect(closeMs).toBeLessThan(closeWaitMs + 2_000);
    expect(runner.start(async () => {})).toBe(false);
  });

  it('a failing job is logged, not thrown, and frees its slot', async () => {
    const app = Fastify({ logger: false, forceCloseConnections: true });
    const runner = createAsyncCommandRunner(app, 'test');
    expect(runner.start(async () => Promise.reject(new Error('partner unreachable')))).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(runner.inFlight()).toBe(0);
    await app.close();
  });
});

describe('CommandResult from the station outcome', () => {
  it('maps each command’s status words and failures; an unknown word is FAILED, never ACCEPTED', () => {
    const answered = (status: string | null) => ({ outcome: 'answered' as const, status, answer: {} });
    expect(commandResultOf('UNLOCK_CONNECTOR', answered('Unlocked'))).toEqual({ result: 'ACCEPTED' });
    expect(commandResultOf('UNLOCK_CONNECTOR', answered('OngoingAuthorizedTransaction'))).toEqual({ result: 'EVSE_OCCUPIED' });
    expect(commandResultOf('RESERVE_NOW', answered('Faulted'))).toEqual({ result: 'EVSE_INOPERATIVE' });
    expect(commandResultOf('CANCEL_RESERVATION', answered('Rejected'))).toEqual({ result: 'UNKNOWN_RESERVATION' });
    expect(commandResultOf('START_SESSION', answered('Maybe')).result).toBe('FAILED');
    expect(commandResultOf('START_SESSION', answered(null)).result).toBe('FAILED');
    const failed = (reason: 'not-connected' | 'timeout' | 'rejected-call' | 'invalid' | 'other', message = 'x') => ({ outcome: 'failed' as const, reason, message });
    expect(commandResultOf('STOP_SESSION', failed('timeout')).result).toBe('TIMEOUT');
    expect(commandResultOf('STOP_SESSION', failed('rejected-call', 'station answered NotImplemented: no')).result).toBe('NOT_SUPPORTED');
    expect(commandResultOf('STOP_SESSION', failed('rejected-call', 'station answered InternalError: oops')).result).toBe('REJECTED');
    expect(commandResultOf('STOP_SESSION', failed('not-connected')).result).toBe('FAILED');
    expect(commandResultOf('STOP_SESSION', failed('invalid')).result).toBe('REJECTED');
  });
});
