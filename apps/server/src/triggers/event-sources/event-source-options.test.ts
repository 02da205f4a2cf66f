import { describe, expect, it } from 'vitest';
import { EventSourceConfigError, type EventSourceOptions, subscribeEventSource } from './index';
import { compileEventSourceOptions } from './event-source-options';

const base: EventSourceOptions = {
  credential: { url: 'amqp://127.0.0.1' },
  address: 'orders',
  durableName: 'aiq-wf-1',
  onMessage: async () => undefined,
};

describe('compileEventSourceOptions', () => {
  it('fills the defaults', () => {
    expect(compileEventSourceOptions(base)).toMatchObject({ prefetch: 16, retryDelayMs: 1_000, ackWaitMs: 30_000, drainTimeoutMs: 10_000 });
  });

  it('refuses bad names, prefetch and durations', () => {
    expect(() => compileEventSourceOptions({ ...base, durableName: 'has.dot' })).toThrow(EventSourceConfigError);
    expect(() => compileEventSourceOptions({ ...base, address: ' ' })).toThrow(EventSourceConfigError);
    expect(() => compileEventSourceOptions({ ...base, prefetch: 0 })).toThrow(/prefetch/);
    expect(() => compileEventSourceOptions({ ...base, retryDelay: 'soon' })).toThrow(/retryDelay "soon"/);
    expect(() => compileEventSourceOptions({ ...base, ackWait: '10ms' })).toThrow(/at least 1s/);
  });
});

describe('subscribeEventSource', () => {
  it('refuses a credential of the wrong shape before connecting, without repeating its values', async () => {
    await expect(subscribeEventSource('amqp', { ...base, credential: { url: 'http://x:secret@h' } })).rejects.toThrow(
      'an amqp credential needs a url starting amqp:// or amqps://',
    );
    await expect(subscribeEventSource('nats', { ...base, credential: { servers: [] } })).rejects.toBeInstanceOf(EventSourceConfigError);
    await expect(subscribeEventSource('nats', { ...base, credential: { servers: ['nats://a'], password: 7 } })).rejects.toThrow(
      'the password of a nats credential must be text',
    );
    await expect(subscribeEventSource('mqtt', { ...base, credential: { url: 'tcp://h' } })).rejects.toBeInstanceOf(EventSourceConfigError);
  });
});
