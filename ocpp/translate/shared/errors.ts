import { CommandBusOverloadedError } from '../../../commands/bus.js';
import { IllegalStateError, InvalidCommandError } from '../../../domain/shared/errors.js';
import { OcppCallError } from '../../errors.js';

/**
 * Domain refusals and overload, as CALLERRORs. Where a message has a spec-valid negative answer
 * (Authorize/StartTransaction idTagInfo, BootNotification Rejected) the translators give it
 * before reaching this; what lands here has none. Both versions spell these codes alike.
 *
 * | thrown                         | CALLERROR                   | why                                                        |
 * |--------------------------------|-----------------------------|------------------------------------------------------------|
 * | CommandBusOverloadedError      | InternalError "busy"        | transient: the station retries the CALL later              |
 * | InvalidCommandError            | PropertyConstraintViolation | the content breaks a domain rule a schema cannot express   |
 * | IllegalStateError (boot rejected) | SecurityError            | a Rejected station may only send BootNotification (1.6 §4.2, 2.0.1 B03) |
 * | IllegalStateError (other)      | GenericError                | the content is fine but the aggregate's state refuses it    |
 * Transaction messages (1.6 MeterValues/StopTransaction, 2.0.1 TransactionEvent) catch IllegalStateError
 * first (refusals.ts `recordOrRefuse`): recorded as a refusal, answered positively (a retry cannot
 * succeed) or, for another station's transaction, with SecurityError.
 * | anything else                  | rethrown: the gateway answers InternalError and logs it     |
 */
export function toOcppCallError(error: unknown): unknown {
  if (error instanceof OcppCallError) return error;
  if (error instanceof CommandBusOverloadedError) {
    return new OcppCallError('InternalError', 'CSMS busy, retry later', { pending: error.pending });
  }
  if (error instanceof InvalidCommandError) return new OcppCallError('PropertyConstraintViolation', error.message);
  if (error instanceof IllegalStateError) {
    if (/boot was rejected/.test(error.message)) return new OcppCallError('SecurityError', 'station boot was rejected: send BootNotification');
    return new OcppCallError('GenericError', error.message);
  }
  return error;
}
