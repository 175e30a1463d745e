import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Decimal } from 'decimal.js';
import type { Services } from '../composition.js';
import { defaultReconciliationTolerance } from '../../domain/settlement/reconcile.js';
import { formatTable } from './projections.js';
import { caughtUpReadModels } from './read-models.js';
import { CliError, ExitCode, reportError, withServices, type CliAccess, type CliContext } from './run.js';

/**
 * Billing for operators: `csms tariffs add|list`, `csms ledger trial-balance|account`,
 * `csms cdr export|credit`, `csms settlement reconcile`. Changes go through the command bus;
 * reads come from the cdrs and ledger read models (tariffs list reads the tariff streams: there is
 * no tariffs read model yet).
 */

/** Rows a CLI read returns at most: an export of more is done in several --from/--to ranges. */
export const billingCliRowsMax = 100_000;

/**
 * The rows a billing read may print: a read asks for one row more than the limit, and more than
 * the limit is refused rather than cut silently (a cut CDR export or a statement whose running
 * balance stops early would look complete to finance).
 */
export function rowsWithinLimit<T>(rows: readonly T[], what: string, narrowing: string, rowsMax = billingCliRowsMax): readonly T[] {
  if (rows.length > rowsMax) throw new CliError(`more than ${rowsMax} ${what}: ${narrowing}`, ExitCode.failed);
  return rows;
}
/** A partner's CDR file larger than this is refused before it is parsed. */
export const theirFileBytesMax = 50 * 1024 * 1024;

const actorOf = () => `user:${process.env.USER ?? 'cli'}`;

async function send(services: Services, aggregateId: string, commandId: string, command: import('../../commands/index.js').Command) {
  const now = services.clock.now().toISOString();
  return services.bus.send({ commandId, tenantId: services.config.tenantId, aggregateId, actor: actorOf(), correlationId: commandId, occurredAt: now, command });
}

/** Refusals of the domain become usage-style errors with the domain's message (exit 2). */
async function refusalsAsCliErrors<T>(work: () => Promise<T>): Promise<T> {
  const { InvalidCommandError, IllegalStateError } = await import('../../domain/shared/errors.js');
  try {
    return await work();
  } catch (error) {
    if (error instanceof InvalidCommandError || error instanceof IllegalStateError) throw new CliError(error.message, ExitCode.usage);
    throw error;
  }
}

async function readJsonFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${what} ${file}: ${(error as Error).message}`, ExitCode.usage);
  }
  if (text.length > theirFileBytesMax) throw new CliError(`${file} is larger than ${theirFileBytesMax} bytes`, ExitCode.usage);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file} is not JSON: ${(error as Error).message}`, ExitCode.usage);
  }
}

function run(context: CliContext, name: string, work: (services: Services) => Promise<void>, access: CliAccess = 'read') {
  return async () => {
    try {
      await withServices(context, name, (services) => refusalsAsCliErrors(() => work(services)), access);
    } catch (error) {
      reportError(context, error);
    }
  };
}

/**
 * The billing read models, caught up to the head of $all before reading: in the embedded mode no
 * server runs beside the CLI, so nothing else would apply the events (see read-models.ts).
 */
const migratedProjections = (services: Services, warn: (line: string) => void) => caughtUpReadModels(services, ['cdrs', 'ledger'], warn);

export function registerBillingCommands(program: Command, context: CliContext): void {
  registerTariffs(program, context);
  registerLedger(program, context);
  registerCdr(program, context);
  registerSettlement(program, context);
}

/**
 * A tariff is ours: it is pushed at /{country_code}/{party_id}/{id} and copied into CDRs, so any
 * other party than our OCPI one (OCPI_COUNTRY_CODE / OCPI_PARTY_ID) would publish a second CPO.
 */
async function checkOurParty(services: Services, file: string, tariff: unknown): Promise<void> {
  const { country_code: countryCode, party_id: partyId } = (tariff ?? {}) as { country_code?: unknown; party_id?: unknown };
  // Missing or mistyped fields are the tariff validation's to report, with the others.
  if (typeof countryCode !== 'string' || typeof partyId !== 'string') return;
  const { ourParty } = await import('../../ocpi/plugin.js');
  const us = ourParty(services.config.ocpi);
  if (countryCode.toUpperCase() === us.countryCode && partyId.toUpperCase() === us.partyId) return;
  throw new CliError(
    `${file}: the tariff's party ${countryCode}*${partyId} is not ours, ${us.countryCode}*${us.partyId} (OCPI_COUNTRY_CODE / OCPI_PARTY_ID)`,
    ExitCode.usage,
  );
}

function registerTariffs(program: Command, context: CliContext): void {
  const tariffs = program.command('tariffs').description('OCPI 2.2.1 tariffs: versions and where they apply');
  tariffs
    .command('add')
    .description('add an OCPI tariff (JSON file) or a new version of it, and attach it to a scope')
    .argument('<file>', 'OCPI 2.2.1 Tariff object as JSON')
    .option('--scope <scope>', 'tenant, location:ID, evse:STATION:EVSE or token-group:ID', 'tenant')
    .action((file: string, options: { scope: string }) =>
      run(context, 'tariffs add', async (services) => {
        const { parseScope, scopeKey, tariffDecider } = await import('../../domain/tariff/aggregate/index.js');
        const { loadState } = await import('../../commands/process/streams.js');
        const { streamName } = await import('../../domain/shared/event.js');
        const tariff = await readJsonFile(file, 'tariff');
        const id = (tariff as { id?: unknown })?.id;
        if (typeof id !== 'string' || id.length === 0) throw new CliError(`${file}: the tariff has no "id"`, ExitCode.usage);
        await checkOurParty(services, file, tariff);
        const scope = parseScope(options.scope);
        const tenantId = services.config.tenantId;
        const state = await loadState(services.eventStore, tariffDecider, streamName('tariff', tenantId, id));
        const now = services.clock.now().toISOString();
        const result =
          state.status === 'none'
            ? await send(services, id, `tariff-create:${id}:${now}`, { type: 'CreateTariff', tariff, createdAt: now })
            : await send(services, id, `tariff-version:${id}:${now}`, { type: 'VersionTariff', tariff, versionedAt: now });
        await send(services, scopeKey(scope), `tariff-attach:${scopeKey(scope)}:${id}:${now}`, { type: 'AttachTariff', tariffId: id, scope, attachedAt: now });
        const event = result.events[0];
        if (event === undefined) context.out(`tariff ${id}: unchanged (same as its latest version)`);
        else context.out(`tariff ${id}: version ${(event.data as { version: number }).version}, valid from ${(event.data as { validFrom: string }).validFrom}, applies to ${scopeKey(scope)}`);
      }, 'write')(),
    );
  tariffs
    .command('list')
    .description('list tariffs with their latest version and status')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      run(context, 'tariffs list', async (services) => {
        const { readAllLimitMax } = await import('../../adapters/event-store/port.js');
        const { parseStreamName } = await import('../../domain/shared/event.js');
        const tariffsById = new Map<string, { id: string; version: number; currency: string; validFrom: string; status: string; scopes: string[] }>();
        const scopes = new Map<string, string>();
        // No tariffs read model yet: one pass over $all, keeping only this tenant's tariff events.
        let after: import('../../adapters/event-store/port.js').Position | undefined;
        for (;;) {
          const page = await services.eventStore.readAll({ after, limit: readAllLimitMax });
          if (page.length === 0) break;
          after = page.at(-1)!.position;
          for (const event of page) {
            if (event.metadata.tenantId !== services.config.tenantId) continue;
            const data = event.data as Record<string, unknown>;
            if (event.type === 'TariffCreated' || event.type === 'TariffVersioned') {
              const tariff = data.tariff as { currency: string };
              const id = data.tariffId as string;
              tariffsById.set(id, { id, version: data.version as number, currency: tariff.currency, validFrom: data.validFrom as string, status: 'active', scopes: [] });
            } else if (event.type === 'TariffDeactivated') {
              const found = tariffsById.get(data.tariffId as string);
              if (found) found.status = `deactivated ${data.deactivatedAt as string}`;
            } else if (event.type === 'TariffAttached') scopes.set(parseStreamName(event.streamId).id, data.tariffId as string);
            else if (event.type === 'TariffDetached') scopes.delete(parseStreamName(event.streamId).id);
          }
        }
        for (const [scope, id] of scopes) tariffsById.get(id)?.scopes.push(scope);
        const list = [...tariffsById.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
        if (options.json) return context.out(JSON.stringify(list, null, 2));
        const rows = list.map((t) => [t.id, String(t.version), t.currency, t.validFrom, t.status, t.scopes.join(',') || '-']);
        for (const line of formatTable([['ID', 'VERSION', 'CURRENCY', 'VALID FROM', 'STATUS', 'APPLIES TO'], ...rows])) context.out(line);
      })(),
    );
}

function registerLedger(program: Command, context: CliContext): void {
  const ledger = program.command('ledger').description('the double-entry ledger (read model `ledger`)');
  ledger
    .command('trial-balance')
    .description('every account balance and, per currency, the check that debits equal credits (exit 1 if not)')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      run(context, 'ledger trial-balance', async (services) => {
        const { liveSchemaName } = await migratedProjections(services, context.err);
        const schema = liveSchemaName('ledger');
        const { rows: accounts } = await services.db.query<{ account: string; kind: string; currency: string; debits: string; credits: string; balance: string }>(
          `SELECT account, kind, currency, debits::text, credits::text, balance::text FROM ${schema}.accounts WHERE tenant_id = $1 ORDER BY currency, account LIMIT ${billingCliRowsMax + 1}`,
          [services.config.tenantId],
        );
        const { rows: totals } = await services.db.query<{ currency: string; debits: string; credits: string; difference: string }>(
          `SELECT currency, sum(debits)::text AS debits, sum(credits)::text AS credits, sum(balance)::text AS difference
             FROM ${schema}.accounts WHERE tenant_id = $1 GROUP BY currency ORDER BY currency`,
          [services.config.tenantId],
        );
        rowsWithinLimit(accounts, 'accounts', 'use --json with a database query for a ledger this large');
        const balanced = totals.every((t) => new Decimal(t.difference).isZero());
        if (!balanced) context.exitCode = ExitCode.checkFailed;
        if (options.json) return context.out(JSON.stringify({ accounts, totals, balanced }, null, 2));
        const rows = accounts.map((a) => [a.account, a.kind, a.currency, a.debits, a.credits, a.balance]);
        for (const line of formatTable([['ACCOUNT', 'KIND', 'CURRENCY', 'DEBITS', 'CREDITS', 'BALANCE'], ...rows])) context.out(line);
        for (const t of totals) context.out(`TOTAL ${t.currency}: debits ${t.debits}, credits ${t.credits}, difference ${new Decimal(t.difference).toFixed()}${new Decimal(t.difference).isZero() ? ' (balanced)' : ' (DOES NOT BALANCE)'}`);
      })(),
    );
  ledger
    .command('account')
    .description('statement of one account: every line with its running balance')
    .argument('<account>', 'account code, e.g. revenue:charging')
    .option('--json', 'print JSON')
    .action((account: string, options: { json?: boolean }) =>
      run(context, 'ledger account', async (services) => {
        const { liveSchemaName } = await migratedProjections(services, context.err);
        const { rows } = await services.db.query<{ posted_at: Date; entry_id: string; side: string; amount: string; currency: string; description: string }>(
          `SELECT posted_at, entry_id, side, amount::text, currency, description FROM ${liveSchemaName('ledger')}.journal_lines
            WHERE tenant_id = $1 AND account = $2 ORDER BY posted_at, entry_id, line_no LIMIT ${billingCliRowsMax + 1}`,
          [services.config.tenantId, account],
        );
        if (rows.length === 0) throw new CliError(`no lines on account ${account}`, ExitCode.checkFailed);
        rowsWithinLimit(rows, `lines on account ${account}`, 'its running balance would stop early; query the ledger read model directly');
        let balance = new Decimal(0);
        const lines = rows.map((r) => {
          balance = r.side === 'debit' ? balance.plus(r.amount) : balance.minus(r.amount);
          return { postedAt: new Date(r.posted_at).toISOString(), entryId: r.entry_id, side: r.side, amount: r.amount, currency: r.currency, balance: balance.toFixed(), description: r.description };
        });
        if (options.json) return context.out(JSON.stringify(lines, null, 2));
        const table = lines.map((l) => [l.postedAt, l.entryId, l.side === 'debit' ? l.amount : '', l.side === 'credit' ? l.amount : '', l.balance, l.description]);
        for (const line of formatTable([['POSTED', 'ENTRY', 'DEBIT', 'CREDIT', 'BALANCE', 'DESCRIPTION'], ...table])) context.out(line);
      })(),
    );
}

function parseTime(text: string | undefined, name: string): string | null {
  if (text === undefined) return null;
  const ms = Date.parse(/T/.test(text) ? text : `${text}T00:00:00Z`);
  if (Number.isNaN(ms)) throw new CliError(`${name} must be a date (YYYY-MM-DD) or an ISO time: ${text}`, ExitCode.usage);
  return new Date(ms).toISOString();
}

function registerCdr(program: Command, context: CliContext): void {
  const cdr = program.command('cdr').description('charge detail records (read model `cdrs`)');
  cdr
    .command('export')
    .description('export CDRs that started in [--from, --to) as OCPI 2.2.1 JSON or CSV (columns: docs/cdr-export.md)')
    .option('--format <format>', 'ocpi or csv', 'ocpi')
    .option('--from <time>', 'start date/time, inclusive (YYYY-MM-DD or ISO)')
    .option('--to <time>', 'end date/time, exclusive')
    .action((options: { format: string; from?: string; to?: string }) =>
      run(context, 'cdr export', async (services) => {
        if (options.format !== 'ocpi' && options.format !== 'csv') throw new CliError('--format must be ocpi or csv', ExitCode.usage);
        const from = parseTime(options.from, '--from');
        const to = parseTime(options.to, '--to');
        const { liveSchemaName } = await migratedProjections(services, context.err);
        const { cdrsAsCsv, cdrsAsOcpiJson } = await import('./cdr-export.js');
        const { rows } = await services.db.query<import('./cdr-export.js').CdrExportRow>(
          `SELECT cdr_id, transaction_id, tenant_id, emsp, start_date_time, end_date_time, tariff_version_id, replaces_cdr_id, cdr_json FROM ${liveSchemaName('cdrs')}.cdrs
            WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR start_date_time >= $2) AND ($3::timestamptz IS NULL OR start_date_time < $3)
            ORDER BY start_date_time, cdr_id LIMIT ${billingCliRowsMax + 1}`,
          [services.config.tenantId, from, to],
        );
        rowsWithinLimit(rows, 'CDRs in the range', 'export it in parts with --from/--to');
        if (options.format === 'csv') return context.out(cdrsAsCsv(rows).replace(/\n$/, ''));
        try {
          context.out(cdrsAsOcpiJson(rows));
        } catch (error) {
          throw new CliError(`cannot export as OCPI: ${(error as Error).message}`, ExitCode.failed);
        }
      })(),
    );
  cdr
    .command('credit')
    .description('credit a CDR: issues the OCPI credit CDR and reverses its journal entry')
    .argument('<id>', 'CDR id')
    .option('--reason <text>', 'why (kept on the CDR)')
    .action((id: string, options: { reason?: string }) =>
      run(context, 'cdr credit', async (services) => {
        const { billingConfigOf, creditCdrIdFor, completeCredit } = await import('../../commands/process/index.js');
        const { ourParty } = await import('../../ocpi/plugin.js');
        const creditId = creditCdrIdFor(id);
        const now = services.clock.now().toISOString();
        const result = await send(services, id, `cdr-credit:${id}`, { type: 'CreditCdr', creditCdrId: creditId, creditedAt: now, reason: options.reason ?? null });
        const credited = result.events.find((e) => e.type === 'CdrCredited');
        if (!credited) throw new CliError(`CDR ${id} was not credited`, ExitCode.failed);
        // Complete at once (the process manager would too; every step is idempotent).
        const config = billingConfigOf(ourParty(services.config.ocpi), services.config.billing);
        const creditIssued = await completeCredit({ eventStore: services.eventStore, bus: services.bus, config }, credited);
        context.out(`CDR ${id} credited by ${creditIssued.cdr.id}: total ${creditIssued.cdr.total_cost.incl_vat ?? creditIssued.cdr.total_cost.excl_vat} ${creditIssued.cdr.currency}`);
      }, 'write')(),
    );
}

function registerSettlement(program: Command, context: CliContext): void {
  const settlement = program.command('settlement').description('settlement periods per partner');
  settlement
    .command('reconcile')
    .description("close the partner's period of each currency with our CDRs and reconcile it against theirs (records SettlementReconciled; docs/cdr-export.md)")
    .requiredOption('--partner <party>', 'OCPI party, e.g. DE-EMP')
    .requiredOption('--period <YYYY-MM>', 'month (UTC) of the CDRs\' start (and CDRs that arrived after their own month closed)')
    .requiredOption('--their <file>', 'their CDRs: OCPI CDR JSON array or CSV')
    .option('--tolerance <amount>', 'largest money difference still a match, excl. and incl. VAT, in the period currency', defaultReconciliationTolerance.amount)
    .option('--tolerance-energy <kWh>', 'largest energy difference still a match', defaultReconciliationTolerance.energyKwh)
    .option('--tolerance-time <seconds>', 'largest total_time difference still a match', defaultReconciliationTolerance.timeSeconds)
    .option('--currency <code>', 'currency of their statement rows that state none (default: that of our CDRs when they are in one; EUR when we have none)')
    .option('--json', 'print JSON (the SettlementReconciled event per currency: tolerances, counts, mismatches per field)')
    .action((options: import('./settlement-reconcile.js').SettlementReconcileOptions) =>
      run(context, 'settlement reconcile', async (services) => {
        const { settlementReconcile } = await import('./settlement-reconcile.js');
        await settlementReconcile(services, context, options, {
          send: (aggregateId, commandId, command) => send(services, aggregateId, commandId, command),
          caughtUpSchema: async (name) => (await migratedProjections(services, context.err)).liveSchemaName(name),
          theirFileBytesMax,
          rowsMax: billingCliRowsMax,
        });
      }, 'write')(),
    );
}
