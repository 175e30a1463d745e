import { IllegalStateError } from '../../../domain/shared/errors.js';
import type { IdToken } from '../../../domain/shared/values.js';
import type { TransactionEventData } from '../../../domain/transaction/events.js';
import { decideAuthorization, type AuthorizationDecision } from './authorization.js';
import { eventData, type Translation } from './context.js';

/**
 * Decides a token's authorization and records it as TransactionAuthorized on `aggregateId`. The
 * answer is the recorded result: on a repeated CALL, the one recorded then, so the station hears
 * the same thing twice even if the token changed in between.
 */
export async function authorizeAndRecord(
  translation: Translation,
  options: { idToken: IdToken; at: string; aggregateId: string; commandId: string; evseId?: number | null },
): Promise<AuthorizationDecision> {
  const decision = await decideAuthorization(translation, options.idToken, options.at);
  try {
    const result = await translation.send(
      {
        type: 'AuthorizeTransaction',
        stationId: translation.stationId,
        evseId: options.evseId ?? null,
        idToken: options.idToken,
        result: decision.result,
        basis: decision.basis,
        authorizedAt: options.at,
      },
      options.aggregateId,
      options.commandId,
      options.at,
    );
    const recorded = eventData<TransactionEventData<'TransactionAuthorized'>>(result, 'TransactionAuthorized');
    // v1 events (before the basis was kept) read as basis null: keep today's decision's then.
    return recorded ? { ...decision, result: recorded.result, basis: recorded.basis ?? decision.basis } : decision;
  } catch (error) {
    // The transaction has ended (a stop arriving with its token, a late retry): the answer still
    // matters to the station's cache, the record does not belong to an ended session.
    if (error instanceof IllegalStateError) {
      translation.unrecorded(`authorization not recorded: ${error.message}`);
      return decision;
    }
    throw error;
  }
}

/**
 * For transaction messages (1.6 MeterValues/StopTransaction, 2.0.1 TransactionEvent): a state
 * refusal (reading sampled after the end, a second end with other facts) can never succeed, and a
 * CALLERROR would only make the station retry it (1.6 §4.7, 2.0.1 E14 message attempts) while its
 * queue waits. So it is answered as received and reported as unrecorded; content errors
 * (InvalidCommandError) still become CALLERRORs.
 */
export async function recordOrReport(translation: Translation, what: string, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof IllegalStateError)) throw error;
    translation.unrecorded(`${what} refused: ${error.message}`);
  }
}
