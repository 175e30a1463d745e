import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../api/config.js';
import { openServices, type Services } from '../../api/composition.js';
import { billingConfigFor, catchUpCdrIssuer, postgresCheckpoint } from '../../commands/process/index.js';
import { ourParty } from '../../ocpi/plugin.js';
import type { Command } from '../../commands/index.js';
import { emspToken } from '../support/emsp-partner.js';
import { runCliInProcess, tempDataDirInitialized } from '../support/cli-in-process.js';

/**
 * The billing CLI against the embedded database, as an operator runs it, in this process
 * (runCliInProcess): the commands, their output and exit codes are what is tested, not the
 * process boundary (that the real binary exits with main's code is cli-in-process.test.ts's and
 * cli-help.test.ts's to show; a spawn cost ~3 s here).
 */

const tariff = {
  country_code: 'NL', party_id: 'CSM', id: 'STD', currency: 'EUR', last_updated: '2025-03-01T00:00:00Z',
  elements: [{ price_components: [{ type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 }] }],
};

let data: { dir: string; remove(): Promise<void> };
let env: Record<string, string>;

async function withServices(work: (services: Services) => Promise<void>) {
  const services = await openServices(loadConfig({ DATA_DIR: data.dir, TENANT_ID: 'acme' }), { command: 'test' });
  try {
    await work(services);
  } finally {
    await services.close();
  }
}

beforeAll(async () => {
  data = await tempDataDirInitialized('billing-cli');
  env = { DATA_DIR: data.dir, TENANT_ID: 'acme' };
});
afterAll(() => data.remove());

describe('csms tariffs / cdr / ledger / settlement', () => {
  it('refuses a bad tariff file with the reasons (exit 2)', async () => {
    const file = path.join(data.dir, 'bad.json');
    await writeFile(file, JSON.stringify({ ...tariff, currency: 'EUX' }));
    const result = await runCliInProcess(['tariffs', 'add', file], { env });
    expect(result.stderr).toMatch(/EUX is not an ISO 4217/);
    expect(result.exitCode).toBe(2);
  });

  it("refuses a tariff of another party than our OCPI one (exit 2): it would publish a second CPO", async () => {
    const file = path.join(data.dir, 'other-party.json');
    await writeFile(file, JSON.stringify({ ...tariff, party_id: 'OCS' }));
    const result = await runCliInProcess(['tariffs', 'add', file], { env });
    expect(result.stderr).toMatch(/the tariff's party NL\*OCS is not ours, NL\*CSM \(OCPI_COUNTRY_CODE \/ OCPI_PARTY_ID\)/);
    expect(result.exitCode).toBe(2);
  });

  it('adds a tariff, bills a session, shows a balanced ledger, credits it back to zero, reconciles', async () => {
    const file = path.join(data.dir, 'tariff.json');
    await writeFile(file, JSON.stringify(tariff));
    const added = await runCliInProcess(['tariffs', 'add', file], { env });
    expect(added.stderr).toMatch(/^csms: wrote to the embedded database in [^\n]*\n$/); // the only line: README "Which database"
    expect(added.stdout).toMatch(/tariff STD: version 1/);
    expect((await runCliInProcess(['tariffs', 'list'], { env })).stdout).toMatch(/STD\s+1\s+EUR/);

    await withServices(async (services) => {
      const start = new Date(Date.now() + 1000);
      const at = (min: number) => new Date(start.getTime() + min * 60_000).toISOString();
      let n = 0;
      const send = (command: Command) =>
        services.bus.send({ commandId: `s-${n++}`, tenantId: 'acme', aggregateId: 'T9', actor: 'station:CP-9', correlationId: `m-${n}`, occurredAt: at(0), command });
      // A token DE/EMP pushed over OCPI tokens: its sessions are owed by DE/EMP.
      const { writeToken } = await import('../../ocpi/tokens/store.js');
      await writeToken(services.bus, { tenantId: 'acme', partnerId: 'emsp', correlationId: 'put-1', commandIdPrefix: 'put-1' }, emspToken('DE-EMP-C1', { type: 'APP_USER' }));
      await send({ type: 'StartTransaction', transactionId: 'T9', stationId: 'CP-9', evseId: 1, connectorId: 1, idToken: { idToken: 'DE-EMP-C1', type: 'eMAID' }, meterStartWh: new Decimal(0), startedAt: at(0) });
      await send({ type: 'EndTransaction', meterStopWh: new Decimal(12345), endedAt: at(40), reason: 'Local' });
      // As `csms serve` wires it: CDRs name our OCPI party (the default NL*CSM here).
      const config = billingConfigFor(ourParty(services.config.ocpi));
      await catchUpCdrIssuer({ eventStore: services.eventStore, bus: services.bus, config }, await postgresCheckpoint(services.db, 'cdr_issuer'));
    });

    const balance = await runCliInProcess(['ledger', 'trial-balance'], { env });
    expect(balance.exitCode).toBe(0);
    // 12.345 kWh × 0.30 = 3.7035 → 3.70 excl, 4.4812 → 4.48 incl.
    expect(balance.stdout).toMatch(/receivable:emsp:DE-EMP\s+asset\s+EUR\s+4\.48/);
    expect(balance.stdout).toMatch(/TOTAL EUR: debits 4\.48, credits 4\.48, difference 0 \(balanced\)/);

    const csv = await runCliInProcess(['cdr', 'export', '--format', 'csv'], { env });
    expect(csv.stdout.split('\n')[1]).toMatch(/^T9,T9,.*,DE-EMP,EUR,3\.70,4\.48,12\.3450,/);
    const month = new Date().toISOString().slice(0, 7);
    const theirs = path.join(data.dir, 'theirs.csv');
    await writeFile(theirs, `${csv.stdout.split('\n')[0]}\n${csv.stdout.split('\n')[1]!.replace(',3.70,', ',3.90,')}\n`);
    const reconciled = await runCliInProcess(['settlement', 'reconcile', '--partner', 'DE-EMP', '--period', month, '--their', theirs], { env });
    expect(reconciled.stdout).toMatch(/T9\s+T9\s+mismatch\s+excl_vat\s+3\.7\s+3\.9\s+-0\.2/);
    expect(reconciled.exitCode).toBe(1);

    const credit = await runCliInProcess(['cdr', 'credit', 'T9', '--reason', 'wrong tariff'], { env });
    expect(credit.stdout).toMatch(/CDR T9 credited by T9-CR: total -4\.48 EUR/);
    const after = await runCliInProcess(['ledger', 'trial-balance', '--json'], { env });
    const json = JSON.parse(after.stdout) as { accounts: { balance: string }[]; balanced: boolean };
    expect(json.balanced).toBe(true);
    expect(json.accounts.every((a) => new Decimal(a.balance).isZero())).toBe(true);
    const statement = await runCliInProcess(['ledger', 'account', 'revenue:charging'], { env });
    expect(statement.stdout).toMatch(/cdr:NL-CSM:T9\s+3\.7\s+-3\.7/);
    expect(statement.stdout).toMatch(/cdr:NL-CSM:T9-CR\s+3\.7\s+0\s/);
  });
});
