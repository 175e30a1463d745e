import type { ClientInfoStatus, CredentialsTokenLetter, OcpiRole, PartnerEndpoint, PartnerRole } from './events.js';

/** Commands to the partner aggregate; the OCPI credentials module and the operator send them. */

export interface PartnerConnection {
  readonly roles: readonly PartnerRole[];
  readonly version: string;
  readonly versionsUrl: string;
  readonly endpoints: readonly PartnerEndpoint[];
}

/** A token the partner will present to us: only its hash travels in the command. */
export interface TokenTheyPresent {
  readonly token: CredentialsTokenLetter;
  readonly tokenHash: string;
}

/** The token we present to them, sealed by the caller (ocpi/credentials/seal.ts). */
export interface TokenWePresent {
  readonly token: CredentialsTokenLetter;
  readonly tokenSealed: string;
}

/**
 * A token the partner may use before registration: token A (an operator invites a partner to
 * register with us), or our token B while we register with them (they call our versions with it
 * during our POST). Allowed when not registered; replaces an earlier pending token.
 */
export interface IssueRegistrationToken {
  readonly type: 'IssueRegistrationToken';
  readonly tokenTheyPresent: TokenTheyPresent;
}

export interface RegisterPartner {
  readonly type: 'RegisterPartner';
  readonly initiatedBy: 'partner' | 'us';
  readonly connection: PartnerConnection;
  readonly tokenWePresent: TokenWePresent;
  /** C when they registered with us (we issue it now); B when we registered with them (already issued). */
  readonly tokenTheyPresent: TokenTheyPresent;
}

export interface UpdatePartner {
  readonly type: 'UpdatePartner';
  readonly connection: PartnerConnection;
  readonly tokenWePresent: TokenWePresent;
  /** A new token for them (PUT from them: we issue a fresh C), or null to keep the current one. */
  readonly tokenTheyPresent: TokenTheyPresent | null;
}

export interface UnregisterPartner {
  readonly type: 'UnregisterPartner';
  readonly initiatedBy: 'partner' | 'us';
  readonly reason: string;
}

/**
 * A hub tells us how one party connected to it is reachable (OCPI hubclientinfo PUT). The hub
 * owns these objects; only a partner with the HUB role may report them.
 */
export interface ReportClientInfo {
  readonly type: 'ReportClientInfo';
  readonly countryCode: string;
  readonly partyId: string;
  readonly role: OcpiRole;
  readonly status: ClientInfoStatus;
  /** The hub's last_updated, ISO-8601. */
  readonly lastUpdated: string;
}

export type PartnerCommand = IssueRegistrationToken | RegisterPartner | UpdatePartner | UnregisterPartner | ReportClientInfo;

export const partnerCommandTypes = ['IssueRegistrationToken', 'RegisterPartner', 'UpdatePartner', 'UnregisterPartner', 'ReportClientInfo'] as const satisfies readonly PartnerCommand['type'][];
