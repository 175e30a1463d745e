import type { Command } from 'commander';
import { tokenTypes, whitelistTypes } from '../../domain/token/events.js';
import { reportError, type CliContext } from './run.js';
import { cliActor, serverOption, withDatabaseOrServer } from './station-call.js';
import { domainRefusal } from './stations.js';

/** `csms tokens add | block`: local tokens (RFID cards, key codes) through the command bus. */

const loadOperator = () => import('../operator-commands.js');

export function registerTokensCommands(program: Command, context: CliContext): void {
  const tokens = program.command('tokens').description('issue and block charging tokens (RFID cards, app users)');

  tokens
    .command('add')
    .description('issue a token, or update its facts when it exists')
    .argument('<uid>', 'the identifier stations send (1.6 idTag, 2.0.1 idToken), at most 36 characters')
    .option('--type <type>', `token type: ${tokenTypes.join(', ')}`, 'RFID')
    .option('--expires <iso>', 'valid until, ISO-8601 with a zone, e.g. 2026-12-31T23:59:59Z')
    .option('--contract-id <id>', 'contract id (eMAID); default: the uid')
    .option('--issuer <name>', 'issuing company: the customer its sessions are billed to (ledger receivable:customer:<issuer>)', 'Open-CSMS')
    .option('--whitelist <kind>', `OCPI whitelist: ${whitelistTypes.join(', ')}`, 'ALLOWED')
    .addOption(serverOption())
    .action(async (uid: string, options: { type: string; expires?: string; contractId?: string; issuer: string; whitelist: string; server?: string }) => {
      try {
        const request = { uid, tokenType: options.type, validUntil: options.expires, contractId: options.contractId, issuer: options.issuer, whitelist: options.whitelist };
        const outcome = await withDatabaseOrServer<{ uid: string; changed: boolean }>(
          context,
          'tokens add',
          options.server,
          async (services) => {
            const { issueToken } = await loadOperator();
            return issueToken({ bus: services.bus, clock: services.clock, tenantId: services.config.tenantId, actor: cliActor() }, request);
          },
          async (client) =>
            (
              await client.request('POST', '/tokens', {
                uid,
                type: options.type,
                expires: options.expires,
                contractId: options.contractId,
                issuer: options.issuer,
                whitelist: options.whitelist,
              })
            ).body as { uid: string; changed: boolean },
        ).catch((error: unknown) => Promise.reject(domainRefusal(error)));
        context.out(outcome.changed ? `token ${uid} issued` : `token ${uid} unchanged (already issued with these facts)`);
      } catch (error) {
        reportError(context, error);
      }
    });

  tokens
    .command('block')
    .description('block a token: stations are answered Blocked from now on')
    .argument('<uid>', 'the token uid')
    .option('--reason <text>', 'why, for the record', 'blocked by operator')
    .addOption(serverOption())
    .action(async (uid: string, options: { reason: string; server?: string }) => {
      try {
        const outcome = await withDatabaseOrServer<{ uid: string; changed: boolean }>(
          context,
          'tokens block',
          options.server,
          async (services) => {
            const { blockToken } = await loadOperator();
            return blockToken({ bus: services.bus, clock: services.clock, tenantId: services.config.tenantId, actor: cliActor() }, { uid, reason: options.reason });
          },
          async (client) => (await client.request('POST', `/tokens/${encodeURIComponent(uid)}/block`, { reason: options.reason })).body as { uid: string; changed: boolean },
        ).catch((error: unknown) => Promise.reject(domainRefusal(error)));
        context.out(outcome.changed ? `token ${uid} blocked` : `token ${uid} was already blocked`);
      } catch (error) {
        reportError(context, error);
      }
    });
}
