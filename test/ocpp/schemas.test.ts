import { describe, expect, it } from 'vitest';
import { OcppSchemas, ocppSchemas } from '../../ocpp/schemas.js';

describe('OCA schemas', () => {
  const schemas = ocppSchemas();

  it('are loaded once per process', () => {
    expect(ocppSchemas()).toBe(schemas);
  });

  // A schema compiles on its action's first message (ocpp/schemas.ts); this compiles them all,
  // so a bundled schema that cannot compile fails here rather than at some station's message.
  it('every bundled schema compiles: requests and responses of both versions', () => {
    expect(OcppSchemas.load().compileAll()).toBe(206);
  });

  it('know every action of both versions and who sends it', () => {
    expect(schemas.knows('ocpp1.6', 'StartTransaction')).toBe(true);
    expect(schemas.knows('ocpp2.0.1', 'StartTransaction')).toBe(false);
    expect(schemas.knows('ocpp2.0.1', 'TransactionEvent')).toBe(true);
    expect(schemas.isStationInitiated('ocpp2.0.1', 'TransactionEvent')).toBe(true);
    expect(schemas.isCsmsInitiated('ocpp2.0.1', 'TransactionEvent')).toBe(false);
    expect(schemas.isCsmsInitiated('ocpp1.6', 'RemoteStartTransaction')).toBe(true);
    expect(schemas.isCsmsInitiated('ocpp1.6', 'DataTransfer')).toBe(true);
    expect(schemas.isStationInitiated('ocpp1.6', 'DataTransfer')).toBe(true);
  });

  it('check both directions, responses included', () => {
    expect(schemas.validate('ocpp1.6', 'Heartbeat', 'Response', { currentTime: '2024-01-01T00:00:00Z' })).toBeNull();
    expect(schemas.validate('ocpp1.6', 'Heartbeat', 'Response', { currentTime: 'yesterday' })).toMatchObject({ code: 'PropertyConstraintViolation' });
    expect(schemas.validate('ocpp2.0.1', 'Reset', 'Request', { type: 'Soft' })).toMatchObject({ code: 'PropertyConstraintViolation' });
    expect(schemas.validate('ocpp2.0.1', 'Reset', 'Request', { type: 'Immediate' })).toBeNull();
    // 2.0.1 customData may carry vendor properties (the OCA schemas leave it open).
    expect(schemas.validate('ocpp2.0.1', 'Heartbeat', 'Request', { customData: { vendorId: 'x', anything: 1 } })).toBeNull();
    expect(schemas.validate('ocpp2.0.1', 'Heartbeat', 'Request', { customData: {} })).toMatchObject({ code: 'OccurrenceConstraintViolation' });
  });
});
