/**
 * The station→CSMS messages of the OCPP load benchmark, for 1.6 and 2.0.1: payloads valid against
 * the OCA schemas (the gateway refuses anything else), shaped like a real charger's.
 */

export type BenchOcppVersion = 'ocpp1.6' | 'ocpp2.0.1';

export interface BenchCall {
  readonly action: string;
  readonly payload: unknown;
}

/** An 11 kW AC charger: the energy register grows this much per second of charging. */
export const chargingPowerW = 11_000;
export const benchIdTag = 'BENCHTAG01';

export function bootNotification(version: BenchOcppVersion): BenchCall {
  return version === 'ocpp1.6'
    ? { action: 'BootNotification', payload: { chargePointVendor: 'OpenCSMS-Bench', chargePointModel: 'Lean-1', firmwareVersion: '1.0.0' } }
    : { action: 'BootNotification', payload: { reason: 'PowerUp', chargingStation: { vendorName: 'OpenCSMS-Bench', model: 'Lean-1', firmwareVersion: '1.0.0' } } };
}

export function statusNotification(version: BenchOcppVersion, timestamp: string): BenchCall {
  return version === 'ocpp1.6'
    ? { action: 'StatusNotification', payload: { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp } }
    : { action: 'StatusNotification', payload: { timestamp, connectorStatus: 'Available', evseId: 1, connectorId: 1 } };
}

export function transactionStarted(version: BenchOcppVersion, timestamp: string, meterWh: number, transactionId: string): BenchCall {
  if (version === 'ocpp1.6') {
    return { action: 'StartTransaction', payload: { connectorId: 1, idTag: benchIdTag, meterStart: meterWh, timestamp } };
  }
  return {
    action: 'TransactionEvent',
    payload: {
      eventType: 'Started',
      timestamp,
      triggerReason: 'Authorized',
      seqNo: 0,
      transactionInfo: { transactionId, chargingState: 'Charging' },
      evse: { id: 1, connectorId: 1 },
      idToken: { idToken: benchIdTag, type: 'ISO14443' },
      meterValue: [{ timestamp, sampledValue: [{ value: meterWh, measurand: 'Energy.Active.Import.Register', context: 'Transaction.Begin' }] }],
    },
  };
}

/** 1.6 MeterValues or 2.0.1 TransactionEvent(Updated): the message that dominates a CSMS's traffic. */
export function meterValues(
  version: BenchOcppVersion,
  timestamp: string,
  meterWh: number,
  transaction: { readonly id16: number; readonly id201: string; readonly seqNo: number },
): BenchCall {
  if (version === 'ocpp1.6') {
    return {
      action: 'MeterValues',
      payload: {
        connectorId: 1,
        transactionId: transaction.id16,
        meterValue: [{
          timestamp,
          sampledValue: [
            { value: String(meterWh), context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
            { value: String(chargingPowerW), context: 'Sample.Periodic', measurand: 'Power.Active.Import', unit: 'W' },
          ],
        }],
      },
    };
  }
  return {
    action: 'TransactionEvent',
    payload: {
      eventType: 'Updated',
      timestamp,
      triggerReason: 'MeterValuePeriodic',
      seqNo: transaction.seqNo,
      transactionInfo: { transactionId: transaction.id201, chargingState: 'Charging' },
      meterValue: [{
        timestamp,
        sampledValue: [
          { value: meterWh, context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register' },
          { value: chargingPowerW, context: 'Sample.Periodic', measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' } },
        ],
      }],
    },
  };
}

export function transactionEnded(
  version: BenchOcppVersion,
  timestamp: string,
  meterWh: number,
  transaction: { readonly id16: number; readonly id201: string; readonly seqNo: number },
): BenchCall {
  if (version === 'ocpp1.6') {
    return { action: 'StopTransaction', payload: { transactionId: transaction.id16, idTag: benchIdTag, meterStop: meterWh, timestamp, reason: 'Local' } };
  }
  return {
    action: 'TransactionEvent',
    payload: {
      eventType: 'Ended',
      timestamp,
      triggerReason: 'StopAuthorized',
      seqNo: transaction.seqNo,
      transactionInfo: { transactionId: transaction.id201, stoppedReason: 'Local', chargingState: 'Idle' },
      idToken: { idToken: benchIdTag, type: 'ISO14443' },
      meterValue: [{ timestamp, sampledValue: [{ value: meterWh, measurand: 'Energy.Active.Import.Register', context: 'Transaction.End' }] }],
    },
  };
}
