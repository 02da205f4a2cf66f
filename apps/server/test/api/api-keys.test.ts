import { PERMISSIONS, ROLE_PERMISSIONS } from '@automateiq/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApiHarness, type TestTenant } from '../support/api-harness';

const definition = { name: 'Keyed', nodes: [{ id: 'a', type: 'transform', params: { value: { ok: true } } }], edges: [] };

describe('API keys', () => {
  let h: ApiHarness;
  let acme: TestTenant;
  let globex: TestTenant;
  beforeAll(async () => {
    h = await startApiHarness();
    [acme, globex] = await Promise.all([h.tenant('acme'), h.tenant('globex')]);
  });
  afterAll(async () => h?.close());

  const create = (token: string, body: Record<string, unknown>) => h.call({ method: 'POST', url: '/v1/api-keys', token, body });

  it("creates a key shown once, with the creator's permissions by default, and lists it without the key", async () => {
    const created = await create(acme.ownerToken, { name: 'ci' });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^aiq_/);
    expect(created.body.prefix).toBe(created.body.key.slice(0, 10));
    expect(created.body.scopes).toEqual(PERMISSIONS);

    const admin = await h.member(acme, 'admin');
    const byAdmin = await create(admin.token, { name: 'admin key' });
    expect(byAdmin.body.scopes).toEqual(PERMISSIONS.filter((p) => ROLE_PERMISSIONS.admin.has(p)));
    expect(byAdmin.body.scopes).not.toContain('tenant:write');

    const listed = await h.call({ method: 'GET', url: '/v1/api-keys?limit=500', token: acme.ownerToken });
    expect(listed.status).toBe(200);
    const item = listed.body.items.find((k: { id: string }) => k.id === created.body.id);
    expect(item).toMatchObject({ name: 'ci', revokedAt: null, expiresAt: null });
    expect(item.key).toBeUndefined();
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);
    const { rows } = await h.t.db.systemQuery<{ action: string; details: Record<string, unknown> }>(
      'test: audit',
      'SELECT action, details FROM audit_log WHERE tenant_id = $1 AND target_id = $2',
      [acme.tenant.id, created.body.id],
    );
    expect(rows).toEqual([{ action: 'api-key.create', details: { name: 'ci', scopes: PERMISSIONS, expiresAt: null } }]);
  });

  it('refuses unknown scopes, scopes beyond the creator, and a past expiry', async () => {
    const unknown = await create(acme.ownerToken, { name: 'x', scopes: ['workflow:read', 'workflow:explode'] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors.map((e: { path: string }) => e.path)).toEqual(['body.scopes[1]']);

    const editor = await h.member(acme, 'editor');
    const editorKey = await create(editor.token, { name: 'x' });
    expect(editorKey.status).toBe(403); // editors hold no api-key:write

    const admin = await h.member(acme, 'admin');
    const beyond = await create(admin.token, { name: 'x', scopes: ['workflow:read', 'tenant:write'] });
    expect(beyond.status).toBe(403);
    expect(beyond.body.scopes).toEqual(['tenant:write']);
    expect(beyond.body.errors[0].path).toBe('body.scopes[1]');

    const past = await create(acme.ownerToken, { name: 'x', expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect(past.status).toBe(400);
    expect(past.body.errors[0].path).toBe('body.expiresAt');
  });

  it('confines a narrow key to its scopes, also when it makes keys', async () => {
    const narrow = await create(acme.key, { name: 'key-api', scopes: ['workflow:read', 'api-key:write'] });
    expect(narrow.status).toBe(201);
    const key = narrow.body.key as string;
    expect((await h.call({ method: 'GET', url: '/v1/workflows', token: key })).status).toBe(200);
    const write = await h.call({ method: 'POST', url: '/v1/workflows', token: key, body: { definition } });
    expect(write.status).toBe(403);
    expect(write.body.permission).toBe('workflow:write');
    expect((await h.call({ method: 'GET', url: '/v1/api-keys', token: key })).status).toBe(403); // no api-key:read

    expect((await create(key, { name: 'wider', scopes: ['run:start'] })).status).toBe(403);
    const sub = await create(key, { name: 'sub' });
    expect(sub.status).toBe(201);
    expect(sub.body.scopes).toEqual(['workflow:read', 'api-key:write']);
  });

  it('revokes a key at once; unknown and foreign keys are not found', async () => {
    const created = await create(acme.ownerToken, { name: 'doomed', scopes: ['workflow:read'] });
    const key = created.body.key as string;
    expect((await h.call({ method: 'GET', url: '/v1/workflows', token: key })).status).toBe(200);
    const revoked = await h.call({ method: 'DELETE', url: `/v1/api-keys/${created.body.id}`, token: acme.ownerToken });
    expect(revoked.status).toBe(204);
    const refused = await h.call({ method: 'GET', url: '/v1/workflows', token: key });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('AIQ_UNAUTHENTICATED');
    const listed = await h.call({ method: 'GET', url: '/v1/api-keys?limit=500', token: acme.ownerToken });
    expect(listed.body.items.find((k: { id: string }) => k.id === created.body.id).revokedAt).not.toBeNull();

    const foreign = await h.call({ method: 'DELETE', url: `/v1/api-keys/${created.body.id}`, token: globex.ownerToken });
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe('AIQ_API_KEY_NOT_FOUND');
    const unknown = await h.call({ method: 'DELETE', url: '/v1/api-keys/01900000-0000-7000-8000-000000000000', token: acme.ownerToken });
    expect(unknown.status).toBe(404);
    const { rows } = await h.t.db.systemQuery<{ action: string }>(
      'test: audit',
      'SELECT action FROM audit_log WHERE tenant_id = $1 AND target_id = $2 ORDER BY id',
      [acme.tenant.id, created.body.id],
    );
    expect(rows.map((r) => r.action)).toEqual(['api-key.create', 'api-key.revoke']);
  });

  it('stops honouring a key when it expires', async () => {
    const created = await create(acme.ownerToken, {
      name: 'short-lived',
      scopes: ['workflow:read'],
      expiresAt: new Date(Date.now() + 1_000).toISOString(),
    });
    expect(created.status).toBe(201);
    expect((await h.call({ method: 'GET', url: '/v1/workflows', token: created.body.key })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await h.call({ method: 'GET', url: '/v1/workflows', token: created.body.key })).status).toBe(401);
  });

  it('pages through the keys', async () => {
    const tenant = await h.tenant('keyring');
    for (const name of ['a', 'b', 'c']) await create(tenant.key, { name, scopes: ['workflow:read'] });
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await h.call({ method: 'GET', url: `/v1/api-keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`, token: tenant.key });
      names.push(...page.body.items.map((k: { name: string }) => k.name));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(names).toEqual(['onboarding key', 'a', 'b', 'c']);
  });
});
