import type { TokenSource, TokenType, WhitelistType } from './events.js';

/** Commands to the token aggregate, from operators (local tokens) and OCPI eMSPs (PUT/PATCH tokens). */

export interface IssueToken {
  readonly type: 'IssueToken';
  readonly uid: string;
  readonly tokenType: TokenType;
  readonly contractId: string;
  readonly issuer: string;
  readonly ownerId?: string | null;
  readonly visualNumber?: string | null;
  readonly validUntil?: string | null;
  readonly whitelist: WhitelistType;
  readonly source: TokenSource;
  readonly groupId?: string | null;
  /** The eMSP party of an OCPI token; a token of one party cannot be taken over by another (or by a local token). */
  readonly countryCode?: string;
  readonly partyId?: string;
  readonly language?: string;
  readonly defaultProfileType?: string;
  readonly energyContract?: { readonly supplierName: string; readonly contractId?: string };
}

/** Fields of an issued token to change (OCPI PATCH): the rest stays; uid and party cannot change. */
export type TokenChanges = Partial<Omit<IssueToken, 'type' | 'uid' | 'source' | 'countryCode' | 'partyId'>>;

export interface UpdateToken {
  readonly type: 'UpdateToken';
  readonly changes: TokenChanges;
  /** The party the sender believes owns the token (OCPI PATCH URL): refused when it is another's. */
  readonly expectedParty?: { readonly countryCode: string; readonly partyId: string };
}

export interface BlockToken {
  readonly type: 'BlockToken';
  readonly reason: string;
}

export interface UnblockToken {
  readonly type: 'UnblockToken';
  /**
   * Lift the block only when it was set for this reason (an eMSP's `valid: true` lifts the block its
   * own `valid: false` set, never an operator's block). Absent: lift any block.
   */
  readonly onlyReason?: string;
}

export interface ExpireToken {
  readonly type: 'ExpireToken';
  readonly expiredAt: string;
}

export type TokenCommand = IssueToken | UpdateToken | BlockToken | UnblockToken | ExpireToken;

export const tokenCommandTypes = ['IssueToken', 'UpdateToken', 'BlockToken', 'UnblockToken', 'ExpireToken'] as const satisfies readonly TokenCommand['type'][];
