import { quoteIdentifier, type SqlExecutor } from '../adapters/sql/port.js';
import { ocpiTokenTypeOf } from '../domain/shared/token-type.js';
import type { AuthorizingParty } from '../domain/transaction/events.js';
import { rowKey, type Row, type TableSpec } from './rows.js';

/**
 * The token facts `proj_ocpi_sessions` keeps (from token events) so a session's cdr_token can name
 * the contract and the eMSP of the token that started it, without reading another read model
 * (a rebuild must not depend on another projection's progress).
 */

export const tokensSpec: TableSpec = {
  table: 'tokens',
  key: ['tenant_id', 'token_id'],
  columns: ['tenant_id', 'token_id', 'uid', 'token_type', 'contract_id', 'country_code', 'party_id'].map((name) => ({ name, type: 'text' })),
};

/** One mapping for Sessions, CDRs and real-time authorization (domain/shared/token-type.ts). */
export { ocpiTokenTypeOf };

function tokenByUid(tokens: ReadonlyMap<string, Row>, tenantId: string, uid: string): Row | undefined {
  // Several tokens may share a uid (two eMSPs' cards); the lowest token id wins so a rebuild
  // picks the same one. Which one the authorization used is not recorded on the transaction.
  let best: Row | undefined;
  for (const token of tokens.values()) {
    if (token.tenant_id === tenantId && token.uid === uid && (best === undefined || String(token.token_id) < String(best.token_id))) best = token;
  }
  return best;
}

export function withToken(tokens: ReadonlyMap<string, Row>, session: Row, idToken: { idToken: string; type: string }): Row {
  const token = tokenByUid(tokens, String(session.tenant_id), idToken.idToken);
  return {
    ...session,
    token_uid: idToken.idToken,
    token_type: ocpiTokenTypeOf(String(token?.token_type ?? idToken.type)),
    contract_id: token?.contract_id ?? null,
    token_country_code: token?.country_code ?? null,
    token_party_id: token?.party_id ?? null,
    // A remote start (OCPI START_SESSION, operator) reaches the station as a central id token.
    remote_start: Boolean(session.remote_start) || idToken.type === 'Central',
  };
}

/**
 * The eMSP that authorized the session (its real-time answer, its START_SESSION) is the cdr_token's
 * party, whether we hold the token or not; the contract of our copy of the token only when that
 * copy is the same eMSP's; else what that eMSP's Token said (START_SESSION, real-time answer: its
 * contract_id and type, OCPI 2.2.1 13.3.5), else the uid stands for it. The CDR's rule (cdrTokenOf).
 */
export function withAuthorizingParty(tokens: ReadonlyMap<string, Row>, session: Row, party: AuthorizingParty): Row {
  const token = tokenByUid(tokens, String(session.tenant_id), String(session.token_uid));
  const same = token !== undefined && token.country_code === party.countryCode && token.party_id === party.partyId;
  const told = same ? {} : { contract_id: party.contractId ?? null, ...(party.tokenType === undefined ? {} : { token_type: party.tokenType }) };
  return { ...session, token_country_code: party.countryCode, token_party_id: party.partyId, contract_id: same ? (token.contract_id ?? null) : null, ...told };
}

/** Adds to `tokens` the stored tokens with one of these uids (the tokens the batch's sessions name). */
export async function loadTokensByUid(tx: SqlExecutor, schema: string, tokens: Map<string, Row>, tenants: readonly string[], uids: readonly string[]): Promise<void> {
  if (uids.length === 0) return;
  const { rows } = await tx.query<Row>(`SELECT * FROM ${quoteIdentifier(schema)}.tokens WHERE tenant_id = ANY($1::text[]) AND uid = ANY($2::text[])`, [tenants, uids]);
  for (const row of rows) tokens.set(rowKey(tokensSpec, row), row);
}
