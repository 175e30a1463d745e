import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeStorage, hidePassword, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('defaults to the embedded database in ./data and 0.0.0.0:8080', () => {
    expect(loadConfig({}, '/srv/csms')).toEqual({
      database: { kind: 'pglite', dataDir: '/srv/csms/data' },
      eventStoreUrl: null,
      redisUrl: null,
      influxUrl: null,
      host: '0.0.0.0',
      port: 8080,
      logLevel: 'info',
      tenantId: 'default',
      nodeId: hostname(),
      ocpp: { unknownStations: 'pending', unknownTokens: 'reject', heartbeatIntervalSeconds: 300, pingIntervalSeconds: 60, allowUnsecured: false },
      tls: null,
      adminApiToken: null,
      metrics: { token: null, listener: null },
      ocpi: { publicUrl: null, secret: null, roles: [{ role: 'CPO', country_code: 'NL', party_id: 'CSM', business_details: { name: 'Open-CSMS' } }] },
      billing: { vatRateFallbackPercent: null },
    });
  });

  it('reads the fallback VAT rate for CDRs whose tariff names none, refusing one that is no rate', () => {
    expect(loadConfig({ BILLING_VAT_RATE_FALLBACK: '21' }, '/x').billing).toEqual({ vatRateFallbackPercent: '21' });
    expect(loadConfig({ BILLING_VAT_RATE_FALLBACK: '5.5' }, '/x').billing).toEqual({ vatRateFallbackPercent: '5.5' });
    for (const bad of ['-1', '21%', '100.5', '5.12345', '1e1']) {
      expect(() => loadConfig({ BILLING_VAT_RATE_FALLBACK: bad }, '/x')).toThrow(/BILLING_VAT_RATE_FALLBACK=.*VAT rate in percent|BILLING_VAT_RATE_FALLBACK=.*at most 100/);
    }
  });

  it('reads the OCPI settings: public URL without a trailing slash, identity upper-cased', () => {
    const secret = 's'.repeat(32);
    expect(
      loadConfig({ OCPI_PUBLIC_URL: 'https://csms.example.com/', OCPI_SECRET: secret, OCPI_COUNTRY_CODE: 'de', OCPI_PARTY_ID: 'ab1', OCPI_BUSINESS_NAME: 'Acme Charging' }, '/x').ocpi,
    ).toEqual({ publicUrl: 'https://csms.example.com', secret, roles: [{ role: 'CPO', country_code: 'DE', party_id: 'AB1', business_details: { name: 'Acme Charging' } }] });
  });

  it('refuses invalid OCPI settings, never echoing OCPI_SECRET', () => {
    let error: unknown;
    try {
      loadConfig({ OCPI_PUBLIC_URL: 'ftp://x', OCPI_SECRET: 'too-short-secret', OCPI_COUNTRY_CODE: 'NLD', OCPI_PARTY_ID: 'TOOLONG' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['OCPI_PUBLIC_URL', 'OCPI_SECRET', 'OCPI_COUNTRY_CODE', 'OCPI_PARTY_ID']) expect(problems).toContain(name);
    expect(problems).toContain('OCPI_SECRET="***"');
    expect(problems).not.toContain('too-short-secret');
  });

  it('reads NODE_ID (default the host name) and refuses one that cannot lead a lease owner', () => {
    expect(loadConfig({ NODE_ID: 'csms-1.eu' }, '/x').nodeId).toBe('csms-1.eu');
    expect(loadConfig({ NODE_ID: ' ' }, '/x').nodeId).toBe(hostname());
    expect(() => loadConfig({ NODE_ID: 'a:b' }, '/x')).toThrow(/NODE_ID="a:b": must be 1 to 100 letters/);
  });

  it('reads the TLS profile and cipher override, refusing unknown profiles, unusable suites and either without TLS', () => {
    const tls = { TLS_CERT_FILE: 'c.pem', TLS_KEY_FILE: 'k.pem' };
    expect(loadConfig(tls, '/x').tls).toMatchObject({ profile: 'intermediate', ciphers: null });
    expect(loadConfig({ ...tls, TLS_PROFILE: 'modern', TLS_CIPHERS: 'ECDHE-RSA-AES128-GCM-SHA256' }, '/x').tls).toMatchObject({
      profile: 'modern',
      ciphers: 'ECDHE-RSA-AES128-GCM-SHA256',
    });
    expect(() => loadConfig({ ...tls, TLS_PROFILE: 'old' })).toThrow(/TLS_PROFILE="old": must be one of intermediate, modern/);
    expect(() => loadConfig({ ...tls, TLS_CIPHERS: 'NOT-A-SUITE' })).toThrow(/TLS_CIPHERS="NOT-A-SUITE": OpenSSL accepts none/);
    expect(() => loadConfig({ TLS_PROFILE: 'modern' })).toThrow(/TLS_PROFILE: applies to TLS only/);
  });

  it('reads the metrics token and listener (default 127.0.0.1), never echoing METRICS_TOKEN', () => {
    const token = 'm'.repeat(24);
    expect(loadConfig({ METRICS_TOKEN: token, METRICS_PORT: '9464' }, '/x').metrics).toEqual({ token, listener: { host: '127.0.0.1', port: 9464 } });
    expect(loadConfig({ METRICS_HOST: '10.0.0.5', METRICS_PORT: '0' }, '/x').metrics.listener).toEqual({ host: '10.0.0.5', port: 0 });
    expect(() => loadConfig({ METRICS_HOST: '10.0.0.5' })).toThrow(/METRICS_HOST: the metrics listener needs METRICS_PORT/);
    let error: unknown;
    try {
      loadConfig({ METRICS_TOKEN: 'short-metrics', METRICS_PORT: 'x' });
    } catch (caught) {
      error = caught;
    }
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('METRICS_TOKEN="***"');
    expect(problems).toContain('METRICS_PORT');
    expect(problems).not.toContain('short-metrics');
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: ' ' }, '/x').database).toEqual({ kind: 'pglite', dataDir: '/x/data' });
  });

  it('uses DATABASE_URL, DATA_DIR and the other variables when given', () => {
    const config = loadConfig(
      {
        DATABASE_URL: 'postgres://csms:secret@db:5432/csms',
        EVENTSTORE_URL: 'esdb://events:2113?tls=false',
        REDIS_URL: 'redis://cache:6379',
        INFLUX_URL: 'http://influx:8086',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'warn',
        TENANT_ID: 'acme',
      },
      '/x',
    );
    expect(config).toMatchObject({
      database: { kind: 'postgres', url: 'postgres://csms:secret@db:5432/csms' },
      eventStoreUrl: 'esdb://events:2113?tls=false',
      port: 0,
      logLevel: 'warn',
      tenantId: 'acme',
    });
    expect(loadConfig({ DATA_DIR: 'var/csms' }, '/x').database).toEqual({ kind: 'pglite', dataDir: '/x/var/csms' });
  });

  it('lists every invalid variable in one error, hiding passwords', () => {
    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: 'mysql://u:pw@h/db', PORT: '70000', LOG_LEVEL: 'loud', TENANT_ID: 'a-b', REDIS_URL: 'nope' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['DATABASE_URL', 'PORT', 'LOG_LEVEL', 'TENANT_ID', 'REDIS_URL']) expect(problems).toContain(name);
    expect(problems).not.toContain(':pw@');
  });
});

describe('describeStorage', () => {
  it('shows the server URL without its password', () => {
    const storage = describeStorage(loadConfig({ DATABASE_URL: 'postgres://csms:secret@db/csms' }));
    expect(storage.database).toBe('PostgreSQL at postgres://csms:***@db/csms');
    expect(hidePassword('postgres://db/csms')).toBe('postgres://db/csms');
  });
});
