import { describe, expect, it } from 'vitest';
import { given } from '../../test/support/given-when-then.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import type { IncludeCdr, SettlementCommand } from './commands.js';
import {
  CdrAccepted, CdrApproved, CdrDeclined, CdrIncluded, CdrRejected, CdrRevised, SettlementAdjusted, SettlementDisputed,
  SettlementPeriodClosed, SettlementPeriodOpened, type CdrSummary, type SettlementEvent,
} from './events.js';
import { upcast } from '../events.js';
import { defaultReconciliationTolerance } from './reconcile.js';
import { settlementDecider } from './index.js';
import { currentCdrs } from './state.js';

const at = '2025-04-01T00:00:00.000Z';
const summary = (cdrId: string, amount = '7.00', energyKwh = '20', extra: Partial<CdrSummary> = {}): CdrSummary => ({
  cdrId,
  sessionId: `S-${cdrId}`,
  startDateTime: '2025-03-01T10:00:00Z',
  amount,
  amountInclVat: null,
  energyKwh,
  timeHours: null,
  creditReferenceId: null,
  ...extra,
});
const opened = eventFrom(SettlementPeriodOpened, { partner: 'DE-EMP', period: '2025-03', currency: 'EUR', openedAt: at });
const include = (cdr: CdrSummary, currency = 'EUR'): IncludeCdr => ({ type: 'IncludeCdr', cdr, currency, includedAt: at });
const included = (cdr: CdrSummary) => eventFrom(CdrIncluded, { ...cdr, includedAt: at });
const closed = eventFrom(SettlementPeriodClosed, { closedAt: at, cdrCount: 1, totalAmount: '7', totalAmountInclVat: null, cdrsWithoutInclVat: 1, totalEnergyKwh: '20' });
const disputed = eventFrom(SettlementDisputed, { reason: 'amounts differ', disputedAt: at });
const accepted = eventFrom(CdrAccepted, { cdrId: 'A', acceptedAt: at });
const rejected = eventFrom(CdrRejected, { cdrId: 'A', reason: 'unknown token', rejectedAt: at });
const declined = eventFrom(CdrDeclined, { cdrId: 'A', reason: 'price', declinedAt: at });
const open = [opened, included(summary('A'))];
const cmd = <T extends SettlementCommand['type']>(type: T, fields: Omit<Extract<SettlementCommand, { type: T }>, 'type'>) =>
  ({ type, ...fields }) as Extract<SettlementCommand, { type: T }>;

describe('settlement: period lifecycle', () => {
  it('opens a period for a partner and month; the same open again is a retry', () => {
    const command = cmd('OpenSettlementPeriod', { partner: 'DE-EMP', period: '2025-03', currency: 'EUR', openedAt: at });
    given(settlementDecider, []).when(command).then([opened]);
    given(settlementDecider, [opened]).when(command).then([]);
    given(settlementDecider, [opened]).when({ ...command, currency: 'USD' }).thenThrows(IllegalStateError, /already opened/);
  });

  it('refuses a malformed period or currency', () => {
    given(settlementDecider, []).when(cmd('OpenSettlementPeriod', { partner: 'DE-EMP', period: '2025-13', currency: 'EUR', openedAt: at })).thenThrows(InvalidCommandError, /YYYY-MM/);
    given(settlementDecider, []).when(cmd('OpenSettlementPeriod', { partner: 'DE-EMP', period: '2025-03', currency: 'XXX1', openedAt: at })).thenThrows(InvalidCommandError, /ISO 4217/);
  });

  it('includes CDRs while open; the same inclusion again is a retry, other figures are refused', () => {
    given(settlementDecider, [opened]).when(include(summary('A'))).then([included(summary('A'))]);
    given(settlementDecider, open).when(include(summary('A'))).then([]);
    given(settlementDecider, open).when(include(summary('A', '7.01'))).thenThrows(IllegalStateError, /already included with other figures/);
    // A later run includes the same CDR at another time: still the same inclusion.
    given(settlementDecider, open).when({ ...include(summary('A')), includedAt: '2025-04-02T00:00:00.000Z' }).then([]);
  });

  it('refuses a CDR in another currency and one before the period is opened', () => {
    given(settlementDecider, [opened]).when(include(summary('A'), 'USD')).thenThrows(InvalidCommandError, /USD, the period in EUR/);
    given(settlementDecider, []).when(include(summary('A'))).thenThrows(IllegalStateError, /no settlement period opened/);
  });

  it('refuses inclusion after close', () => {
    given(settlementDecider, [...open, closed]).when(include(summary('B'))).thenThrows(IllegalStateError, /is closed; this needs it open/);
  });

  it('closes with totals where credits net', () => {
    const credit = summary('A-C', '-7.00', '-20', { creditReferenceId: 'A' });
    given(settlementDecider, [...open, included(summary('B', '3.50', '10')), included(credit)])
      .when(cmd('CloseSettlementPeriod', { closedAt: at }))
      .then([eventFrom(SettlementPeriodClosed, { closedAt: at, cdrCount: 3, totalAmount: '3.5', totalAmountInclVat: null, cdrsWithoutInclVat: 3, totalEnergyKwh: '10' })]);
  });

  it('closes with an incl VAT total only over CDRs that state it: unknown (null) when one does not, and says how many', () => {
    given(settlementDecider, [...open, included(summary('B', '3.50', '10', { amountInclVat: '4.24' }))])
      .when(cmd('CloseSettlementPeriod', { closedAt: at }))
      .then([eventFrom(SettlementPeriodClosed, { closedAt: at, cdrCount: 2, totalAmount: '10.5', totalAmountInclVat: null, cdrsWithoutInclVat: 1, totalEnergyKwh: '30' })]);
    given(settlementDecider, [opened, included(summary('B', '3.50', '10', { amountInclVat: '4.24' }))])
      .when(cmd('CloseSettlementPeriod', { closedAt: at }))
      .then([eventFrom(SettlementPeriodClosed, { closedAt: at, cdrCount: 1, totalAmount: '3.5', totalAmountInclVat: '4.24', cdrsWithoutInclVat: 0, totalEnergyKwh: '10' })]);
  });

  it('replays a v1 close as stored: its incl VAT total counted excl VAT where a CDR had none, so the count of those is unknown', () => {
    const v1 = { closedAt: at, cdrCount: 1, totalAmount: '7', totalAmountInclVat: '7', totalEnergyKwh: '20' };
    const event = upcast('SettlementPeriodClosed', 1, v1) as SettlementEvent;
    expect(event).toEqual(eventFrom(SettlementPeriodClosed, { ...v1, cdrsWithoutInclVat: null }));
    given(settlementDecider, [...open, event]).when(cmd('DisputeSettlement', { reason: 'amounts differ', disputedAt: at })).then([disputed]);
  });

  it('refuses closing twice', () => {
    given(settlementDecider, [...open, closed]).when(cmd('CloseSettlementPeriod', { closedAt: at })).thenThrows(IllegalStateError, /closed/);
  });

  it('disputes only a closed period', () => {
    given(settlementDecider, [...open, closed]).when(cmd('DisputeSettlement', { reason: 'amounts differ', disputedAt: at })).then([disputed]);
    given(settlementDecider, open).when(cmd('DisputeSettlement', { reason: 'x', disputedAt: at })).thenThrows(IllegalStateError, /is open/);
    given(settlementDecider, [...open, closed, disputed]).when(cmd('DisputeSettlement', { reason: 'x', disputedAt: at })).thenThrows(IllegalStateError, /is disputed/);
  });

  it('adjusts a closed or disputed period, which settles the dispute', () => {
    const adjusted = eventFrom(SettlementAdjusted, { adjustmentEntryId: 'ADJ-1', amount: '-0.50', reason: 'agreed discount', adjustedAt: at });
    const command = cmd('AdjustSettlement', { adjustmentEntryId: 'ADJ-1', amount: '-0.50', reason: 'agreed discount', adjustedAt: at });
    given(settlementDecider, [...open, closed, disputed]).when(command).thenState((state) => expect(state.status).toBe('closed'));
    given(settlementDecider, [...open, closed]).when(command).then([adjusted]);
    given(settlementDecider, [...open, closed, adjusted]).when(command).then([]);
    given(settlementDecider, open).when(command).thenThrows(IllegalStateError, /is open/);
    given(settlementDecider, [...open, closed]).when({ ...command, amount: '0.00' }).thenThrows(InvalidCommandError, /zero/);
    given(settlementDecider, [...open, closed]).when({ ...command, amount: '1,5' }).thenThrows(InvalidCommandError, /decimal/);
  });
});

describe('settlement: e-clearing review of each CDR', () => {
  it('accepts or rejects a pending CDR', () => {
    given(settlementDecider, open).when(cmd('AcceptCdr', { cdrId: 'A', acceptedAt: at })).then([accepted]);
    given(settlementDecider, open).when(cmd('RejectCdr', { cdrId: 'A', reason: 'unknown token', rejectedAt: at })).then([rejected]);
  });

  it('approves or declines only after acceptance', () => {
    given(settlementDecider, open).when(cmd('ApproveCdr', { cdrId: 'A', approvedAt: at })).thenThrows(IllegalStateError, /CDR A is pending; this needs it accepted/);
    given(settlementDecider, [...open, accepted]).when(cmd('ApproveCdr', { cdrId: 'A', approvedAt: at })).then([eventFrom(CdrApproved, { cdrId: 'A', approvedAt: at })]);
    given(settlementDecider, [...open, accepted]).when(cmd('DeclineCdr', { cdrId: 'A', reason: 'price', declinedAt: at })).then([declined]);
    given(settlementDecider, [...open, rejected]).when(cmd('DeclineCdr', { cdrId: 'A', reason: 'x', declinedAt: at })).thenThrows(IllegalStateError, /rejected/);
  });

  it('refuses to accept twice, or to review a CDR not in the period', () => {
    given(settlementDecider, [...open, accepted]).when(cmd('AcceptCdr', { cdrId: 'A', acceptedAt: at })).thenThrows(IllegalStateError, /accepted; this needs it pending/);
    given(settlementDecider, open).when(cmd('AcceptCdr', { cdrId: 'Z', acceptedAt: at })).thenThrows(IllegalStateError, /not included/);
  });

  it('goes on reviewing after close', () => {
    given(settlementDecider, [...open, closed]).when(cmd('AcceptCdr', { cdrId: 'A', acceptedAt: at })).then([accepted]);
  });

  it('revises a rejected or declined CDR back to review, with new figures', () => {
    const revise = cmd('ReviseCdr', { cdrId: 'A', amount: '6.50', amountInclVat: '7.87', energyKwh: '20', reason: 'tariff fixed', revisedAt: at });
    const revised = eventFrom(CdrRevised, { cdrId: 'A', amount: '6.50', amountInclVat: '7.87', energyKwh: '20', reason: 'tariff fixed', revisedAt: at });
    given(settlementDecider, [...open, rejected]).when(revise).then([revised]);
    given(settlementDecider, [...open, accepted, declined]).when(revise).thenState((state) => {
      expect(currentCdrs(state)).toMatchObject([{ status: 'pending', summary: { cdrId: 'A', amount: '6.50', amountInclVat: '7.87' } }]);
    });
    given(settlementDecider, [...open, accepted]).when(revise).thenThrows(IllegalStateError, /accepted; this needs it rejected or declined/);
    given(settlementDecider, [...open, rejected, closed]).when(revise).thenThrows(IllegalStateError, /is closed/);
    given(settlementDecider, [...open, rejected, closed, disputed]).when(revise).then([revised]);
  });
});

describe('settlement: reconciliation', () => {
  it('records counts and mismatches against the partner list, after close', () => {
    const history = [...open, included(summary('B', '3.50', '10')), closed];
    given(settlementDecider, history)
      .when(cmd('ReconcileSettlement', { theirs: [summary('A', '7.10'), summary('C')], tolerance: { amount: '0.05', energyKwh: '0.1', timeSeconds: '0' }, reconciledAt: at }))
      .thenState((state, [event]) => {
        expect(event?.type).toBe('SettlementReconciled');
        expect(event?.type === 'SettlementReconciled' && event.data).toMatchObject({
          counts: { ours: 2, theirs: 2, matched: 1, missingOnOurSide: 1, missingOnTheirSide: 1, amountMismatches: 1, energyMismatches: 0 },
          missingOnOurSide: ['C'],
          missingOnTheirSide: ['B'],
          amountMismatches: [{ ourCdrId: 'A', theirCdrId: 'A', ours: '7', theirs: '7.1', difference: '-0.1' }],
          truncated: false,
        });
        expect(state.status !== 'none' && state.lastReconciliation?.counts.matched).toBe(1);
      });
  });

  it('reconciles with revised figures, and not while the period is open', () => {
    const revised = eventFrom(CdrRevised, { cdrId: 'A', amount: '7.10', amountInclVat: null, energyKwh: '20', reason: 'fix', revisedAt: at });
    given(settlementDecider, [...open, rejected, revised, closed])
      .when(cmd('ReconcileSettlement', { theirs: [summary('A', '7.10')], tolerance: { amount: '0', energyKwh: '0', timeSeconds: '0' }, reconciledAt: at }))
      .thenState((_state, [event]) => expect(event?.type === 'SettlementReconciled' && event.data.counts.amountMismatches).toBe(0));
    given(settlementDecider, open)
      .when(cmd('ReconcileSettlement', { theirs: [], tolerance: { amount: '0', energyKwh: '0', timeSeconds: '0' }, reconciledAt: at }))
      .thenThrows(IllegalStateError, /is open/);
  });
});

describe('settlement: reconciliation compares incl VAT, energy and time', () => {
  const ours = summary('A', '7.00', '20', { amountInclVat: '8.47', timeHours: '1' });
  const history = [opened, included(ours), eventFrom(SettlementPeriodClosed, { closedAt: at, cdrCount: 1, totalAmount: '7', totalAmountInclVat: '8.47', cdrsWithoutInclVat: 0, totalEnergyKwh: '20' })];
  const reconcileWith = (theirs: CdrSummary) => cmd('ReconcileSettlement', { theirs: [theirs], tolerance: defaultReconciliationTolerance, reconciledAt: at });

  it('records a statement with the same excl VAT and another incl VAT as an incl VAT mismatch', () => {
    given(settlementDecider, history)
      .when(reconcileWith({ ...ours, amountInclVat: '8.40' }))
      .thenState((_state, [event]) => {
        expect(event?.type === 'SettlementReconciled' && event.data).toMatchObject({
          tolerance: { amount: '0', energyKwh: '0.001', timeSeconds: '1' },
          counts: { matched: 1, amountMismatches: 0, amountInclVatMismatches: 1, energyMismatches: 0, timeMismatches: 0 },
          amountInclVatMismatches: [{ ourCdrId: 'A', ours: '8.47', theirs: '8.4', difference: '0.07' }],
        });
      });
  });

  it('records energy and time mismatches beyond their tolerances', () => {
    given(settlementDecider, history)
      .when(reconcileWith({ ...ours, energyKwh: '20.5', timeHours: '1.25' }))
      .thenState((_state, [event]) => {
        expect(event?.type === 'SettlementReconciled' && event.data).toMatchObject({
          counts: { amountMismatches: 0, amountInclVatMismatches: 0, energyMismatches: 1, timeMismatches: 1 },
          energyMismatches: [{ ours: '20', theirs: '20.5', difference: '-0.5' }],
          timeMismatches: [{ ours: '1', theirs: '1.25', difference: '-0.25' }],
        });
      });
  });
});

describe('settlement: events stored at v1 still replay', () => {
  const includedV1 = { cdrId: 'A', sessionId: 'S-A', startDateTime: '2025-03-01T10:00:00Z', amount: '7.00', energyKwh: '20', creditReferenceId: null, amountInclVat: '8.47', includedAt: at };

  it('upcasts CdrIncluded v1 with its incl VAT and an unknown time, which is then not compared', () => {
    const event = upcast('CdrIncluded', 1, includedV1) as SettlementEvent;
    expect(event).toEqual(eventFrom(CdrIncluded, { ...includedV1, timeHours: null }));
    given(settlementDecider, [opened, event, closed])
      .when(cmd('ReconcileSettlement', { theirs: [summary('A', '7.00', '20', { amountInclVat: '8.47', timeHours: '1' })], tolerance: defaultReconciliationTolerance, reconciledAt: at }))
      .thenState((_state, [reconciled]) => {
        expect(reconciled?.type === 'SettlementReconciled' && reconciled.data).toMatchObject({
          counts: { matched: 1, amountInclVatMismatches: 0, timeNotCompared: 1 },
          timeNotCompared: [{ ourCdrId: 'A', lacking: 'ours' }],
        });
      });
  });

  it('takes the same CDR included again after the upgrade as a retry, not a conflict', () => {
    const event = upcast('CdrIncluded', 1, includedV1) as SettlementEvent;
    given(settlementDecider, [opened, event]).when(include(summary('A', '7.00', '20', { amountInclVat: '8.47', timeHours: '1' }))).then([]);
    given(settlementDecider, [opened, event]).when(include(summary('A', '7.01', '20', { amountInclVat: '8.47', timeHours: '1' }))).thenThrows(IllegalStateError, /other figures/);
  });

  it('upcasts SettlementReconciled v1: time tolerance null, only amount and energy compared', () => {
    const counts = { ours: 1, theirs: 1, matched: 1, missingOnOurSide: 0, missingOnTheirSide: 0, amountMismatches: 1, energyMismatches: 0, duplicatesOnOurSide: 0, duplicatesOnTheirSide: 0 };
    const mismatch = { ourCdrId: 'A', theirCdrId: 'A', ours: '7', theirs: '7.1', difference: '-0.1' };
    const v1 = {
      reconciledAt: at, tolerance: { amount: '0', energyKwh: '0' }, counts,
      missingOnOurSide: [], missingOnTheirSide: [], amountMismatches: [mismatch], energyMismatches: [], duplicatesOnOurSide: [], duplicatesOnTheirSide: [], truncated: false,
    };
    const event = upcast('SettlementReconciled', 1, v1) as SettlementEvent;
    expect(event.schemaVersion).toBe(3);
    expect(event.data).toMatchObject({
      tolerance: { amount: '0', energyKwh: '0', timeSeconds: null }, compared: ['amount', 'energyKwh'], counts: { ...counts, amountInclVatMismatches: 0 }, amountMismatches: [mismatch],
      widenedTolerance: { energyKwh: null, timeHours: null }, differingDuplicates: null,
    });
    const state = [opened, included(summary('A')), closed, event].reduce(settlementDecider.evolve, settlementDecider.initialState());
    expect(state.status !== 'none' && state.lastReconciliation?.compared).toEqual(['amount', 'energyKwh']);
  });
});

describe('settlement: evolve', () => {
  it('crashes on a review event for a CDR never included', () => {
    const state = settlementDecider.evolve(settlementDecider.initialState(), opened);
    expect(() => settlementDecider.evolve(state, accepted)).toThrow(/invariant/);
  });
  it('crashes on an inclusion after close', () => {
    let state = settlementDecider.initialState();
    for (const event of [...open, closed]) state = settlementDecider.evolve(state, event);
    expect(() => settlementDecider.evolve(state, included(summary('B')))).toThrow(/invariant/);
  });
});
