import { assertNever, invariant } from '../shared/assert.js';
import type { CdrEvent, CdrEventData, IssuedCdr } from './events.js';

export type CdrState =
  | { readonly status: 'none' }
  | {
      readonly status: 'issued';
      readonly issued: IssuedCdr;
      /** Set once the CDR was credited: by which credit CDR. */
      readonly credited: CdrEventData<'CdrCredited'> | null;
      readonly reissued: CdrEventData<'CdrReissued'> | null;
    };

export const initialCdrState = (): CdrState => ({ status: 'none' });

export function evolveCdr(state: CdrState, event: CdrEvent): CdrState {
  switch (event.type) {
    case 'CdrIssued':
      invariant(state.status === 'none', `CdrIssued on an issued CDR stream (${event.data.cdr.id})`);
      return { status: 'issued', issued: event.data, credited: null, reissued: null };
    case 'CdrCredited':
      invariant(state.status === 'issued' && state.credited === null, `CdrCredited on a CDR not issued or already credited (${event.data.cdrId})`);
      return { ...state, credited: event.data };
    case 'CdrReissued':
      invariant(state.status === 'issued' && state.credited !== null && state.reissued === null, `CdrReissued without CdrCredited (${event.data.cdrId})`);
      return { ...state, reissued: event.data };
    default:
      return assertNever(event, 'cdr event');
  }
}
