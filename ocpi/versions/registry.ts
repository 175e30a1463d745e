/**
 * What we implement, per OCPI version: the versions module (spec chapter 6) lists it. Modules add
 * themselves when the plugin is built (`registry.add(...)`), so GET /ocpi/2.2.1 never lists a
 * module that is not there. Paths are relative to the OCPI surface prefix (`/ocpi`).
 */

export const ocpiVersion = '2.2.1';
export type InterfaceRole = 'SENDER' | 'RECEIVER';

export interface ModuleEndpoint {
  /** ModuleID, e.g. `credentials`, `locations`. */
  readonly identifier: string;
  /** The interface we offer: a CPO is SENDER of locations/sessions/cdrs/tariffs, RECEIVER of tokens/commands. */
  readonly role: InterfaceRole;
  /** Below the surface prefix, e.g. `/2.2.1/credentials`. */
  readonly path: string;
}

export interface VersionRegistry {
  add(version: string, endpoint: ModuleEndpoint): void;
  versions(): readonly string[];
  endpoints(version: string): readonly ModuleEndpoint[];
}

export function createVersionRegistry(): VersionRegistry {
  const byVersion = new Map<string, ModuleEndpoint[]>();
  return {
    add(version, endpoint) {
      const list = byVersion.get(version) ?? [];
      if (list.some((existing) => existing.identifier === endpoint.identifier && existing.role === endpoint.role)) {
        throw new Error(`OCPI ${version}: ${endpoint.identifier} ${endpoint.role} registered twice`);
      }
      list.push(endpoint);
      byVersion.set(version, list);
    },
    versions: () => [...byVersion.keys()],
    endpoints: (version) => byVersion.get(version) ?? [],
  };
}
