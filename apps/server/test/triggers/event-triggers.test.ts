import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect as connectAmqp } from 'amqplib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MasterKey } from '../../src/security/master-key';
import type { EventSourceKind } from '../../src/triggers/event-sources';
import { EventTriggerRunner } from '../../src/triggers/event-trigger-runner';
import { type ApiHarness, startApiHarness, type TestTenant } from '../support/api-harness';
import { AMQP_URL, type BrokerHarness, reachableHarnesses } from './event-sources/broker-harness';

const KINDS: readonly EventSourceKind[] = ['amqp', 'nats', 'mqtt'];
const brokers = await reachableHarnesses(KINDS);
const RUNNER = fileURLToPath(new URL('../support/event-runner-process.ts', import.meta.url));
const logger = pino({ level: process.env.AIQ_TEST_LOG ?? 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Event triggers end to end: messages from the real brokers start runs, once each, with backpressure. */
describe('event triggers (AMQP, NATS JetStream, MQTT)', () => {
  const masterKey = MasterKey.generate();
  let h: ApiHarness;
  let acme: TestTenant;
  const made: { harness: BrokerHarness; address: string; durableName: string }[] = [];
  beforeAll(async () => {
    h = await startApiHarness({ masterKey });
    acme = await h.tenant('acme');
  });
  afterAll(async () => {
    for (const { harness, address, durableName } of made) await harness.cleanup({ address, durableName }).catch(() => undefined);
    for (const harness of brokers.values()) await harness.close();
    await h?.close();
  });

  /** A workflow of `tenant` consuming a fresh address of `harness`, not yet active. */
  async function eventWorkflow(harness: BrokerHarness, tenant: TestTenant, name: string): Promise<{ id: string; address: string }> {
    const address = harness.newAddress();
    const credential = `${harness.kind}-${name}`.replace(/[^a-zA-Z0-9_.-]/g, '-');
    const saved = await h.call({ method: 'POST', url: '/v1/credentials', token: tenant.key, body: { name: credential, type: harness.kind, data: harness.credential } });
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    const created = await h.call({
      method: 'POST',
      url: '/v1/workflows',
      token: tenant.key,
      body: {
        definition: {
          name,
          triggers: [{ type: 'event', source: harness.kind, credential, [harness.addressKey]: address }],
          nodes: [{ id: 'echo', type: 'transform', params: { value: '{{ input }}' } }],
        },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    made.push({ harness, address, durableName: `aiq-${created.body.id}-0` });
    return { id: created.body.id as string, address };
  }

  async function activate(id: string, tenant = acme, change: 'activate' | 'deactivate' = 'activate'): Promise<void> {
    const answer = await h.call({ method: 'POST', url: `/v1/workflows/${id}/${change}`, token: tenant.key });
    expect(answer.status).toBe(200);
  }

  /** The message ids of a workflow's runs, in order. */
  async function messagesOf(workflowId: string, tenant = acme): Promise<string[]> {
    return h.t.db.withTenant(tenant.tenant.id, async (tx) => {
      const { rows } = await tx.query<{ id: string }>(
        "SELECT trigger->>'messageId' AS id FROM runs WHERE tenant_id = $1 AND workflow_id = $2 ORDER BY 1",
        [tenant.tenant.id, workflowId],
      );
      return rows.map((r) => r.id);
    });
  }

  async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (done(value) || Date.now() > end) return value;
      await sleep(100);
    }
  }

  for (const kind of KINDS) {
    const harness = brokers.get(kind);
    it.skipIf(!harness)(`${kind}: each message starts one run with the message as input, only while the workflow is active`, async () => {
      if (!harness) return;
      const runner = new EventTriggerRunner({ db: h.t.db, databaseUrl: h.t.url, engine: h.engine.engine, vault: h.deps.vault, logger, resyncMs: 500 });
      await runner.start();
      let workflowId: string | undefined;
      try {
        const { id, address } = await eventWorkflow(harness, acme, `orders ${kind}`);
        workflowId = id;
        await activate(id);
        await until(async () => runner.consumes(id), Boolean);
        for (let i = 0; i < 5; i++) await harness.publish(address, JSON.stringify({ order: i }), { id: `${kind}-m${i}` });
        // A redelivery of m0 by the publisher (same id): no second run.
        await harness.publish(address, JSON.stringify({ order: 0 }), { id: `${kind}-m0` });
        const ids = await until(() => messagesOf(id), (list) => list.length >= 5);
        await sleep(500);
        const consumed = await messagesOf(id);
        expect(consumed).toHaveLength(5);
        expect(new Set(consumed).size).toBe(5);
        for (let i = 0; i < 5; i++) expect(consumed).toContainEqual(idMatching(harness.expectedId(`${kind}-m${i}`)));
        const runs = await h.call({ method: 'GET', url: `/v1/runs?workflowId=${id}&limit=10`, token: acme.key });
        const one = await h.call({ method: 'GET', url: `/v1/runs/${runs.body.items[0].id}`, token: acme.key });
        expect(one.body.trigger).toMatchObject({ type: 'event', source: kind, messageId: expect.stringMatching(new RegExp(`^${kind}:`)) });
        expect(one.body.input).toEqual({ order: expect.any(Number) });
        expect(ids.length).toBe(5);

        // Deactivated: nothing is consumed; the broker keeps the message for the next activation.
        await activate(id, acme, 'deactivate');
        await until(async () => runner.consumes(id), (consuming) => !consuming);
        await harness.publish(address, JSON.stringify({ order: 5 }), { id: `${kind}-m5` });
        await sleep(1_000);
        expect(await messagesOf(id)).toHaveLength(5);
        await activate(id);
        const after = await until(() => messagesOf(id), (list) => list.length >= 6);
        expect(after).toContainEqual(idMatching(harness.expectedId(`${kind}-m5`)));
      } finally {
        if (workflowId) await activate(workflowId, acme, 'deactivate');
        await runner.stop();
      }
    });
  }

  for (const kind of ['nats', 'mqtt'] as const) {
    const harness = brokers.get(kind);
    it.skipIf(!harness)(`${kind}: deleting the workflow removes what the broker kept for its trigger`, async () => {
      if (!harness?.keeps) return;
      const runner = new EventTriggerRunner({ db: h.t.db, databaseUrl: h.t.url, engine: h.engine.engine, vault: h.deps.vault, logger, resyncMs: 500 });
      await runner.start();
      try {
        const { id, address } = await eventWorkflow(harness, acme, `deleted ${kind}`);
        const durableName = `aiq-${id}-0`;
        await activate(id);
        await until(async () => runner.consumes(id), Boolean);
        await harness.publish(address, JSON.stringify({ order: 1 }), { id: `${kind}-gone-1` });
        await until(() => messagesOf(id), (list) => list.length >= 1);
        if (kind === 'nats') expect(await harness.keeps({ address, durableName })).toBe(true);

        const deleted = await h.call({ method: 'DELETE', url: `/v1/workflows/${id}`, token: acme.key });
        expect(deleted.status).toBe(204);
        await until(async () => runner.consumes(id), (consuming) => !consuming);
        // The removal follows the drop in the same pass over the armed triggers: one more pass has it done.
        await runner.sync();
        await runner.sync();
        expect(await harness.keeps({ address, durableName })).toBe(false);
      } finally {
        await runner.stop();
      }
    });
  }

  it.skipIf(!brokers.has('amqp'))('a tenant at its concurrency quota stops consuming instead of piling up runs', async () => {
    const harness = brokers.get('amqp') as BrokerHarness;
    const busy = await h.tenant('busy');
    await h.call({ method: 'PATCH', url: `/v1/tenants/${busy.tenant.id}`, token: h.adminToken, body: { quotas: { concurrentRuns: 2 } } });
    const runner = new EventTriggerRunner({
      db: h.t.db,
      databaseUrl: h.t.url,
      engine: h.engine.engine,
      vault: h.deps.vault,
      logger,
      resyncMs: 500,
      prefetch: 1,
    });
    await runner.start();
    try {
      const { id, address } = await eventWorkflow(harness, busy, 'busy orders');
      await activate(id, busy);
      await until(async () => runner.consumes(id), Boolean);
      for (let i = 0; i < 12; i++) await harness.publish(address, JSON.stringify({ n: i }), { id: `busy-${i}` });
      // No worker runs: the first two runs hold both slots and never end.
      await until(() => messagesOf(id, busy), (list) => list.length >= 2);
      await sleep(1_500);
      expect(await messagesOf(id, busy)).toHaveLength(2);
      expect(await queueDepth(address)).toBe(10);
      // Two slots free: two more are consumed, then it holds back again.
      const runs = await h.call({ method: 'GET', url: `/v1/runs?workflowId=${id}`, token: busy.key });
      for (const run of runs.body.items) await h.call({ method: 'POST', url: `/v1/runs/${run.id}/cancel`, token: busy.key });
      await until(() => messagesOf(id, busy), (list) => list.length >= 4);
      await sleep(1_500);
      expect(await messagesOf(id, busy)).toHaveLength(4);
      expect(await queueDepth(address)).toBe(8);
      await activate(id, busy, 'deactivate');
    } finally {
      await runner.stop();
    }
  });

  it.skipIf(!brokers.has('amqp'))('killing the consuming process while messages flow loses none and starts none twice', async () => {
    const harness = brokers.get('amqp') as BrokerHarness;
    const { id, address } = await eventWorkflow(harness, acme, 'killed while consuming');
    await activate(id);
    const children: ChildProcess[] = [];
    const startChild = async (): Promise<ChildProcess> => {
      const child = spawn(process.execPath, ['--import', 'tsx', RUNNER], {
        env: { ...process.env, AIQ_TEST_DB_URL: h.t.url, AIQ_TEST_MASTER_KEY: masterKey.toBase64() },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`the consumer exited early with ${code}`)));
        child.stdout?.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('ready')) resolve();
        });
      });
      return child;
    };
    try {
      const first = await startChild();
      const TOTAL = 300;
      const publishing = (async () => {
        for (let i = 0; i < TOTAL; i++) {
          await harness.publish(address, JSON.stringify({ n: i }), { id: `kill-${i}` });
          if (i % 10 === 0) await sleep(5);
        }
      })();
      await until(() => messagesOf(id), (list) => list.length >= 30);
      first.kill('SIGKILL');
      await publishing;
      const consumedBeforeRestart = (await messagesOf(id)).length;
      expect(consumedBeforeRestart).toBeLessThan(TOTAL);
      await startChild();
      const ids = await until(() => messagesOf(id), (list) => list.length >= TOTAL, 60_000);
      await sleep(1_000);
      const final = await messagesOf(id);
      expect(final).toHaveLength(TOTAL);
      expect(new Set(final).size).toBe(TOTAL);
      expect(ids.length).toBe(TOTAL);
      expect(await queueDepth(address)).toBe(0);
    } finally {
      for (const child of children) child.kill('SIGKILL');
      await activate(id, acme, 'deactivate');
    }
  });
});

/** A broker's message id as expected: exact, or (NATS: a stream sequence) by pattern. */
function idMatching(expected: string | RegExp): unknown {
  return typeof expected === 'string' ? expected : expect.stringMatching(expected);
}

/** Messages ready in an AMQP queue. */
async function queueDepth(queue: string): Promise<number> {
  const connection = await connectAmqp(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await connection.close();
  }
}
