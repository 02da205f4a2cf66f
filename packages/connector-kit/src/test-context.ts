import type { ConnectorContext } from './connector';
import { createMemoryLogger } from './memory-logger';
import { createSafeHttpClient } from './safe-http';

/**
 * A `ConnectorContext` for tests: `partial` wins, the rest is filled with defaults —
 * a signal that never aborts, a memory logger, idempotency key `test-run:test-node`, no credential,
 * attempt 1, fixed run and node ids, an empty scope, a safe HTTP client with an empty allow-list,
 * the real clock, and limits of 64 MiB and 1,000 ms for `code.js`.
 */
export function createTestContext<P>(
  partial: Partial<ConnectorContext<P>> & { params: P },
): ConnectorContext<P> {
  return {
    signal: new AbortController().signal,
    logger: createMemoryLogger(),
    idempotencyKey: 'test-run:test-node',
    credential: undefined,
    attempt: 1,
    run: { id: 'test-run', tenantId: 'test-tenant', workflowId: 'test-workflow', version: 1 },
    node: { id: 'test_node', type: 'test' },
    scope: {},
    http: createSafeHttpClient({ allow: [] }),
    now: () => Date.now(),
    limits: { codeMemoryMb: 64, codeTimeoutMs: 1_000 },
    ...partial,
  };
}
