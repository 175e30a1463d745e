import type { Command } from 'commander';
import type { RegisterWithPartnerOutcome } from '../../ocpi/credentials/service.js';
import type { OcpiInvitation } from '../ocpi-commands.js';
import { CliError, ExitCode, readConfig, reportError, type CliContext } from './run.js';
import { cliActor, serverOption, serverUrl, withDatabaseOrServer } from './station-call.js';
import { domainRefusal } from './stations.js';

/**
 * `csms ocpi invite | register`: the two ways an OCPI partner relationship starts (credentials
 * module, spec chapter 7). Like `csms stations register` they work on the database, and ask the
 * running server instead when it holds the embedded one. `register` needs a running server either
 * way: during the handshake the partner calls our versions endpoint with the token we send it.
 */

const loadOcpi = () => import('../ocpi-commands.js');

/** The partner refused or could not be used (OCPI errors from the credentials service, HTTP 502 from the server). */
function partnerRefusal(error: unknown, what: string): unknown {
  if (error instanceof Error && error.name === 'OcpiError') return new CliError(`${what} refused: ${error.message}`, ExitCode.checkFailed);
  return domainRefusal(error);
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
  const ocpi = program.command('ocpi').description('connect OCPI partners (eMSPs, hubs): invite them, or register with them');

  ocpi
    .command('invite')
    .description('issue token A for a partner to register with us; prints the token (shown once) and our versions URL')
    .argument('<partner-id>', "our name for the partner: 1 to 64 letters, digits, '_' or '.'")
    .addOption(serverOption())
    .action(async (partnerId: string, options: { server?: string }) => {
      try {
        const invitation = await withDatabaseOrServer<OcpiInvitation>(
          context,
          'ocpi invite',
          options.server,
          async (services) => {
            const { cliCredentialsDeps, inviteOcpiPartner, ocpiVersionsUrl } = await loadOcpi();
            const deps = cliCredentialsDeps({ ...services, tenantId: services.config.tenantId, settings: services.config.ocpi });
            return inviteOcpiPartner(deps, partnerId, ourVersionsUrl(context, options.server, ocpiVersionsUrl), cliActor());
          },
          async (client) => (await client.request('POST', `/ocpi/partners/${encodeURIComponent(partnerId)}/invitation`, {})).body as OcpiInvitation,
        ).catch((error: unknown) => Promise.reject(domainRefusal(error)));
        context.out(`partner ${invitation.partnerId} invited: give them both lines below (the token is shown only now)`);
        context.out(`  versions URL: ${invitation.versionsUrl}`);
        context.out(`  token A:      ${invitation.token}`);
      } catch (error) {
        reportError(context, error);
      }
    });

  ocpi
    .command('register')
    .description("register with a partner: read their versions with their token A, send our credentials, keep theirs (exit 1: they refused)")
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
            if (response.status === 502 || response.status === 504) {
              const message = (response.body as { message?: string } | null)?.message ?? `HTTP ${response.status}`;
              throw new CliError(`registration with ${partnerId} refused: ${message}`, ExitCode.checkFailed);
            }
            return response.body as RegisterWithPartnerOutcome;
          },
        ).catch((error: unknown) => {
          const refusal = partnerRefusal(error, `registration with ${partnerId}`);
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
