/**
 * A subscriber in its own process, for the test that kills it: `node --import tsx crash-subscriber.ts`.
 * Env AIQ_TEST_EVENT_SOURCE: JSON `{ kind, credential, address, durableName }`. Prints `ready` once
 * subscribed, then `received <id>` for each message; its onMessage never settles, as if the process
 * died while recording the run.
 */
import { type EventSourceKind, subscribeEventSource } from '../../../src/triggers/event-sources';

const config = process.env.AIQ_TEST_EVENT_SOURCE;
if (!config) throw new Error('AIQ_TEST_EVENT_SOURCE is required');
const { kind, credential, address, durableName } = JSON.parse(config) as {
  kind: EventSourceKind;
  credential: Record<string, unknown>;
  address: string;
  durableName: string;
};
await subscribeEventSource(kind, {
  credential,
  address,
  durableName,
  ackWait: '1s',
  onMessage: (message) => {
    process.stdout.write(`received ${message.id}\n`);
    return new Promise<void>(() => undefined);
  },
  onError: (error) => process.stderr.write(`${error.message}\n`),
});
process.stdout.write('ready\n');
