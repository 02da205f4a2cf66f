import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApiHarness, TEST_PASSWORD, type TestTenant } from '../support/api-harness';

describe('members and their roles', () => {
  let h: ApiHarness;
  let acme: TestTenant;
  let globex: TestTenant;
  beforeAll(async () => {
    h = await startApiHarness();
    [acme, globex] = await Promise.all([h.tenant('acme'), h.tenant('globex')]);
  });
  afterAll(async () => h?.close());

  const actions = async (tenantId: string, userId: string) => {
    const { rows } = await h.t.db.systemQuery<{ action: string; details: Record<string, unknown> }>(
      'test: read the audit trail',
      'SELECT action, details FROM audit_log WHERE tenant_id = $1 AND target_id = $2 ORDER BY id',
      [tenantId, userId],
    );
    return rows;
  };

  it('lists the members a page at a time, each tenant only its own', async () => {
    const tenant = await h.tenant('pages');
    const added = [await h.member(tenant, 'viewer'), await h.member(tenant, 'editor')];
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/members?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await h.call({ method: 'GET', url, token: tenant.ownerToken });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((m: { email: string }) => m.email));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual([tenant.owner.email, ...added.map((m) => m.email)].sort());
    const first = await h.call({ method: 'GET', url: '/v1/members?limit=1', token: tenant.key });
    expect(first.body.items[0]).toMatchObject({ role: expect.any(String), active: true, totpEnabled: false });
    const bad = await h.call({ method: 'GET', url: '/v1/members?cursor=eyJrIjoieCJ9', token: tenant.key });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('query.cursor');
  });

  it('adds new users with a password or an invite, lets existing users join, and refuses a second membership', async () => {
    const withPassword = await h.call({
      method: 'POST',
      url: '/v1/members',
      token: acme.ownerToken,
      body: { email: 'new.editor@example.com', role: 'editor', password: 'a long enough password' },
    });
    expect(withPassword.status).toBe(201);
    expect(withPassword.body).toMatchObject({ email: 'new.editor@example.com', role: 'editor', active: true });
    expect(withPassword.body.inviteToken).toBeUndefined();
    const session = await h.call({
      method: 'POST',
      url: '/v1/auth/login',
      body: { email: 'new.editor@example.com', password: 'a long enough password' },
    });
    expect(session.status).toBe(200);

    // The owner of globex joins acme as a viewer: same user, no invite, their password unchanged.
    const joined = await h.call({
      method: 'POST',
      url: '/v1/members',
      token: acme.ownerToken,
      body: { email: globex.owner.email, role: 'viewer', password: 'ignored for existing users' },
    });
    expect(joined.status).toBe(201);
    expect(joined.body).toMatchObject({ userId: globex.owner.id, role: 'viewer', active: true });
    expect(joined.body.inviteToken).toBeUndefined();
    const both = await h.call({ method: 'POST', url: '/v1/auth/login', body: { email: globex.owner.email, password: TEST_PASSWORD } });
    const me = await h.call({ method: 'GET', url: '/v1/me', token: both.body.accessToken });
    expect(me.body.tenants.map((t: { slug: string; role: string }) => `${t.slug}:${t.role}`)).toEqual(['acme:viewer', 'globex:owner']);
    const inAcme = await h.call({ method: 'GET', url: '/v1/workflows', token: both.body.accessToken, headers: { 'x-tenant-id': 'acme' } });
    expect(inAcme.status).toBe(200);

    const twice = await h.call({
      method: 'POST',
      url: '/v1/members',
      token: acme.ownerToken,
      body: { email: globex.owner.email.toUpperCase(), role: 'editor' },
    });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('AIQ_ALREADY_MEMBER');
    expect((await actions(acme.tenant.id, globex.owner.id)).filter((r) => r.action !== 'auth.login').map((r) => r.action)).toEqual(['member.add']);
  });

  it('lets only owners make, change or remove owners', async () => {
    const admin = await h.member(acme, 'admin');
    const editor = await h.member(acme, 'editor');
    const makeOwner = await h.call({
      method: 'POST',
      url: '/v1/members',
      token: admin.token,
      body: { email: 'would.be.owner@example.com', role: 'owner' },
    });
    expect(makeOwner.status).toBe(403);
    const promote = await h.call({ method: 'PATCH', url: `/v1/members/${editor.userId}`, token: admin.token, body: { role: 'owner' } });
    expect(promote.status).toBe(403);
    const demoteOwner = await h.call({ method: 'PATCH', url: `/v1/members/${acme.owner.id}`, token: admin.token, body: { role: 'viewer' } });
    expect(demoteOwner.status).toBe(403);
    const removeOwner = await h.call({ method: 'DELETE', url: `/v1/members/${acme.owner.id}`, token: admin.token });
    expect(removeOwner.status).toBe(403);

    // Admins manage everyone else.
    const toViewer = await h.call({ method: 'PATCH', url: `/v1/members/${editor.userId}`, token: admin.token, body: { role: 'viewer' } });
    expect(toViewer.status).toBe(200);
    expect(toViewer.body.role).toBe('viewer');
    // Editors manage nobody.
    expect((await h.call({ method: 'GET', url: '/v1/members', token: editor.token })).status).toBe(403);

    const byOwner = await h.call({ method: 'PATCH', url: `/v1/members/${editor.userId}`, token: acme.ownerToken, body: { role: 'owner' } });
    expect(byOwner.status).toBe(200);
    expect(byOwner.body.role).toBe('owner');
    expect((await actions(acme.tenant.id, editor.userId)).map((r) => [r.action, r.details])).toEqual([
      ['member.role.change', { email: editor.email, from: 'editor', to: 'viewer' }],
      ['member.role.change', { email: editor.email, from: 'viewer', to: 'owner' }],
    ]);
  });

  it('keeps the last owner: it can be neither demoted nor removed', async () => {
    const solo = await h.tenant('solo');
    const demote = await h.call({ method: 'PATCH', url: `/v1/members/${solo.owner.id}`, token: solo.ownerToken, body: { role: 'admin' } });
    expect(demote.status).toBe(409);
    expect(demote.body.code).toBe('AIQ_LAST_OWNER');
    const remove = await h.call({ method: 'DELETE', url: `/v1/members/${solo.owner.id}`, token: solo.ownerToken });
    expect(remove.status).toBe(409);
    expect(remove.body.code).toBe('AIQ_LAST_OWNER');

    // With a second owner, the first may step down; then the second is the last.
    const second = await h.member(solo, 'admin');
    expect(
      (await h.call({ method: 'PATCH', url: `/v1/members/${second.userId}`, token: solo.ownerToken, body: { role: 'owner' } })).status,
    ).toBe(200);
    expect((await h.call({ method: 'PATCH', url: `/v1/members/${solo.owner.id}`, token: solo.ownerToken, body: { role: 'admin' } })).status).toBe(
      200,
    );
    expect((await h.call({ method: 'DELETE', url: `/v1/members/${second.userId}`, token: second.token })).body.code).toBe('AIQ_LAST_OWNER');
  });

  it('removes a member, who loses access at once; members of other tenants are not found', async () => {
    const viewer = await h.member(acme, 'viewer');
    expect((await h.call({ method: 'GET', url: '/v1/workflows', token: viewer.token })).status).toBe(200);
    const removed = await h.call({ method: 'DELETE', url: `/v1/members/${viewer.userId}`, token: acme.key });
    expect(removed.status).toBe(204);
    const after = await h.call({ method: 'GET', url: '/v1/workflows', token: viewer.token });
    expect(after.status).toBe(403);
    expect((await h.call({ method: 'DELETE', url: `/v1/members/${viewer.userId}`, token: acme.key })).status).toBe(404);
    expect((await actions(acme.tenant.id, viewer.userId)).map((r) => r.action)).toEqual(['member.remove']);

    const outsider = await h.member(globex, 'editor');
    for (const call of [
      { method: 'PATCH' as const, body: { role: 'viewer' } },
      { method: 'DELETE' as const, body: undefined },
    ]) {
      const answer = await h.call({ ...call, url: `/v1/members/${outsider.userId}`, token: acme.ownerToken });
      expect(answer.status).toBe(404);
      expect(answer.body.code).toBe('AIQ_MEMBER_NOT_FOUND');
    }
    const listed = await h.call({ method: 'GET', url: '/v1/members?limit=500', token: acme.ownerToken });
    expect(listed.body.items.map((m: { userId: string }) => m.userId)).not.toContain(outsider.userId);
  });

  it('lets an API key make owners only when it holds every permission of an owner', async () => {
    const narrow = await h.call({
      method: 'POST',
      url: '/v1/api-keys',
      token: acme.ownerToken,
      body: { name: 'member admin', scopes: ['member:read', 'member:write'] },
    });
    const denied = await h.call({
      method: 'POST',
      url: '/v1/members',
      token: narrow.body.key,
      body: { email: 'key.made.owner@example.com', role: 'owner' },
    });
    expect(denied.status).toBe(403);
    const allowed = await h.call({
      method: 'POST',
      url: '/v1/members',
      token: acme.key,
      body: { email: 'key.made.owner@example.com', role: 'owner' },
    });
    expect(allowed.status).toBe(201);
    expect(allowed.body.inviteToken).toMatch(/^aiqi_/);
  });
});
