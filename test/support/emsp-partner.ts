import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ocpiRequest, type OcpiClientOptions } from '../../ocpi/client/client.js';
import {
  authorizationInfoSchema,
  cdrSchema,
  commandResultSchema,
  connectorPatchSchema,
  connectorSchema,
  credentialsSchema,
  evsePatchSchema,
  evseSchema,
  locationPatchSchema,
  locationReferencesSchema,
  locationSchema,
  sessionPatchSchema,
  sessionSchema,
  tariffSchema,
  versionDetailsSchema,
  versionListSchema,
  type AllowedType,
  type CommandResult,
  type Token,
} from '../../ocpi/schemas/index.js';
import { credentialsTokenCandidates, newCredentialsToken } from '../../ocpi/transport/auth.js';
import type { OcpiParty, OcpiRouting } from '../../ocpi/transport/headers.js';
import { nextLink, paginateInMemory, parsePageRequest, setPageHeaders } from '../../ocpi/transport/pagination.js';

/**
 * An eMSP (DE/EMP) for OCPI 2.2.1 on a real HTTP server, to test our CPO side as a partner would
 * see it: versions and credentials both ways, Receiver endpoints for locations, sessions, cdrs and
 * tariffs that keep what they receive (applying PATCHes) and check every body against
 * ocpi/schemas, a tokens Sender with pages of a chosen size and real-time authorization, a
 * response_url for command results, a client to call us, and faults on demand.
 */

export const emspParty: OcpiParty = { countryCode: 'DE', partyId: 'EMP' };
/** Requests recorded at most: a test that sends more is looping. */
export const emspRequestsRecordedMax = 10_000;
/** Faults waiting at once: a test arming more is looping. */
export const emspFaultsPendingMax = 100;
const base = '/ocpi/2.2.1';

export interface RecordedRequest {
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  readonly query: Record<string, unknown>;
  readonly requestId: string | undefined;
  readonly correlationId: string | undefined;
  /** OCPI-from/to routing headers as received (upper case), or undefined when missing. */
  readonly routing: { from: string | undefined; to: string | undefined };
  readonly body: unknown;
  /** The fault injected into the answer, if any. */
  readonly fault: FaultKind | null;
  readonly at: Date;
}

export interface ValidationFailure {
  readonly method: string;
  readonly path: string;
  readonly problem: string;
}

export type FaultKind = 'http-500' | 'http-429' | 'slow' | 'malformed-json';
export interface Fault {
  readonly kind: FaultKind;
  /** How many matching requests get it. */
  readonly count: number;
  /** Only requests whose path contains this (or matches it). */
  readonly path?: string | RegExp;
  readonly method?: string;
  /** `slow`: the request is applied, and answered after this long. */
  readonly delayMs?: number;
  /** `http-429`: Retry-After in seconds. */
  readonly retryAfterSeconds?: number;
}

export interface EmspPartnerOptions {
  /** Tokens sent per page of GET /tokens (X-Limit). */
  readonly tokensPageSize?: number;
  /** Client options for calls to us (short timeouts in tests). */
  readonly client?: Omit<OcpiClientOptions, 'token' | 'routing' | 'correlationId'>;
  /**
   * false: it calls our functional modules without the OCPI-from/to headers, as a party talking
   * to us directly may (transport_and_format, "Message Routing"). Default: it sends them.
   */
  readonly routingHeaders?: boolean;
}

type Json = Record<string, any>;

export class EmspPartner {
  url = '';
  /** Its token A, given to us out of band so we can register with it. */
  readonly tokenA = newCredentialsToken();
  /** The token it gives us when it registers with us (its B), or when we register with it (its C). */
  readonly tokenForUs = newCredentialsToken();
  /** The token it presents to us: our C (it registered with us) or our B (we registered with it). */
  tokenToUs: string | null = null;
  /** Our endpoints, read from our version details. */
  ourEndpoints: { identifier: string; role: string; url: string }[] = [];
  ourParty: OcpiParty | null = null;

  readonly requests: RecordedRequest[] = [];
  readonly validationFailures: ValidationFailure[] = [];
  /** Keyed `CC/PID/ID` (locations, sessions, tariffs) or by CDR id. */
  readonly locations = new Map<string, Json>();
  readonly sessions = new Map<string, Json>();
  readonly tariffs = new Map<string, Json>();
  readonly cdrs = new Map<string, Json>();
  readonly commandResults = new Map<string, CommandResult[]>();
  /** The tokens it sends (GET /tokens), oldest first. */
  readonly tokens: Token[] = [];
  /** Real-time authorization answer per token uid; tokens not here get 2004 Unknown Token. */
  readonly authorizeAnswers = new Map<string, AllowedType>();
  authorizeDelayMs = 0;
  private readonly faults: { fault: Fault; remaining: number }[] = [];
  private readonly slow = new WeakMap<FastifyRequest, number>();
  private readonly app: FastifyInstance;

  private constructor(private readonly options: EmspPartnerOptions) {
    this.app = Fastify({ logger: false, forceCloseConnections: true });
  }

  static async start(options: EmspPartnerOptions = {}): Promise<EmspPartner> {
    const partner = new EmspPartner(options);
    partner.routes();
    partner.url = (await partner.app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
    return partner;
  }

  get versionsUrl(): string {
    return `${this.url}/ocpi/versions`;
  }

  /** A response_url for one command; results arrive in `commandResults.get(id)`. */
  responseUrl(id: string): string {
    return `${this.url}${base}/commands/results/${encodeURIComponent(id)}`;
  }

  injectFault(fault: Fault): void {
    if (this.faults.length >= emspFaultsPendingMax) throw new Error(`more than ${emspFaultsPendingMax} faults armed`);
    this.faults.push({ fault, remaining: fault.count });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  requestsTo(path: string | RegExp, method?: string): RecordedRequest[] {
    return this.requests.filter((r) => (method === undefined || r.method === method) && (typeof path === 'string' ? r.path.includes(path) : path.test(r.path)));
  }

  close(): Promise<void> {
    return this.app.close();
  }

  // ---- calling us -------------------------------------------------------------------------

  /** Registers with us (spec 7.1.1, it as the Sender): our versions with token A, then POST credentials. */
  async registerWith(ourVersionsUrl: string, tokenA: string): Promise<void> {
    await this.learnOurEndpoints(ourVersionsUrl, tokenA);
    const credentials = this.endpoint('credentials');
    const answer = await ocpiRequest(credentials, { method: 'POST', body: this.credentials(this.tokenForUs), data: credentialsSchema }, this.clientOptions(tokenA, false));
    this.tokenToUs = answer.data.token;
    const cpo = answer.data.roles.find((role) => role.role === 'CPO')!;
    this.ourParty = { countryCode: cpo.country_code, partyId: cpo.party_id };
  }

  /** DELETE credentials: it unregisters from us. */
  async unregister(): Promise<void> {
    await ocpiRequest(this.endpoint('credentials'), { method: 'DELETE', data: z.unknown() }, this.clientOptions(this.tokenToUs!, false));
  }

  /** Our endpoint URL of a module (the first listed when we have both roles), or throws. */
  endpoint(identifier: string, role?: 'SENDER' | 'RECEIVER'): string {
    const found = this.ourEndpoints.find((e) => e.identifier === identifier && (role === undefined || e.role === role));
    if (found === undefined) throw new Error(`we list no ${identifier}${role ? ` ${role}` : ''} endpoint: ${JSON.stringify(this.ourEndpoints)}`);
    return found.url;
  }

  /** A call to one of our functional modules, with its token and routing headers. */
  call<T extends z.ZodType>(url: string, request: { method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; body?: unknown; data: T }, token = this.tokenToUs!, correlationId?: string) {
    return ocpiRequest(url, request, { ...this.clientOptions(token, true), ...(correlationId === undefined ? {} : { correlationId }) });
  }

  /** Every page of a list GET of ours following Link, each page's headers kept for the test to check. */
  async getPages<T extends z.ZodType>(url: string, item: T, pagesMax = 100): Promise<{ items: z.infer<T>[]; pages: { url: string; count: number; total: string | null; limit: string | null }[] }> {
    const items: z.infer<T>[] = [];
    const pages: { url: string; count: number; total: string | null; limit: string | null }[] = [];
    for (let next: string | null = url; next !== null; ) {
      if (pages.length >= pagesMax) throw new Error(`more than ${pagesMax} pages from ${url}`);
      const response: Awaited<ReturnType<typeof ocpiRequest<z.ZodArray<T>>>> = await this.call(next, { data: z.array(item) });
      items.push(...response.data);
      pages.push({ url: next, count: response.data.length, total: response.headers.get('x-total-count'), limit: response.headers.get('x-limit') });
      next = nextLink(response.headers.get('link'));
    }
    return { items, pages };
  }

  private clientOptions(token: string, functional: boolean): OcpiClientOptions {
    const routed = functional && this.ourParty !== null && this.options.routingHeaders !== false;
    const routing: OcpiRouting | undefined = routed ? { from: emspParty, to: this.ourParty! } : undefined;
    return { ...this.options.client, token, ...(routing ? { routing } : {}) };
  }

  private async learnOurEndpoints(ourVersionsUrl: string, token: string): Promise<void> {
    const versions = await ocpiRequest(ourVersionsUrl, { data: versionListSchema }, this.clientOptions(token, false));
    const v221 = versions.data.find((v) => v.version === '2.2.1');
    if (v221 === undefined) throw new Error('we do not offer 2.2.1');
    const details = await ocpiRequest(v221.url, { data: versionDetailsSchema }, this.clientOptions(token, false));
    this.ourEndpoints = details.data.endpoints.map((e) => ({ identifier: e.identifier, role: e.role, url: e.url }));
  }

  private credentials(token: string) {
    return { token, url: this.versionsUrl, roles: [{ role: 'EMSP', country_code: emspParty.countryCode, party_id: emspParty.partyId, business_details: { name: 'Test eMSP' } }] };
  }

  // ---- its own endpoints ------------------------------------------------------------------

  private knownTokens(): string[] {
    return [this.tokenA, this.tokenForUs];
  }

  private fail(request: FastifyRequest, problem: string): void {
    this.validationFailures.push({ method: request.method, path: request.url.split('?')[0]!, problem });
  }

  /** Validates `body` with `schema`, recording a failure; returns the parsed value or null. */
  private check<T extends z.ZodType>(request: FastifyRequest, schema: T, body: unknown, what: string): z.infer<T> | null {
    const parsed = schema.safeParse(body);
    if (parsed.success) return parsed.data;
    this.fail(request, `${what}: ${z.prettifyError(parsed.error)}`);
    return null;
  }

  private checkIds(request: FastifyRequest, body: Json, params: Record<string, string>, fields: [string, string][]): void {
    for (const [param, field] of fields) {
      if (body[field] !== undefined && String(body[field]).toUpperCase() !== String(params[param]).toUpperCase()) {
        this.fail(request, `${field} in the body (${body[field]}) differs from the URL (${params[param]})`);
      }
    }
  }

  private envelope(reply: FastifyReply, data: unknown, statusCode = 1000, httpStatus = 200, message?: string) {
    return reply.code(httpStatus).send({ ...(data === undefined ? {} : { data }), status_code: statusCode, ...(message ? { status_message: message } : {}), timestamp: new Date().toISOString() });
  }

  private routes(): void {
    const app = this.app;
    app.addHook('preHandler', async (request, reply) => {
      const path = request.url.split('?')[0]!;
      const header = (name: string) => {
        const value = request.headers[name];
        return typeof value === 'string' ? value : undefined;
      };
      const routed = (side: 'from' | 'to') => {
        const cc = header(`ocpi-${side}-country-code`);
        const pid = header(`ocpi-${side}-party-id`);
        return cc === undefined || pid === undefined ? undefined : `${cc}/${pid}`.toUpperCase();
      };
      const fault = this.takeFault(request.method, path);
      if (this.requests.length < emspRequestsRecordedMax) {
        this.requests.push({
          method: request.method,
          path,
          query: (request.query ?? {}) as Record<string, unknown>,
          requestId: header('x-request-id'),
          correlationId: header('x-correlation-id'),
          routing: { from: routed('from'), to: routed('to') },
          body: request.body,
          fault: fault?.kind ?? null,
          at: new Date(),
        });
      }
      const token = credentialsTokenCandidates(request.headers.authorization).find((t) => this.knownTokens().includes(t));
      if (token === undefined) return this.envelope(reply, undefined, 2000, 401, 'unknown token');
      if (header('x-request-id') === undefined || header('x-correlation-id') === undefined) this.fail(request, 'X-Request-ID or X-Correlation-ID missing');
      const functional = !/^\/ocpi\/(versions|2\.2\.1\/?$|2\.2\.1\/credentials)/.test(path);
      if (functional) {
        const expected = this.ourParty ? `${this.ourParty.countryCode}/${this.ourParty.partyId}` : undefined;
        if (routed('to') !== 'DE/EMP' || (expected !== undefined && routed('from') !== expected)) {
          this.fail(request, `routing headers from ${routed('from')} to ${routed('to')}, expected from ${expected ?? 'the CPO'} to DE/EMP`);
        }
      }
      if (fault === null) return;
      if (fault.kind === 'slow') {
        this.slow.set(request, fault.delayMs ?? 1_000);
        return;
      }
      if (fault.kind === 'http-500') return this.envelope(reply, undefined, 3000, 500, 'injected fault');
      if (fault.kind === 'http-429') return reply.code(429).header('Retry-After', String(fault.retryAfterSeconds ?? 1)).send({ status_code: 2000, timestamp: new Date().toISOString() });
      return reply.code(200).header('content-type', 'application/json').send('{"status_code": 1000, "data": {');
    });

    // A slow partner applies the request and answers late (its commit was slow): the caller times
    // out although the object arrived, and must cope with sending it again.
    app.addHook('onSend', async (request) => {
      const delayMs = this.slow.get(request);
      if (delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, delayMs));
    });
    // A request to a path it does not serve is our bug (a wrong URL built): kept as a failure.
    app.setNotFoundHandler(async (request, reply) => {
      this.fail(request, 'no such endpoint');
      return this.envelope(reply, undefined, 2000, 404, `no endpoint ${request.method} ${request.url}`);
    });
    app.get('/ocpi/versions', async (_request, reply) => this.envelope(reply, [{ version: '2.2.1', url: `${this.url}${base}` }]));
    app.get(base, async (_request, reply) => {
      const endpoint = (identifier: string, role: string, path = identifier) => ({ identifier, role, url: `${this.url}${base}/${path}` });
      return this.envelope(reply, {
        version: '2.2.1',
        endpoints: [
          endpoint('credentials', 'SENDER'),
          endpoint('credentials', 'RECEIVER'),
          endpoint('locations', 'RECEIVER'),
          endpoint('sessions', 'RECEIVER'),
          endpoint('cdrs', 'RECEIVER'),
          endpoint('tariffs', 'RECEIVER'),
          endpoint('tokens', 'SENDER'),
        ],
      });
    });
    this.credentialsRoutes();
    this.locationRoutes();
    this.sessionAndTariffRoutes();
    this.cdrRoutes();
    this.tokenRoutes();
    app.post(`${base}/commands/results/:id`, async (request, reply) => {
      const { id } = request.params as { id: string };
      const result = this.check(request, commandResultSchema, request.body, 'CommandResult');
      if (result !== null) this.commandResults.set(id, [...(this.commandResults.get(id) ?? []), result]);
      return this.envelope(reply, undefined);
    });
  }

  /** We register with it (spec 7.1.1, it as the Receiver): it reads our versions with our token B. */
  private credentialsRoutes(): void {
    this.app.post(`${base}/credentials`, async (request, reply) => {
      const body = this.check(request, credentialsSchema, request.body, 'Credentials');
      if (body === null) return this.envelope(reply, undefined, 2001, 400);
      await this.learnOurEndpoints(body.url, body.token);
      this.tokenToUs = body.token;
      const cpo = body.roles.find((role) => role.role === 'CPO') ?? body.roles[0]!;
      this.ourParty = { countryCode: cpo.country_code, partyId: cpo.party_id };
      return this.envelope(reply, this.credentials(this.tokenForUs));
    });
    this.app.delete(`${base}/credentials`, async (_request, reply) => {
      this.tokenToUs = null;
      return this.envelope(reply, undefined);
    });
  }

  private locationRoutes(): void {
    type Params = { cc: string; pid: string; loc: string; evse?: string; conn?: string };
    const key = (p: Params) => `${p.cc}/${p.pid}/${p.loc}`.toUpperCase();
    const findEvse = (location: Json | undefined, uid: string) => (location?.evses as Json[] | undefined)?.find((e) => e.uid === uid);
    const prefix = `${base}/locations/:cc/:pid/:loc`;
    this.app.put(prefix, async (request, reply) => {
      const p = request.params as Params;
      const location = this.check(request, locationSchema, request.body, 'Location');
      if (location === null) return this.envelope(reply, undefined, 2001);
      this.checkIds(request, location, p as Json as Record<string, string>, [['cc', 'country_code'], ['pid', 'party_id'], ['loc', 'id']]);
      this.locations.set(key(p), structuredClone(location));
      return this.envelope(reply, undefined);
    });
    this.app.put(`${prefix}/:evse`, async (request, reply) => {
      const p = request.params as Params;
      const evse = this.check(request, evseSchema, request.body, 'EVSE');
      const location = this.locations.get(key(p));
      if (evse === null) return this.envelope(reply, undefined, 2001);
      if (location === undefined) return this.unknown(request, reply, `EVSE PUT for unknown location ${key(p)}`, 2003);
      if (evse.uid !== p.evse) this.fail(request, `uid ${evse.uid} differs from the URL ${p.evse}`);
      location.evses = [...((location.evses as Json[] | undefined) ?? []).filter((e) => e.uid !== evse.uid), structuredClone(evse)];
      location.last_updated = evse.last_updated;
      return this.envelope(reply, undefined);
    });
    this.app.put(`${prefix}/:evse/:conn`, async (request, reply) => {
      const p = request.params as Params;
      const connector = this.check(request, connectorSchema, request.body, 'Connector');
      const evse = findEvse(this.locations.get(key(p)), p.evse!);
      if (connector === null) return this.envelope(reply, undefined, 2001);
      if (evse === undefined) return this.unknown(request, reply, `connector PUT for unknown EVSE ${key(p)}/${p.evse}`, 2003);
      evse.connectors = [...(evse.connectors as Json[]).filter((c) => c.id !== connector.id), structuredClone(connector)];
      return this.envelope(reply, undefined);
    });
    this.app.patch(prefix, async (request, reply) => {
      const p = request.params as Params;
      const patch = this.check(request, locationPatchSchema, request.body, 'Location PATCH');
      const location = this.locations.get(key(p));
      if (patch === null) return this.envelope(reply, undefined, 2001);
      if (location === undefined) return this.unknown(request, reply, `PATCH of unknown location ${key(p)}`, 2003);
      Object.assign(location, structuredClone(patch));
      return this.envelope(reply, undefined);
    });
    this.app.patch(`${prefix}/:evse`, async (request, reply) => {
      const p = request.params as Params;
      const patch = this.check(request, evsePatchSchema, request.body, 'EVSE PATCH');
      const location = this.locations.get(key(p));
      const evse = findEvse(location, p.evse!);
      if (patch === null) return this.envelope(reply, undefined, 2001);
      if (evse === undefined) return this.unknown(request, reply, `PATCH of unknown EVSE ${key(p)}/${p.evse}`, 2003);
      Object.assign(evse, structuredClone(patch));
      location!.last_updated = patch.last_updated;
      return this.envelope(reply, undefined);
    });
    this.app.patch(`${prefix}/:evse/:conn`, async (request, reply) => {
      const p = request.params as Params;
      const patch = this.check(request, connectorPatchSchema, request.body, 'Connector PATCH');
      const connector = (findEvse(this.locations.get(key(p)), p.evse!)?.connectors as Json[] | undefined)?.find((c) => c.id === p.conn);
      if (patch === null) return this.envelope(reply, undefined, 2001);
      if (connector === undefined) return this.unknown(request, reply, `PATCH of unknown connector ${key(p)}/${p.evse}/${p.conn}`, 2003);
      Object.assign(connector, structuredClone(patch));
      return this.envelope(reply, undefined);
    });
    this.app.get(prefix, async (request, reply) => {
      const location = this.locations.get(key(request.params as Params));
      return location === undefined ? this.envelope(reply, undefined, 2003, 404) : this.envelope(reply, location);
    });
  }

  private sessionAndTariffRoutes(): void {
    type Params = { cc: string; pid: string; id: string };
    const key = (p: Params) => `${p.cc}/${p.pid}/${p.id}`.toUpperCase();
    const ids: [string, string][] = [['cc', 'country_code'], ['pid', 'party_id'], ['id', 'id']];
    this.app.put(`${base}/sessions/:cc/:pid/:id`, async (request, reply) => {
      const session = this.check(request, sessionSchema, request.body, 'Session');
      if (session === null) return this.envelope(reply, undefined, 2001);
      this.checkIds(request, session, request.params as Record<string, string>, ids);
      this.sessions.set(key(request.params as Params), structuredClone(session));
      return this.envelope(reply, undefined);
    });
    this.app.patch(`${base}/sessions/:cc/:pid/:id`, async (request, reply) => {
      const patch = this.check(request, sessionPatchSchema, request.body, 'Session PATCH');
      const session = this.sessions.get(key(request.params as Params));
      if (patch === null) return this.envelope(reply, undefined, 2001);
      if (session === undefined) return this.unknown(request, reply, `PATCH of unknown session ${key(request.params as Params)}`, 2000);
      // mod_sessions "PATCH Method": charging_periods in a PATCH are appended.
      const { charging_periods: periods, ...rest } = structuredClone(patch);
      Object.assign(session, rest);
      if (periods !== undefined) session.charging_periods = [...((session.charging_periods as Json[] | undefined) ?? []), ...periods];
      return this.envelope(reply, undefined);
    });
    this.app.put(`${base}/tariffs/:cc/:pid/:id`, async (request, reply) => {
      const tariff = this.check(request, tariffSchema, request.body, 'Tariff');
      if (tariff === null) return this.envelope(reply, undefined, 2001);
      this.checkIds(request, tariff as Json, request.params as Record<string, string>, ids);
      this.tariffs.set(key(request.params as Params), structuredClone(request.body as Json));
      return this.envelope(reply, undefined);
    });
    this.app.delete(`${base}/tariffs/:cc/:pid/:id`, async (request, reply) => {
      if (!this.tariffs.delete(key(request.params as Params))) return this.unknown(request, reply, `DELETE of unknown tariff ${key(request.params as Params)}`, 2000);
      return this.envelope(reply, undefined);
    });
  }

  private cdrRoutes(): void {
    this.app.post(`${base}/cdrs`, async (request, reply) => {
      const cdr = this.check(request, cdrSchema, request.body, 'CDR');
      if (cdr === null) return this.envelope(reply, undefined, 2001);
      // The Location of the CDR in its system (mod_cdrs "POST Method", response headers).
      const id = randomUUID();
      this.cdrs.set(cdr.id, { ...structuredClone(request.body as Json), _location: `${this.url}${base}/cdrs/${id}`, _storedAs: id });
      reply.header('Location', `${this.url}${base}/cdrs/${id}`);
      return this.envelope(reply, undefined);
    });
    this.app.get(`${base}/cdrs/:id`, async (request, reply) => {
      const { id } = request.params as { id: string };
      const found = [...this.cdrs.values()].find((cdr) => cdr._storedAs === id);
      if (found === undefined) return this.envelope(reply, undefined, 2000, 404);
      const { _location, _storedAs, ...cdr } = found;
      return this.envelope(reply, cdr);
    });
  }

  private tokenRoutes(): void {
    const pageSize = this.options.tokensPageSize ?? 1;
    this.app.get(`${base}/tokens`, async (request, reply) => {
      const page = parsePageRequest(request.query, pageSize);
      const result = paginateInMemory(this.tokens, (t) => t.last_updated, (t) => t.uid, page);
      setPageHeaders(request, reply, page, result, this.url);
      return this.envelope(reply, result.items);
    });
    this.app.post(`${base}/tokens/:uid/authorize`, async (request, reply) => {
      const { uid } = request.params as { uid: string };
      const type = (request.query as { type?: string }).type ?? 'RFID';
      if (request.body !== undefined && request.body !== null) this.check(request, locationReferencesSchema, request.body, 'LocationReferences');
      if (this.authorizeDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.authorizeDelayMs));
      const allowed = this.authorizeAnswers.get(uid);
      if (allowed === undefined) return this.envelope(reply, undefined, 2004, 404, `unknown token ${uid}`);
      const token = this.tokens.find((t) => t.uid === uid && t.type === type) ?? emspToken(uid, { type: type as Token['type'] });
      const info = { allowed, token, authorization_reference: `AUTH-${uid}`.slice(0, 36) };
      authorizationInfoSchema.parse(info);
      return this.envelope(reply, info);
    });
  }

  private unknown(request: FastifyRequest, reply: FastifyReply, problem: string, statusCode: number) {
    this.fail(request, problem);
    return this.envelope(reply, undefined, statusCode, 404, problem);
  }

  private takeFault(method: string, path: string): Fault | null {
    const index = this.faults.findIndex(({ fault, remaining }) => {
      if (remaining <= 0 || (fault.method !== undefined && fault.method !== method)) return false;
      return fault.path === undefined || (typeof fault.path === 'string' ? path.includes(fault.path) : fault.path.test(path));
    });
    if (index < 0) return null;
    const entry = this.faults[index]!;
    entry.remaining -= 1;
    return entry.fault;
  }
}

/** A token of the eMSP, as it would send it. */
export function emspToken(uid: string, overrides: Partial<Token> = {}): Token {
  return {
    country_code: emspParty.countryCode,
    party_id: emspParty.partyId,
    uid,
    type: 'RFID',
    contract_id: `DE-EMP-C${uid}`.slice(0, 36),
    issuer: 'Test eMSP',
    valid: true,
    whitelist: 'ALLOWED',
    last_updated: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    ...overrides,
  };
}
