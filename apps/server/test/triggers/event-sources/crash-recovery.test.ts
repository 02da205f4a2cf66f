/**
 * A subscriber killed (SIGKILL: its connections drop without a goodbye) while onMessage is still
 * recording a run: the broker hands the message to the next subscription with the same durable name,
 * with the same id, so the run it starts is deduplicated by its idempotency key.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type EventSourceKind, type EventSubscription, subscribeEventSource } from '../../../src/triggers/event-sources';
import { newDurableName, reachableHarnesses } from './broker-harness';
import { Inbox } from './inbox';

const SUBSCRIBER = fileURLToPath(new URL('./crash-subscriber.ts', import.meta.url));
const KINDS: readonly EventSourceKind[] = ['amqp', 'nats', 'mqtt'];
const harnesses = await reachableHarnesses(KINDS);
afterAll(async () => {
  for (const harness of harnesses.values()) await harness.close();
});

/** Starts the subscriber; resolves once it is subscribed, with a way to wait for the id of what it receives. */
function startSubscriber(env: object): Promise<{ child: ChildProcess; received: Promise<string> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SUBSCRIBER], {
    env: { ...process.env, AIQ_TEST_EVENT_SOURCE: JSON.stringify(env) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  let onReceived: (id: string) => void = () => undefined;
  const received = new Promise<string>((resolve) => (onReceived = resolve));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`the subscriber exited early (${code ?? signal})`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready\n')) resolve({ child, received });
      const match = /received (\S+)\n/.exec(output);
      if (match?.[1]) onReceived(match[1]);
    });
  });
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

for (const kind of KINDS) {
  const harness = harnesses.get(kind);
  describe.skipIf(!harness)(`a ${kind} subscriber killed while onMessage is pending`, () => {
    const children: ChildProcess[] = [];
    const opened: EventSubscription[] = [];
    const made: { address: string; durableName: string }[] = [];

    afterEach(async () => {
      for (const child of children.splice(0)) await kill(child);
      for (const subscription of opened.splice(0)) await subscription.close();
      for (const created of made.splice(0)) await harness?.cleanup(created);
    });

    it('has its message redelivered, with the same id, to the next subscription', async () => {
      if (!harness) throw new Error(`no ${kind} broker`);
      const address = harness.newAddress();
      const durableName = newDurableName();
      made.push({ address, durableName });
      const { child, received } = await startSubscriber({ kind, credential: harness.credential, address, durableName });
      children.push(child);

      // No publisher id: the id derived from the message itself must be stable too.
      await harness.publish(address, JSON.stringify({ order: 'crash' }));
      const firstId = await received;
      await kill(child);

      const inbox = new Inbox();
      opened.push(
        await subscribeEventSource(kind, {
          credential: harness.credential,
          address,
          durableName,
          ackWait: '1s',
          onMessage: inbox.onMessage,
          onError: inbox.onError,
        }),
      );
      await inbox.waitForCount(1, 15_000);
      expect(inbox.received[0]?.id).toBe(firstId);
      expect(inbox.received[0]?.body).toEqual({ order: 'crash' });
      expect(inbox.received[0]?.meta.redelivered).toBe(true);
    });
  });
}
