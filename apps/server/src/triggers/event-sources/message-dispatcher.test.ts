import { describe, expect, it } from 'vitest';
import type { EventMessage } from './event-source';
import { type Delivery, MessageDispatcher } from './message-dispatcher';

function delivery(id: string, log: string[]): Delivery {
  const message: EventMessage = { id, body: null, meta: {} };
  return {
    message,
    ack: () => void log.push(`ack ${id}`),
    retry: () => void log.push(`retry ${id}`),
    release: () => void log.push(`release ${id}`),
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve = () => undefined as void;
  let reject: (e: Error) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('MessageDispatcher', () => {
  it('keeps prefetch calls in flight, queues the rest in order, acks and retries', async () => {
    const log: string[] = [];
    const calls = new Map<string, ReturnType<typeof deferred>>();
    const dispatcher = new MessageDispatcher({
      prefetch: 2,
      onError: (e) => log.push(`error ${e.message}`),
      onMessage: (m) => {
        log.push(`call ${m.id}`);
        const call = deferred();
        calls.set(m.id, call);
        return call.promise;
      },
    });
    for (const id of ['a', 'b', 'c']) dispatcher.dispatch(delivery(id, log));
    expect(log).toEqual(['call a', 'call b']);
    expect(dispatcher.free).toBe(0);

    calls.get('a')?.reject(new Error('down'));
    await dispatcher.drain(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['call a', 'call b', 'retry a', 'call c']);

    calls.get('b')?.resolve();
    calls.get('c')?.resolve();
    expect(await dispatcher.drain(1_000)).toBe(true);
    expect(log.slice(4)).toEqual(['ack b', 'ack c']);
  });

  it('releases what waits or arrives while stopped; drain gives up after its timeout', async () => {
    const log: string[] = [];
    const dispatcher = new MessageDispatcher({ prefetch: 1, onError: () => undefined, onMessage: () => new Promise(() => undefined) });
    dispatcher.dispatch(delivery('a', log));
    dispatcher.dispatch(delivery('b', log));
    dispatcher.stop();
    dispatcher.dispatch(delivery('c', log));
    expect(log).toEqual(['release b', 'release c']);
    expect(dispatcher.inFlight).toBe(1);
    expect(await dispatcher.drain(20)).toBe(false);
    await dispatcher.whenFree(); // stopped: does not wait
  });

  it('reports an ack that fails, naming the message', async () => {
    const errors: string[] = [];
    const dispatcher = new MessageDispatcher({ prefetch: 1, onError: (e) => errors.push(e.message), onMessage: async () => undefined });
    dispatcher.dispatch({ ...delivery('a', []), ack: () => Promise.reject(new Error('closed')) });
    await dispatcher.drain(1_000);
    expect(errors).toEqual(['could not ack message a; the broker will redeliver it']);
  });
});
