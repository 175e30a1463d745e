import type { ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unreachableReason } from '../../api/ocpi-commands.js';
import { authorizationHeader, credentialsTokenCandidates, newCredentialsToken } from '../../ocpi/transport/auth.js';
import { spawnCli, waitForExit, waitForOutput } from '../support/cli.js';
import { runCliInProcess, tempDataDirInitialized } from '../support/cli-in-process.js';

/** `csms ocpi invite | register`: help, usage errors, an invitation, and a registration with a small fake eMSP. */

describe('csms ocpi: help and usage', () => {
  it.each([['invite'], ['register']])('ocpi %s --help', async (command) => {
    const help = await runCliInProcess(['ocpi', command, '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain(`Usage: csms ocpi ${command}`);
    if (command === 'register') expect(help.stdout).toMatch(/exit 1: they refused; 3: they could not be reached/);
  });

  it('register without --token, or with a --url that is not http(s), is a usage error (exit 2)', async () => {
    const noToken = await runCliInProcess(['ocpi', 'register', 'ACME', '--url', 'http://127.0.0.1:9/ocpi/versions']);
    expect(noToken.exitCode).toBe(2);
    expect(noToken.stderr).toContain('--token');
    const badUrl = await runCliInProcess(['ocpi', 'register', 'ACME', '--url', 'ftp://example.com', '--token', 'x']);
    expect(badUrl.exitCode).toBe(2);
    expect(badUrl.stderr).toContain('--url must be an http(s) URL');
  });
});

/** A port nothing listens on: taken from the system, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface FakeEmsp {
  app: FastifyInstance;
  url: string;
  tokenA: string;
  /** Answer our POST with this OCPI status (1000: accept). */
  answer: number;
  /** The token we sent in our credentials, once it reached our versions with it. */
  ourToken?: string;
}

/** An eMSP as in test/ocpi/handshake.test.ts: versions, 2.2.1 details, credentials (calls our versions back). */
async function startEmsp(): Promise<FakeEmsp> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const emsp: FakeEmsp = { app, url: '', tokenA: newCredentialsToken(), answer: 1000 };
  const timestamp = () => new Date().toISOString();
  const envelope = (data: unknown) => ({ data, status_code: 1000, timestamp: timestamp() });
  app.addHook('onRequest', async (request, reply) => {
    if (credentialsTokenCandidates(request.headers.authorization)[0] !== emsp.tokenA) return reply.code(401).send({ status_code: 2000, timestamp: timestamp() });
  });
  app.get('/ocpi/versions', async () => envelope([{ version: '2.2.1', url: `${emsp.url}/ocpi/2.2.1` }]));
  app.get('/ocpi/2.2.1', async () =>
    envelope({ version: '2.2.1', endpoints: [{ identifier: 'credentials', role: 'SENDER', url: `${emsp.url}/ocpi/2.2.1/credentials` }] }),
  );
  app.post('/ocpi/2.2.1/credentials', async (request) => {
    if (emsp.answer !== 1000) return { status_code: emsp.answer, status_message: 'we do not know you', timestamp: timestamp() };
    const body = request.body as { token: string; url: string };
    const ours = await fetch(body.url, { headers: { authorization: authorizationHeader(body.token) } });
    if (ours.status !== 200) return { status_code: 3001, status_message: `your versions answered ${ours.status}`, timestamp: timestamp() };
    emsp.ourToken = body.token;
    return envelope({ token: newCredentialsToken(), url: `${emsp.url}/ocpi/versions`, roles: [{ role: 'EMSP', country_code: 'DE', party_id: 'EMP', business_details: { name: 'Fake eMSP' } }] });
  });
  emsp.url = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
  return emsp;
}

describe('csms ocpi on the embedded database', () => {
  let data: Awaited<ReturnType<typeof tempDataDirInitialized>>;
  let env: Record<string, string>;
  let server: ChildProcess | undefined;
  let emsp: FakeEmsp;

  beforeAll(async () => {
    data = await tempDataDirInitialized('ocpi');
    env = { DATA_DIR: data.dir, LOG_LEVEL: 'error', OCPI_PUBLIC_URL: 'https://csms.example.com', OCPI_SECRET: 'an-ocpi-secret-of-at-least-32-characters' };
    emsp = await startEmsp();
  });
  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await waitForExit(server, 10_000).catch(() => server?.kill('SIGKILL'));
    }
    await emsp?.app.close();
    await data?.remove();
  });

  it('invite prints token A and our versions URL (from OCPI_PUBLIC_URL); a bad partner id is exit 2', async () => {
    const invited = await runCliInProcess(['ocpi', 'invite', 'ACME'], { env });
    expect(invited.exitCode, invited.stderr).toBe(0);
    expect(invited.stdout).toContain('versions URL: https://csms.example.com/ocpi/versions');
    expect(invited.stdout).toMatch(/token A:\s+[A-Za-z0-9_-]{43}\n/);
    expect(invited.stderr).not.toContain('warning');
    const bad = await runCliInProcess(['ocpi', 'invite', 'a/b'], { env });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('partner id');
  }, 60_000);

  it('invite without OCPI_PUBLIC_URL, or with a loopback or private one: still the invitation, and a warning naming OCPI_PUBLIC_URL', async () => {
    const unset = await runCliInProcess(['ocpi', 'invite', 'LOCAL1'], { env: { ...env, OCPI_PUBLIC_URL: '', HOST: '0.0.0.0', PORT: '8080' } });
    expect(unset.exitCode, unset.stderr).toBe(0);
    expect(unset.stdout).toContain('versions URL: http://127.0.0.1:8080/ocpi/versions');
    expect(unset.stderr).toMatch(/warning: the versions URL http:\/\/127\.0\.0\.1:8080\/ocpi\/versions is a loopback address.*OCPI_PUBLIC_URL is not set/s);
    const lan = await runCliInProcess(['ocpi', 'invite', 'LOCAL2'], { env: { ...env, OCPI_PUBLIC_URL: 'http://192.168.1.20:8080' } });
    expect(lan.exitCode, lan.stderr).toBe(0);
    expect(lan.stderr).toMatch(/warning: the versions URL http:\/\/192\.168\.1\.20:8080\/ocpi\/versions is a private network address.*OCPI_PUBLIC_URL/s);
  }, 60_000);

  it('register with a partner that cannot be reached: "could not reach", exit 3 (not the refusal exit 1)', async () => {
    const closed = await closedPort();
    const refused = await runCliInProcess(['ocpi', 'register', 'GONE', '--url', `http://127.0.0.1:${closed}/ocpi/versions`, '--token', 'their-token-a'], { env });
    expect(refused.exitCode, refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(new RegExp(`could not reach partner GONE at http://127\\.0\\.0\\.1:${closed}/ocpi/versions: connection refused`));
    expect(refused.stderr).not.toContain('refused:');
    // Other causes, as Node's fetch reports them (no DNS lookup here: a machine without DNS would stall it).
    const fetchFailed = (code: string, message: string) => new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
    expect(unreachableReason(fetchFailed('ENOTFOUND', 'getaddrinfo ENOTFOUND emsp.invalid'))).toBe('host name not found (getaddrinfo ENOTFOUND emsp.invalid)');
    expect(unreachableReason(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe('no answer in time (timed out)');
    expect(unreachableReason(fetchFailed('CERT_HAS_EXPIRED', 'certificate has expired'))).toBe('fetch failed: certificate has expired');
  }, 60_000);

  it('with the server running: register goes through it; the partner refusing is exit 1', async () => {
    // No OCPI_PUBLIC_URL: the fake eMSP must reach our versions on this machine.
    const serverEnv = { ...env, OCPI_PUBLIC_URL: '', HOST: '127.0.0.1', PORT: '0' };
    server = spawnCli(['serve'], { env: serverEnv });
    const [, url] = await waitForOutput(server, /health:\s+(http:\/\/127\.0\.0\.1:\d+)\/health[\s\S]*event store:[^\n]*\n/, 45_000);
    const register = ['ocpi', 'register', 'EMSP1', '--url', `${emsp.url}/ocpi/versions`, '--token', emsp.tokenA, '--server', url!];

    emsp.answer = 2001;
    const refused = await runCliInProcess(register, { env: serverEnv });
    expect(refused.exitCode, refused.stderr).toBe(1);
    expect(refused.stderr).toContain('registration with EMSP1 refused');

    const closed = await closedPort();
    const unreachable = await runCliInProcess(['ocpi', 'register', 'GONE', '--url', `http://127.0.0.1:${closed}/ocpi/versions`, '--token', 'x', '--server', url!], { env: serverEnv });
    expect(unreachable.exitCode, unreachable.stderr).toBe(3);
    expect(unreachable.stderr).toContain(`could not reach partner GONE at http://127.0.0.1:${closed}/ocpi/versions: connection refused`);

    emsp.answer = 1000;
    const registered = await runCliInProcess(register, { env: serverEnv });
    expect(registered.exitCode, registered.stderr).toBe(0);
    // --server named: straight to it, never the folder (README "Which database a command uses").
    expect(registered.stderr).not.toContain('the server holds the embedded database');
    expect(registered.stdout).toContain('registered with EMSP1: OCPI 2.2.1, 1 endpoints, roles EMSP DE*EMP');
    expect(emsp.ourToken).toBeDefined();

    const invited = await runCliInProcess(['ocpi', 'invite', 'ACME2', '--server', url!], { env: serverEnv });
    expect(invited.exitCode, invited.stderr).toBe(0);
    expect(invited.stdout).toContain(`versions URL: ${url}/ocpi/versions`);
  }, 90_000);
});
