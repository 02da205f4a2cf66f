/**
 * The route catalogue shared by the API's access suites (tenant isolation, roles, bad input):
 * every route of the API, from its contract in `@automateiq/contracts`, with a fixture that builds a
 * valid request against one tenant's data.
 *
 * Terms:
 * - route key: `METHOD /url` as written in the contract (`GET /v1/runs/:id`);
 * - contract route: a `defineRoute` export of `@automateiq/contracts`;
 * - registered route: a `/v1` route the server answers (read from `app.printRoutes()`);
 * - tenant data: the resources made in one tenant whose ids the fixtures put in paths and bodies;
 * - fixture: how to call a route validly against tenant data, and what another tenant must see.
 *
 * A route without a fixture fails every suite (`catalogueProblems`), so a new route cannot land
 * without cross-tenant, role and bad-input coverage. A contract route the server does not register
 * yet is skipped with a message, never silently.
 */
import * as contracts from '@automateiq/contracts';
import { type Access, type HttpMethod, Permission, type RouteContract } from '@automateiq/contracts';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { newId } from '../../src/lib/ids';
import { issueApiKey } from '../../src/security/issue-api-key';
import { type ApiHarness, TEST_PASSWORD, type TestTenant } from '../support/api-harness';

export type RouteKey = `${HttpMethod} ${string}`;

/** A route of the API as the suites see it: its contract's address, access rule and kind of answer. */
export interface CatalogueRoute {
  key: RouteKey;
  method: HttpMethod;
  url: string;
  access: Access;
  /** The answer is a server-sent event stream. */
  stream: boolean;
}

/** The credential secret stored in every tenant: no response of any route may contain it. */
export const SECRET = 's3cret-token';

/** A definition that runs and succeeds at once. */
export function helloDefinition(name: string): Record<string, unknown> {
  return {
    name,
    nodes: [{ id: 'greet', type: 'transform', params: { value: { greeting: 'Hello {{ input.name }}' } } }],
    edges: [],
  };
}

/** The resources of one tenant that fixtures address. */
export interface TenantData {
  tenant: TestTenant;
  tenantId: string;
  /** A workflow with two versions. */
  workflowId: string;
  /** A version of the workflow that exists. */
  version: number;
  /** A finished (succeeded) run of the workflow. */
  runId: string;
  /** A bearer credential whose token is SECRET (a random id while `POST /v1/credentials` is missing). */
  credentialId: string;
  /** A member (editor) that fixtures may change or remove: never a caller of the suites. */
  memberUserId: string;
  /** An API key that fixtures may revoke: never a caller of the suites. */
  apiKeyId: string;
  /** Every id above and the owner's, for scanning answers. */
  ids: string[];
}

/** What a fixture gets to build its request. */
export interface FixtureContext {
  /** The tenant whose ids the request names. */
  data: TenantData;
  /** A string no other request of the run uses (names, slugs, e-mails). */
  unique: string;
  /** A refresh token of a new session of the tenant's owner (`'none'` while login is missing). */
  refreshToken(): Promise<string>;
}

export interface RouteFixture {
  /** The path (with query string) naming the tenant's resources. */
  path(data: TenantData): string;
  /** A valid body. */
  body?(c: FixtureContext): unknown;
  headers?(c: FixtureContext): Record<string, string>;
  /**
   * What a caller of another tenant must get:
   * - `notFound`: the path names one of the tenant's resources: 404, never 403, never 2xx;
   * - `ownTenant`: the route acts on the caller's own tenant (lists, creation, usage): none of the
   *   tenant's ids may appear in the answer.
   * Ignored for public routes, whose bodies carry the tenant's own secrets by design.
   */
  foreign: 'notFound' | 'ownTenant';
  /** For lists: ids of the caller's own tenant that the answer must show (so the check is not vacuous). */
  ownIds?(data: TenantData): string[];
  /**
   * When the suites call it: 0 first; 1 after every 0 (removes one of the tenant's resources);
   * 2 at the very end (erases the tenant). Default: 1 for DELETE, else 0.
   */
  phase?: 0 | 1 | 2;
}

let sequence = 0;
/** A string unique within the test process. */
export function uniqueName(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}`;
}

const definitionBody = () => ({ definition: helloDefinition(uniqueName('wf')) });
const credentialBody = (c: FixtureContext) => ({ name: `cred-${c.unique}`, type: 'bearer', data: { token: SECRET } });

/**
 * Every route's fixture, by route key. Adding a route to the contracts without adding it here fails
 * the isolation, role and bad-input suites.
 */
export const ROUTE_FIXTURES: Readonly<Record<RouteKey, RouteFixture>> = {
  // auth: public and session routes
  'POST /v1/auth/login': {
    path: () => '/v1/auth/login',
    body: (c) => ({ email: c.data.tenant.owner.email, password: TEST_PASSWORD }),
    foreign: 'ownTenant',
  },
  'POST /v1/auth/refresh': {
    path: () => '/v1/auth/refresh',
    body: async (c) => ({ refreshToken: await c.refreshToken() }),
    foreign: 'ownTenant',
  },
  'POST /v1/auth/logout': {
    path: () => '/v1/auth/logout',
    body: async (c) => ({ refreshToken: await c.refreshToken() }),
    foreign: 'ownTenant',
  },
  'POST /v1/auth/accept-invite': {
    path: () => '/v1/auth/accept-invite',
    body: () => ({ token: 'not-an-invite-token', password: 'a long enough password' }),
    foreign: 'ownTenant',
  },
  'GET /v1/me': { path: () => '/v1/me', foreign: 'ownTenant' },
  'POST /v1/me/totp': { path: () => '/v1/me/totp', foreign: 'ownTenant' },
  'POST /v1/me/totp/confirm': { path: () => '/v1/me/totp/confirm', body: () => ({ code: '000000' }), foreign: 'ownTenant' },
  'DELETE /v1/me/totp': { path: () => '/v1/me/totp', body: () => ({ code: '000000' }), foreign: 'ownTenant', phase: 0 },

  // tenants
  'POST /v1/tenants': {
    path: () => '/v1/tenants',
    body: (c) => ({ name: `T ${c.unique}`, slug: c.unique.toLowerCase(), ownerEmail: `owner@${c.unique.toLowerCase()}.example.com` }),
    foreign: 'ownTenant',
  },
  'GET /v1/tenants': { path: () => '/v1/tenants', foreign: 'ownTenant' },
  'GET /v1/tenants/:id': { path: (d) => `/v1/tenants/${d.tenantId}`, foreign: 'notFound' },
  // requireMfa: false leaves the tenant usable by every later request.
  'PATCH /v1/tenants/:id': { path: (d) => `/v1/tenants/${d.tenantId}`, body: () => ({ requireMfa: false }), foreign: 'notFound' },
  // Documented in CONTRACT.md, no contract yet.
  'GET /v1/tenants/:id/export': { path: (d) => `/v1/tenants/${d.tenantId}/export`, foreign: 'notFound' },
  'DELETE /v1/tenants/:id': { path: (d) => `/v1/tenants/${d.tenantId}`, foreign: 'notFound', phase: 2 },

  // workflows
  'GET /v1/workflows': {
    path: () => '/v1/workflows',
    foreign: 'ownTenant',
    ownIds: (d) => [d.workflowId],
  },
  'POST /v1/workflows': { path: () => '/v1/workflows', body: definitionBody, foreign: 'ownTenant' },
  'POST /v1/workflows/validate': { path: () => '/v1/workflows/validate', body: definitionBody, foreign: 'ownTenant' },
  'GET /v1/workflows/:id': { path: (d) => `/v1/workflows/${d.workflowId}`, foreign: 'notFound' },
  'PUT /v1/workflows/:id': {
    path: (d) => `/v1/workflows/${d.workflowId}`,
    body: () => ({ definition: { ...helloDefinition('hello'), description: uniqueName('changed') } }),
    foreign: 'notFound',
  },
  'DELETE /v1/workflows/:id': { path: (d) => `/v1/workflows/${d.workflowId}`, foreign: 'notFound' },
  'GET /v1/workflows/:id/versions': { path: (d) => `/v1/workflows/${d.workflowId}/versions`, foreign: 'notFound' },
  'GET /v1/workflows/:id/versions/:version': {
    path: (d) => `/v1/workflows/${d.workflowId}/versions/${d.version}`,
    foreign: 'notFound',
  },
  'POST /v1/workflows/:id/activate': { path: (d) => `/v1/workflows/${d.workflowId}/activate`, foreign: 'notFound' },
  'POST /v1/workflows/:id/deactivate': { path: (d) => `/v1/workflows/${d.workflowId}/deactivate`, foreign: 'notFound' },
  'GET /v1/connectors': { path: () => '/v1/connectors', foreign: 'ownTenant' },

  // runs
  'POST /v1/workflows/:id/runs': {
    path: (d) => `/v1/workflows/${d.workflowId}/runs`,
    body: () => ({ input: { name: 'Ada' } }),
    headers: (c) => ({ 'idempotency-key': c.unique }),
    foreign: 'notFound',
  },
  'GET /v1/runs': { path: () => '/v1/runs', foreign: 'ownTenant', ownIds: (d) => [d.runId] },
  'GET /v1/runs/:id': { path: (d) => `/v1/runs/${d.runId}`, foreign: 'notFound' },
  'GET /v1/runs/:id/logs': { path: (d) => `/v1/runs/${d.runId}/logs`, foreign: 'notFound' },
  'POST /v1/runs/:id/cancel': { path: (d) => `/v1/runs/${d.runId}/cancel`, foreign: 'notFound' },
  'POST /v1/runs/:id/retry': { path: (d) => `/v1/runs/${d.runId}/retry`, foreign: 'notFound' },
  'POST /v1/runs/:id/events': {
    path: (d) => `/v1/runs/${d.runId}/events`,
    body: () => ({ name: 'approved', payload: { ok: true } }),
    foreign: 'notFound',
  },
  // The fixture run has no approval step: 404 for its own tenant too, after the access check.
  'POST /v1/runs/:id/approvals/:nodeId': {
    path: (d) => `/v1/runs/${d.runId}/approvals/approve_it`,
    body: () => ({ decision: 'approve' }),
    foreign: 'notFound',
  },
  // Public: the token is the credential; a wrong one answers as an unknown run does.
  'POST /resume/:tenantId/:runId/:token': {
    path: (d) => `/resume/${d.tenantId}/${d.runId}/not-the-token`,
    body: () => ({ name: 'approved', payload: { ok: true } }),
    foreign: 'notFound',
  },
  'GET /v1/runs/:id/stream': { path: (d) => `/v1/runs/${d.runId}/stream`, foreign: 'notFound' },
  'GET /v1/stream': { path: () => '/v1/stream', foreign: 'ownTenant' },

  // credentials
  'GET /v1/credentials': { path: () => '/v1/credentials', foreign: 'ownTenant', ownIds: (d) => [d.credentialId] },
  'POST /v1/credentials': { path: () => '/v1/credentials', body: credentialBody, foreign: 'ownTenant' },
  'GET /v1/credentials/:id': { path: (d) => `/v1/credentials/${d.credentialId}`, foreign: 'notFound' },
  'PUT /v1/credentials/:id': {
    path: (d) => `/v1/credentials/${d.credentialId}`,
    body: () => ({ name: 'c', type: 'bearer', data: { token: SECRET } }),
    foreign: 'notFound',
  },
  'DELETE /v1/credentials/:id': { path: (d) => `/v1/credentials/${d.credentialId}`, foreign: 'notFound' },
  'POST /v1/credentials/:id/test': { path: (d) => `/v1/credentials/${d.credentialId}/test`, foreign: 'notFound' },

  // members and API keys
  'GET /v1/members': { path: () => '/v1/members', foreign: 'ownTenant', ownIds: (d) => [d.memberUserId] },
  'POST /v1/members': {
    path: () => '/v1/members',
    body: (c) => ({ email: `${c.unique.toLowerCase()}@example.com`, role: 'viewer' }),
    foreign: 'ownTenant',
  },
  'PATCH /v1/members/:userId': {
    path: (d) => `/v1/members/${d.memberUserId}`,
    body: () => ({ role: 'viewer' }),
    foreign: 'notFound',
  },
  'DELETE /v1/members/:userId': { path: (d) => `/v1/members/${d.memberUserId}`, foreign: 'notFound' },
  'GET /v1/api-keys': { path: () => '/v1/api-keys', foreign: 'ownTenant', ownIds: (d) => [d.apiKeyId] },
  'POST /v1/api-keys': { path: () => '/v1/api-keys', body: (c) => ({ name: `key ${c.unique}` }), foreign: 'ownTenant' },
  'DELETE /v1/api-keys/:id': { path: (d) => `/v1/api-keys/${d.apiKeyId}`, foreign: 'notFound' },

  // audit, usage, dashboard
  'GET /v1/audit': { path: () => '/v1/audit', foreign: 'ownTenant' },
  'GET /v1/usage': { path: () => '/v1/usage', foreign: 'ownTenant' },
  // Documented in CONTRACT.md, no contract yet.
  'GET /v1/dashboard': { path: () => '/v1/dashboard', foreign: 'ownTenant' },
};

function isRouteContract(value: unknown): value is RouteContract {
  if (typeof value !== 'object' || value === null) return false;
  const route = value as Partial<RouteContract>;
  return typeof route.method === 'string' && typeof route.url === 'string' && typeof route.access === 'object';
}

/** Every route of `@automateiq/contracts`, ordered by URL, then method. */
export function contractRoutes(): CatalogueRoute[] {
  const byKey = new Map<RouteKey, CatalogueRoute>();
  for (const value of Object.values(contracts)) {
    if (!isRouteContract(value)) continue;
    const key: RouteKey = `${value.method} ${value.url}`;
    byKey.set(key, { key, method: value.method, url: value.url, access: value.access, stream: value.stream === true });
  }
  return [...byKey.values()].sort((a, b) => compare(a.url, b.url) || compare(a.method, b.method));
}

/** Code-point order: the same everywhere, unlike localeCompare. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The fixture of a route; throws for a route without one (the catalogue test names them all). */
export function fixtureOf(route: CatalogueRoute): RouteFixture {
  const fixture = ROUTE_FIXTURES[route.key];
  if (!fixture) throw new Error(`${route.key} has no fixture in apps/server/test/api/route-catalogue.ts`);
  return fixture;
}

export function phaseOf(route: CatalogueRoute): 0 | 1 | 2 {
  return ROUTE_FIXTURES[route.key]?.phase ?? (route.method === 'DELETE' ? 1 : 0);
}

/** Routes in the order the suites call them: reads and changes first, then deletions, then erasure. */
export function inCallOrder(routes: CatalogueRoute[]): CatalogueRoute[] {
  return [...routes].sort((a, b) => phaseOf(a) - phaseOf(b));
}

/** The `/v1` routes the server answers, as route keys (HEAD left out), from its route tree. */
export function registeredRoutes(app: FastifyInstance): RouteKey[] {
  const keys = new Set<RouteKey>();
  const prefixes: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/u.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    prefixes.length = depth;
    const path = `${depth > 0 ? (prefixes[depth - 1] ?? '') : ''}${match[2] ?? ''}`;
    prefixes[depth] = path;
    for (const method of (match[3] ?? '').split(', ')) {
      if (method === '' || method === 'HEAD' || !path.startsWith('/v1/')) continue;
      keys.add(`${method as HttpMethod} ${path}`);
    }
  }
  return [...keys].sort();
}

export function isRegistered(app: FastifyInstance, route: CatalogueRoute): boolean {
  return app.hasRoute({ method: route.method, url: route.url });
}

/** What is wrong with the catalogue: each list must be empty (except `unregistered`, while others work). */
export interface CatalogueProblems {
  /** Contract routes without a fixture. */
  withoutFixture: RouteKey[];
  /** Registered `/v1` routes without a contract: no access rule, so the access hook treats them as public. */
  withoutContract: RouteKey[];
  /** Contract routes the server does not answer yet: their tests are skipped. */
  unregistered: RouteKey[];
  /** Fixtures of routes that have no contract (yet: routes documented in CONTRACT.md). */
  fixturesWithoutContract: RouteKey[];
  /** Contract routes the server answers but the route tree did not show: the tree's reader is broken. */
  unread: RouteKey[];
}

export function catalogueProblems(app: FastifyInstance): CatalogueProblems {
  const routes = contractRoutes();
  const contractKeys = new Set(routes.map((r) => r.key));
  const registered = registeredRoutes(app);
  return {
    withoutFixture: [...new Set([...contractKeys, ...registered])].filter((key) => !ROUTE_FIXTURES[key]).sort(),
    withoutContract: registered.filter((key) => !contractKeys.has(key)),
    unregistered: routes.filter((r) => !isRegistered(app, r)).map((r) => r.key),
    fixturesWithoutContract: (Object.keys(ROUTE_FIXTURES) as RouteKey[]).filter((key) => !contractKeys.has(key)),
    // The route tree is read for /v1 routes only (others, such as /resume, are registered without a prefix walk).
    unread: routes
      .filter((r) => r.url.startsWith('/v1/') && isRegistered(app, r) && !registered.includes(r.key))
      .map((r) => r.key),
  };
}

/** Says once per suite which routes are not registered yet, and which fixtures wait for a contract. */
/** Every route has a fixture, every registered /v1 route a contract, and both listings agree. */
export function expectCompleteCatalogue(problems: CatalogueProblems): void {
    expect(problems.withoutFixture, 'routes without a fixture in route-catalogue.ts').toEqual([]);
    expect(problems.withoutContract, 'registered routes without a contract (the access hook treats them as public)').toEqual([]);
    expect(problems.unread, 'routes hasRoute() knows but printRoutes() did not show').toEqual([]);
}

export function reportCatalogue(suite: string, problems: CatalogueProblems): void {
  if (problems.unregistered.length > 0)
    console.warn(
      `[${suite}] SKIPPED until the server registers them (contract exists, route does not):\n  ${problems.unregistered.join('\n  ')}`,
    );
  if (problems.fixturesWithoutContract.length > 0)
    console.info(`[${suite}] fixtures waiting for a contract: ${problems.fixturesWithoutContract.join(', ')}`);
}

/** An HTTP answer as the suites read it. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  /** The body as text (for a stream: what arrived within `streamMs`). */
  text: string;
  /** The body parsed as JSON, or undefined. */
  json: unknown;
}

export interface ApiRequest {
  method: HttpMethod;
  url: string;
  token?: string | undefined;
  headers?: Record<string, string> | undefined;
  /** A JSON body. */
  body?: unknown;
  /** A raw body, sent as is (with the content type from `headers`). */
  raw?: string | Buffer | undefined;
  /** Read a server-sent event stream for this long, then hang up. */
  stream?: boolean;
  streamMs?: number;
}

/** Sends one request through `app.inject`; streams are read for a while and then abandoned. */
export async function send(app: FastifyInstance, request: ApiRequest): Promise<Answer> {
  const headers: Record<string, string> = {
    ...(request.token === undefined ? {} : { authorization: `Bearer ${request.token}` }),
    ...request.headers,
  };
  const payload = request.raw ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
  if (request.body !== undefined && request.raw === undefined && !('content-type' in headers))
    headers['content-type'] = 'application/json';
  if (!request.stream) {
    const response = await app.inject({ method: request.method, url: request.url, headers, payload });
    return { status: response.statusCode, headers: response.headers, text: response.body, json: parseJson(response.body) };
  }
  const abort = new AbortController();
  const response = await app.inject({
    method: request.method,
    url: request.url,
    headers,
    payload,
    payloadAsStream: true,
    signal: abort.signal,
  });
  const stream = response.stream();
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, request.streamMs ?? 150);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.on('error', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  // Hang up as a client would: the server must stop writing.
  stream.on('error', () => undefined);
  abort.abort();
  (response.raw.res as { destroy(): void }).destroy();
  const text = Buffer.concat(chunks).toString('utf8');
  return { status: response.statusCode, headers: response.headers, text, json: parseJson(text) };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A problem's parts the suites check, or a reason why the answer is not a problem. */
export function problemFault(answer: Answer): string | undefined {
  const type = String(answer.headers['content-type'] ?? '');
  if (!type.startsWith('application/problem+json')) return `content-type is "${type}", not application/problem+json`;
  const body = answer.json as Record<string, unknown> | undefined;
  if (typeof body !== 'object' || body === null) return 'the body is not a JSON object';
  for (const field of ['type', 'title', 'detail', 'code'] as const)
    if (typeof body[field] !== 'string') return `"${field}" is not a string`;
  if (body.status !== answer.status) return `"status" is ${String(body.status)}, the answer ${answer.status}`;
  return undefined;
}

/** The error code of a problem answer. */
export function codeOf(answer: Answer): string | undefined {
  const body = answer.json as { code?: unknown } | undefined;
  return typeof body?.code === 'string' ? body.code : undefined;
}

/** One line describing a request and its answer, for failure messages. */
export function describeExchange(request: ApiRequest, answer: Answer): string {
  const body = request.raw !== undefined ? String(request.raw) : request.body === undefined ? '' : JSON.stringify(request.body);
  const shown = body.length > 300 ? `${body.slice(0, 300)}… (${body.length} chars)` : body;
  const text = answer.text.length > 500 ? `${answer.text.slice(0, 500)}…` : answer.text;
  return `${request.method} ${request.url}${shown ? ` ${shown}` : ''} -> ${answer.status} ${text}`;
}

/**
 * Makes the tenant data fixtures address: a workflow with two versions, a finished run, a credential
 * (when the route exists), a member and an API key that fixtures may remove. Needs a harness with a
 * worker (the run must finish).
 */
export async function makeTenantData(h: ApiHarness, tenant: TestTenant): Promise<TenantData> {
  const tenantId = tenant.tenant.id;
  const expectStatus = (what: string, answer: Answer, status: number) => {
    if (answer.status !== status) throw new Error(`${what}: ${answer.status} ${answer.text}`);
    return answer.json as Record<string, unknown>;
  };
  const created = expectStatus(
    'create a workflow',
    await send(h.app, { method: 'POST', url: '/v1/workflows', token: tenant.key, body: { definition: helloDefinition('hello') } }),
    201,
  );
  const workflowId = String(created.id);
  expectStatus(
    'version 2 of the workflow',
    await send(h.app, {
      method: 'PUT',
      url: `/v1/workflows/${workflowId}`,
      token: tenant.key,
      body: { definition: { ...helloDefinition('hello'), description: 'v2' } },
    }),
    200,
  );
  const started = expectStatus(
    'start a run',
    await send(h.app, { method: 'POST', url: `/v1/workflows/${workflowId}/runs`, token: tenant.key, body: { input: { name: 'Ada' } } }),
    202,
  );
  const runId = String(started.id);
  await h.engine.waitForRun(runId, { tenantId });

  let credentialId = newId();
  if (h.app.hasRoute({ method: 'POST', url: '/v1/credentials' })) {
    const credential = expectStatus(
      'create a credential',
      await send(h.app, {
        method: 'POST',
        url: '/v1/credentials',
        token: tenant.key,
        body: { name: 'c', type: 'bearer', data: { token: SECRET } },
      }),
      201,
    );
    credentialId = String(credential.id);
  }
  const member = await h.member(tenant, 'editor');
  const apiKey = await h.t.db.withTenant(tenantId, (tx) =>
    issueApiKey(tx, { tenantId, name: 'revocable', scopes: [Permission.workflowRead], createdBy: null }),
  );
  return {
    tenant,
    tenantId,
    workflowId,
    version: 1,
    runId,
    credentialId,
    memberUserId: member.userId,
    apiKeyId: apiKey.id,
    ids: [tenantId, workflowId, runId, credentialId, member.userId, apiKey.id, tenant.owner.id, tenant.apiKey.id],
  };
}

/** A fixture context for requests naming `data`'s resources. */
export function fixtureContext(h: ApiHarness, data: TenantData): FixtureContext {
  return {
    data,
    unique: uniqueName('u'),
    async refreshToken() {
      if (!h.app.hasRoute({ method: 'POST', url: '/v1/auth/login' })) return 'none';
      const answer = await send(h.app, {
        method: 'POST',
        url: '/v1/auth/login',
        body: { email: data.tenant.owner.email, password: TEST_PASSWORD },
      });
      const session = answer.json as { refreshToken?: unknown } | undefined;
      return typeof session?.refreshToken === 'string' ? session.refreshToken : 'none';
    },
  };
}

/** The valid request of a route against `data`, as `token`. */
export async function fixtureRequest(args: {
  h: ApiHarness;
  route: CatalogueRoute;
  data: TenantData;
  token?: string | undefined;
}): Promise<ApiRequest> {
  const fixture = fixtureOf(args.route);
  const c = fixtureContext(args.h, args.data);
  const body: unknown = fixture.body ? await fixture.body(c) : undefined;
  return {
    method: args.route.method,
    url: fixture.path(args.data),
    token: args.token,
    body,
    headers: fixture.headers?.(c),
    stream: args.route.stream,
  };
}

/** Runs `tasks` with at most `width` at a time; answers in order. */
export async function inBatches<T>(tasks: (() => Promise<T>)[], width = 16): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const index = next++;
      const task = tasks[index];
      if (task) results[index] = await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, lane));
  return results;
}
