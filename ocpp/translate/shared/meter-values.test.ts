import { describe, expect, it } from 'vitest';
import { sampledValuesPerReadingMax } from '../../../domain/transaction/events.js';
import { energyRegisterWhMax, energyWh, readingsFrom16, readingsFrom201, registerWithContext201 } from './meter-values.js';

describe('meter values', () => {
  it('energy register in Wh from Wh or kWh and a power-of-ten multiplier; other units are not a register', () => {
    expect(energyWh('1234.5', undefined)?.toFixed()).toBe('1234.5');
    expect(energyWh('1.2345', 'kWh')?.toFixed()).toBe('1234.5');
    expect(energyWh(12, 'Wh', 3)?.toFixed()).toBe('12000');
    expect(energyWh(12.5, 'kWh', -1)?.toFixed()).toBe('1250');
    expect(energyWh('5', 'varh')).toBeNull();
    expect(energyWh('-1', 'Wh')).toBeNull();
    expect(energyWh('abc', 'Wh')).toBeNull();
  });

  it('a register that could not be spelled out cheaply is not a register: beyond 10 TWh refused, beyond 1 nWh rounded', () => {
    const started = Date.now();
    // "1e100000000" spelled out (toFixed) used to take ~34 s of the event loop and 100 MB.
    expect(energyWh('1e100000000', 'Wh')).toBeNull();
    expect(energyWh('1e1000000000', 'kWh')).toBeNull();
    expect(energyWh(1, 'Wh', 2_147_483_647)).toBeNull();
    expect(energyWh(energyRegisterWhMax.toFixed(), 'Wh')?.toFixed()).toBe('10000000000000');
    expect(energyWh('1e-100000000', 'Wh')?.toFixed()).toBe('0');
    expect(energyWh(1.5, 'Wh', -2_147_483_647)?.toFixed()).toBe('0');
    expect(energyWh('1234.56789012345', 'Wh')?.toFixed()).toBe('1234.567890123');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('a phase register is not the total register', () => {
    const [reading] = readingsFrom16([{ timestamp: '2025-01-01T00:00:00Z', sampledValue: [{ value: '10', phase: 'L1' }] }]);
    expect(reading?.registerWh).toBeNull();
    expect(reading?.sampledValues).toHaveLength(1);
  });

  it('2.0.1 signed meter values are kept verbatim as signed data', () => {
    const signedMeterValue = { signedMeterData: 'b64', signingMethod: 'ECDSA', encodingMethod: 'OCMF', publicKey: 'pk' };
    const [reading] = readingsFrom201([{ timestamp: '2025-01-01T00:00:00Z', sampledValue: [{ value: 100, signedMeterValue }] }]);
    expect(reading).toMatchObject({ registerWh: expect.anything(), signedData: signedMeterValue });
    expect(reading?.registerWh?.toFixed()).toBe('100');
  });

  it('more sampled values than a reading holds are split; the register goes with the first', () => {
    const sampledValue = Array.from({ length: sampledValuesPerReadingMax + 5 }, (_, i) => ({ value: i, measurand: i === 0 ? undefined : 'Voltage' }));
    const readings = readingsFrom201([{ timestamp: '2025-01-01T00:00:00Z', sampledValue }]);
    expect(readings.map((r) => r.sampledValues?.length)).toEqual([sampledValuesPerReadingMax, 5]);
    expect(readings[0]?.registerWh?.toFixed()).toBe('0');
    expect(readings[1]?.registerWh).toBeUndefined();
  });

  it('the register with a context', () => {
    const meterValue = [{ timestamp: 't', sampledValue: [{ value: 1, context: 'Sample.Periodic' }, { value: 2, context: 'Transaction.End' }] }];
    expect(registerWithContext201(meterValue, 'Transaction.End')?.toFixed()).toBe('2');
    expect(registerWithContext201(meterValue, 'Transaction.Begin')).toBeNull();
  });
});
