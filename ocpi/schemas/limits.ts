/**
 * Bounds on the lists of OCPI objects (docs/style.md: a limit on everything). OCPI itself puts no upper
 * bound on `*` and `+` lists; these keep one object from a partner a bounded amount of work and
 * memory. Each is far above what a real object needs, and says why.
 */

/** DisplayText lists (directions, messages): one entry per language is plenty. */
export const displayTextsMax = 50;
/** EVSEs on one Location: the largest public hubs have a few hundred. */
export const evsesPerLocationMax = 1_000;
/** Connectors on one EVSE: real hardware has at most a handful. */
export const connectorsPerEvseMax = 16;
/** Tariff ids on one Connector: one per TariffType, with room for scheduled successors. */
export const tariffIdsPerConnectorMax = 20;
/** Images on a Location or EVSE. */
export const imagesMax = 50;
/** AdditionalGeoLocations on a Location (entrances, exits, parking spots). */
export const relatedLocationsMax = 100;
/** RegularHours entries: several periods a day for 7 days. */
export const regularHoursMax = 7 * 10;
/** Exceptional openings or closings: a few years of holidays. */
export const exceptionalPeriodsMax = 1_000;
/** Planned status changes of one EVSE. */
export const statusSchedulesMax = 100;
/** Tokens a hidden Location is shown to (publish_allowed_to). */
export const publishAllowedToMax = 1_000;
/** Charging periods on a Session: one a minute for 33 hours. */
export const chargingPeriodsPerSessionMax = 2_000;
/** EVSE uids in LocationReferences: as many as a Location can hold. */
export const evseUidsPerReferenceMax = evsesPerLocationMax;
/** Periods in one ChargingProfile: OCPP stations typically accept 24 to 48. */
export const chargingProfilePeriodsMax = 1_000;
/** Roles in one Credentials object: a platform serving many white-label CPOs. */
export const credentialsRolesMax = 100;
/** Endpoints in VersionDetails: 9 modules, two interface roles each, with room to spare. */
export const endpointsMax = 100;
/** Versions in a version list. */
export const versionsMax = 20;
