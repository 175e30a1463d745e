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
}

export interface BlockToken {
  readonly type: 'BlockToken';
  readonly reason: string;
}

export interface UnblockToken {
  readonly type: 'UnblockToken';
}

export interface ExpireToken {
  readonly type: 'ExpireToken';
  readonly expiredAt: string;
}

export type TokenCommand = IssueToken | BlockToken | UnblockToken | ExpireToken;

export const tokenCommandTypes = ['IssueToken', 'BlockToken', 'UnblockToken', 'ExpireToken'] as const satisfies readonly TokenCommand['type'][];
