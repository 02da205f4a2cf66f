import { describe, expect, it } from 'vitest';
import {
  graphDefinitionSchema,
  triggerDefinitionSchema,
  workflowDefinitionSchema,
} from './definition-schema';

const minimal = { name: 'Order sync', nodes: [{ id: 'fetch', type: 'http.request' }] };

describe('workflowDefinitionSchema', () => {
  it('accepts the example of the contract', () => {
    const result = workflowDefinitionSchema.safeParse({
      name: 'Order sync',
      description: 'Pull new orders and notify sales',
      triggers: [
        { type: 'cron', schedule: '*/5 * * * *', timezone: 'Asia/Singapore' },
        {
          type: 'webhook',
          path: 'new-order',
          respond: 'async',
          secret: { credential: 'orders-hmac' },
          contentTypes: ['application/json'],
        },
        { type: 'event', source: 'amqp', credential: 'rabbit', queue: 'orders.created' },
      ],
      settings: {
        timeout: '10m',
        concurrency: 10,
        priority: 'normal',
        retry: { attempts: 3, backoff: 'exponential', delay: '1s', maxDelay: '5m' },
      },
      nodes: [
        {
          id: 'fetch',
          type: 'http.request',
          name: 'Fetch orders',
          params: { method: 'GET', url: 'https://shop.example.com/orders?since={{ input.since }}' },
          credential: 'shop-api',
          retry: { attempts: 5 },
          timeout: '30s',
          position: { x: 0, y: 0 },
        },
        { id: 'big', type: 'flow.if', params: { condition: '{{ steps.fetch.output.body.total > 100 }}' } },
      ],
      edges: [
        { from: 'fetch', to: 'big' },
        { from: 'fetch', to: 'big', port: 'error' },
      ],
    });
    expect(result.success).toBe(true);
  });

  it('defaults edges to an empty list', () => {
    expect(workflowDefinitionSchema.parse(minimal).edges).toEqual([]);
    expect(graphDefinitionSchema.parse({ nodes: [] }).edges).toEqual([]);
  });

  it('refuses unknown keys at the top, on nodes and on edges', () => {
    const result = workflowDefinitionSchema.safeParse({
      ...minimal,
      extra: 1,
      nodes: [{ id: 'a', type: 't', colour: 'red' }],
      edges: [{ from: 'a', to: 'a', label: 'x' }],
    });
    expect(result.error?.issues.map((i) => [i.code, i.path])).toEqual(
      expect.arrayContaining([
        ['unrecognized_keys', []],
        ['unrecognized_keys', ['nodes', 0]],
        ['unrecognized_keys', ['edges', 0]],
      ]),
    );
  });

  it('checks node ids, names, durations, priority and retry', () => {
    const bad = {
      name: 'x'.repeat(201),
      settings: { timeout: '10 minutes', priority: 'urgent', retry: { attempts: 0, delay: '1w' } },
      nodes: [{ id: 'Fetch', type: 'http.request', timeout: '5' }],
    };
    const paths = workflowDefinitionSchema.safeParse(bad).error?.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining([
        'name',
        'settings.timeout',
        'settings.priority',
        'settings.retry.attempts',
        'settings.retry.delay',
        'nodes.0.id',
        'nodes.0.timeout',
      ]),
    );
    for (const id of ['a', 'fetch_2', `a${'b'.repeat(62)}`]) {
      expect(workflowDefinitionSchema.safeParse({ ...minimal, nodes: [{ id, type: 't' }] }).success).toBe(
        true,
      );
    }
    for (const id of ['', '2a', '_a', 'a-b', `a${'b'.repeat(63)}`]) {
      expect(workflowDefinitionSchema.safeParse({ ...minimal, nodes: [{ id, type: 't' }] }).success).toBe(
        false,
      );
    }
  });
});

describe('triggerDefinitionSchema', () => {
  const ok = (t: unknown) => triggerDefinitionSchema.safeParse(t).success;

  it('checks webhook paths', () => {
    expect(ok({ type: 'webhook', path: 'orders/new.v2' })).toBe(true);
    expect(ok({ type: 'webhook', path: '/orders' })).toBe(false);
    expect(ok({ type: 'webhook', path: 'a b' })).toBe(false);
    expect(ok({ type: 'webhook', path: 'a', respond: 'later' })).toBe(false);
  });

  it('wants exactly the address field of the event source', () => {
    expect(ok({ type: 'event', source: 'nats', credential: 'n', subject: 'orders.*' })).toBe(true);
    expect(ok({ type: 'event', source: 'mqtt', credential: 'm', topic: 'orders/#' })).toBe(true);
    expect(ok({ type: 'event', source: 'amqp', credential: 'r' })).toBe(false);
    expect(ok({ type: 'event', source: 'amqp', credential: 'r', topic: 'x' })).toBe(false);
    expect(ok({ type: 'event', source: 'amqp', credential: 'r', queue: 'q', subject: 's' })).toBe(false);
  });

  it('checks cron time zones', () => {
    expect(ok({ type: 'cron', schedule: '0 * * * *', timezone: 'Europe/Berlin' })).toBe(true);
    expect(ok({ type: 'cron', schedule: '0 * * * *', timezone: 'Mars/Olympus' })).toBe(false);
  });

  it('says what is wrong with a cron schedule', () => {
    const result = triggerDefinitionSchema.safeParse({ type: 'cron', schedule: '61 * * * *' });
    expect(result.error?.issues).toMatchObject([
      { path: ['schedule'], message: 'minute field: 61 is out of range 0-59' },
    ]);
    expect(ok({ type: 'cron', schedule: '0 30 2 * * MON-FRI' })).toBe(true);
    expect(ok({ type: 'cron', schedule: '* * *' })).toBe(false);
  });

  it('takes an optional cron misfire window as a duration', () => {
    expect(ok({ type: 'cron', schedule: '0 * * * *', misfireWindow: '5m' })).toBe(true);
    expect(ok({ type: 'cron', schedule: '0 * * * *', misfireWindow: 'soon' })).toBe(false);
  });
});
