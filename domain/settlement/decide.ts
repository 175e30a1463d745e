import { Money, decimalString, isCurrencyCode, toDecimalString } from '../cdr/money.js';
import { assertNever } from '../shared/assert.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import { normalizeTimestamp, sameJson } from '../shared/values.js';
import type { AdjustSettlement, IncludeCdr, OpenSettlementPeriod, ReconcileSettlement, ReviseCdr, SettlementCommand } from './commands.js';
import {
  CdrAccepted, CdrApproved, CdrDeclined, CdrIncluded, CdrRejected, CdrRevised, SettlementAdjusted, SettlementDisputed,
  SettlementPeriodClosed, SettlementPeriodOpened, cdrsPerPeriodMax, type SettlementEvent,
} from './events.js';
import { reconciledEvent } from './reconciled.js';
import { currentCdrs, findCdr, type CdrReviewStatus, type OpenedSettlement, type PeriodStatus, type SettlementState } from './state.js';

const reasonLengthMax = 500;

export function decideSettlement(command: SettlementCommand, state: SettlementState): SettlementEvent[] {
  const at = (value: string, field: string) => normalizeTimestamp(value, field, command.type);
  switch (command.type) {
    case 'OpenSettlementPeriod':
      return open(command, state);
    case 'IncludeCdr':
      return include(command, period(state, command.type, ['open']));
    case 'CloseSettlementPeriod':
      return [closedWithTotals(period(state, command.type, ['open']), at(command.closedAt, 'closedAt'))];
    case 'DisputeSettlement':
      period(state, command.type, ['closed']);
      return [eventFrom(SettlementDisputed, { reason: reason(command.reason, command.type), disputedAt: at(command.disputedAt, 'disputedAt') })];
    case 'AdjustSettlement':
      return adjust(command, state);
    case 'AcceptCdr':
      review(state, command.type, command.cdrId, ['pending']);
      return [eventFrom(CdrAccepted, { cdrId: command.cdrId, acceptedAt: at(command.acceptedAt, 'acceptedAt') })];
    case 'RejectCdr':
      review(state, command.type, command.cdrId, ['pending']);
      return [eventFrom(CdrRejected, { cdrId: command.cdrId, reason: reason(command.reason, command.type), rejectedAt: at(command.rejectedAt, 'rejectedAt') })];
    case 'ApproveCdr':
      review(state, command.type, command.cdrId, ['accepted']);
      return [eventFrom(CdrApproved, { cdrId: command.cdrId, approvedAt: at(command.approvedAt, 'approvedAt') })];
    case 'DeclineCdr':
      review(state, command.type, command.cdrId, ['accepted']);
      return [eventFrom(CdrDeclined, { cdrId: command.cdrId, reason: reason(command.reason, command.type), declinedAt: at(command.declinedAt, 'declinedAt') })];
    case 'ReviseCdr':
      return revise(command, state);
    case 'ReconcileSettlement':
      return reconcileCommand(command, period(state, command.type, ['closed', 'disputed']));
    default:
      return assertNever(command, 'settlement command');
  }
}

/** The period's totals; incl VAT only when every CDR states it (never excl VAT counted as incl). */
function closedWithTotals(opened: OpenedSettlement, closedAt: string): SettlementEvent {
  const cdrs = currentCdrs(opened).map((cdr) => cdr.summary);
  const sum = (values: readonly string[]) => toDecimalString(values.reduce((total, value) => total.plus(value), new Money(0)));
  const inclVat = cdrs.flatMap((cdr) => (cdr.amountInclVat === null ? [] : [cdr.amountInclVat]));
  const cdrsWithoutInclVat = cdrs.length - inclVat.length;
  return eventFrom(SettlementPeriodClosed, {
    closedAt,
    cdrCount: cdrs.length,
    totalAmount: sum(cdrs.map((cdr) => cdr.amount)),
    totalAmountInclVat: cdrsWithoutInclVat === 0 ? sum(inclVat) : null,
    cdrsWithoutInclVat,
    totalEnergyKwh: sum(cdrs.map((cdr) => cdr.energyKwh)),
  });
}

function period(state: SettlementState, commandType: string, allowed: readonly PeriodStatus[]): OpenedSettlement {
  if (state.status === 'none') throw new IllegalStateError('no settlement period opened', commandType);
  if (!allowed.includes(state.status)) {
    throw new IllegalStateError(`the period ${state.opened.period} is ${state.status}; this needs it ${allowed.join(' or ')}`, commandType);
  }
  return state;
}

/**
 * The e-clearing review order: accept or reject a pending CDR, approve or decline an accepted one,
 * revise a rejected or declined one. Reviews go on after close (partners review the statement),
 * so only the CDR's own status is checked.
 */
function review(state: SettlementState, commandType: string, cdrId: string, allowed: readonly CdrReviewStatus[]) {
  const opened = period(state, commandType, ['open', 'closed', 'disputed']);
  const cdr = findCdr(opened, cdrId);
  if (!cdr) throw new IllegalStateError(`CDR ${cdrId} is not included in this period`, commandType);
  if (!allowed.includes(cdr.status)) throw new IllegalStateError(`CDR ${cdrId} is ${cdr.status}; this needs it ${allowed.join(' or ')}`, commandType);
  return cdr;
}

function reason(value: string, commandType: string): string {
  if (value.length === 0 || value.length > reasonLengthMax) throw new InvalidCommandError(`reason must be 1 to ${reasonLengthMax} characters`, commandType);
  return value;
}

function amount(value: string, field: string, commandType: string): string {
  if (!decimalString.safeParse(value).success) throw new InvalidCommandError(`${field} is not a decimal string: ${value}`, commandType);
  return value;
}

function open(command: OpenSettlementPeriod, state: SettlementState): SettlementEvent[] {
  if (!isCurrencyCode(command.currency)) throw new InvalidCommandError(`currency ${command.currency} is not ISO 4217`, command.type);
  const data = { partner: command.partner, period: command.period, currency: command.currency, openedAt: normalizeTimestamp(command.openedAt, 'openedAt', command.type) };
  const parsed = SettlementPeriodOpened.schema.safeParse(data);
  if (!parsed.success) throw new InvalidCommandError(`invalid period: ${parsed.error.message}`, command.type);
  if (state.status !== 'none') {
    if (sameJson(state.opened, data)) return [];
    throw new IllegalStateError(`the period ${state.opened.period} of ${state.opened.partner} is already opened`, command.type);
  }
  return [eventFrom(SettlementPeriodOpened, data)];
}

function include(command: IncludeCdr, state: OpenedSettlement): SettlementEvent[] {
  if (command.currency !== state.opened.currency) {
    throw new InvalidCommandError(`CDR ${command.cdr.cdrId} is in ${command.currency}, the period in ${state.opened.currency}`, command.type);
  }
  const data = { ...command.cdr, includedAt: normalizeTimestamp(command.includedAt, 'includedAt', command.type) };
  const parsed = CdrIncluded.schema.safeParse(data);
  if (!parsed.success) throw new InvalidCommandError(`invalid CDR summary: ${parsed.error.message}`, command.type);
  const existing = findCdr(state, data.cdrId);
  if (existing) {
    // The same CDR again is a retry, whenever it is included; the same CDR with other figures is
    // a conflict. An inclusion stored before the time was kept (v1, timeHours null) is the same one.
    const comparable = { ...data, includedAt: existing.included.includedAt, ...(existing.included.timeHours === null ? { timeHours: null } : {}) };
    if (sameJson(existing.included, comparable)) return [];
    throw new IllegalStateError(`CDR ${data.cdrId} is already included with other figures`, command.type);
  }
  if (state.cdrCount >= cdrsPerPeriodMax) throw new IllegalStateError(`the period has the most CDRs allowed (${cdrsPerPeriodMax})`, command.type);
  return [eventFrom(CdrIncluded, parsed.data)];
}

function adjust(command: AdjustSettlement, state: SettlementState): SettlementEvent[] {
  const opened = period(state, command.type, ['closed', 'disputed']);
  const data = {
    adjustmentEntryId: command.adjustmentEntryId,
    amount: amount(command.amount, 'amount', command.type),
    reason: reason(command.reason, command.type),
    adjustedAt: normalizeTimestamp(command.adjustedAt, 'adjustedAt', command.type),
  };
  if (new Money(data.amount).isZero()) throw new InvalidCommandError('an adjustment of zero adjusts nothing', command.type);
  const parsed = SettlementAdjusted.schema.safeParse(data);
  if (!parsed.success) throw new InvalidCommandError(`invalid adjustment: ${parsed.error.message}`, command.type);
  const existing = opened.adjustments.find((adjustment) => adjustment.adjustmentEntryId === data.adjustmentEntryId);
  if (existing) {
    if (sameJson(existing, data) && opened.status === 'closed') return [];
    throw new IllegalStateError(`adjustment ${data.adjustmentEntryId} is already recorded`, command.type);
  }
  return [eventFrom(SettlementAdjusted, parsed.data)];
}

function revise(command: ReviseCdr, state: SettlementState): SettlementEvent[] {
  // Closed totals are final: revising a CDR of a closed period starts with a dispute.
  period(state, command.type, ['open', 'disputed']);
  review(state, command.type, command.cdrId, ['rejected', 'declined']);
  const data = {
    cdrId: command.cdrId,
    amount: amount(command.amount, 'amount', command.type),
    amountInclVat: command.amountInclVat === null ? null : amount(command.amountInclVat, 'amountInclVat', command.type),
    energyKwh: amount(command.energyKwh, 'energyKwh', command.type),
    reason: reason(command.reason, command.type),
    revisedAt: normalizeTimestamp(command.revisedAt, 'revisedAt', command.type),
  };
  return [eventFrom(CdrRevised, data)];
}

function reconcileCommand(command: ReconcileSettlement, state: OpenedSettlement): SettlementEvent[] {
  const reconciledAt = normalizeTimestamp(command.reconciledAt, 'reconciledAt', command.type);
  const ours = currentCdrs(state).map((cdr) => cdr.summary);
  return [reconciledEvent(ours, command.theirs, command.tolerance, reconciledAt)];
}
