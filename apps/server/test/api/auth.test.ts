import { Secret } from 'otpauth';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { totpCode } from '../../src/security/totp';
import { type ApiHarness, startApiHarness, TEST_PASSWORD, type TestTenant } from '../support/api-harness';

/** Actions of the tenant's audit trail about `userId`, oldest first. */
async function tenantAudit(h: ApiHarness, tenantId: string, userId: string): Promise<{ action: string; details: Record<string, unknown> }[]> {
  const { rows } = await h.t.db.systemQuery<{ action: string; details: Record<string, unknown> }>(
    'test: read the audit trail',
    'SELECT action, details FROM audit_log WHERE tenant_id = $1 AND target_id = $2 ORDER BY id',
    [tenantId, userId],
  );
  return rows;
}

async function platformAudit(h: ApiHarness, action: string): Promise<{ targetId: string | null; details: Record<string, unknown> }[]> {
  const { rows } = await h.t.db.systemQuery<{ targetId: string | null; details: Record<string, unknown> }>(
    'test: read the platform audit log',
    'SELECT target_id AS "targetId", details FROM platform_audit_log WHERE action = $1 ORDER BY id',
    [action],
  );
  return rows;
}

describe('sessions, lockout, TOTP and invites', () => {
  let h: ApiHarness;
  let acme: TestTenant;
  beforeAll(async () => {
    h = await startApiHarness();
    acme = await h.tenant('acme');
  });
  afterAll(async () => h?.close());
  afterEach(() => {
    vi.useRealTimers();
  });

  const login = (body: Record<string, unknown>) => h.call({ method: 'POST', url: '/v1/auth/login', body });
  const refresh = (refreshToken: string) => h.call({ method: 'POST', url: '/v1/auth/refresh', body: { refreshToken } });

  it('logs in, rotates the refresh token, and revokes the whole family when a used token comes back', async () => {
    const member = await h.member(acme, 'editor');
    const session = await login({ email: member.email, password: TEST_PASSWORD });
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ expiresIn: 900, user: { id: member.userId, email: member.email, totpEnabled: false } });
    expect(session.body.refreshToken).toMatch(/^aiqr_/);
    const me = await h.call({ method: 'GET', url: '/v1/me', token: session.body.accessToken });
    expect(me.body).toMatchObject({ kind: 'user', user: { id: member.userId }, tenants: [{ slug: 'acme', role: 'editor' }] });

    const second = await refresh(session.body.refreshToken);
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(session.body.refreshToken);
    const third = await refresh(second.body.refreshToken);
    expect(third.status).toBe(200);

    // The first token again: somebody else holds the family. All of it dies, the newest token too.
    const reused = await refresh(session.body.refreshToken);
    expect(reused.status).toBe(401);
    expect(reused.body.code).toBe('AIQ_TOKEN_INVALID');
    expect((await refresh(third.body.refreshToken)).status).toBe(401);
    expect((await refresh('aiqr_nonsense')).status).toBe(401);

    expect((await platformAudit(h, 'auth.refresh.reuse')).map((r) => r.targetId)).toContain(member.userId);
    expect((await tenantAudit(h, acme.tenant.id, member.userId)).map((r) => r.action)).toContain('auth.refresh.reuse');
    expect((await platformAudit(h, 'auth.login')).map((r) => r.targetId)).toContain(member.userId);

    // Another login is another family, untouched by the revocation.
    const again = await login({ email: member.email.toUpperCase(), password: TEST_PASSWORD });
    expect(again.status).toBe(200);
    expect((await refresh(again.body.refreshToken)).status).toBe(200);
  });

  it('logs out: the family can no longer refresh, and its access tokens stop working', async () => {
    const member = await h.member(acme, 'viewer');
    const session = await login({ email: member.email, password: TEST_PASSWORD });
    const next = await refresh(session.body.refreshToken);
    expect((await h.call({ method: 'GET', url: '/v1/workflows', token: next.body.accessToken })).status).toBe(200);
    const out = await h.call({ method: 'POST', url: '/v1/auth/logout', body: { refreshToken: next.body.refreshToken } });
    expect(out.status).toBe(204);
    const after = await refresh(next.body.refreshToken);
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('AIQ_TOKEN_INVALID');
    expect((await h.call({ method: 'GET', url: '/v1/workflows', token: next.body.accessToken })).status).toBe(401);
    expect((await h.call({ method: 'GET', url: '/v1/workflows', token: session.body.accessToken })).status).toBe(401);
    expect((await h.call({ method: 'POST', url: '/v1/auth/logout', body: { refreshToken: 'aiqr_unknown' } })).status).toBe(401);
  });

  it('answers a wrong password and an unknown e-mail alike, and tells the tenant about the failure', async () => {
    const member = await h.member(acme, 'viewer');
    const wrong = await login({ email: member.email, password: 'not the password' });
    const unknown = await login({ email: 'nobody@example.com', password: 'not the password' });
    for (const answer of [wrong, unknown]) {
      expect(answer.status).toBe(401);
      expect(answer.body.code).toBe('AIQ_INVALID_LOGIN');
      expect(answer.body.detail).toBe('the e-mail or the password is wrong');
    }
    expect(await tenantAudit(h, acme.tenant.id, member.userId)).toEqual([
      { action: 'auth.login.failed', details: { reason: 'password', failedLogins: 1 } },
    ]);
    expect((await platformAudit(h, 'auth.login.failed')).map((r) => r.details)).toContainEqual({
      reason: 'unknown-email',
      email: 'nobody@example.com',
    });
  });

  it('locks an account after 5 failures, even for the right password, and doubles the lock with each further failure', async () => {
    const member = await h.member(acme, 'viewer');
    for (let i = 0; i < 5; i++) expect((await login({ email: member.email, password: `wrong ${i}` })).status).toBe(401);

    const locked = await login({ email: member.email, password: TEST_PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('AIQ_LOGIN_LOCKED');
    const retryAfter = Number(locked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const actions = (await tenantAudit(h, acme.tenant.id, member.userId)).map((r) => r.action);
    expect(actions.filter((a) => a === 'auth.login.failed')).toHaveLength(5);
    expect(actions).toContain('auth.locked');

    // The minute passes; one more failure locks for two.
    const expire = () =>
      h.t.db.systemQuery('test: let the lock expire', "UPDATE users SET locked_until = now() - interval '1 second' WHERE id = $1", [
        member.userId,
      ]);
    await expire();
    expect((await login({ email: member.email, password: 'wrong again' })).status).toBe(401);
    const longer = await login({ email: member.email, password: TEST_PASSWORD });
    expect(longer.status).toBe(429);
    expect(Number(longer.headers['retry-after'])).toBeGreaterThan(110);
    expect(Number(longer.headers['retry-after'])).toBeLessThanOrEqual(120);

    // After the lock, the right password gets in and clears the count.
    await expire();
    expect((await login({ email: member.email, password: TEST_PASSWORD })).status).toBe(200);
    const { rows } = await h.t.db.systemQuery<{ failed: number; until: Date | null }>(
      'test: read the lock',
      'SELECT failed_logins AS failed, locked_until AS until FROM users WHERE id = $1',
      [member.userId],
    );
    expect(rows[0]).toEqual({ failed: 0, until: null });
  });

  it('counts parallel guesses before verifying them: no more than 5 get through to the password check', async () => {
    const member = await h.member(acme, 'viewer');
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => login({ email: member.email, password: `parallel guess ${i}` })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });

  it('enrols TOTP, then needs the code at login, refuses wrong and replayed codes, and turns it off with a code', async () => {
    const member = await h.member(acme, 'operator');
    const token = member.token;
    // Time stands at the start of a 30-second step, so that which codes are fresh is certain.
    const t0 = Math.ceil(Date.now() / 30_000) * 30_000 + 1_000;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(t0);
    const enrol = await h.call({ method: 'POST', url: '/v1/me/totp', token });
    expect(enrol.status).toBe(200);
    expect(enrol.body.uri).toMatch(/^otpauth:\/\/totp\/AutomateIQ:.+secret=/);
    const secret = Buffer.from(Secret.fromBase32(enrol.body.secret).bytes);

    const wrongConfirm = await h.call({ method: 'POST', url: '/v1/me/totp/confirm', token, body: { code: wrongCode(secret) } });
    expect(wrongConfirm.status).toBe(401);
    expect(wrongConfirm.body.code).toBe('AIQ_MFA_INVALID');
    const confirmed = await h.call({ method: 'POST', url: '/v1/me/totp/confirm', token, body: { code: totpCode({ secret }) } });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.totpEnabled).toBe(true);
    expect((await h.call({ method: 'POST', url: '/v1/me/totp', token })).body.code).toBe('AIQ_MFA_ALREADY_ENABLED');

    const noCode = await login({ email: member.email, password: TEST_PASSWORD });
    expect(noCode.status).toBe(401);
    expect(noCode.body.code).toBe('AIQ_MFA_REQUIRED');
    const wrong = await login({ email: member.email, password: TEST_PASSWORD, totp: wrongCode(secret) });
    expect(wrong.body.code).toBe('AIQ_MFA_INVALID');
    // The code of the step that confirmed enrolment is used up; the next step's is fresh.
    const replayOfConfirm = await login({ email: member.email, password: TEST_PASSWORD, totp: totpCode({ secret }) });
    expect(replayOfConfirm.body.code).toBe('AIQ_MFA_INVALID');
    const nextCode = totpCode({ secret, now: t0 + 30_000 });
    const ok = await login({ email: member.email, password: TEST_PASSWORD, totp: nextCode });
    expect(ok.status).toBe(200);
    expect(ok.body.user.totpEnabled).toBe(true);
    const replay = await login({ email: member.email, password: TEST_PASSWORD, totp: nextCode });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('AIQ_MFA_INVALID');

    // A minute later a fresh code turns TOTP off.
    vi.setSystemTime(t0 + 60_000);
    const session = ok.body.accessToken as string;
    const off = await h.call({ method: 'DELETE', url: '/v1/me/totp', token: session, body: { code: totpCode({ secret }) } });
    expect(off.status).toBe(200);
    expect(off.body.totpEnabled).toBe(false);
    vi.useRealTimers();
    expect((await login({ email: member.email, password: TEST_PASSWORD })).status).toBe(200);

    const all = (await tenantAudit(h, acme.tenant.id, member.userId)).map((r) => r.action);
    expect(all.filter((a) => a === 'auth.login')).toHaveLength(2); // the logins with the code and without TOTP
    const actions = all.filter((a) => a !== 'auth.login');
    expect(actions).toEqual([
      'mfa.enrol',
      'auth.login.failed', // the wrong code at confirmation
      'mfa.enable',
      'auth.login.failed', // wrong code
      'auth.login.failed', // the confirmation's code again
      'auth.login.failed', // the login's code again
      'mfa.disable',
    ]);
  });

  it("enforces a tenant's MFA requirement: unenrolled members may only enrol", async () => {
    const tenant = await h.tenant('strict');
    const member = await h.member(tenant, 'editor');
    const required = await h.call({
      method: 'PATCH',
      url: `/v1/tenants/${tenant.tenant.id}`,
      token: tenant.ownerToken,
      body: { requireMfa: true },
    });
    expect(required.status).toBe(200);
    expect(required.body.requireMfa).toBe(true);

    const blocked = await h.call({ method: 'GET', url: '/v1/workflows', token: member.token });
    expect(blocked.status).toBe(403);
    expect(blocked.body.code).toBe('AIQ_MFA_ENROLMENT_REQUIRED');

    const enrol = await h.call({ method: 'POST', url: '/v1/me/totp', token: member.token });
    const secret = Buffer.from(Secret.fromBase32(enrol.body.secret).bytes);
    const confirm = await h.call({ method: 'POST', url: '/v1/me/totp/confirm', token: member.token, body: { code: totpCode({ secret }) } });
    expect(confirm.status).toBe(200);
    const allowed = await h.call({ method: 'GET', url: '/v1/workflows', token: member.token });
    expect(allowed.status).toBe(200);
    // The tenant's API keys are not people: the requirement does not apply to them.
    expect((await h.call({ method: 'GET', url: '/v1/workflows', token: tenant.key })).status).toBe(200);
  });

  it('accepts an invite once: it sets the password and opens a session', async () => {
    const invited = await h.call({
      method: 'POST',
      url: '/v1/members',
      token: acme.ownerToken,
      body: { email: 'invitee@example.com', role: 'editor' },
    });
    expect(invited.status).toBe(201);
    expect(invited.body).toMatchObject({ role: 'editor', active: false });
    const inviteToken = invited.body.inviteToken as string;
    expect(inviteToken).toMatch(/^aiqi_/);

    expect((await login({ email: 'invitee@example.com', password: 'whatever it is' })).body.code).toBe('AIQ_INVALID_LOGIN');
    const short = await h.call({ method: 'POST', url: '/v1/auth/accept-invite', body: { token: inviteToken, password: 'short' } });
    expect(short.status).toBe(400);
    expect(short.body.errors[0].path).toBe('body.password');

    const accepted = await h.call({
      method: 'POST',
      url: '/v1/auth/accept-invite',
      body: { token: inviteToken, password: 'a brand new passphrase' },
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body.user.email).toBe('invitee@example.com');
    const listed = await h.call({ method: 'GET', url: '/v1/workflows', token: accepted.body.accessToken });
    expect(listed.status).toBe(200);

    const again = await h.call({
      method: 'POST',
      url: '/v1/auth/accept-invite',
      body: { token: inviteToken, password: 'another new passphrase' },
    });
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('AIQ_TOKEN_INVALID');
    expect((await login({ email: 'invitee@example.com', password: 'a brand new passphrase' })).status).toBe(200);
    const actions = (await tenantAudit(h, acme.tenant.id, invited.body.userId)).map((r) => r.action);
    expect(actions).toEqual(['member.add', 'auth.login.failed', 'auth.invite.accept', 'auth.login']);
  });

  it('describes the identity routes in the OpenAPI document', async () => {
    const doc = await h.call({ method: 'GET', url: '/openapi.json' });
    expect(doc.status).toBe(200);
    for (const path of ['/v1/auth/login', '/v1/auth/refresh', '/v1/me/totp', '/v1/members/{userId}', '/v1/api-keys'])
      expect(Object.keys(doc.body.paths)).toContain(path);
    expect(JSON.stringify(doc.body.paths['/v1/api-keys'].post.requestBody)).toContain('workflow:read');
  });

  it('refuses TOTP enrolment to API keys', async () => {
    const answer = await h.call({ method: 'POST', url: '/v1/me/totp', token: acme.key });
    expect(answer.status).toBe(403);
  });
});

/** A 6-digit code that is not valid now (nor one step either side). */
function wrongCode(secret: Buffer): string {
  const valid = new Set([-30_000, 0, 30_000].map((offset) => totpCode({ secret, now: Date.now() + offset })));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0');
    if (!valid.has(code)) return code;
  }
}
