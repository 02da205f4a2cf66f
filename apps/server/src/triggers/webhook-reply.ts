import {
  compileTemplate,
  evaluateTemplate,
  expressionScope,
  type RunInfo,
  type StepState,
  type WorkflowDefinition,
} from '@automateiq/core';

/** What a `respond: sync` webhook answers for a run that succeeded. */
export interface WebhookReply {
  status: number;
  headers: Record<string, string>;
  /** The run's output: sent as is when a string with a Content-Type of the workflow's, else as JSON. */
  body: unknown;
}

/** Headers a workflow may not set: the server frames the answer itself. */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'trailer']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * The answer to a sync webhook whose run succeeded: the run's output, with the status and headers of
 * the `flow.return` node that ran in the top-level graph (its `status` and `headers` params, expressions
 * evaluated over the run as it ended), else 200. Headers that frame the message, or that are not valid
 * HTTP, are left out.
 */
export async function webhookReply(args: {
  definition: WorkflowDefinition;
  steps: readonly StepState[];
  run: RunInfo;
  output: unknown;
  expressionTimeoutMs?: number;
}): Promise<WebhookReply> {
  const returned = args.definition.nodes.find(
    (node) =>
      node.type === 'flow.return' &&
      args.steps.some((s) => s.scope === '' && s.nodeId === node.id && s.status === 'succeeded'),
  );
  const reply: WebhookReply = { status: 200, headers: {}, body: args.output };
  if (!returned) return reply;
  const { status, headers } = returned.params ?? {};
  const scope = expressionScope({ state: { steps: args.steps }, scope: '', run: args.run, vars: {} });
  const evaluated = (await evaluateTemplate(compileTemplate({ status, headers }), scope, {
    timeoutMs: args.expressionTimeoutMs ?? 1_000,
    now: () => performance.now(),
  })) as { status?: unknown; headers?: unknown };
  if (typeof evaluated.status === 'number' && Number.isInteger(evaluated.status) && evaluated.status >= 100 && evaluated.status <= 599)
    reply.status = evaluated.status;
  if (evaluated.headers && typeof evaluated.headers === 'object') {
    for (const [name, value] of Object.entries(evaluated.headers as Record<string, unknown>)) {
      const text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
      if (text === undefined || !HEADER_NAME.test(name) || !HEADER_VALUE.test(text)) continue;
      if (FRAMING_HEADERS.has(name.toLowerCase())) continue;
      reply.headers[name.toLowerCase()] = text;
    }
  }
  return reply;
}
