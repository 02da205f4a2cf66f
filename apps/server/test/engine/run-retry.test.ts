import type { WorkflowDefinition } from '@automateiq/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineHarness, type FinishedRun, startEngineHarness } from '../support/engine-harness';
import { type FlakyServer, startFlakyServer } from '../support/flaky-server';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('retrying a failed run from its failed steps', () => {
  let t: TestDatabase;
  let h: EngineHarness;
  let peer: FlakyServer;
  beforeAll(async () => {
    t = await createTestDatabase();
    h = await startEngineHarness(t);
    peer = await startFlakyServer();
  });
  afterAll(async () => {
    await peer?.close();
    await h?.stop();
    await t?.drop();
  });

  const get = (id: string, path: string, extra: Record<string, unknown> = {}) => ({
    id,
    type: 'http.request',
    params: { url: `${peer.url}${path}` },
    ...extra,
  });

  async function retry(runId: string): Promise<FinishedRun> {
    const result = await h.engine.retryRun({ tenantId: h.tenantId, runId });
    if (result.kind !== 'started') throw new Error(`the retry did not start: ${result.kind}`);
    return h.waitForRun(result.runId);
  }

  const step = (run: FinishedRun, nodeId: string, scope = '') =>
    run.attempts.filter((a) => a.nodeId === nodeId && a.scope === scope);

  it('keeps the completed steps (not run again, same outputs), runs the failed one afresh and what follows', async () => {
    peer.failFirst('/chain/b');
    const first = await h.run({
      name: 'retry-chain',
      nodes: [
        get('a', '/chain/a'),
        { id: 'check', type: 'flow.if', params: { condition: '{{ false }}' } },
        { id: 'never', type: 'transform', params: { value: 'not taken' } },
        get('b', '/chain/b'),
        { id: 'c', type: 'transform', params: { value: { a: '{{ steps.a.output.body.hit }}', b: '{{ steps.b.output.body.hit }}' } } },
      ],
      edges: [
        { from: 'a', to: 'check' },
        { from: 'check', to: 'never', port: 'true' },
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
      ],
    });
    expect(first.status).toBe('failed');
    expect(first.error?.code).toBe('HTTP_400');

    const second = await retry(first.id);
    expect(second.status).toBe('succeeded');
    expect(second.trigger).toMatchObject({ type: 'retry', retryOf: first.id });
    expect(second.input).toEqual(first.input);
    expect(second.output).toEqual({ a: 1, b: 2 });
    // The completed steps were not run again: one request each, one attempt, the original output.
    expect(peer.hits('/chain/a')).toBe(1);
    expect(step(second, 'a')).toHaveLength(1);
    expect(step(second, 'a')[0]?.output).toEqual(step(first, 'a')[0]?.output);
    expect(step(second, 'check').map((a) => [a.status, a.port])).toEqual([['succeeded', 'false']]);
    expect(step(second, 'never').map((a) => a.status)).toEqual(['skipped']);
    // The failed step ran again as a fresh first attempt of the new run.
    expect(peer.hits('/chain/b')).toBe(2);
    expect(step(second, 'b').map((a) => [a.attempt, a.status])).toEqual([[1, 'succeeded']]);
    // The original is left as it was.
    const again = await h.waitForRun(first.id);
    expect(again.status).toBe('failed');
    expect(again.attempts).toEqual(first.attempts);
  });

  it('retries a forEach from its failed item: finished items and finished steps of the failed item are kept', async () => {
    peer.failFirst('/each/call/2');
    const definition: WorkflowDefinition = {
      name: 'retry-each',
      nodes: [
        {
          id: 'each',
          type: 'flow.forEach',
          params: {
            items: '{{ input.items }}',
            do: {
              nodes: [
                get('pre', '/each/pre/{{ item }}'),
                get('call', '/each/call/{{ item }}'),
                { id: 'label', type: 'transform', params: { value: '{{ item }}-{{ steps.call.output.body.hit }}' } },
              ],
              edges: [
                { from: 'pre', to: 'call' },
                { from: 'call', to: 'label' },
              ],
            },
          },
        },
      ],
    };
    const first = await h.run(definition, { items: [1, 2, 3] });
    expect(first.status).toBe('failed');
    expect(first.error?.code).toBe('ITEM_FAILED');
    expect(peer.hits('/each/pre/3')).toBe(0);

    const second = await retry(first.id);
    expect(second.status).toBe('succeeded');
    expect(second.output).toEqual(['1-1', '2-2', '3-1']);
    expect([1, 2, 3].map((i) => [peer.hits(`/each/pre/${i}`), peer.hits(`/each/call/${i}`)])).toEqual([
      [1, 1],
      [1, 2],
      [1, 1],
    ]);
    expect(step(second, 'call', 'each[0]')).toEqual(step(first, 'call', 'each[0]'));
    expect(step(second, 'pre', 'each[1]')).toEqual(step(first, 'pre', 'each[1]'));
    expect(step(second, 'call', 'each[1]').map((a) => [a.attempt, a.status])).toEqual([[1, 'succeeded']]);
  });

  it('keeps a failure that an error edge handled, and runs again the one that failed the run', async () => {
    peer.failFirst('/handled/a');
    peer.failFirst('/handled/last');
    const first = await h.run({
      name: 'retry-handled',
      nodes: [
        get('a', '/handled/a'),
        { id: 'fallback', type: 'transform', params: { value: 'fallback' } },
        get('last', '/handled/last'),
      ],
      edges: [
        { from: 'a', to: 'fallback', port: 'error' },
        { from: 'fallback', to: 'last' },
      ],
    });
    expect(first.status).toBe('failed');
    const second = await retry(first.id);
    expect(second.status).toBe('succeeded');
    expect(step(second, 'a').map((a) => a.status)).toEqual(['failed']);
    expect(peer.hits('/handled/a')).toBe(1);
    expect(peer.hits('/handled/last')).toBe(2);
  });

  it('retries a cancelled run: the cancelled step runs again', async () => {
    peer.hold('/cancelled/a');
    const saved = await h.deploy({
      name: 'retry-cancelled',
      nodes: [get('a', '/cancelled/a', { timeout: '30s' }), get('b', '/cancelled/b')],
      edges: [{ from: 'a', to: 'b' }],
    });
    const { runId } = await h.engine.startRun({ tenantId: h.tenantId, ...saved, trigger: { type: 'test' } });
    for (let i = 0; i < 200 && peer.hits('/cancelled/a') === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await h.engine.cancelRun({ tenantId: h.tenantId, runId })).toBe(true);
    expect((await h.waitForRun(runId)).status).toBe('cancelled');
    peer.release('/cancelled/a');
    const second = await retry(runId);
    expect(second.status).toBe('succeeded');
    expect(peer.hits('/cancelled/a')).toBe(2);
    expect(peer.hits('/cancelled/b')).toBe(1);
  });

  it('refuses runs that are not failed or cancelled, and runs that do not exist', async () => {
    const ok = await h.run({ name: 'retry-ok', nodes: [{ id: 'n', type: 'transform', params: { value: 1 } }] });
    expect(await h.engine.retryRun({ tenantId: h.tenantId, runId: ok.id })).toEqual({
      kind: 'notRetryable',
      status: 'succeeded',
    });
    expect(await h.engine.retryRun({ tenantId: h.tenantId, runId: '01900000-0000-7000-8000-000000000000' })).toEqual({
      kind: 'notFound',
    });
    // Another tenant's run does not exist for this one.
    const other = await h.tenant('retry-other');
    expect(await h.engine.retryRun({ tenantId: other, runId: ok.id })).toEqual({ kind: 'notFound' });
  });

  it('a retry that waits for a concurrency slot starts from its kept steps once admitted', async () => {
    peer.failFirst('/slot/q');
    const definition: WorkflowDefinition = {
      name: 'retry-slot',
      settings: { concurrency: 1 },
      nodes: [get('p', '/slot/p', { timeout: '30s' }), get('q', '/slot/q')],
      edges: [{ from: 'p', to: 'q' }],
    };
    const first = await h.run(definition);
    expect(first.status).toBe('failed');
    // A second run holds the only slot while its first step waits.
    peer.hold('/slot/p');
    const saved = await h.deploy(definition);
    const blocker = await h.engine.startRun({ tenantId: h.tenantId, ...saved, trigger: { type: 'test' } });
    for (let i = 0; i < 200 && peer.hits('/slot/p') < 2; i++) await new Promise((r) => setTimeout(r, 10));
    const result = await h.engine.retryRun({ tenantId: h.tenantId, runId: first.id });
    expect(result).toMatchObject({ kind: 'started', status: 'queued', kept: 1 });
    if (result.kind !== 'started') return;
    peer.release('/slot/p');
    expect((await h.waitForRun(blocker.runId)).status).toBe('succeeded');
    const second = await h.waitForRun(result.runId);
    expect(second.status).toBe('succeeded');
    expect(peer.hits('/slot/p')).toBe(2);
    expect(peer.hits('/slot/q')).toBe(3);
    expect(step(second, 'p')).toEqual(step(first, 'p'));
  });
});
