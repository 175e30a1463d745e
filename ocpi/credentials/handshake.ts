import { OcpiClientError, ocpiRequest, type OcpiClientOptions } from '../client/client.js';
import { OcpiError, OcpiStatus } from '../transport/status.js';
import { ocpiVersion } from '../versions/registry.js';
import { versionDetailsSchema, versionListSchema, type VersionDetails } from '../versions/schemas.js';

/**
 * The half of the credentials handshake both directions share: read the other platform's
 * versions with the token we hold for it, pick the mutual version (we speak only 2.2.1) and read
 * its endpoints. Failures are the spec's registration errors (7.1.5, 7.1.6): 3001 when their API
 * cannot be reached or understood, 3003 when there is no mutual version or no credentials endpoint.
 */

export interface PartnerVersion {
  readonly version: string;
  readonly versionsUrl: string;
  readonly details: VersionDetails;
}

export async function fetchPartnerVersion(versionsUrl: string, client: OcpiClientOptions): Promise<PartnerVersion> {
  try {
    const versions = await ocpiRequest(versionsUrl, { data: versionListSchema }, client);
    const mutual = versions.data.find((entry) => entry.version === ocpiVersion);
    if (mutual === undefined) {
      throw new OcpiError(OcpiStatus.noMatchingEndpoints, `no mutual OCPI version: ${versionsUrl} offers ${versions.data.map((v) => v.version).join(', ') || 'none'}, we speak ${ocpiVersion}`);
    }
    const details = await ocpiRequest(mutual.url, { data: versionDetailsSchema }, client);
    if (details.data.version !== ocpiVersion) {
      throw new OcpiError(OcpiStatus.unableToUseClientApi, `${mutual.url} describes version ${details.data.version}, not ${ocpiVersion}`);
    }
    if (!details.data.endpoints.some((endpoint) => endpoint.identifier === 'credentials')) {
      throw new OcpiError(OcpiStatus.noMatchingEndpoints, `${mutual.url} lists no credentials endpoint`);
    }
    return { version: ocpiVersion, versionsUrl, details: details.data };
  } catch (error) {
    if (error instanceof OcpiClientError) throw new OcpiError(OcpiStatus.unableToUseClientApi, `cannot use your API: ${error.message}`);
    throw error;
  }
}
