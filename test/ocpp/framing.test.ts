import { describe, expect, it } from 'vitest';
import { errorCodeFor, isValidErrorCode, type FailureKind } from '../../ocpp/errors.js';
import { encodeCallError, findNonFiniteNumber, findUnstorableString, jsonNestingExceeds, parseFrame, recordableText } from '../../ocpp/framing.js';
import { ocppErrorDescriptionCharsMax, ocppJsonDepthMax, ocppMessageIdCharsMax } from '../../ocpp/limits.js';

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

describe('OCPP-J framing: hostile content (issue 9)', () => {
  it(`counts nesting on the raw text, skipping brackets inside strings (limit ocppJsonDepthMax = ${ocppJsonDepthMax})`, () => {
    expect(jsonNestingExceeds('[[[]]]', 3)).toBe(false);
    expect(jsonNestingExceeds('[[[[]]]]', 3)).toBe(true);
    expect(jsonNestingExceeds('[{"a":{}}]', 3)).toBe(false);
    expect(jsonNestingExceeds('[{"a":{"b":[]}}]', 3)).toBe(true);
    expect(jsonNestingExceeds('["[[[[", "\\"[[[["]', 1)).toBe(false); // escaped quotes do not end the string
    expect(jsonNestingExceeds('["\\\\", [[[]]]]', 3)).toBe(true); // an escaped backslash does
    expect(jsonNestingExceeds(`${'['.repeat(1_000_000)}`, ocppJsonDepthMax)).toBe(true);
  });

  it('answers a too-deep CALL with its own id when the start of the frame can be read', () => {
    const deep = (prefix: string) => `${prefix}{"a":${'['.repeat(50)}${']'.repeat(50)}}]`;
    expect(parseFrame(deep('[2,"d1","Heartbeat",'))).toMatchObject({ ok: false, fault: { kind: 'payloadSyntax', messageId: 'd1', answer: true } });
    expect(parseFrame(deep(' [ 2 , "d\\u0031" ,"Heartbeat",'))).toMatchObject({ ok: false, fault: { messageId: 'd1' } });
    expect(parseFrame(deep('[3,"d2",'))).toMatchObject({ ok: false, fault: { answer: false } });
    expect(parseFrame(deep('[2,17,"Heartbeat",'))).toMatchObject({ ok: false, fault: { kind: 'payloadSyntax', messageId: '-1', answer: true } });
    // At the limit it parses.
    const levels = ocppJsonDepthMax - 2;
    expect(parseFrame(`[2,"ok","DataTransfer",{"data":${'['.repeat(levels)}${']'.repeat(levels)}}]`).ok).toBe(true);
  });

  it('finds U+0000 and lone surrogates in values and property names, iteratively, and keeps surrogate pairs', () => {
    expect(findUnstorableString({ a: ['x', { b: 'ok 😀' }] })).toBeUndefined();
    expect(findUnstorableString({ a: ['x', { b: 'n\u0000' }] })).toBe('/a/1/b');
    expect(findUnstorableString({ a: { 'k\ud800': 1 } })).toBe('/a/(property name)');
    expect(findUnstorableString({ a: '\udfff' })).toBe('/a');
    let deep: unknown = 'end\u0000';
    for (let i = 0; i < 20_000; i++) deep = [deep]; // far past any stack a recursive walk could use
    expect(findUnstorableString(deep)).toMatch(/^\/0\/0/);
    expect(parseFrame('[2,"s1","Authorize",{"idTag":"a\\u0000"}]')).toMatchObject({ ok: false, fault: { kind: 'property', messageId: 's1', answer: true } });
    expect(parseFrame('[2,"s\\ud800","Heartbeat",{}]')).toMatchObject({ ok: false, fault: { kind: 'unreadable', messageId: '-1' } });
    expect(parseFrame('[3,"s2",{"a":"\\udc00"}]')).toMatchObject({ ok: false, fault: { kind: 'property', answer: false } });
    expect(parseFrame('[4,"s3","GenericError","d",{"x":"\\u0000"}]')).toMatchObject({ ok: false, fault: { description: expect.stringMatching(/^errorDetails\/x/), answer: false } });
  });

  it('refuses numbers JSON.parse reads as infinity (1e999) with PropertyConstraintViolation; keeps -0 and 1e-400 (they read as 0)', () => {
    expect(findNonFiniteNumber({ a: [1, { b: -0, c: 1e-300 }] })).toBeUndefined();
    expect(findNonFiniteNumber({ a: [1, { b: Number.NEGATIVE_INFINITY }] })).toBe('/a/1/b');
    expect(parseFrame('[2,"n1","StatusNotification",{"connectorId":1e999,"errorCode":"NoError","status":"Available"}]')).toMatchObject({
      ok: false,
      fault: { kind: 'property', messageId: 'n1', answer: true, description: expect.stringMatching(/^payload\/connectorId /) },
    });
    expect(parseFrame('[2,"n2","DataTransfer",{"vendorId":"v","data":[-1e400]}]')).toMatchObject({ ok: false, fault: { kind: 'property', messageId: 'n2' } });
    expect(parseFrame('[3,"n3",{"a":1e999}]')).toMatchObject({ ok: false, fault: { kind: 'property', answer: false } });
    expect(parseFrame('[4,"n4","GenericError","d",{"x":1e999}]')).toMatchObject({ ok: false, fault: { answer: false } });
    expect(parseFrame('[2,"n5","StatusNotification",{"connectorId":-0,"errorCode":"NoError","status":"Available","n":1e-400}]').ok).toBe(true);
  });

  it('records refused frames in storable characters only', () => {
    expect(recordableText('a\u0000b\ud800c😀', 100)).toBe('a\uFFFDb\uFFFDc😀');
    expect(recordableText('ab😀', 3)).toBe('ab\uFFFD'); // the cut left half a pair
  });
});
