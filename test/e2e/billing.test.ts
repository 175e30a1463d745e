import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { liveSchemaName } from '../../projections/schema.js';
import { spawnCli, tempDataDir, waitForExit, waitForOutput } from '../support/cli.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';
import { StationSimulator } from '../support/station-simulator.js';
import { eventually } from '../support/eventually.js';

/**
 * The billing issue's acceptance, as an operator and a station live it: add a tariff and register
 * a station and a token with the CLI, start the server as `npm start` does, charge 14 kWh over
 * OCPP 1.6, and find a priced CDR, a balanced journal entry and a zero trial balance; credit the
 * CDR and find everything back at zero; stop, rebuild every projection, verify, and find the same.
 */

/** tsx start-up, migrations. */
const startTimeoutMs = 45_000;
const stopTimeoutMs = 10_000;
/** The CDR issuer polls every 200 ms and the projections follow within ~100 ms; room for a loaded CI box. */
const billedTimeoutMs = 20_000;

const stationId = 'CP-BILL';
const stationPassword = 'billing-password-16';
const tokenUid = '04E1B2C3D4';
/**
 * Our OCPI party, configured (lower case, as an operator may type it): CDRs must name it as
 * credentials, locations and sessions do (issue 10, point 3), and our own card too (point 2).
 */
const ourParty = { OCPI_COUNTRY_CODE: 'be', OCPI_PARTY_ID: 'ocx' };

/** 1.00 EUR start fee and 0.25 EUR/kWh, both at 21 % VAT (the location zone is Europe/Amsterdam by default). */
const tariff = {
  country_code: 'BE',
  party_id: 'OCX',
  id: 'E2E-STD',
  currency: 'EUR',
  type: 'REGULAR',
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: 1.0, vat: 21, step_size: 0 },
        { type: 'ENERGY', price: 0.25, vat: 21, step_size: 1 },
      ],
    },
  ],
  last_updated: '2025-03-01T00:00:00Z',
};

/**
 * Expected figures, by hand. 14 kWh rather than 10 so that rounding is put to the test:
 *   excl. VAT: 1.00 + 14 × 0.25 = 1.00 + 3.50 = 4.50
 *   incl. VAT: 1.00 × 1.21 + 3.50 × 1.21 = 1.21 + 4.235 = 5.445 → 5.45
 * 5.445 is a tie: half away from zero (ARCHITECTURE.md, Rounding) gives 5.45, banker's rounding would give 5.44,
 * and binary floating point (5.4449999…) would give 5.44 as well.
 *   VAT payable: 5.45 − 4.50 = 0.95
 */
const meterStartWh = 1_000;
const meterMiddleWh = 8_000;
const meterStopWh = 15_000;
const expected = {
  energyKwh: '14',
  exclVat: '4.50',
  inclVat: '5.45',
  vat: '0.95',
  fixed: { excl_vat: '1.0000', incl_vat: '1.2100' },
  energy: { excl_vat: '3.5000', incl_vat: '4.2350' },
};


async function startServer(env: Record<string, string>): Promise<{ server: ChildProcess; ocppUrl: string }> {
  const server = spawnCli(['serve'], { env: { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env } });
  const [, ocppUrl] = await waitForOutput(server, /stations \(OCPP\):\s+(ws:\/\/127\.0\.0\.1:\d+\/ocpp)\/\{stationId\}[\s\S]*event store:[^\n]*\n/, startTimeoutMs);
  return { server, ocppUrl: ocppUrl! };
}

async function stopServer(server: ChildProcess | undefined): Promise<number | null> {
  if (!server || server.exitCode !== null) return server?.exitCode ?? null;
  server.kill('SIGTERM');
  try {
    return (await waitForExit(server, stopTimeoutMs)).exitCode;
  } catch (error) {
    server.kill('SIGKILL');
    throw error;
  }
}

interface CdrRow {
  cdr_id: string;
  transaction_id: string;
  currency: string;
  total_cost_excl_vat: string;
  total_cost_incl_vat: string | null;
  total_energy_kwh: string;
  tariff_version_id: string | null;
  credit: boolean;
  credit_reference_id: string | null;
  credited_by: string | null;
  cdr_json: string;
}

interface TrialBalance {
  accounts: { account: string; kind: string; currency: string; debits: string; credits: string; balance: string }[];
  totals: { currency: string; debits: string; credits: string; difference: string }[];
  balanced: boolean;
}

const available = await requirePostgres();

describe.skipIf(!available)('billing end to end: a 1.6 session becomes a priced CDR, a balanced ledger and a credit (PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
  let db: SqlDatabase;
  let env: Record<string, string>;
  let work: Awaited<ReturnType<typeof tempDataDir>>;
  let server: ChildProcess | undefined;

  beforeAll(async () => {
    database = await createTestPostgresDatabase('billing_e2e');
    db = database.open(2);
    env = { DATABASE_URL: database.url, ...ourParty };
    work = await tempDataDir('billing-e2e');
  });

  afterAll(async () => {
    await stopServer(server).catch(() => {});
    await database?.drop();
    await work?.remove();
  });

  // The operator's commands run in-process (test/support/cli-in-process.ts) on the same PostgreSQL
  // as the real server process: a spawned `csms` per command cost ~2 s of start-up each, ten times.
  const cli = async (args: string[], exitCode = 0) => {
    const result = await runCliInProcess(args, { env });
    expect(result.exitCode, `csms ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(exitCode);
    return result;
  };

  const cdrRows = async () =>
    (await db.query<CdrRow>(
      `SELECT cdr_id, transaction_id, currency, total_cost_excl_vat::text, total_cost_incl_vat::text, total_energy_kwh::text,
              tariff_version_id, credit, credit_reference_id, credited_by, cdr_json
         FROM ${liveSchemaName('cdrs')}.cdrs ORDER BY cdr_id`,
    )).rows;

  const entryLines = async (entryId: string) =>
    (await db.query<{ account: string; side: string; amount: string }>(
      `SELECT account, side, amount::text FROM ${liveSchemaName('ledger')}.journal_lines WHERE entry_id = $1 ORDER BY line_no`,
      [entryId],
    )).rows;

  const trialBalance = async (): Promise<TrialBalance> => JSON.parse((await cli(['ledger', 'trial-balance', '--json'])).stdout) as TrialBalance;

  /** Debits minus credits of one entry's lines: zero when it balances. */
  const imbalanceOf = (lines: { side: string; amount: string }[]) =>
    lines.reduce((sum, line) => (line.side === 'debit' ? sum.plus(line.amount) : sum.minus(line.amount)), new Decimal(0));

  it('prices the session, balances the ledger, credits it back to zero, and survives a rebuild', async () => {
    // An operator preparing a site: the tariff (tenant-wide), the station, the driver's card.
    const tariffFile = path.join(work.dir, 'tariff.json');
    await writeFile(tariffFile, JSON.stringify(tariff, null, 2));
    const added = await cli(['tariffs', 'add', tariffFile]);
    expect(added.stdout).toMatch(/tariff E2E-STD: version 1, valid from \S+, applies to tenant/);
    await cli(['stations', 'register', stationId, '--password', stationPassword]);
    await cli(['tokens', 'add', tokenUid, '--type', 'ISO14443']);

    const running = await startServer({ ...env, OCPP_UNKNOWN_STATIONS: 'reject' });
    server = running.server;

    // A full OCPP 1.6 session. Station times are the real clock: the session starts after the
    // tariff was attached, so the tariff's version 1 is the one in force at its start.
    const station = await StationSimulator.connect({ url: running.ocppUrl, stationId, protocols: ['ocpp1.6'], password: stationPassword });
    let transactionId: number;
    let startedAt: string;
    try {
      const now = () => new Date().toISOString();
      expect(await station.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'Billing-16' })).toMatchObject({ status: 'Accepted' });
      await station.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: now() });
      expect(await station.call('Authorize', { idTag: tokenUid })).toMatchObject({ idTagInfo: { status: 'Accepted' } });
      await station.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: now() });
      startedAt = now();
      const start = (await station.call('StartTransaction', { connectorId: 1, idTag: tokenUid, meterStart: meterStartWh, timestamp: startedAt })) as {
        transactionId: number;
        idTagInfo: { status: string };
      };
      expect(start.idTagInfo.status).toBe('Accepted');
      transactionId = start.transactionId;
      await new Promise((resolve) => setTimeout(resolve, 20));
      await station.call('MeterValues', {
        connectorId: 1,
        transactionId,
        meterValue: [{ timestamp: now(), sampledValue: [{ value: String(meterMiddleWh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await station.call('StopTransaction', { transactionId, idTag: tokenUid, meterStop: meterStopWh, timestamp: now(), reason: 'Local' })).toMatchObject({
        idTagInfo: { status: 'Accepted' },
      });
      await station.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: now() });
    } finally {
      await station.close();
    }

    // The CDR issuer prices the session; the cdrs projection shows it.
    const [cdr] = await eventually(async () => {
      const rows = await cdrRows();
      return rows.length === 1 ? rows : undefined;
    }, billedTimeoutMs, 'a priced CDR in the cdrs read model');
    expect(cdr).toMatchObject({
      currency: 'EUR',
      tariff_version_id: 'E2E-STD@1',
      credit: false,
      credit_reference_id: null,
      credited_by: null,
    });
    expect(new Decimal(cdr!.total_energy_kwh).toFixed()).toBe(expected.energyKwh);
    expect(new Decimal(cdr!.total_cost_excl_vat).toFixed(2)).toBe(expected.exclVat);
    expect(new Decimal(cdr!.total_cost_incl_vat!).toFixed(2)).toBe(expected.inclVat);
    const ocpiCdr = JSON.parse(cdr!.cdr_json) as Record<string, unknown>;
    expect(ocpiCdr).toMatchObject({
      id: cdr!.cdr_id,
      start_date_time: startedAt!,
      currency: 'EUR',
      total_cost: { excl_vat: expected.exclVat, incl_vat: expected.inclVat },
      total_fixed_cost: expected.fixed,
      total_energy_cost: expected.energy,
      total_energy: '14.0000',
      country_code: 'BE',
      party_id: 'OCX',
      // Our own card: our party, its uid as contract id; never a party read into the uid.
      cdr_token: { uid: tokenUid, type: 'RFID', country_code: 'BE', party_id: 'OCX', contract_id: tokenUid },
      cdr_location: { evse_uid: `${stationId}*1`, evse_id: `BE*OCX*E${stationId}*1`, connector_id: '1' },
      tariffs: [{ id: 'E2E-STD' }],
    });
    expect(ocpiCdr.credit).toBeUndefined();

    // Its journal entry: receivable 5.45 = revenue 4.50 + VAT 0.95, waiting on the ledger projection.
    const entryId = `cdr:BE-OCX:${cdr!.cdr_id}`;
    const lines = await eventually(async () => {
      const found = await entryLines(entryId);
      return found.length > 0 ? found : undefined;
    }, billedTimeoutMs, `journal entry ${entryId}`);
    expect(imbalanceOf(lines).isZero()).toBe(true);
    const amountOn = (prefix: string, side: string) =>
      lines.filter((l) => l.account.startsWith(prefix) && l.side === side).reduce((sum, l) => sum.plus(l.amount), new Decimal(0)).toFixed(2);
    expect(amountOn('receivable:', 'debit')).toBe(expected.inclVat);
    // Owed by the customer the card was issued for: `tokens add` without --issuer, so Open-CSMS.
    expect(lines.filter((l) => l.side === 'debit').map((l) => l.account)).toEqual(['receivable:customer:Open-CSMS']);
    expect(amountOn('revenue:charging', 'credit')).toBe(expected.exclVat);
    expect(amountOn('vat-payable:', 'credit')).toBe(expected.vat);

    const billed = await trialBalance();
    expect(billed.balanced).toBe(true);
    expect(billed.totals).toHaveLength(1);
    expect(billed.totals[0]).toMatchObject({ currency: 'EUR' });
    expect(new Decimal(billed.totals[0]!.difference).isZero()).toBe(true);
    expect(new Decimal(billed.totals[0]!.debits).toFixed(2)).toBe(expected.inclVat);
    const text = await cli(['ledger', 'trial-balance']);
    expect(text.stdout).toMatch(/TOTAL EUR: debits 5\.45, credits 5\.45, difference 0 \(balanced\)/);

    // The credit, from the CLI on the same Postgres while the server runs (its CDR issuer handles
    // the same CdrCredited: both complete the credit, every step idempotent, one outcome).
    const credit = await cli(['cdr', 'credit', cdr!.cdr_id, '--reason', 'e2e: goodwill']);
    expect(credit.stdout).toContain(`CDR ${cdr!.cdr_id} credited by ${cdr!.cdr_id}-CR: total -${expected.inclVat} EUR`);
    const rows = await eventually(async () => {
      const found = await cdrRows();
      return found.length === 2 && found[0]!.credited_by !== null ? found : undefined;
    }, billedTimeoutMs, 'the credit CDR in the cdrs read model');
    const [original, creditCdr] = rows as [CdrRow, CdrRow];
    expect(original.credited_by).toBe(`${cdr!.cdr_id}-CR`);
    expect(creditCdr).toMatchObject({ cdr_id: `${cdr!.cdr_id}-CR`, credit: true, credit_reference_id: cdr!.cdr_id, currency: 'EUR' });
    expect(new Decimal(creditCdr.total_cost_excl_vat).toFixed(2)).toBe(`-${expected.exclVat}`);
    expect(new Decimal(creditCdr.total_cost_incl_vat!).toFixed(2)).toBe(`-${expected.inclVat}`);
    expect(new Decimal(creditCdr.total_energy_kwh).toFixed()).toBe(`-${expected.energyKwh}`);

    // The reversal: the same lines on the other side, so every account is back at zero.
    const reversal = await eventually(async () => {
      const found = await entryLines(`cdr:BE-OCX:${cdr!.cdr_id}-CR`);
      return found.length > 0 ? found : undefined;
    }, billedTimeoutMs, 'the reversal entry');
    expect(imbalanceOf(reversal).isZero()).toBe(true);
    const flip = (side: string) => (side === 'debit' ? 'credit' : 'debit');
    expect(reversal.map((l) => ({ ...l, side: flip(l.side) })).sort((a, b) => a.account.localeCompare(b.account))).toEqual(
      [...lines].sort((a, b) => a.account.localeCompare(b.account)),
    );
    const credited = await trialBalance();
    expect(credited.balanced).toBe(true);
    expect(credited.accounts.length).toBeGreaterThanOrEqual(3);
    for (const account of credited.accounts) expect(new Decimal(account.balance).isZero(), account.account).toBe(true);

    const { rows: failures } = await db.query('SELECT * FROM process_cdr_issuer.failures');
    expect(failures).toEqual([]);

    // Stop the server; the CLI's own runners catch the read models up to the head of $all.
    expect(await stopServer(server)).toBe(0);
    const beforeBalance = await trialBalance();
    const beforeCdrs = await cdrRows();
    expect(beforeCdrs).toEqual(rows);

    await cli(['projections', 'rebuild', '--all']);
    await cli(['projections', 'verify']);
    expect(await cdrRows()).toEqual(beforeCdrs);
    expect(await trialBalance()).toEqual(beforeBalance);
  }, 90_000);
});
