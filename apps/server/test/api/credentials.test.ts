import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/security/principal';
import { type ApiHarness, startApiHarness, type TestTenant } from '../support/api-harness';

const PASSWORD = 'pw-4c1d-secret';
const CLIENT_SECRET = 'cs-9f8e-secret';

/** An OAuth2 token endpoint that wants client `app` with CLIENT_SECRET by HTTP Basic. */
function tokenEndpoint(): Promise<{ server: Server; url: string }> {
  const server = createServer((req: IncomingMessage, res) => {
    const expected = `Basic ${Buffer.from(`app:${CLIENT_SECRET}`).toString('base64')}`;
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.headers.authorization !== expected || !body.includes('grant_type=client_credentials')) {
        // A careless server that echoes what it got.
        res.writeHead(401);
        res.end(JSON.stringify({ error: 'invalid_client', error_description: `bad ${req.headers.authorization}` }));
        return;
      }
      res.end(JSON.stringify({ access_token: 'at-123', token_type: 'Bearer', expires_in: 3600 }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token` })),
  );
}

/** A minimal SMTP server: greeting, EHLO with two extensions, QUIT. */
function smtpServer(): Promise<{ server: TcpServer; port: number }> {
  const server = createTcpServer((socket) => {
    socket.write('220 mail.test ESMTP ready\r\n');
    socket.on('data', (chunk: Buffer) => {
      const line = chunk.toString();
      if (line.startsWith('EHLO')) socket.write('250-mail.test hello\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n');
      else if (line.startsWith('QUIT')) socket.end('221 bye\r\n');
    });
    socket.on('error', () => socket.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port })));
}

describe('credentials over the API', () => {
  let h: ApiHarness;
  let acme: TestTenant;
  let globex: TestTenant;
  let token: { server: Server; url: string };
  let smtp: { server: TcpServer; port: number };
  beforeAll(async () => {
    h = await startApiHarness({ env: { AIQ_EGRESS_ALLOW: '127.0.0.1' } });
    acme = await h.tenant('acme');
    globex = await h.tenant('globex');
    token = await tokenEndpoint();
    smtp = await smtpServer();
  });
  afterAll(async () => {
    token?.server.close();
    smtp?.server.close();
    await h?.close();
  });

  const create = (body: unknown, tenant: TestTenant = acme) =>
    h.call({ method: 'POST', url: '/v1/credentials', token: tenant.key, body });

  it('stores a credential with its secret fields sealed and never answers them', async () => {
    const created = await create({ name: 'shop', type: 'basic', data: { username: 'ann', password: PASSWORD } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'shop', type: 'basic', data: { username: 'ann' }, secretFields: ['password'] });
    const id = created.body.id as string;

    const got = await h.call({ method: 'GET', url: `/v1/credentials/${id}`, token: acme.key });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);
    expect(JSON.stringify(got.body)).not.toContain(PASSWORD);

    const [row] = await h.t.db.withTenant(acme.tenant.id, async (tx) =>
      (await tx.query<{ public_data: unknown; sealed_data: Buffer }>('SELECT public_data, sealed_data FROM credentials WHERE id = $1', [id])).rows,
    );
    expect(row?.public_data).toEqual({ username: 'ann' });
    expect(row?.sealed_data.includes(Buffer.from(PASSWORD))).toBe(false);
    const read = await h.deps.vault.read({ tenantId: acme.tenant.id, name: 'shop', actor: SYSTEM_ACTOR });
    expect(read?.value).toEqual({ type: 'basic', username: 'ann', password: PASSWORD });

    // Another tenant sees nothing of it.
    expect((await h.call({ method: 'GET', url: `/v1/credentials/${id}`, token: globex.key })).status).toBe(404);
    expect((await h.call({ method: 'GET', url: '/v1/credentials', token: globex.key })).body.items).toEqual([]);
  });

  it('lists credentials in cursor pages, newest first', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) {
      expect((await create({ name, type: 'bearer', data: { token: `t-${name}` } }, globex)).status).toBe(201);
    }
    const first = await h.call({ method: 'GET', url: '/v1/credentials?limit=2', token: globex.key });
    expect(first.body.items.map((c: { name: string }) => c.name)).toEqual(['page-c', 'page-b']);
    expect(first.body.items[0]).toMatchObject({ data: {}, secretFields: ['token'] });
    const second = await h.call({ method: 'GET', url: `/v1/credentials?limit=2&cursor=${first.body.nextCursor}`, token: globex.key });
    expect(second.body).toMatchObject({ items: [{ name: 'page-a' }], nextCursor: null });
    expect(JSON.stringify([first.body, second.body])).not.toContain('t-page');
  });

  it('checks data against the type: missing, unknown and malformed fields are 400s naming body.data.<field>', async () => {
    const missing = await create({ name: 'm', type: 'basic', data: { username: 'ann' } });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ code: 'AIQ_VALIDATION', errors: [{ path: 'body.data.password', message: 'is required' }] });

    const unknown = await create({ name: 'u', type: 'bearer', data: { token: 'x-secret-value', tokn: 'x' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors.map((e: { path: string }) => e.path)).toEqual(['body.data.tokn']);
    expect(JSON.stringify(unknown.body)).not.toContain('x-secret-value');

    const port = await create({ name: 'p', type: 'smtp', data: { host: 'mail.example.com', port: 'twenty-five' } });
    expect(port.status).toBe(400);
    expect(port.body.errors).toEqual([{ path: 'body.data.port', message: 'must be a port number from 1 to 65535' }]);

    const both = await create({ name: 'b', type: 'apiKey', data: { key: 'k', header: 'X-Key', query: 'key' } });
    expect(both.body.errors).toEqual([{ path: 'body.data.query', message: 'set header or query, not both' }]);

    const badType = await create({ name: 't', type: 'kerberos', data: {} });
    expect(badType.status).toBe(400);
    expect(badType.body.errors[0].path).toBe('body.type');
  });

  it('answers a name the tenant uses already with 409 AIQ_NAME_TAKEN', async () => {
    expect((await create({ name: 'dup', type: 'secret', data: { value: 'v1-secret' } })).status).toBe(201);
    const again = await create({ name: 'dup', type: 'secret', data: { value: 'v2-secret' } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'AIQ_NAME_TAKEN', errors: [{ path: 'body.name' }] });
    // Names are per tenant.
    expect((await create({ name: 'dup', type: 'secret', data: { value: 'v3-secret' } }, globex)).status).toBe(201);
  });

  it('keeps a secret field a PUT leaves out, replaces one it gives, and clears an optional one set to null', async () => {
    const created = await create({
      name: 'mail',
      type: 'smtp',
      data: { host: 'mail.example.com', port: 587, username: 'bot', password: 'smtp-pw-1' },
    });
    const id = created.body.id as string;
    const put = (body: unknown) => h.call({ method: 'PUT', url: `/v1/credentials/${id}`, token: acme.key, body });
    const read = async () => (await h.deps.vault.read({ tenantId: acme.tenant.id, name: 'mail', actor: SYSTEM_ACTOR }))?.value;

    const kept = await put({ name: 'mail', type: 'smtp', data: { host: 'smtp.example.com', username: 'bot' } });
    expect(kept.status).toBe(200);
    expect(kept.body).toMatchObject({ data: { host: 'smtp.example.com', username: 'bot' }, secretFields: ['password'] });
    expect(await read()).toEqual({ type: 'smtp', host: 'smtp.example.com', username: 'bot', password: 'smtp-pw-1' });

    await put({ name: 'mail', type: 'smtp', data: { host: 'smtp.example.com', password: 'smtp-pw-2' } });
    expect((await read())?.password).toBe('smtp-pw-2');

    const cleared = await put({ name: 'mail', type: 'smtp', data: { host: 'smtp.example.com', password: null } });
    expect(cleared.body.secretFields).toEqual([]);
    expect(await read()).toEqual({ type: 'smtp', host: 'smtp.example.com' });

    // Another type has other fields: nothing carries over, so its required secret must be given.
    const retyped = await put({ name: 'mail', type: 'bearer', data: {} });
    expect(retyped.status).toBe(400);
    expect(retyped.body.errors).toEqual([{ path: 'body.data.token', message: 'is required' }]);

    const taken = await put({ name: 'shop', type: 'smtp', data: { host: 'smtp.example.com' } });
    expect(taken.status).toBe(409);
    expect((await h.call({ method: 'PUT', url: `/v1/credentials/${globex.tenant.id}`, token: acme.key, body: { name: 'x', type: 'secret', data: { value: 'v' } } })).status).toBe(404);
  });

  it('deletes a credential, and audits every change without a secret value', async () => {
    const created = await create({ name: 'doomed', type: 'bearer', data: { token: 'doomed-token-secret' } });
    const id = created.body.id as string;
    await h.call({ method: 'PUT', url: `/v1/credentials/${id}`, token: acme.key, body: { name: 'doomed', type: 'bearer', data: {} } });
    expect((await h.call({ method: 'POST', url: `/v1/credentials/${id}/test`, token: acme.key })).status).toBe(200);
    expect((await h.call({ method: 'DELETE', url: `/v1/credentials/${id}`, token: acme.key })).status).toBe(204);
    expect((await h.call({ method: 'GET', url: `/v1/credentials/${id}`, token: acme.key })).status).toBe(404);
    expect((await h.call({ method: 'DELETE', url: `/v1/credentials/${id}`, token: acme.key })).status).toBe(404);

    const audit = await h.t.db.withTenant(acme.tenant.id, async (tx) =>
      (await tx.query<{ action: string; actor_type: string; details: unknown }>(
        'SELECT action, actor_type, details FROM audit_log WHERE target_id = $1 ORDER BY id',
        [id],
      )).rows,
    );
    expect(audit.map((a) => a.action)).toEqual(['credential.create', 'credential.update', 'credential.test', 'credential.delete']);
    expect(audit.every((a) => a.actor_type === 'apiKey')).toBe(true);
    expect(JSON.stringify(audit)).not.toContain('doomed-token-secret');
  });

  it('tests an OAuth2 client credential by fetching a token, never echoing the secret', async () => {
    const good = await create({
      name: 'oauth-good',
      type: 'oauth2ClientCredentials',
      data: { tokenUrl: token.url, clientId: 'app', clientSecret: CLIENT_SECRET, scope: 'read' },
    });
    const ok = await h.call({ method: 'POST', url: `/v1/credentials/${good.body.id}/test`, token: acme.key });
    expect(ok.status).toBe(200);
    expect(ok.body.ok).toBe(true);
    expect(ok.body.message).toMatch(/obtained a Bearer access token from http:\/\/127\.0\.0\.1:\d+\/token, valid for 3600 s/);

    const bad = await create({
      name: 'oauth-bad',
      type: 'oauth2ClientCredentials',
      data: { tokenUrl: token.url, clientId: 'app', clientSecret: 'wrong-client-secret' },
    });
    const refused = await h.call({ method: 'POST', url: `/v1/credentials/${bad.body.id}/test`, token: acme.key });
    expect(refused.body).toMatchObject({ ok: false });
    expect(refused.body.message).toMatch(/answered 401 \(invalid_client\)/);
    expect(JSON.stringify(refused.body)).not.toContain('wrong-client-secret');

    // The egress policy applies: a private address the allow-list does not name is refused.
    const inside = await create({
      name: 'oauth-inside',
      type: 'oauth2ClientCredentials',
      data: { tokenUrl: 'http://10.255.255.1/token', clientId: 'app', clientSecret: CLIENT_SECRET },
    });
    const denied = await h.call({ method: 'POST', url: `/v1/credentials/${inside.body.id}/test`, token: acme.key });
    expect(denied.body.ok).toBe(false);
    expect(denied.body.message).toMatch(/egress allow-list/);
  });

  it('tests an SMTP credential by connecting and saying EHLO; other types by their shape', async () => {
    const mail = await create({ name: 'smtp-ok', type: 'smtp', data: { host: '127.0.0.1', port: smtp.port, password: 'smtp-secret' } });
    const ehlo = await h.call({ method: 'POST', url: `/v1/credentials/${mail.body.id}/test`, token: acme.key });
    expect(ehlo.body).toMatchObject({ ok: true });
    expect(ehlo.body.message).toMatch(/answered EHLO; it offers STARTTLS, AUTH/);

    const closed = await create({ name: 'smtp-closed', type: 'smtp', data: { host: '127.0.0.1', port: 1 } });
    const refused = await h.call({ method: 'POST', url: `/v1/credentials/${closed.body.id}/test`, token: acme.key });
    expect(refused.body).toMatchObject({ ok: false, message: expect.stringMatching(/could not connect to 127\.0\.0\.1:1: ECONNREFUSED/) });

    const db = await create({ name: 'db', type: 'database', data: { url: 'postgres://app:db-secret@db.example.com/app' } });
    const shape = await h.call({ method: 'POST', url: `/v1/credentials/${db.body.id}/test`, token: acme.key });
    expect(shape.body).toEqual({ ok: true, message: 'the postgres URL is well-formed; no connection was tried' });
    const amqp = await create({ name: 'mq', type: 'amqp', data: { url: 'http://mq.example.com' } });
    const wrong = await h.call({ method: 'POST', url: `/v1/credentials/${amqp.body.id}/test`, token: acme.key });
    expect(wrong.body).toMatchObject({ ok: false, message: expect.stringMatching(/scheme is http; expected one of amqp, amqps/) });
  });

  it('lets a viewer read credentials but not change or test them', async () => {
    const viewer = await h.member(acme, 'viewer');
    expect((await h.call({ method: 'GET', url: '/v1/credentials', token: viewer.token })).status).toBe(200);
    const denied = await h.call({ method: 'POST', url: '/v1/credentials', token: viewer.token, body: { name: 'v', type: 'secret', data: { value: 'x' } } });
    expect(denied.status).toBe(403);
  });
});
