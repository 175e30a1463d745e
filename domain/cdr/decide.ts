import { assertNever } from '../shared/assert.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import { normalizeTimestamp, sameJson } from '../shared/values.js';
import type { CdrCommand, CreditCdr, IssueCdr, ReissueCdr } from './commands.js';
import { CdrCredited, CdrIssued, CdrReissued, cdrIdSchema, type CdrEvent, type IssuedCdr } from './events.js';
import { ocpiCdrSchema } from './ocpi.js';
import type { CdrState } from './state.js';
import { checkCdrRules } from './validate.js';

const reasonLengthMax = 255;

export function decideCdr(command: CdrCommand, state: CdrState): CdrEvent[] {
  switch (command.type) {
    case 'IssueCdr':
      return issue(command, state);
    case 'CreditCdr':
      return credit(command, state);
    case 'ReissueCdr':
      return reissue(command, state);
    default:
      return assertNever(command, 'cdr command');
  }
}

function issue(command: IssueCdr, state: CdrState): CdrEvent[] {
  const parsed = ocpiCdrSchema.safeParse(command.cdr);
  if (!parsed.success) throw new InvalidCommandError(`not a valid OCPI CDR: ${parsed.error.message}`, command.type);
  const data: IssuedCdr = {
    cdr: parsed.data,
    transactionId: command.transactionId,
    tenantId: command.tenantId,
    tariffVersionId: command.tariffVersionId,
    replacesCdrId: command.replacesCdrId ?? null,
  };
  const links = CdrIssued.schema.safeParse(data);
  if (!links.success) throw new InvalidCommandError(`invalid CDR links: ${links.error.message}`, command.type);
  checkCdrRules(data.cdr, command.type);
  if (data.cdr.credit === true && data.replacesCdrId !== null) {
    throw new InvalidCommandError('a credit CDR replaces nothing: replacesCdrId is for the corrected CDR', command.type);
  }
  if (data.replacesCdrId === data.cdr.id) throw new InvalidCommandError('a CDR cannot replace itself', command.type);

  if (state.status === 'issued') {
    // A CDR never changes (OCPI 2.2.1 §10): the same CDR again is a retry, anything else is refused.
    if (sameJson(state.issued, data)) return [];
    throw new IllegalStateError(`CDR ${state.issued.cdr.id} is already issued and cannot change: credit it and issue a new one`, command.type);
  }
  return [eventFrom(CdrIssued, data)];
}

/** The issued, uncredited, non-credit CDR a credit applies to; refuses otherwise. */
function creditable(state: CdrState, commandType: string): IssuedCdr {
  if (state.status !== 'issued') throw new IllegalStateError('no CDR issued on this stream', commandType);
  if (state.issued.cdr.credit === true) {
    throw new IllegalStateError(`CDR ${state.issued.cdr.id} is a credit CDR: a credit cannot be credited`, commandType);
  }
  if (state.credited !== null) {
    throw new IllegalStateError(`CDR ${state.issued.cdr.id} is already credited by ${state.credited.creditCdrId}`, commandType);
  }
  return state.issued;
}

function checkId(id: string, field: string, original: IssuedCdr, commandType: string): void {
  if (!cdrIdSchema.safeParse(id).success) throw new InvalidCommandError(`${field} must be 1 to 39 characters`, commandType);
  if (id === original.cdr.id) throw new InvalidCommandError(`${field} must differ from the original CDR id ${id}`, commandType);
}

function checkReason(reason: string | null | undefined, commandType: string): string | null {
  if (reason === undefined || reason === null) return null;
  if (reason.length === 0 || reason.length > reasonLengthMax) {
    throw new InvalidCommandError(`reason must be 1 to ${reasonLengthMax} characters`, commandType);
  }
  return reason;
}

function credit(command: CreditCdr, state: CdrState): CdrEvent[] {
  const creditedAt = normalizeTimestamp(command.creditedAt, 'creditedAt', command.type);
  const reason = checkReason(command.reason, command.type);
  if (state.status === 'issued' && state.credited !== null && state.reissued === null) {
    // The same credit again is a retry of the command that recorded it.
    const again = { cdrId: state.issued.cdr.id, creditCdrId: command.creditCdrId, creditedAt, reason };
    if (sameJson(state.credited, again)) return [];
  }
  const original = creditable(state, command.type);
  checkId(command.creditCdrId, 'creditCdrId', original, command.type);
  return [eventFrom(CdrCredited, { cdrId: original.cdr.id, creditCdrId: command.creditCdrId, creditedAt, reason })];
}

function reissue(command: ReissueCdr, state: CdrState): CdrEvent[] {
  const reissuedAt = normalizeTimestamp(command.reissuedAt, 'reissuedAt', command.type);
  const reason = checkReason(command.reason, command.type);
  if (state.status === 'issued' && state.credited !== null && state.reissued !== null) {
    const retry =
      sameJson(state.credited, { cdrId: state.issued.cdr.id, creditCdrId: command.creditCdrId, creditedAt: reissuedAt, reason }) &&
      state.reissued.replacementCdrId === command.replacementCdrId;
    if (retry) return [];
  }
  const original = creditable(state, command.type);
  checkId(command.creditCdrId, 'creditCdrId', original, command.type);
  checkId(command.replacementCdrId, 'replacementCdrId', original, command.type);
  if (command.replacementCdrId === command.creditCdrId) {
    throw new InvalidCommandError('the credit CDR and the corrected CDR need different ids', command.type);
  }
  const cdrId = original.cdr.id;
  return [
    eventFrom(CdrCredited, { cdrId, creditCdrId: command.creditCdrId, creditedAt: reissuedAt, reason }),
    eventFrom(CdrReissued, { cdrId, replacementCdrId: command.replacementCdrId, reissuedAt }),
  ];
}
