import type { IssuedCdr } from './events.js';
import type { OcpiCdr } from './ocpi.js';

/**
 * Test data: a priced CDR of one hour, 20 kWh at 0.30 EUR/kWh plus 1.00 EUR start fee, 21% VAT.
 * Shared by the cdr, ledger and settlement tests.
 */
export const sampleTariff = {
  id: 'T-STD',
  currency: 'EUR',
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: 1.0, vat: 21.0, step_size: 1 },
        { type: 'ENERGY', price: 0.3, vat: 21.0, step_size: 1 },
      ],
    },
  ],
  last_updated: '2025-01-01T00:00:00Z',
};

export function sampleCdr(overrides: Partial<OcpiCdr> = {}): OcpiCdr {
  return {
    country_code: 'NL',
    party_id: 'CPO',
    id: 'CDR-1',
    start_date_time: '2025-03-01T10:00:00Z',
    end_date_time: '2025-03-01T11:00:00Z',
    session_id: 'S-1',
    cdr_token: { country_code: 'DE', party_id: 'EMP', uid: '012345678', type: 'RFID', contract_id: 'DE-EMP-C12345678-X' },
    auth_method: 'WHITELIST',
    cdr_location: {
      id: 'LOC-1',
      name: 'Market square',
      address: 'Markt 1',
      city: 'Utrecht',
      postal_code: '3511',
      country: 'NLD',
      coordinates: { latitude: '52.09074', longitude: '5.12142' },
      evse_uid: 'EVSE-1',
      evse_id: 'NL*CPO*E1',
      connector_id: '1',
      connector_standard: 'IEC_62196_T2',
      connector_format: 'SOCKET',
      connector_power_type: 'AC_3_PHASE',
    },
    meter_id: 'M-1',
    currency: 'EUR',
    tariffs: [sampleTariff],
    charging_periods: [{ start_date_time: '2025-03-01T10:00:00Z', dimensions: [{ type: 'ENERGY', volume: '20' }], tariff_id: 'T-STD' }],
    signed_data: {
      encoding_method: 'OCMF',
      signed_values: [{ nature: 'Start', plain_data: 'OCMF|{"RD":[{"RV":0.0}]}', signed_data: '3045022100ab' }],
    },
    total_cost: { excl_vat: '7.00', incl_vat: '8.47' },
    total_fixed_cost: { excl_vat: '1.00', incl_vat: '1.21' },
    total_energy: '20',
    total_energy_cost: { excl_vat: '6.00', incl_vat: '7.26' },
    total_time: '1',
    total_parking_time: '0',
    last_updated: '2025-03-01T11:05:00Z',
    ...overrides,
  };
}

export function sampleIssued(overrides: Partial<OcpiCdr> = {}, links: Partial<Omit<IssuedCdr, 'cdr'>> = {}): IssuedCdr {
  return { cdr: sampleCdr(overrides), transactionId: 'tx-1', tenantId: 'acme', tariffVersionId: 'T-STD@3', replacesCdrId: null, ...links };
}
