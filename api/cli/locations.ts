import type { Command } from 'commander';
import type { EvseOutcome, LocationListRow, LocationOutcome } from '../plugins/locations-api.js';
import { formatTable } from './projections.js';
import { caughtUpReadModels } from './read-models.js';
import { CliError, ExitCode, reportError, type CliContext } from './run.js';
import { cliActor, serverOption, withDatabaseOrServer } from './station-call.js';
import { domainRefusal } from './stations.js';

/**
 * `csms locations add | assign-evse | list`: the sites we publish to OCPI partners, through the
 * command bus (or the server's operator API when it holds the embedded database).
 */

const loadApi = () => import('../plugins/locations-api.js');
/** Connectors per EVSE the CLI accepts (the OCPI limit in ocpi/schemas/limits.ts). */
const connectorsPerEvseMax = 16;

const collect = (value: string, previous: string[] = []) => [...previous, value];

function integer(name: string, text: string, min: number): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < min) throw new CliError(`${name} must be a whole number ≥ ${min}, not ${JSON.stringify(text)}`, ExitCode.usage);
  return Number(text);
}

/** id:stationConnector:standard:format:powerType:maxVoltage:maxAmperage[:maxElectricPowerW] */
export function parseConnector(text: string, tariffIds: readonly string[]): Record<string, unknown> {
  const parts = text.split(':');
  if (parts.length < 7 || parts.length > 8) {
    throw new CliError(`--connector must be id:stationConnector:standard:format:powerType:maxVoltage:maxAmperage[:maxPowerW], not ${JSON.stringify(text)}`, ExitCode.usage);
  }
  const [connectorId, stationConnector, standard, format, powerType, maxVoltage, maxAmperage, maxPower] = parts as [string, string, string, string, string, string, string, string?];
  return {
    connectorId,
    stationConnectorId: integer('station connector id', stationConnector, 1),
    standard,
    format,
    powerType,
    maxVoltage: integer('max voltage', maxVoltage, 0),
    maxAmperage: integer('max amperage', maxAmperage, 0),
    maxElectricPowerW: maxPower === undefined ? null : integer('max power', maxPower, 0),
    tariffIds: [...tariffIds],
  };
}

interface AddOptions {
  id: string; name?: string; address: string; city: string; postalCode?: string; state?: string; country: string;
  lat: string; lon: string; timeZone: string; parkingType?: string; facility?: string[]; operator?: string; unpublished?: boolean; replace?: boolean; server?: string;
}
interface AssignOptions {
  location: string; evseUid: string; evseId?: string; station: string; stationEvse: string; connector?: string[];
  capability?: string[]; tariff?: string[]; physicalReference?: string; floorLevel?: string; server?: string;
}

export function registerLocationsCommands(program: Command, context: CliContext): void {
  const locations = program.command('locations').description('sites and EVSEs published to OCPI partners');

  locations
    .command('add')
    .description('add a location (with --replace: or replace the facts of an existing one)')
    .requiredOption('--id <id>', 'OCPI location id, at most 36 characters')
    .option('--name <name>', 'display name')
    .requiredOption('--address <street>', 'street and number, at most 45 characters')
    .requiredOption('--city <city>', 'city')
    .option('--postal-code <code>', 'postal code')
    .option('--state <state>', 'state or province')
    .requiredOption('--country <alpha3>', 'ISO 3166-1 alpha-3 country code, e.g. NLD')
    .requiredOption('--lat <latitude>', 'latitude with 5 to 7 decimals, e.g. 52.08920')
    .requiredOption('--lon <longitude>', 'longitude with 5 to 7 decimals, e.g. 5.11040')
    .requiredOption('--time-zone <iana>', 'IANA time zone, e.g. Europe/Amsterdam')
    .option('--parking-type <type>', 'OCPI ParkingType, e.g. ON_STREET')
    .option('--facility <facility>', 'OCPI Facility, repeatable', collect)
    .option('--operator <name>', 'operator business name')
    .option('--unpublished', 'hide it from partners (OCPI publish=false)')
    .option('--replace', 'replace the facts when the location exists')
    .addOption(serverOption())
    .action(async (options: AddOptions) => {
      try {
        const facts = {
          id: options.id, name: options.name ?? null, address: options.address, city: options.city, postalCode: options.postalCode ?? null,
          state: options.state ?? null, country: options.country, coordinates: { latitude: options.lat, longitude: options.lon },
          timeZone: options.timeZone, parkingType: options.parkingType ?? null, facilities: options.facility ?? [],
          operator: options.operator === undefined ? null : { name: options.operator }, publish: options.unpublished !== true,
        };
        const outcome = await withDatabaseOrServer<LocationOutcome>(
          context,
          'locations add',
          options.server,
          async (services) => {
            const { putLocation } = await loadApi();
            return putLocation({ bus: services.bus, clock: services.clock, tenantId: services.config.tenantId, actor: cliActor() }, options.id, facts, options.replace === true);
          },
          async (client) => (await client.request('POST', '/locations', facts)).body as LocationOutcome,
        ).catch((error: unknown) => Promise.reject(domainRefusal(error)));
        context.out(`location ${options.id} ${outcome.outcome}`);
      } catch (error) {
        reportError(context, error);
      }
    });

  locations
    .command('assign-evse')
    .description('assign a station EVSE to a location as an OCPI EVSE (or update it)')
    .requiredOption('--location <id>', 'OCPI location id')
    .requiredOption('--evse-uid <uid>', 'OCPI EVSE uid, never reused')
    .option('--evse-id <emi3>', 'eMI3 EVSE id, e.g. NL*CSM*E1')
    .requiredOption('--station <id>', 'station id')
    .requiredOption('--station-evse <n>', "the station's EVSE number (OCPP 2.0.1 evseId; 1.6 connectorId)")
    .option('--connector <spec>', 'id:stationConnector:standard:format:powerType:maxVoltage:maxAmperage[:maxPowerW], repeatable', collect)
    .option('--capability <capability>', 'OCPI Capability, repeatable', collect)
    .option('--tariff <id>', 'OCPI tariff id of every connector, repeatable', collect)
    .option('--physical-reference <text>', 'number on the EVSE, e.g. 1')
    .option('--floor-level <level>', 'floor level')
    .addOption(serverOption())
    .action(async (options: AssignOptions) => {
      try {
        const connectors = options.connector ?? [];
        if (connectors.length === 0) throw new CliError('give at least one --connector', ExitCode.usage);
        if (connectors.length > connectorsPerEvseMax) throw new CliError(`at most ${connectorsPerEvseMax} connectors`, ExitCode.usage);
        const evse = {
          evseUid: options.evseUid, evseId: options.evseId ?? null, stationId: options.station,
          stationEvseId: integer('--station-evse', options.stationEvse, 1), capabilities: options.capability ?? [],
          physicalReference: options.physicalReference ?? null, floorLevel: options.floorLevel ?? null,
          connectors: connectors.map((text) => parseConnector(text, options.tariff ?? [])),
        };
        const outcome = await withDatabaseOrServer<EvseOutcome>(
          context,
          'locations assign-evse',
          options.server,
          async (services) => {
            const { putEvse } = await loadApi();
            // putEvse checks the EVSE is not taken elsewhere in the locations read model: make it current.
            await caughtUpReadModels(services, ['locations'], context.err);
            const deps = { db: services.db, bus: services.bus, clock: services.clock, tenantId: services.config.tenantId, actor: cliActor() };
            return putEvse(deps, options.location, evse);
          },
          async (client) => (await client.request('POST', `/locations/${encodeURIComponent(options.location)}/evses`, evse)).body as EvseOutcome,
        ).catch((error: unknown) => Promise.reject(domainRefusal(error)));
        context.out(`EVSE ${options.location}/${options.evseUid} ${outcome.outcome}`);
      } catch (error) {
        reportError(context, error);
      }
    });

  locations
    .command('list')
    .description('list locations and their EVSE statuses')
    .addOption(serverOption())
    .action(async (options: { server?: string }) => {
      try {
        const rows = await withDatabaseOrServer<LocationListRow[]>(
          context,
          'locations list',
          options.server,
          async (services) => {
            await caughtUpReadModels(services, ['locations'], context.err);
            return (await loadApi()).listLocations(services.db, services.config.tenantId);
          },
          async (client) => ((await client.request('GET', '/locations')).body as { locations: LocationListRow[] }).locations,
          'read',
        );
        if (rows.length === 0) {
          context.out('no locations yet: add one with `csms locations add`');
          return;
        }
        const header = ['ID', 'NAME', 'CITY', 'COUNTRY', 'PUBLISHED', 'EVSES', 'LAST UPDATED'];
        const body = rows.map((row) => [row.locationId, row.name ?? '-', row.city, row.country, row.publish ? 'yes' : 'no', row.statuses.join(' ') || '-', row.lastUpdated]);
        for (const line of formatTable([header, ...body])) context.out(line);
      } catch (error) {
        reportError(context, error);
      }
    });
}
