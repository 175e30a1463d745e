/**
 * Commands to the `location` aggregate (aggregate id = the OCPI location id). Facts arrive as
 * the operator typed them (CLI, REST) and are validated by decide, so every gateway gets the
 * same refusal for the same mistake.
 */

export interface DeclareLocation {
  readonly type: 'DeclareLocation';
  readonly locationId: string;
  readonly facts: unknown;
}

/** Replaces the location's facts as a whole. */
export interface UpdateLocation {
  readonly type: 'UpdateLocation';
  readonly locationId: string;
  readonly facts: unknown;
}

export interface AssignEvse {
  readonly type: 'AssignEvse';
  readonly locationId: string;
  readonly evse: unknown;
}

/** Replaces an EVSE's facts as a whole; its uid stays. */
export interface UpdateEvse {
  readonly type: 'UpdateEvse';
  readonly locationId: string;
  readonly evse: unknown;
}

export interface RemoveEvse {
  readonly type: 'RemoveEvse';
  readonly locationId: string;
  readonly evseUid: string;
  readonly reason?: string | null;
}

export type LocationCommand = DeclareLocation | UpdateLocation | AssignEvse | UpdateEvse | RemoveEvse;
export const locationCommandTypes = ['DeclareLocation', 'UpdateLocation', 'AssignEvse', 'UpdateEvse', 'RemoveEvse'] as const satisfies readonly LocationCommand['type'][];
