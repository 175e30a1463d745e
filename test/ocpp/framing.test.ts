import { describe, expect, it } from 'vitest';
import { errorCodeFor, isValidErrorCode, type FailureKind } from '../../ocpp/errors.js';
import { encodeCallError, parseFrame } from '../../ocpp/framing.js';
import { ocppErrorDescriptionCharsMax, ocppMessageIdCharsMax } from '../../ocpp/limits.js';

describe('OCPP-J framing', () => {
  it('reads the three message types of OCPP-J 1.6 and 2.0.1', () => {
    expect(parseFrame('[2,"a","Heartbeat",{}]')).toEqual({ ok: true, frame: { type: 'call', messageId: 'a', action: 'Heartbeat', payload: {} } });
    expect(parseFrame('[3,"a",{"x":1}]')).toEqual({ ok: true, frame: { type: 'callResult', messageId: 'a', payload: { x: 1 } } });
    expect(parseFrame('[4,"a","GenericError","d",{}]')).toMatchObject({ ok: true, frame: { type: 'callError', code: 'GenericError' } });
    expect(parseFrame('[4,"a","GenericError","d"]')).toMatchObject({ ok: true, frame: { details: {} } });
  });

  it(`accepts message ids up to ocppMessageIdCharsMax (${ocppMessageIdCharsMax}) characters`, () => {
    expect(parseFrame(JSON.stringify([2, 'i'.repeat(ocppMessageIdCharsMax), 'Heartbeat', {}])).ok).toBe(true);
    expect(parseFrame(JSON.stringify([2, 'i'.repeat(ocppMessageIdCharsMax + 1), 'Heartbeat', {}]))).toMatchObject({ ok: false, fault: { messageId: '-1', kind: 'unreadable' } });
    expect(parseFrame('[2,"","Heartbeat",{}]')).toMatchObject({ ok: false, fault: { messageId: '-1' } });
  });

  it('never answers a broken CALLRESULT or CALLERROR (there is no CALL to answer)', () => {
    expect(parseFrame('[3,"a"]')).toMatchObject({ ok: false, fault: { answer: false } });
    expect(parseFrame('[4,"a",1,"d",{}]')).toMatchObject({ ok: false, fault: { answer: false } });
    expect(parseFrame('[3,7,{}]')).toMatchObject({ ok: false, fault: { answer: false } });
    expect(parseFrame('[6,"a","X",{}]')).toMatchObject({ ok: false, fault: { kind: 'unknownMessageType', answer: true } });
  });

  it(`cuts error descriptions to ocppErrorDescriptionCharsMax (${ocppErrorDescriptionCharsMax})`, () => {
    const [, , , description] = JSON.parse(encodeCallError('a', 'GenericError', 'd'.repeat(1000))) as string[];
    expect(description).toHaveLength(ocppErrorDescriptionCharsMax);
    expect(JSON.parse(encodeCallError('a', 'GenericError', 'short', 'not an object'))).toEqual([4, 'a', 'GenericError', 'short', {}]);
  });

  it('spells every failure with a code its version defines', () => {
    const kinds: FailureKind[] = ['unreadable', 'badFrame', 'unknownMessageType', 'payloadSyntax', 'occurrence', 'type', 'property', 'notImplemented', 'notSupported', 'internal', 'tooManyCalls'];
    for (const kind of kinds) {
      expect(isValidErrorCode(errorCodeFor(kind, 'ocpp1.6'), 'ocpp1.6')).toBe(true);
      expect(isValidErrorCode(errorCodeFor(kind, 'ocpp2.0.1'), 'ocpp2.0.1')).toBe(true);
    }
    expect(errorCodeFor('occurrence', 'ocpp1.6')).toBe('OccurenceConstraintViolation'); // sic, OCPP-J 1.6 §4.2.3
    expect(errorCodeFor('occurrence', 'ocpp2.0.1')).toBe('OccurrenceConstraintViolation');
    expect(errorCodeFor('payloadSyntax', 'ocpp1.6')).toBe('FormationViolation');
    expect(errorCodeFor('payloadSyntax', 'ocpp2.0.1')).toBe('FormatViolation');
    expect(isValidErrorCode('RpcFrameworkError', 'ocpp1.6')).toBe(false);
  });
});
