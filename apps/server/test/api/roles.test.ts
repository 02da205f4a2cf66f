/**
 * Who may call what (docs/permissions.md), route by route, from the contracts' access rules:
 * - tenant routes: a member's role allows the route exactly when ROLE_PERMISSIONS grants its
 *   permission (otherwise 403 AIQ_FORBIDDEN naming the permission); an API key exactly when its one
 *   scope is that permission; a platform admin only on routes marked `platformAdmin`;
 * - platform routes: platform admins only;
 * - session routes: any authenticated caller; public routes: anybody;
 * - no credentials, or bogus ones, on any non-public route: 401 problem+json.
 * "Allowed" means the access hook let the request through: the handler may still answer 404 or 409.
 */
import {
  type Access,
  PERMISSIONS,
  type Permission,
  ROLE_PERMISSIONS,
  ROLES,
  type Role,
} from '@automateiq/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueApiKey } from '../../src/security/issue-api-key';
import { type ApiHarness, startApiHarness } from '../support/api-harness';
import {
  type Answer,
  type CatalogueProblems,
  type CatalogueRoute,
  catalogueProblems,
  codeOf,
  contractRoutes,
  describeExchange,
  expectCompleteCatalogue,
  fixtureRequest,
  inBatches,
  inCallOrder,
  isRegistered,
  makeTenantData,
  problemFault,
  reportCatalogue,
  type ApiRequest,
  SECRET,
  send,
  type TenantData,
} from './route-catalogue';

/** A caller and what the route's access rule says it may do. */
interface Caller {
  name: string;
  token: string | undefined;
  kind: 'role' | 'apiKey' | 'platformAdmin' | 'anonymous' | 'bogus';
  role?: Role;
  scope?: Permission;
}

type Verdict = 'allowed' | 'forbidden' | 'unauthenticated' | 'refused';

/** What the access rule must decide for a caller. */
function expectedVerdict(access: Access, caller: Caller): Verdict {
  if (caller.kind === 'anonymous' || caller.kind === 'bogus') return access.kind === 'public' ? 'allowed' : 'unauthenticated';
  switch (access.kind) {
    case 'public':
    case 'session':
      return 'allowed';
    case 'platform':
      return caller.kind === 'platformAdmin' ? 'allowed' : 'forbidden';
    case 'tenant':
      if (caller.kind === 'platformAdmin') return access.platformAdmin ? 'allowed' : 'refused';
      if (caller.kind === 'apiKey') return caller.scope === access.permission ? 'allowed' : 'forbidden';
      return caller.role !== undefined && ROLE_PERMISSIONS[caller.role].has(access.permission) ? 'allowed' : 'forbidden';
  }
}

/** Why an answer does not match the verdict, or undefined. */
function verdictFault(route: CatalogueRoute, caller: Caller, verdict: Verdict, answer: Answer): string | undefined {
  if (answer.status >= 500) return 'a server error';
  const code = codeOf(answer);
  switch (verdict) {
    case 'unauthenticated':
      if (answer.status !== 401) return 'expected 401';
      if (caller.kind === 'anonymous' && code !== 'AIQ_UNAUTHENTICATED') return 'expected AIQ_UNAUTHENTICATED';
      if (caller.kind === 'anonymous' && answer.headers['www-authenticate'] !== 'Bearer') return 'expected WWW-Authenticate: Bearer';
      return problemFault(answer);
    case 'forbidden': {
      if (answer.status !== 403 || code !== 'AIQ_FORBIDDEN') return 'expected 403 AIQ_FORBIDDEN';
      const permission = (answer.json as { permission?: unknown }).permission;
      if (route.access.kind === 'tenant' && permission !== route.access.permission)
        return `the problem names the permission ${String(permission)}, not ${route.access.permission}`;
      return problemFault(answer);
    }
    case 'refused':
      // A platform admin is a member of no tenant: refused as such (403), or 404 when a tenant is named.
      if (answer.status !== 403 && answer.status !== 404) return 'expected 403 or 404';
      return problemFault(answer);
    case 'allowed':
      if (route.access.kind === 'tenant' || route.access.kind === 'platform')
        return answer.status === 401 || answer.status === 403 ? 'expected the access hook to let it through' : undefined;
      // Session and public routes refuse for their own reasons (a wrong TOTP code, an invite token, an
      // API key that has no second factor), never for want of authentication or a role.
      if (code === 'AIQ_UNAUTHENTICATED') return 'expected an authenticated caller to get through';
      if (caller.kind !== 'apiKey' && code === 'AIQ_FORBIDDEN') return 'expected a user to get through';
      return undefined;
  }
}

describe('roles, scopes and access rules', () => {
  let h: ApiHarness;
  let data: TenantData;
  let problems: CatalogueProblems;
  const callers: Caller[] = [];
  const exchanges: { request: ApiRequest; answer: Answer }[] = [];

  beforeAll(async () => {
    h = await startApiHarness({ workers: 1, env: { AIQ_IP_RATE_LIMIT: '1000000' } });
    const tenant = await h.tenant('roles');
    data = await makeTenantData(h, tenant);
    const members = await Promise.all(ROLES.map((role) => h.member(tenant, role)));
    ROLES.forEach((role, i) => callers.push({ name: `a ${role}`, token: members[i]?.token, kind: 'role', role }));
    for (const scope of PERMISSIONS) {
      const key = await h.t.db.withTenant(tenant.tenant.id, (tx) =>
        issueApiKey(tx, { tenantId: tenant.tenant.id, name: `only ${scope}`, scopes: [scope], createdBy: null }),
      );
      callers.push({ name: `an API key with ${scope}`, token: key.key, kind: 'apiKey', scope });
    }
    callers.push(
      { name: 'a platform admin', token: h.adminToken, kind: 'platformAdmin' },
      { name: 'nobody', token: undefined, kind: 'anonymous' },
      { name: 'a made-up API key', token: `aiq_${'x'.repeat(40)}`, kind: 'bogus' },
      { name: 'a forged access token', token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl', kind: 'bogus' },
    );
    problems = catalogueProblems(h.app);
    reportCatalogue('roles', problems);
  });
  afterAll(async () => h?.close());

  it('has a fixture for every route, and a contract for every registered /v1 route', () => {
    expectCompleteCatalogue(problems);
  });

  for (const route of inCallOrder(contractRoutes())) {
    const rule =
      route.access.kind === 'tenant'
        ? `tenant, ${route.access.permission}${route.access.platformAdmin ? ', platform admins too' : ''}`
        : route.access.kind;
    it(`${route.key} (${rule})`, async (ctx) => {
      if (!isRegistered(h.app, route)) {
        console.warn(`[roles] SKIPPED ${route.key}: not registered yet`);
        ctx.skip();
      }
      // A public route reads no credentials: the anonymous and bogus callers say all there is.
      const calling = route.access.kind === 'public' ? callers.filter((c) => c.kind === 'anonymous' || c.kind === 'bogus') : callers;
      const faults = await inBatches(
        calling.map((caller) => async () => {
          const request = await fixtureRequest({ h, route, data, token: caller.token });
          const answer = await send(h.app, request);
          exchanges.push({ request, answer });
          const verdict = expectedVerdict(route.access, caller);
          const fault = verdictFault(route, caller, verdict, answer);
          return fault && `${caller.name} (${verdict}): ${fault}\n    ${describeExchange(request, answer)}`;
        }),
      );
      expect(faults.filter((fault) => fault !== undefined)).toEqual([]);
    });
  }

  it('every permission is needed by some route, and every role is denied something but the owner', () => {
    const needed = new Set(contractRoutes().flatMap((r) => (r.access.kind === 'tenant' ? [r.access.permission] : [])));
    expect(PERMISSIONS.filter((p) => !needed.has(p))).toEqual([]);
    for (const role of ROLES) expect(ROLE_PERMISSIONS[role].size === PERMISSIONS.length, role).toBe(role === 'owner');
  });

  it('a tenant that requires a second factor refuses members without one on tenant routes, not on session routes nor keys', async () => {
    const strict = await h.tenant('roles-mfa');
    const viewer = await h.member(strict, 'viewer');
    const set = await send(h.app, { method: 'PATCH', url: `/v1/tenants/${strict.tenant.id}`, token: strict.ownerToken, body: { requireMfa: true } });
    expect(set.status, set.text).toBe(200);
    for (const token of [viewer.token, strict.ownerToken]) {
      const refused = await send(h.app, { method: 'GET', url: '/v1/workflows', token });
      expect(refused.status, refused.text).toBe(403);
      expect(codeOf(refused)).toBe('AIQ_MFA_ENROLMENT_REQUIRED');
      expect(problemFault(refused)).toBeUndefined();
      expect((await send(h.app, { method: 'GET', url: '/v1/me', token })).status).toBe(200);
    }
    expect((await send(h.app, { method: 'GET', url: '/v1/workflows', token: strict.key })).status).toBe(200);
  });

  it("never answers with a credential's secret", () => {
    const leaks = exchanges.filter(({ answer }) => answer.text.includes(SECRET)).map((e) => describeExchange(e.request, e.answer));
    expect(leaks).toEqual([]);
  });
});
