import { BlockList, isIP } from 'node:net';
import { InvalidArgumentError, type Command } from 'commander';
import type { RegisterWithPartnerOutcome } from '../../ocpi/credentials/service.js';
import type { OcpiInvitation } from '../ocpi-commands.js';
import { CliError, ExitCode, parseCount, readConfig, reportError, withServices, type CliContext } from './run.js';
import { cliActor, serverOption, serverUrl, withDatabaseOrServer } from './station-call.js';
import { domainRefusal } from './stations.js';

/**
 * `csms ocpi invite | register`: the two ways an OCPI partner relationship starts (credentials
 * module, spec chapter 7). Like `csms stations register` they work on the database, and ask the
 * running server instead when it holds the embedded one. `register` needs a running server either
 * way: during the handshake the partner calls our versions endpoint with the token we send it.
 */

const loadOcpi = () => import('../ocpi-commands.js');

/**
 * The partner refused or could not be used (OCPI errors from the credentials service, HTTP 502
 * from the server): exit 1. A partner that never answered (PartnerUnreachableError, HTTP 504
 * from the server) is no refusal: exit 3, "could not run", with the cause.
 */
function partnerRefusal(error: unknown, what: string, partnerId: string): unknown {
  if (error instanceof Error && error.name === 'PartnerUnreachableError') return partnerUnreachable(partnerId, error.message);
  if (error instanceof Error && error.name === 'OcpiError') return new CliError(`${what} refused: ${error.message}`, ExitCode.checkFailed);
  return domainRefusal(error);
}

/** `where`: the partner's URL and why it could not be reached, as PartnerUnreachableError words it. */
const partnerUnreachable = (partnerId: string, where: string) => new CliError(`could not reach partner ${partnerId} at ${where}`, ExitCode.failed);

const loopbackHosts = new BlockList();
loopbackHosts.addSubnet('127.0.0.0', 8, 'ipv4');
loopbackHosts.addAddress('::1', 'ipv6');
/** RFC 1918, link-local, shared address space (CGNAT), IPv6 unique-local and link-local. */
const privateHosts = new BlockList();
for (const [network, prefix] of [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['169.254.0.0', 16], ['100.64.0.0', 10]] as const) privateHosts.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [['fc00::', 7], ['fe80::', 10]] as const) privateHosts.addSubnet(network, prefix, 'ipv6');

/** Where a partner elsewhere on the internet cannot reach a URL's host: a loopback or a private network address. */
function unreachableHostKind(url: string): 'loopback' | 'private network' | null {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  const family = isIP(host);
  if (family === 0) return null;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (loopbackHosts.check(host, type)) return 'loopback';
  return privateHosts.check(host, type) ? 'private network' : null;
}

/**
 * The warning for an invitation whose versions URL partners elsewhere cannot reach: made from
 * HOST:PORT because OCPI_PUBLIC_URL is unset, or OCPI_PUBLIC_URL itself naming such a host.
 * Still printed with the invitation: a partner on this machine (local testing) can use it.
 */
function versionsUrlWarning(versionsUrl: string, publicUrlUnset: boolean): string | null {
  const kind = unreachableHostKind(versionsUrl);
  if (kind === null) return null;
  const unset = publicUrlUnset ? ' (OCPI_PUBLIC_URL is not set)' : '';
  return (
    `csms: warning: the versions URL ${versionsUrl} is a ${kind} address: a partner elsewhere cannot reach it${unset}. ` +
    'Fine for testing on this machine; otherwise set OCPI_PUBLIC_URL, on the server too, to the URL partners reach it at, and invite again.'
  );
}

/** Our versions URL as partners should reach it: OCPI_PUBLIC_URL, else the server's URL. */
function ourVersionsUrl(context: CliContext, server: string | undefined, origin: (url: string) => string): string {
  const config = readConfig(context);
  return origin(config.ocpi.publicUrl ?? serverUrl(config, context.env, server));
}

function checkHttpUrl(text: string, option: string): string {
  try {
    const url = new URL(text);
    if (url.protocol === 'http:' || url.protocol === 'https:') return text;
  } catch {
    // reported below
  }
  throw new CliError(`${option} must be an http(s) URL, not ${JSON.stringify(text)}`, ExitCode.usage);
}

export function registerOcpiCommands(program: Command, context: CliContext): void {
  const ocpi = program.command('ocpi').description('connect OCPI partners (eMSPs, hubs): invite them, or register with them; the push outbox; sync');
  registerOcpiOutboxCommands(ocpi, context);

  ocpi
    .command('invite')
    .description('issue token A for a partner to register with us; prints the token (shown once) and our versions URL')
    .argument('<partner-id>', "our name for the partner: 1 to 64 letters, digits, '_' or '.'")
    .addOption(serverOption())
    .action(async (partnerId: string, options: { server?: string }) => {
      try {
        // Only the direct path knows the setting behind the URL; through a server it is the server's.
        let publicUrlUnset = false;
        const invitation = await withDatabaseOrServer<OcpiInvitation>(
          context,
          'ocpi invite',
          options.server,
          async (services) => {
            publicUrlUnset = services.config.ocpi.publicUrl === null;
            const { cliCredentialsDeps, inviteOcpiPartner, ocpiVersionsUrl } = await loadOcpi();
            const deps = cliCredentialsDeps({ ...services, tenantId: services.config.tenantId, settings: services.config.ocpi });
            return inviteOcpiPartner(deps, partnerId, ourVersionsUrl(context, options.server, ocpiVersionsUrl), cliActor());
          },
          async (client) => (await client.request('POST', `/ocpi/partners/${encodeURIComponent(partnerId)}/invitation`, {})).body as OcpiInvitation,
        ).catch((error: unknown) => Promise.reject(domainRefusal(error)));
        context.out(`partner ${invitation.partnerId} invited: give them both lines below (the token is shown only now)`);
        context.out(`  versions URL: ${invitation.versionsUrl}`);
        context.out(`  token A:      ${invitation.token}`);
        const warning = versionsUrlWarning(invitation.versionsUrl, publicUrlUnset);
        if (warning !== null) context.err(warning);
      } catch (error) {
        reportError(context, error);
      }
    });

  ocpi
    .command('register')
    .description("register with a partner: read their versions with their token A, send our credentials, keep theirs (exit 1: they refused; 3: they could not be reached)")
    .argument('<partner-id>', "our name for the partner: 1 to 64 letters, digits, '_' or '.'")
    .requiredOption('--url <url>', 'their versions URL, e.g. https://emsp.example.com/ocpi/versions')
    .requiredOption('--token <token>', 'their token A, given to us out of band (used once, never stored)')
    .addOption(serverOption())
    .action(async (partnerId: string, options: { url: string; token: string; server?: string }) => {
      try {
        const request = { partnerId, url: checkHttpUrl(options.url, '--url'), token: options.token };
        let ours = '';
        const outcome = await withDatabaseOrServer<RegisterWithPartnerOutcome>(
          context,
          'ocpi register',
          options.server,
          async (services) => {
            const { cliCredentialsDeps, ocpiVersionsUrl, registerOcpiPartner } = await loadOcpi();
            const deps = cliCredentialsDeps({ ...services, tenantId: services.config.tenantId, settings: services.config.ocpi });
            ours = ourVersionsUrl(context, options.server, ocpiVersionsUrl);
            return registerOcpiPartner(deps, request, ours, cliActor());
          },
          async (client) => {
            const response = await client.request('POST', `/ocpi/partners/${encodeURIComponent(partnerId)}/registration`, { url: request.url, token: request.token });
            const message = (response.body as { message?: string } | null)?.message;
            // The server's operator API: 504 the partner never answered, 502 it refused.
            if (response.status === 504) {
              throw message === undefined ? new CliError(`could not reach partner ${partnerId}: the server answered HTTP 504`, ExitCode.failed) : partnerUnreachable(partnerId, message);
            }
            if (response.status === 502) throw new CliError(`registration with ${partnerId} refused: ${message ?? 'HTTP 502'}`, ExitCode.checkFailed);
            return response.body as RegisterWithPartnerOutcome;
          },
        ).catch((error: unknown) => {
          const refusal = partnerRefusal(error, `registration with ${partnerId}`, partnerId);
          if (refusal instanceof CliError && refusal.exitCode === ExitCode.checkFailed && ours !== '' && refusal.message.includes('registration refused')) {
            // Direct on the database: the partner had to reach our versions at `ours` while we waited.
            return Promise.reject(new CliError(`${refusal.message} (the partner calls us back at ${ours}: is \`csms serve\` running there? set OCPI_PUBLIC_URL if not)`, refusal.exitCode));
          }
          return Promise.reject(refusal);
        });
        const roles = outcome.roles.map((role) => `${role.role} ${role.country_code}*${role.party_id}`).join(', ');
        context.out(`registered with ${outcome.partnerId}: OCPI ${outcome.version}, ${outcome.endpoints} endpoints, roles ${roles || 'none'}`);
      } catch (error) {
        reportError(context, error);
      }
    });
}

const pushStates = ['pending', 'delivered', 'rejected'] as const;
const syncModules = ['locations', 'tariffs', 'sessions', 'cdrs', 'tokens'] as const;
/** Widest error shown in the outbox table; the full text is in ocpi_outbox.pushes.last_error. */
const outboxErrorColumnChars = 60;

function oneOf<T extends string>(option: string, allowed: readonly T[]): (text: string) => T {
  return (text) => {
    if ((allowed as readonly string[]).includes(text)) return text as T;
    // commander reports this as a usage error naming the option, like parseCount.
    throw new InvalidArgumentError(`${option} must be one of ${allowed.join(', ')}, not ${JSON.stringify(text)}`);
  };
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
}

function registerOcpiOutboxCommands(ocpi: Command, context: CliContext): void {
  const loadPush = async () => ({
    outbox: await import('../../ocpi/push/outbox.js'),
    report: await import('../../ocpi/push/report.js'),
  });
  const outbox = ocpi
    .command('outbox')
    .description('pushes to partners (locations, sessions, CDRs, tariffs): newest first, with counts per partner, module and state')
    .option('--partner <partner-id>', 'only this partner')
    .option('--state <state>', `only pending, delivered or rejected`, oneOf('--state', pushStates))
    .option('--limit <n>', 'rows shown (default 50)', parseCount('--limit', 10_000))
    .action(async (options: { partner?: string; state?: (typeof pushStates)[number]; limit?: number }) => {
      try {
        await withServices(context, 'ocpi outbox', async (services) => {
          const { outbox: store, report } = await loadPush();
          await store.migrateOutbox(services.db);
          const filter = { ...(options.partner ? { partnerId: options.partner } : {}), ...(options.state ? { state: options.state } : {}) };
          const rows = await report.listPushes(services.db, services.config.tenantId, { ...filter, limit: options.limit ?? report.outboxListLimitDefault });
          const counts = await report.countPushesBy(services.db, services.config.tenantId, filter);
          if (rows.length === 0) {
            context.out('no pushes');
            return;
          }
          const cells = rows.map((row) => [
            row.id, row.partnerId, row.module, row.objectKey, row.change, row.state, String(row.attempts),
            row.nextAttemptAt?.toISOString() ?? '-',
            (row.lastError ?? row.note ?? '').replace(/\s+/g, ' ').slice(0, outboxErrorColumnChars),
          ]);
          for (const line of table([['ID', 'PARTNER', 'MODULE', 'OBJECT', 'CHANGE', 'STATE', 'ATTEMPTS', 'NEXT ATTEMPT', 'LAST ERROR'], ...cells])) context.out(line);
          context.out('');
          for (const line of table([['PARTNER', 'MODULE', 'STATE', 'COUNT'], ...counts.map((c) => [c.partnerId, c.module, c.state, String(c.count)])])) context.out(line);
        });
      } catch (error) {
        reportError(context, error);
      }
    });

  outbox
    .command('retry')
    .description('queue a rejected push again, due now (the server delivers it)')
    .argument('<id>', 'the push id shown by `csms ocpi outbox`')
    .action(async (id: string) => {
      try {
        if (!/^\d{1,18}$/.test(id)) throw new CliError(`push id must be a number, not ${JSON.stringify(id)}`, ExitCode.usage);
        await withServices(context, 'ocpi outbox retry', async (services) => {
          const { outbox: store } = await loadPush();
          await store.migrateOutbox(services.db);
          const outcome = await store.retryPush(services.db, services.config.tenantId, id, services.clock.now());
          if (outcome === 'not-found') throw new CliError(`no push ${id}`, ExitCode.usage);
          if (outcome === 'not-rejected') throw new CliError(`push ${id} is not rejected: only rejected pushes are retried (pending ones retry on their own)`, ExitCode.usage);
          if (outcome === 'superseded') context.out(`push ${id} not re-queued: a newer push of the same object is pending and sends its newest state`);
          else context.out(`push ${id} queued again: the server's push worker delivers it`);
        }, 'write');
      } catch (error) {
        reportError(context, error);
      }
    });

  ocpi
    .command('sync')
    .description('send a partner everything of a module (queue every object for push), or pull all their tokens')
    .requiredOption('--partner <partner-id>', 'the registered partner')
    .requiredOption('--module <module>', syncModules.join(' | '), oneOf('--module', syncModules))
    .option('--now', 'deliver in this process and show progress, instead of leaving it to the server')
    .action(async (options: { partner: string; module: (typeof syncModules)[number]; now?: boolean }) => {
      try {
        await withServices(context, 'ocpi sync', (services) => runSync(context, services, options), 'write');
      } catch (error) {
        reportError(context, error);
      }
    });
}

async function runSync(
  context: CliContext,
  services: import('../composition.js').Services,
  options: { partner: string; module: (typeof syncModules)[number]; now?: boolean },
): Promise<void> {
  const { ourParty } = await import('../../ocpi/plugin.js');
  const { createTokenSealer } = await import('../../ocpi/credentials/seal.js');
  const tenantId = services.config.tenantId;
  const sealer = createTokenSealer(services.config.ocpi.secret);
  const us = ourParty(services.config.ocpi);
  if (options.module === 'tokens') {
    const { pullPartnerTokens } = await import('../../ocpi/tokens/pull.js');
    const result = await pullPartnerTokens({ db: services.db, bus: services.bus, clock: services.clock, tenantId, sealer, us }, options.partner).catch((error: unknown) => {
      throw new CliError(`token pull from ${options.partner} failed: ${(error as Error).message}`, ExitCode.checkFailed);
    });
    context.out(`tokens from ${options.partner}: ${result.received} received, ${result.changed} changed`);
    return;
  }
  const { ocpiPushSources } = await import('../../ocpi/modules/index.js');
  const source = ocpiPushSources.find((candidate) => candidate.module === options.module);
  if (source === undefined) throw new CliError(`module ${options.module} has no push source yet`, ExitCode.usage);
  const { enqueueSync, SyncRefusedError, deliverSyncNow, syncNowAttemptsMax } = await import('../../ocpi/push/sync.js');
  const queued = await enqueueSync({ db: services.db, tenantId, us, sealer, clock: services.clock }, options.partner, source).catch((error: unknown) => {
    throw error instanceof SyncRefusedError ? new CliError(error.message, ExitCode.usage) : error;
  });
  context.out(`${queued} ${options.module} objects queued for ${options.partner}`);
  if (!options.now) {
    context.out(`the server's push worker delivers them (csms serve); follow with: csms ocpi outbox --partner ${options.partner}`);
    return;
  }
  const { pushWorkerDeps } = await import('../../ocpi/push/index.js');
  const { createProgress } = await import('./progress.js');
  const deps = pushWorkerDeps({ eventStore: services.eventStore, db: services.db, tenantId, settings: services.config.ocpi, clock: services.clock, log: context.err });
  const progress = createProgress(`sync ${options.module} to ${options.partner}`);
  const counts = await deliverSyncNow(deps, { partnerId: options.partner, module: source.module }, (done, total) => progress.update(done, total), {
    owner: `cli:${process.pid}`,
  }).finally(() => progress.stop());
  context.out(`${options.partner} ${options.module}: ${counts.delivered} delivered, ${counts.rejected} rejected, ${counts.pending} pending`);
  if (counts.pending > 0) {
    context.out(`pushes still failing after ${syncNowAttemptsMax} attempts stay queued: the server's worker keeps retrying (csms ocpi outbox --partner ${options.partner})`);
    context.exitCode = ExitCode.checkFailed;
  }
}
