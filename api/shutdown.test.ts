import { describe, expect, it } from 'vitest';
import { runShutdown, serveShutdownSteps, type ShutdownStep } from './shutdown.js';

describe('shutdown sequence', () => {
  it('csms serve stops intake, drains, stops workers, closes the store, then the database', async () => {
    const order: string[] = [];
    let pending = 1;
    const steps = serveShutdownSteps({
      server: { close: async () => void order.push('server.close') },
      bus: {
        pending: () => {
          order.push(`bus.pending=${pending}`);
          return pending-- > 0 ? 1 : 0;
        },
      },
      stopWorkers: async () => void order.push('workers.stop'),
      closeEventStore: async () => void order.push('eventStore.close'),
      closeDatabase: async () => void order.push('db.close'),
    });
    expect(steps.map((step) => step.name)).toEqual(['stop accepting', 'drain the command bus', 'stop workers', 'close the event store', 'close the database']);
    const reports = await runShutdown(steps, () => {});
    expect(reports.every((report) => report.outcome === 'done')).toBe(true);
    // The drain waits while a command is pending, then for two quiet looks.
    expect(order).toEqual(['server.close', 'bus.pending=1', 'bus.pending=0', 'bus.pending=-1', 'workers.stop', 'eventStore.close', 'db.close']);
  });

  it('a step that fails or outlives its deadline is reported, and the later steps still run', async () => {
    const lines: string[] = [];
    const ran: string[] = [];
    const steps: ShutdownStep[] = [
      { name: 'hangs', deadlineMs: 50, run: () => new Promise(() => {}) },
      { name: 'fails', deadlineMs: 1_000, run: async () => Promise.reject(new Error('boom')) },
      { name: 'late failure', deadlineMs: 20, run: () => new Promise((_, reject) => setTimeout(() => reject(new Error('too late')), 60)) },
      { name: 'closes', deadlineMs: 1_000, run: async () => void ran.push('closes') },
    ];
    const reports = await runShutdown(steps, (line) => lines.push(line));
    expect(reports.map((report) => [report.name, report.outcome])).toEqual([
      ['hangs', 'timed-out'],
      ['fails', 'failed'],
      ['late failure', 'timed-out'],
      ['closes', 'done'],
    ]);
    expect(ran).toEqual(['closes']);
    expect(lines).toEqual([
      'shutdown: hangs did not finish within 50 ms; going on',
      'shutdown: fails failed; going on: boom',
      'shutdown: late failure did not finish within 20 ms; going on',
    ]);
    // The late step's rejection (after its deadline) must not surface as an unhandled rejection.
    await new Promise((resolve) => setTimeout(resolve, 100));
  });
});
