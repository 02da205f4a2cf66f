import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApiHarness, type TestTenant } from '../support/api-harness';

interface Mail {
  from: string;
  to: string[];
  data: string;
}

/** A real SMTP server in the test: it speaks SMTP and keeps what it receives. */
async function startSmtp(): Promise<{ port: number; inbox: Mail[]; close(): Promise<void> }> {
  const inbox: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onAuth: (auth, _session, callback) =>
      auth.username === 'mailer' && auth.password === 'mail-secret' ? callback(null, { user: 'mailer' }) : callback(new Error('bad login')),
    onData: (stream, session, callback) => {
      let data = '';
      stream.on('data', (chunk: Buffer) => (data += chunk.toString()));
      stream.on('end', () => {
        inbox.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          // The text as sent, quoted-printable undone (long lines are folded with soft breaks).
          data: data.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, inbox, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** flow.approval: requests by e-mail (real SMTP) or webhook, decided by permitted members only. */
describe('approvals (flow.approval)', () => {
  let h: ApiHarness;
  let acme: TestTenant;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let hookServer: Server;
  const hooks: unknown[] = [];
  let hookUrl: string;
  beforeAll(async () => {
    smtp = await startSmtp();
    hookServer = createServer((request: IncomingMessage, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        hooks.push(JSON.parse(body));
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hookServer.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/approvals`;
    h = await startApiHarness({ workers: 1, env: { AIQ_PUBLIC_URL: 'https://aiq.example.com' } });
    acme = await h.tenant('acme');
    const credential = await h.call({
      method: 'POST',
      url: '/v1/credentials',
      token: acme.key,
      body: { name: 'mail', type: 'smtp', data: { host: '127.0.0.1', port: smtp.port, username: 'mailer', password: 'mail-secret', from: 'flows@acme.example.com' } },
    });
    expect(credential.status).toBe(201);
  });
  afterAll(async () => {
    await h?.close();
    await smtp?.close();
    await new Promise((resolve) => hookServer?.close(resolve));
  });

  async function start(definition: Record<string, unknown>): Promise<string> {
    const created = await h.call({ method: 'POST', url: '/v1/workflows', token: acme.key, body: { definition } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const started = await h.call({ method: 'POST', url: `/v1/workflows/${created.body.id}/runs`, token: acme.key, body: { input: { amount: 1200 } } });
    return started.body.id as string;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers loosely
  async function runWhen(runId: string, ready: (run: any) => boolean): Promise<any> {
    for (const end = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 50))) {
      const read = await h.call({ method: 'GET', url: `/v1/runs/${runId}`, token: acme.key });
      if (ready(read.body) || Date.now() > end) return read.body;
    }
  }

  const approvalFlow = (name: string, approval: Record<string, unknown>) => ({
    name,
    nodes: [
      { id: 'ask', type: 'flow.approval', credential: 'mail', params: { message: 'Refund {{ input.amount }} EUR?', ...approval } },
      { id: 'pay', type: 'transform', params: { value: { paid: true, by: '{{ steps.ask.output.by.email }}' } } },
      { id: 'skip', type: 'transform', params: { value: { paid: false, why: '{{ steps.ask.output.comment }}' } } },
    ],
    edges: [
      { from: 'ask', to: 'pay', port: 'approved' },
      { from: 'ask', to: 'skip', port: 'rejected' },
    ],
  });

  it('e-mails the approvers through SMTP, and continues by the approved port with who decided and when', async () => {
    const runId = await start(approvalFlow('refund', { to: ['boss@acme.example.com'] }));
    await runWhen(runId, (r) => r.status === 'waiting');
    const mail = smtp.inbox.find((m) => m.data.includes(runId));
    expect(mail).toBeDefined();
    expect(mail?.to).toEqual(['boss@acme.example.com']);
    expect(mail?.from).toBe('flows@acme.example.com');
    expect(mail?.data).toContain('Refund 1200 EUR?');
    expect(mail?.data).toContain(`https://aiq.example.com/approvals/${runId}/ask?decision=approve`);
    expect(mail?.data).toContain(`https://aiq.example.com/approvals/${runId}/ask?decision=reject`);

    // Only people with a permitted role decide: not an operator, not a viewer, not an API key.
    const operator = await h.member(acme, 'operator');
    const viewer = await h.member(acme, 'viewer');
    for (const token of [operator.token, viewer.token, acme.key]) {
      const refused = await h.call({ method: 'POST', url: `/v1/runs/${runId}/approvals/ask`, token, body: { decision: 'approve' } });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('AIQ_FORBIDDEN');
    }
    const admin = await h.member(acme, 'admin');
    const decided = await h.call({ method: 'POST', url: `/v1/runs/${runId}/approvals/ask`, token: admin.token, body: { decision: 'approve' } });
    expect(decided.status).toBe(202);
    expect(decided.body).toMatchObject({ runId, nodeId: 'ask', decision: 'approve', by: { userId: admin.userId, email: admin.email }, at: expect.any(String) });
    const done = await runWhen(runId, (r) => r.status === 'succeeded');
    expect(done.output).toEqual({ paid: true, by: admin.email });
    expect(done.steps.find((s: { nodeId: string }) => s.nodeId === 'skip').status).toBe('skipped');

    const again = await h.call({ method: 'POST', url: `/v1/runs/${runId}/approvals/ask`, token: admin.token, body: { decision: 'reject' } });
    expect(again.status).toBe(409);
    const audit = await h.call({ method: 'GET', url: '/v1/audit?action=run.approval', token: acme.ownerToken });
    expect(audit.body.items[0]).toMatchObject({ actor: { type: 'user', id: admin.userId }, target: { id: runId }, details: { nodeId: 'ask', decision: 'approve' } });
  });

  it('a rejection takes the rejected port; roles may be widened; a webhook gets the request', async () => {
    const runId = await start(approvalFlow('refund by ops', { webhook: hookUrl, roles: ['operator'] }));
    await runWhen(runId, (r) => r.status === 'waiting');
    expect(hooks).toContainEqual(
      expect.objectContaining({
        runId,
        nodeId: 'ask',
        message: 'Refund 1200 EUR?',
        roles: ['operator'],
        links: { approve: `https://aiq.example.com/approvals/${runId}/ask?decision=approve`, reject: `https://aiq.example.com/approvals/${runId}/ask?decision=reject` },
      }),
    );
    const owner = await h.call({ method: 'POST', url: `/v1/runs/${runId}/approvals/ask`, token: acme.ownerToken, body: { decision: 'approve' } });
    expect(owner.status).toBe(403);
    const operator = await h.member(acme, 'operator');
    const decided = await h.call({
      method: 'POST',
      url: `/v1/runs/${runId}/approvals/ask`,
      token: operator.token,
      body: { decision: 'reject', comment: 'duplicate claim' },
    });
    expect(decided.status).toBe(202);
    const done = await runWhen(runId, (r) => r.status === 'succeeded');
    expect(done.output).toEqual({ paid: false, why: 'duplicate claim' });
  });

  it('with nobody deciding in time, takes the error port (TIMEOUT); a wrong node or another tenant is 404', async () => {
    const runId = await start({
      name: 'unanswered',
      nodes: [
        { id: 'ask', type: 'flow.approval', params: { message: 'Anyone?', timeout: '1s' } },
        { id: 'late', type: 'transform', params: { value: '{{ steps.ask.error.code }}' } },
      ],
      edges: [{ from: 'ask', to: 'late', port: 'error' }],
    });
    const done = await runWhen(runId, (r) => r.status === 'succeeded');
    expect(done.output).toBe('TIMEOUT');
    const wrongNode = await h.call({ method: 'POST', url: `/v1/runs/${runId}/approvals/late`, token: acme.ownerToken, body: { decision: 'approve' } });
    expect(wrongNode.status).toBe(404);
    const other = await h.tenant('other');
    const foreign = await h.call({ method: 'POST', url: `/v1/runs/${runId}/approvals/ask`, token: other.ownerToken, body: { decision: 'approve' } });
    expect(foreign.status).toBe(404);
  });

  it('an SMTP server that refuses the login fails the step with the reason, never the password', async () => {
    await h.call({
      method: 'POST',
      url: '/v1/credentials',
      token: acme.key,
      body: { name: 'bad-mail', type: 'smtp', data: { host: '127.0.0.1', port: smtp.port, username: 'mailer', password: 'wrong-secret-123' } },
    });
    const created = await h.call({
      method: 'POST',
      url: '/v1/workflows',
      token: acme.key,
      body: { definition: { name: 'bad mail', nodes: [{ id: 'ask', type: 'flow.approval', credential: 'bad-mail', retry: { attempts: 1 }, params: { message: 'x', to: ['a@b.example.com'] } }] } },
    });
    const started = await h.call({ method: 'POST', url: `/v1/workflows/${created.body.id}/runs`, token: acme.key, body: {} });
    const run = await runWhen(started.body.id, (r) => r.status === 'failed');
    expect(run.status).toBe('failed');
    expect(run.error.code).toMatch(/^SMTP_/);
    expect(JSON.stringify(run)).not.toContain('wrong-secret-123');
  });
});
