/**
 * What every event source promises, proved against the real brokers: a message reaches onMessage
 * with its id, body and meta; a rejected message comes back with the same id; an acked one never does;
 * messages published while no subscription is open wait for the next; pause stops delivery and resume
 * restarts it; prefetch bounds the calls in flight; close acks what is in flight first.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  type EventSourceKind,
  type EventSourceOptions,
  type EventSubscription,
  subscribeEventSource,
} from '../../../src/triggers/event-sources';
import { type BrokerHarness, newDurableName, reachableHarnesses } from './broker-harness';
import { Inbox, sleep } from './inbox';

const KINDS: readonly EventSourceKind[] = ['amqp', 'nats', 'mqtt'];
const harnesses = await reachableHarnesses(KINDS);
afterAll(async () => {
  for (const harness of harnesses.values()) await harness.close();
});

/** Longer than the test ackWait (1s): what was not redelivered by then is not going to be. */
const QUIET_MS = 1_500;

for (const kind of KINDS) {
  const harness = harnesses.get(kind);
  describe.skipIf(!harness)(`the ${kind} event source`, () => {
    const opened: EventSubscription[] = [];
    const made: { address: string; durableName: string }[] = [];

    function need(): BrokerHarness {
      if (!harness) throw new Error(`no ${kind} broker`);
      return harness;
    }

    function names(): { address: string; durableName: string } {
      const created = { address: need().newAddress(), durableName: newDurableName() };
      made.push(created);
      return created;
    }

    async function subscribe(
      args: { address: string; durableName: string; inbox: Inbox } & Partial<EventSourceOptions>,
    ): Promise<EventSubscription> {
      const { inbox, ...rest } = args;
      const subscription = await subscribeEventSource(kind, {
        credential: need().credential,
        onMessage: inbox.onMessage,
        onError: inbox.onError,
        retryDelay: '100ms',
        ackWait: '1s',
        drainTimeout: '2s',
        ...rest,
      });
      opened.push(subscription);
      return subscription;
    }

    afterEach(async () => {
      for (const subscription of opened.splice(0)) await subscription.close();
      for (const created of made.splice(0)) await need().cleanup(created);
    });

    it('hands a published message to onMessage with its id, body and meta', async () => {
      const h = need();
      const { address, durableName } = names();
      const inbox = new Inbox();
      await subscribe({ address, durableName, inbox });
      await h.publish(address, JSON.stringify({ order: 1 }), { id: 'order-1' });
      await h.publish(address, 'plain text');
      await h.publish(address, Buffer.from([0xff, 0xfe, 0x00]));
      await inbox.waitForCount(3);

      const [json, text, binary] = inbox.received;
      expect(json?.id).toMatch(h.expectedId('order-1'));
      expect(json?.body).toEqual({ order: 1 });
      expect(json?.meta).toMatchObject({ source: kind, [h.addressKey]: address, redelivered: false, encoding: 'json' });
      expect(text?.body).toBe('plain text');
      expect(text?.meta.encoding).toBe('text');
      expect(binary?.body).toEqual({ base64: '//4A' });
      expect(binary?.meta.encoding).toBe('base64');
      expect(new Set(inbox.received.map((m) => m.id)).size).toBe(3);
      for (const message of inbox.received) expect(message.id.startsWith(`${kind}:`)).toBe(true);
      expect(JSON.parse(JSON.stringify(json?.meta))).toEqual(json?.meta);
    });

    it('redelivers a rejected message with the same id, and not once it is acked', async () => {
      const h = need();
      const { address, durableName } = names();
      const inbox = new Inbox();
      let rejected = false;
      inbox.handle = async () => {
        if (rejected) return;
        rejected = true;
        throw new Error('the database is down');
      };
      await subscribe({ address, durableName, inbox });
      await h.publish(address, JSON.stringify({ n: 1 }), { id: 'retry-1' });
      await inbox.waitForCount(2);

      const [first, second] = inbox.received;
      expect(second?.id).toBe(first?.id);
      expect(second?.body).toEqual({ n: 1 });
      expect(first?.meta.redelivered).toBe(false);
      expect(second?.meta.redelivered).toBe(true);
      await sleep(QUIET_MS);
      expect(inbox.received).toHaveLength(2);
    });

    it('does not redeliver an acked message after close and a new subscription', async () => {
      const h = need();
      const { address, durableName } = names();
      const before = new Inbox();
      const first = await subscribe({ address, durableName, inbox: before });
      await h.publish(address, JSON.stringify({ m: 'a' }), { id: 'ack-a' });
      await before.waitForCount(1);
      await first.close();

      const after = new Inbox();
      await subscribe({ address, durableName, inbox: after });
      await h.publish(address, JSON.stringify({ m: 'b' }), { id: 'ack-b' });
      await after.waitForCount(1);
      await sleep(QUIET_MS);
      expect(after.bodies()).toEqual([{ m: 'b' }]);
    });

    it('close waits for the calls in flight and acks them', async () => {
      const h = need();
      const { address, durableName } = names();
      const before = new Inbox();
      before.handle = () => sleep(300);
      const first = await subscribe({ address, durableName, inbox: before });
      await h.publish(address, JSON.stringify({ m: 'slow' }), { id: 'drain-1' });
      await before.waitForCount(1);
      await first.close();
      expect(before.inFlight).toBe(0);

      const after = new Inbox();
      await subscribe({ address, durableName, inbox: after });
      await h.publish(address, JSON.stringify({ m: 'next' }), { id: 'drain-2' });
      await after.waitForCount(1);
      await sleep(QUIET_MS);
      expect(after.bodies()).toEqual([{ m: 'next' }]);
    });

    it('keeps messages published while no subscription is open and delivers them to the next', async () => {
      const h = need();
      const { address, durableName } = names();
      await (await subscribe({ address, durableName, inbox: new Inbox() })).close();
      await h.publish(address, JSON.stringify({ n: 1 }), { id: 'away-1' });
      await h.publish(address, JSON.stringify({ n: 2 }), { id: 'away-2' });

      const inbox = new Inbox();
      await subscribe({ address, durableName, inbox });
      await inbox.waitForCount(2);
      expect(inbox.bodies()).toEqual([{ n: 1 }, { n: 2 }]);
      expect(inbox.received[0]?.id).toMatch(h.expectedId('away-1'));
    });

    it('pause stops delivery and resume restarts it', async () => {
      const h = need();
      const { address, durableName } = names();
      const inbox = new Inbox();
      const subscription = await subscribe({ address, durableName, inbox });
      await h.publish(address, JSON.stringify({ n: 0 }), { id: 'pause-0' });
      await inbox.waitForCount(1);

      await subscription.pause();
      await h.publish(address, JSON.stringify({ n: 1 }), { id: 'pause-1' });
      await h.publish(address, JSON.stringify({ n: 2 }), { id: 'pause-2' });
      await sleep(QUIET_MS);
      expect(inbox.received).toHaveLength(1);

      await subscription.resume();
      await inbox.waitForCount(3);
      expect(inbox.bodies()).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    });

    it('fails to subscribe with a refused credential, naming no secret', async () => {
      const secret = `s3cret-${randomUUID()}`;
      const { address, durableName } = names();
      const failure: unknown = await subscribeEventSource(kind, {
        credential: need().badCredential(secret),
        address,
        durableName,
        onMessage: async () => undefined,
      }).then(
        (subscription) => subscription.close(),
        (error: unknown) => error,
      );
      if (!(failure instanceof Error)) throw new Error('subscribing succeeded');
      const messages: string[] = [];
      for (let error: unknown = failure; error instanceof Error; error = error.cause) messages.push(error.message);
      expect(messages.join(' | ')).not.toContain(secret);
      expect(messages[0]).toMatch(new RegExp(`^cannot (connect to|subscribe to|consume) ${kind}`));
    });

    it('keeps at most prefetch calls in flight', async () => {
      const h = need();
      const { address, durableName } = names();
      const inbox = new Inbox();
      inbox.handle = () => sleep(150);
      await subscribe({ address, durableName, inbox, prefetch: 3 });
      for (let n = 0; n < 9; n += 1) await h.publish(address, JSON.stringify({ n }), { id: `prefetch-${n}` });
      await inbox.waitForCount(9, 20_000);

      // MQTT.js hands over one message at a time (it holds the next packet until the current is acked).
      expect(inbox.maxInFlight).toBe(kind === 'mqtt' ? 1 : 3);
      expect(new Set(inbox.received.map((m) => m.id)).size).toBe(9);
    });
  });
}
