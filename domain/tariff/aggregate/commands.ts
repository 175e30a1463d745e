/**
 * Commands to the `tariff` aggregate (aggregate id = the OCPI tariff id). The tariff is the OCPI
 * 2.2.1 Tariff JSON as received (CLI file, OCPI PUT); decide validates it with parseTariff.
 * Times are passed in by the handler (deciders read no clock).
 */

export interface CreateTariff {
  readonly type: 'CreateTariff';
  readonly tariff: unknown;
  readonly createdAt: string;
}

export interface VersionTariff {
  readonly type: 'VersionTariff';
  readonly tariff: unknown;
  readonly versionedAt: string;
}

export interface DeactivateTariff {
  readonly type: 'DeactivateTariff';
  readonly deactivatedAt: string;
  readonly reason?: string | null;
}

export type TariffCommand = CreateTariff | VersionTariff | DeactivateTariff;
export const tariffCommandTypes = ['CreateTariff', 'VersionTariff', 'DeactivateTariff'] as const satisfies readonly TariffCommand['type'][];
