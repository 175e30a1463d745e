import { describe, expect, it } from 'vitest';
import { given } from '../../test/support/given-when-then.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import type { CreditCdr, IssueCdr, ReissueCdr } from './commands.js';
import { creditCdrFrom } from './credit.js';
import { CdrCredited, CdrIssued, CdrReissued, type IssuedCdr } from './events.js';
import { sampleCdr, sampleIssued } from './fixtures.js';
import { cdrDecider } from './index.js';
import type { OcpiCdr } from './ocpi.js';

const issue = (data: IssuedCdr = sampleIssued()): IssueCdr => ({ type: 'IssueCdr', ...data });
const issued = (data: IssuedCdr = sampleIssued()) => eventFrom(CdrIssued, data);
const creditCommand = (overrides: Partial<CreditCdr> = {}): CreditCdr => ({
  type: 'CreditCdr',
  creditCdrId: 'CDR-1-C',
  creditedAt: '2025-03-05T09:00:00Z',
  ...overrides,
});
const credited = eventFrom(CdrCredited, { cdrId: 'CDR-1', creditCdrId: 'CDR-1-C', creditedAt: '2025-03-05T09:00:00.000Z', reason: null });
const reissueCommand = (overrides: Partial<ReissueCdr> = {}): ReissueCdr => ({
  type: 'ReissueCdr',
  creditCdrId: 'CDR-1-C',
  replacementCdrId: 'CDR-1-R',
  reissuedAt: '2025-03-05T09:00:00Z',
  reason: 'wrong tariff',
  ...overrides,
});
const invalid = (overrides: Partial<OcpiCdr>, message: RegExp) =>
  given(cdrDecider, []).when(issue(sampleIssued(overrides))).thenThrows(InvalidCommandError, message);

describe('cdr: issuing', () => {
  it('issues a priced CDR with its links', () => {
    given(cdrDecider, []).when(issue()).then([issued()]);
  });

  it('keeps signed data and the tariff snapshot verbatim', () => {
    const [event] = given(cdrDecider, []).when(issue()).then([issued()]);
    expect(event?.type === 'CdrIssued' && event.data.cdr.signed_data).toEqual(sampleCdr().signed_data);
    expect(event?.type === 'CdrIssued' && event.data.cdr.tariffs).toEqual(sampleCdr().tariffs);
  });

  it('treats the identical CDR again as a retry: nothing new', () => {
    given(cdrDecider, [issued()]).when(issue()).then([]);
  });

  it('refuses a different CDR on the same stream: a CDR never changes', () => {
    given(cdrDecider, [issued()])
      .when(issue(sampleIssued({ total_cost: { excl_vat: '7.01', incl_vat: '8.48' } })))
      .thenThrows(IllegalStateError, /already issued and cannot change/);
  });

  it('refuses a CDR that fails the OCPI schema', () => {
    invalid({ cdr_location: { ...sampleCdr().cdr_location, country: 'NL' } }, /not a valid OCPI CDR/);
    invalid({ total_energy: '2e1' }, /not a valid OCPI CDR/);
  });

  it('refuses a currency that is not ISO 4217', () => {
    invalid({ currency: 'eur' }, /currency/);
    invalid({ currency: 'EUX' }, /currency/);
  });

  it('refuses an end before the start, and accepts end equal to start', () => {
    invalid({ end_date_time: '2025-03-01T09:59:59Z' }, /before start_date_time/);
    given(cdrDecider, [])
      .when(issue(sampleIssued({ end_date_time: '2025-03-01T10:00:00Z' })))
      .thenState((state) => expect(state.status).toBe('issued'));
  });

  it('refuses negative totals on a normal CDR', () => {
    invalid({ total_cost: { excl_vat: '-1.00', incl_vat: '-1.21' } }, /total_cost.excl_vat -1.00 is negative/);
    invalid({ total_parking_cost: { excl_vat: '-0.01' } }, /total_parking_cost.excl_vat/);
    invalid({ total_energy: '-1' }, /total_energy -1 is negative/);
  });

  it('refuses incl_vat below excl_vat', () => {
    invalid({ total_cost: { excl_vat: '7.00', incl_vat: '6.99' } }, /incl_vat 6.99 is less than excl_vat 7.00/);
  });

  it('accepts a zero-cost CDR and one without VAT', () => {
    given(cdrDecider, [])
      .when(issue(sampleIssued({ total_cost: { excl_vat: '0' }, total_fixed_cost: undefined, total_energy_cost: undefined })))
      .thenState((state) => expect(state.status).toBe('issued'));
  });

  it('refuses charging periods out of order or outside the session', () => {
    const period = (at: string) => ({ start_date_time: at, dimensions: [{ type: 'ENERGY' as const, volume: '1' }] });
    invalid({ charging_periods: [period('2025-03-01T10:30:00Z'), period('2025-03-01T10:10:00Z')] }, /charging_periods\[1\]/);
    invalid({ charging_periods: [period('2025-03-01T09:00:00Z')] }, /charging_periods\[0\]/);
  });

  it('refuses credit_reference_id on a normal CDR and a credit CDR without one', () => {
    invalid({ credit_reference_id: 'CDR-0' }, /only for a credit CDR/);
    invalid({ credit: true, total_cost: { excl_vat: '-7.00', incl_vat: '-8.47' } }, /needs credit_reference_id/);
  });

  it('issues a credit CDR made by creditCdrFrom on its own stream', () => {
    const credit = creditCdrFrom(sampleIssued(), 'CDR-1-C', '2025-03-05T09:00:00Z');
    given(cdrDecider, []).when(issue(credit)).then([issued(credit)]);
  });

  it('refuses positive totals on a credit CDR', () => {
    invalid({ credit: true, credit_reference_id: 'CDR-0', total_cost: { excl_vat: '7.00', incl_vat: '8.47' } }, /positive on a credit CDR/);
  });

  it('refuses a credit CDR that claims to replace a CDR, and a CDR replacing itself', () => {
    const credit = creditCdrFrom(sampleIssued(), 'CDR-1-C', '2025-03-05T09:00:00Z');
    given(cdrDecider, []).when(issue({ ...credit, replacesCdrId: 'CDR-1' })).thenThrows(InvalidCommandError, /replaces nothing/);
    given(cdrDecider, []).when(issue(sampleIssued({}, { replacesCdrId: 'CDR-1' }))).thenThrows(InvalidCommandError, /replace itself/);
  });
});

describe('cdr: crediting', () => {
  it('records on the original stream which credit CDR credited it', () => {
    given(cdrDecider, [issued()]).when(creditCommand()).then([credited]);
  });

  it('refuses to credit a CDR that was never issued', () => {
    given(cdrDecider, []).when(creditCommand()).thenThrows(IllegalStateError, /no CDR issued/);
  });

  it('refuses to credit twice, but takes the same credit again as a retry', () => {
    given(cdrDecider, [issued(), credited]).when(creditCommand()).then([]);
    given(cdrDecider, [issued(), credited])
      .when(creditCommand({ creditCdrId: 'CDR-1-C2' }))
      .thenThrows(IllegalStateError, /already credited by CDR-1-C/);
  });

  it('refuses to credit a credit CDR', () => {
    const credit = creditCdrFrom(sampleIssued(), 'CDR-1-C', '2025-03-05T09:00:00Z');
    given(cdrDecider, [issued(credit)]).when(creditCommand({ creditCdrId: 'CDR-1-CC' })).thenThrows(IllegalStateError, /a credit cannot be credited/);
  });

  it('refuses a credit CDR id equal to the original id, and a time without a zone', () => {
    given(cdrDecider, [issued()]).when(creditCommand({ creditCdrId: 'CDR-1' })).thenThrows(InvalidCommandError, /must differ/);
    given(cdrDecider, [issued()]).when(creditCommand({ creditedAt: '2025-03-05T09:00:00' })).thenThrows(InvalidCommandError, /zone/);
  });
});

describe('cdr: reissuing', () => {
  const reissued = [
    eventFrom(CdrCredited, { cdrId: 'CDR-1', creditCdrId: 'CDR-1-C', creditedAt: '2025-03-05T09:00:00.000Z', reason: 'wrong tariff' }),
    eventFrom(CdrReissued, { cdrId: 'CDR-1', replacementCdrId: 'CDR-1-R', reissuedAt: '2025-03-05T09:00:00.000Z' }),
  ];

  it('credits the original and names the corrected CDR that replaces it', () => {
    given(cdrDecider, [issued()]).when(reissueCommand()).then(reissued);
  });

  it('takes the same reissue again as a retry', () => {
    given(cdrDecider, [issued(), ...reissued]).when(reissueCommand()).then([]);
  });

  it('refuses to reissue a CDR already credited or reissued', () => {
    given(cdrDecider, [issued(), credited]).when(reissueCommand()).thenThrows(IllegalStateError, /already credited/);
    given(cdrDecider, [issued(), ...reissued])
      .when(reissueCommand({ replacementCdrId: 'CDR-1-R2' }))
      .thenThrows(IllegalStateError, /already credited/);
  });

  it('refuses a replacement id equal to the credit id or the original', () => {
    given(cdrDecider, [issued()]).when(reissueCommand({ replacementCdrId: 'CDR-1-C' })).thenThrows(InvalidCommandError, /different ids/);
    given(cdrDecider, [issued()]).when(reissueCommand({ replacementCdrId: 'CDR-1' })).thenThrows(InvalidCommandError, /must differ/);
  });

  it('issues the corrected CDR referencing the original', () => {
    const corrected = sampleIssued({ id: 'CDR-1-R', total_cost: { excl_vat: '6.50', incl_vat: '7.87' } }, { replacesCdrId: 'CDR-1' });
    given(cdrDecider, []).when(issue(corrected)).then([issued(corrected)]);
  });

  it('refuses to reissue a credit CDR', () => {
    const credit = creditCdrFrom(sampleIssued(), 'CDR-1-C', '2025-03-05T09:00:00Z');
    given(cdrDecider, [issued(credit)]).when(reissueCommand({ creditCdrId: 'X', replacementCdrId: 'Y' })).thenThrows(IllegalStateError, /credit CDR/);
  });
});

describe('cdr: evolve', () => {
  it('crashes on a second CdrIssued reaching evolve: a bug, not input', () => {
    expect(() => cdrDecider.evolve(cdrDecider.evolve(cdrDecider.initialState(), issued()), issued())).toThrow(/invariant/);
  });
  it('crashes on CdrReissued without CdrCredited', () => {
    const state = cdrDecider.evolve(cdrDecider.initialState(), issued());
    expect(() => cdrDecider.evolve(state, eventFrom(CdrReissued, { cdrId: 'CDR-1', replacementCdrId: 'R', reissuedAt: '2025-03-05T09:00:00.000Z' }))).toThrow(/invariant/);
  });
});

describe('cdr: events match their schemas', () => {
  it('every event decide makes parses with its registry schema', () => {
    const events = [
      ...cdrDecider.decide(issue(), cdrDecider.initialState()),
      ...cdrDecider.decide(reissueCommand(), cdrDecider.evolve(cdrDecider.initialState(), issued())),
      ...cdrDecider.decide(issue(creditCdrFrom(sampleIssued(), 'CDR-1-C', '2025-03-05T09:00:00Z')), cdrDecider.initialState()),
    ];
    for (const event of events) {
      const definition = [CdrIssued, CdrCredited, CdrReissued].find((d) => d.type === event.type)!;
      expect(definition.schema.safeParse(event.data).success).toBe(true);
    }
  });
});
