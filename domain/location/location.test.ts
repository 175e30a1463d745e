import { describe, expect, it } from 'vitest';
import { given } from '../../test/support/given-when-then.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import {
  EvseAssigned,
  EvseRemoved,
  EvseUpdated,
  LocationDeclared,
  LocationUpdated,
  locationDecider,
  type EvseFacts,
  type LocationCommand,
  type LocationFacts,
} from './index.js';

/** The location stream's rules: facts validated, EVSEs assigned once, unique, removed for good. */

const facts = (overrides: Partial<LocationFacts> = {}): LocationFacts => ({
  name: 'Gent Zuid',
  address: 'F.Rooseveltlaan 3A',
  city: 'Gent',
  postalCode: '9000',
  state: null,
  country: 'BEL',
  coordinates: { latitude: '51.047599', longitude: '3.729944' },
  timeZone: 'Europe/Brussels',
  parkingType: 'ON_STREET',
  facilities: ['CAFE'],
  openingTimes: { twentyfourseven: true },
  chargingWhenClosed: null,
  directions: [],
  operator: { name: 'Open CSMS' },
  suboperator: null,
  owner: null,
  publish: true,
  ...overrides,
});
const evse = (overrides: Partial<EvseFacts> = {}): EvseFacts => ({
  evseUid: 'E1',
  evseId: 'BE*CPO*E1',
  stationId: 'CP-1',
  stationEvseId: 1,
  capabilities: ['RFID_READER'],
  physicalReference: '1',
  floorLevel: null,
  connectors: [
    { connectorId: '1', stationConnectorId: 1, standard: 'IEC_62196_T2', format: 'SOCKET', powerType: 'AC_3_PHASE', maxVoltage: 230, maxAmperage: 16, maxElectricPowerW: 11_000, tariffIds: ['STD'] },
  ],
  ...overrides,
});

const declare = (f: unknown = facts()): LocationCommand => ({ type: 'DeclareLocation', locationId: 'LOC1', facts: f });
const update = (f: unknown): LocationCommand => ({ type: 'UpdateLocation', locationId: 'LOC1', facts: f });
const assign = (e: unknown = evse()): LocationCommand => ({ type: 'AssignEvse', locationId: 'LOC1', evse: e });
const updateEvse = (e: unknown): LocationCommand => ({ type: 'UpdateEvse', locationId: 'LOC1', evse: e });
const remove = (evseUid = 'E1'): LocationCommand => ({ type: 'RemoveEvse', locationId: 'LOC1', evseUid, reason: null });

const declared = (f = facts()) => eventFrom(LocationDeclared, { locationId: 'LOC1', facts: f });
const assigned = (e = evse()) => eventFrom(EvseAssigned, { locationId: 'LOC1', evse: e });
const removed = (evseUid = 'E1') => eventFrom(EvseRemoved, { locationId: 'LOC1', evseUid, reason: null });

describe('location facts', () => {
  it('are declared once; the same facts again are a retry', () => {
    given(locationDecider, []).when(declare()).then([declared()]);
    given(locationDecider, [declared()]).when(declare()).then([]);
    given(locationDecider, [declared()]).when(declare(facts({ name: 'Other' }))).thenThrows(IllegalStateError, /already exists/);
  });
  it('are replaced by an update, and an unchanged update records nothing', () => {
    given(locationDecider, [declared()])
      .when(update(facts({ publish: false })))
      .then([eventFrom(LocationUpdated, { locationId: 'LOC1', facts: facts({ publish: false }) })]);
    given(locationDecider, [declared()]).when(update(facts())).then([]);
    given(locationDecider, []).when(update(facts())).thenThrows(IllegalStateError, /does not exist/);
  });
  it('refuse what OCPI cannot carry', () => {
    given(locationDecider, []).when(declare(facts({ timeZone: 'Europe/Atlantis' }))).thenThrows(InvalidCommandError, /IANA/);
    given(locationDecider, []).when(declare(facts({ country: 'BE' }))).thenThrows(InvalidCommandError, /alpha-3/);
    given(locationDecider, []).when(declare(facts({ coordinates: { latitude: '51.04', longitude: '3.729944' } }))).thenThrows(InvalidCommandError, /latitude/);
    given(locationDecider, []).when(declare(facts({ address: 'x'.repeat(46) }))).thenThrows(InvalidCommandError, /address/);
    given(locationDecider, []).when(declare(facts({ openingTimes: { twentyfourseven: false } }))).thenThrows(InvalidCommandError, /regular_hours/);
    given(locationDecider, []).when({ type: 'DeclareLocation', locationId: 'has space', facts: facts() }).thenThrows(InvalidCommandError, /location id/);
    // Ids are OCPI URL path segments.
    given(locationDecider, []).when({ type: 'DeclareLocation', locationId: 'A/B', facts: facts() }).thenThrows(InvalidCommandError, /no '\/'/);
  });
});

describe('EVSEs', () => {
  it('are assigned to a declared location only, once per uid', () => {
    given(locationDecider, []).when(assign()).thenThrows(IllegalStateError, /does not exist/);
    given(locationDecider, [declared()]).when(assign()).then([assigned()]);
    given(locationDecider, [declared(), assigned()]).when(assign()).then([]);
    given(locationDecider, [declared(), assigned()]).when(assign(evse({ floorLevel: '-1' }))).thenThrows(IllegalStateError, /update it instead/);
  });
  it('keep eMI3 ids and station EVSEs unique among the EVSEs in service', () => {
    const history = [declared(), assigned()];
    given(locationDecider, history).when(assign(evse({ evseUid: 'E2', stationEvseId: 2 }))).thenThrows(InvalidCommandError, /BE\*CPO\*E1/);
    given(locationDecider, history).when(assign(evse({ evseUid: 'E2', evseId: 'BE*CPO*E2' }))).thenThrows(InvalidCommandError, /station CP-1 EVSE 1/);
    // Once E1 is removed its station EVSE may serve a new EVSE.
    const next = evse({ evseUid: 'E2', evseId: 'BE*CPO*E2' });
    given(locationDecider, [...history, removed()]).when(assign(next)).then([assigned(next)]);
  });
  it('refuse duplicate or missing connectors', () => {
    const [connector] = evse().connectors;
    given(locationDecider, [declared()]).when(assign(evse({ connectors: [] }))).thenThrows(InvalidCommandError, /connectors/);
    given(locationDecider, [declared()]).when(assign(evse({ connectors: [connector!, { ...connector!, stationConnectorId: 2 }] }))).thenThrows(InvalidCommandError, /connector ids must be unique/);
    given(locationDecider, [declared()]).when(assign(evse({ connectors: [{ ...connector!, standard: 'SCHUKO' as never }] }))).thenThrows(InvalidCommandError, /standard/);
  });
  it('are updated as a whole while in service', () => {
    const moved = evse({ floorLevel: '-1' });
    given(locationDecider, [declared(), assigned()]).when(updateEvse(moved)).then([eventFrom(EvseUpdated, { locationId: 'LOC1', evse: moved })]);
    given(locationDecider, [declared(), assigned()]).when(updateEvse(evse())).then([]);
    given(locationDecider, [declared()]).when(updateEvse(moved)).thenThrows(IllegalStateError, /no EVSE E1/);
    given(locationDecider, [declared(), assigned(), removed()]).when(updateEvse(moved)).thenThrows(IllegalStateError, /removed/);
  });
  it('are removed for good: removing twice is a retry, the uid is never reused', () => {
    given(locationDecider, [declared(), assigned()]).when(remove()).then([removed()]);
    given(locationDecider, [declared(), assigned(), removed()]).when(remove()).then([]);
    given(locationDecider, [declared()]).when(remove()).thenThrows(IllegalStateError, /no EVSE/);
    given(locationDecider, [declared(), assigned(), removed()]).when(assign()).thenThrows(IllegalStateError, /never reused/);
  });
  it('fold into state with removed EVSEs kept', () => {
    const state = given(locationDecider, [declared(), assigned(), removed()]).state;
    expect(state.status === 'declared' && state.evses.E1?.removed).toBe(true);
  });
});
