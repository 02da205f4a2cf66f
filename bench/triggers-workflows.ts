/**
 * The triggers bench's workflows and payloads, and their creation through the HTTP API as a tenant
 * would do it: `POST /v1/workflows {definition}`, then `POST /v1/workflows/:id/activate` (which arms
 * the triggers).
 */
import type { WorkflowDefinition } from '@automateiq/core';
import { BENCH_WORKFLOW } from './api-seed';

/** Webhook paths, under `/hooks/<tenant slug>/`. */
export const HOOK_PATHS = {
  /** `respond: async`, the measured requests only. */
  async: 'orders/async',
  /** `respond: async`, the same workflow for the warm-up and the checks, so the measured path's runs are the measured requests'. */
  asyncWarmup: 'orders/async-warmup',
  sync: 'orders/sync',
} as const;

/** The API bench's three transforms in a chain, started by a `respond: async` webhook. */
export function asyncOrderIntake(path: string): WorkflowDefinition {
  return { ...BENCH_WORKFLOW, name: `order intake (${path})`, triggers: [{ type: 'webhook', path, respond: 'async' }] };
}

/** Two transforms and a `flow.return` in a chain, started by a `respond: sync` webhook: its answer is the returned value. */
export const SYNC_ORDER_CHECK: WorkflowDefinition = {
  name: 'order check (sync)',
  triggers: [{ type: 'webhook', path: HOOK_PATHS.sync, respond: 'sync' }],
  nodes: [
    { id: 'n0', type: 'transform', params: { value: { orderId: '{{ input.orderId }}', lines: '{{ $count(input.items) }}' } } },
    { id: 'n1', type: 'transform', params: { value: { orderId: '{{ steps.n0.output.orderId }}', checked: true } } },
    {
      id: 'n2',
      type: 'flow.return',
      params: { value: { orderId: '{{ steps.n1.output.orderId }}', lines: '{{ steps.n0.output.lines }}', status: 'accepted' } },
    },
  ],
  edges: [
    { from: 'n0', to: 'n1' },
    { from: 'n1', to: 'n2' },
  ],
};

/** What the sync webhook answers for `orderBody(i)`. */
export function syncAnswerFor(i: number): unknown {
  return { orderId: orderId(i), lines: 2, status: 'accepted' };
}

/** Three transforms in a chain, fired every second. */
export const EVERY_SECOND: WorkflowDefinition = {
  name: 'every second',
  triggers: [{ type: 'cron', schedule: '* * * * * *' }],
  nodes: [
    { id: 'n0', type: 'transform', params: { value: { tick: '{{ input.scheduledAt }}' } } },
    { id: 'n1', type: 'transform', params: { value: { tick: '{{ steps.n0.output.tick }}', checked: true } } },
    { id: 'n2', type: 'transform', params: { value: { tick: '{{ steps.n1.output.tick }}', status: 'done' } } },
  ],
  edges: [
    { from: 'n0', to: 'n1' },
    { from: 'n1', to: 'n2' },
  ],
};

function orderId(i: number): string {
  return `ord-${String(i).padStart(8, '0')}`;
}

/** The `i`-th order a shop posts (about 230 bytes of JSON): its id, customer and price vary with `i`. */
export function orderBody(i: number): string {
  return JSON.stringify({
    orderId: orderId(i),
    customer: { id: `cus_${(0x5f2b8c1e9a + i * 7919).toString(16)}`, email: `buyer${i}@example.com`, tier: 'gold' },
    items: [
      { sku: `SKU-${i % 977}`, qty: 1 + (i % 4), price: (i % 10_000) / 100 },
      { sku: 'SKU-7', qty: 1, price: 9.99 },
    ],
    currency: 'EUR',
  });
}

/** Creates a workflow through the API and activates it; returns its id. */
export async function createActiveWorkflow(args: {
  origin: string;
  apiKey: string;
  definition: WorkflowDefinition;
}): Promise<string> {
  const created = await apiCall({ ...args, path: '/v1/workflows', body: { definition: args.definition }, status: 201 });
  const id = (created as { id?: unknown }).id;
  if (typeof id !== 'string') throw new Error(`POST /v1/workflows answered no id: ${JSON.stringify(created)}`);
  await apiCall({ ...args, path: `/v1/workflows/${id}/activate`, status: 200 });
  return id;
}

/** Deactivates a workflow through the API (its triggers are disarmed). */
export async function deactivateWorkflow(args: { origin: string; apiKey: string; workflowId: string }): Promise<void> {
  await apiCall({ ...args, path: `/v1/workflows/${args.workflowId}/deactivate`, status: 200 });
}

async function apiCall(args: { origin: string; apiKey: string; path: string; body?: unknown; status: number }): Promise<unknown> {
  const response = await fetch(`${args.origin}${args.path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${args.apiKey}`,
      ...(args.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(args.body === undefined ? {} : { body: JSON.stringify(args.body) }),
  });
  const text = await response.text();
  if (response.status !== args.status) throw new Error(`POST ${args.path} answered ${response.status}, not ${args.status}: ${text}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}
