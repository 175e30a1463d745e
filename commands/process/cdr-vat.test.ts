import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../adapters/clock/clock.js';
import { openMemoryEventStore } from '../../adapters/event-store/memory.js';
import { sampleCdr } from '../../domain/cdr/fixtures.js';
import type { OcpiCdr } from '../../domain/cdr/ocpi.js';
import { entriesOf, ledgerDecider, ledgerJournalId } from '../../domain/ledger/index.js';
import { streamName } from '../../domain/shared/event.js';
import { createCommandBus, type Command } from '../index.js';
import { loadConfig } from '../../api/config.js';
import { billingConfigDefault, billingConfigOf, cpoPartyDefault, type BillingConfig } from './billing-config.js';
import { catchUpCdrIssuer, cdrIssuerMetricsRegistry, cdrIssuerRefusals } from './cdr-issuer.js';
import { memoryCheckpoint } from './checkpoint.js';
import { loadState } from './streams.js';

/**
 * Issue 10 follow-up: a CDR with VAT whose tariff snapshot names no VAT rate. The issuer posts it
 * at the rate its figures state exactly (domain/ledger/vat.ts), else at the configured fallback
 * rate; without either its entry is refused, and that refusal is recorded and counted, never lost.
 */

const tenantId = 'acme';
const clock = fixedClock('2025-03-05T09:00:00.000Z');

/** 1.48 VAT on 7.00: no rate of 4 decimals, so only a configured rate can post it. */
const cdrWithoutRate: OcpiCdr = sampleCdr({ tariffs: [], total_cost: { excl_vat: '7.00', incl_vat: '8.48' } });

/** Issues the CDR and credits it; the issuer then posts the CDR's entry before its reversal. */
async function issuedAndCredited(cdr: OcpiCdr) {
  const eventStore = openMemoryEventStore();
  const bus = createCommandBus({ eventStore, clock });
  let n = 0;
  const send = (aggregateId: string, command: Command) =>
    bus.send({ commandId: `test-${n++}`, tenantId, aggregateId, actor: 'user:test', correlationId: 'c-1', occurredAt: clock.now().toISOString(), command });
  await send(cdr.id, { type: 'IssueCdr', cdr, transactionId: 'tx-1', tenantId, tariffVersionId: null });
  await send(cdr.id, { type: 'CreditCdr', creditCdrId: `${cdr.id}-CR`, creditedAt: clock.now().toISOString() });
  return { eventStore, bus };
}

async function billWith(config: BillingConfig, cdr = cdrWithoutRate) {
  const { eventStore, bus } = await issuedAndCredited(cdr);
  const checkpoint = memoryCheckpoint();
  const logged: string[] = [];
  await catchUpCdrIssuer({ eventStore, bus, config, log: (line) => logged.push(line) }, checkpoint);
  const ledger = await loadState(eventStore, ledgerDecider, streamName('ledger', tenantId, ledgerJournalId));
  const entries = [...entriesOf(ledger)].map((entry) => ({ id: entry.entryId, lines: entry.lines.map((line) => `${line.side} ${line.account} ${line.amount}`) }));
  entries.sort((a, b) => a.id.localeCompare(b.id));
  return { entries, failures: checkpoint.failures, logged };
}

const refusalCount = async () => (await cdrIssuerRefusals.get()).values.reduce((sum, value) => sum + value.value, 0);

describe('CDR issuer: VAT without a rate in the tariff snapshot', () => {
  it('posts the CDR at the configured fallback rate (BILLING_VAT_RATE_FALLBACK), and its credit reverses it', async () => {
    const configured = billingConfigOf(cpoPartyDefault, loadConfig({ BILLING_VAT_RATE_FALLBACK: '21' }, '/x').billing);
    expect(configured.vatRateFallbackPercent).toBe('21');
    const { entries, failures } = await billWith(configured);
    expect(failures).toEqual([]);
    expect(entries).toEqual([
      { id: 'cdr:NL-CPO:CDR-1', lines: ['debit receivable:emsp:DE-EMP 8.48', 'credit revenue:charging 7', 'credit vat-payable:21 1.48'] },
      { id: 'cdr:NL-CPO:CDR-1-CR', lines: ['credit receivable:emsp:DE-EMP 8.48', 'debit revenue:charging 7', 'debit vat-payable:21 1.48'] },
    ]);
  });

  it('posts at the rate the CDR states exactly, with no fallback configured', async () => {
    const { entries, failures } = await billWith(billingConfigDefault, sampleCdr({ tariffs: [] }));
    expect(failures).toEqual([]);
    expect(entries[0]!.lines).toContain('credit vat-payable:21 1.47');
  });

  it('without a rate to post at, records the refusal as an issuer failure and counts it (csms_cdr_issuer_refusals_total)', async () => {
    const before = await refusalCount();
    const { entries, failures, logged } = await billWith(billingConfigDefault);
    expect(entries).toEqual([]);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.error).toMatch(/CDR CDR-1: its tariff snapshot has no VAT rate, its figures state none exactly, and no fallback rate was given/);
    expect(logged.join('\n')).toMatch(/refused, recorded as a failure/);
    expect(await refusalCount()).toBe(before + 1);
    expect(await cdrIssuerMetricsRegistry.metrics()).toMatch(/csms_cdr_issuer_refusals_total\{event_type="CdrCredited"\} [1-9]/);
  });
});
