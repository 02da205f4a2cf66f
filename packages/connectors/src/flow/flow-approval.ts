import { ConnectorError, defineNode } from '@automateiq/connector-kit';
import { durationSchema, parseDuration } from '@automateiq/core';
import { z } from 'zod';
import { sendSmtp } from '../email/send-smtp';

/** The roles a member needs to decide, unless the node names others. */
export const DEFAULT_APPROVER_ROLES = ['owner', 'admin'] as const;

const params = z
  .object({
    message: z.string().min(1).max(5_000).describe('What is to be decided, for the approvers.'),
    subject: z.string().min(1).max(200).optional().describe('The e-mail subject. Default: "Approval needed: <message>".'),
    to: z.array(z.email()).min(1).max(50).optional().describe("Approvers' e-mail addresses (the node's credential: an smtp one)."),
    webhook: z.url({ protocol: /^https?$/ }).optional().describe('A URL that is POSTed the request as JSON.'),
    roles: z
      .array(z.enum(['owner', 'admin', 'editor', 'operator', 'viewer']))
      .min(1)
      .optional()
      .describe('Roles of the members who may decide. Default: owner, admin.'),
    timeout: durationSchema.optional().describe('How long to wait for a decision before the error port (TIMEOUT). Default: for ever.'),
  })
  .strict()
  .describe('flow.approval params');

/** The event that carries a decision on the approval node `nodeId`. */
export function approvalEvent(nodeId: string): string {
  return `approval:${nodeId}`;
}

/**
 * `flow.approval`: asks people to decide, then parks the run (no worker held) until a member with a
 * permitted role approves or rejects (`POST /v1/runs/:id/approvals/:nodeId`). Sends the request by
 * e-mail (SMTP, the node's credential) and/or to a webhook, with approve and reject links. Leaves by
 * the `approved` or `rejected` port with `{ decision, by, at, comment }`; by `error` (TIMEOUT) when
 * nobody decided in time.
 */
export const flowApproval = defineNode({
  type: 'flow.approval',
  title: 'Approval',
  description: 'Asks members to approve or reject (e-mail or webhook), then continues by their decision.',
  params,
  ports: () => ['approved', 'rejected'],
  execute: async (ctx) => {
    const { message, to, webhook, timeout } = ctx.params;
    const roles = ctx.params.roles ?? [...DEFAULT_APPROVER_ROLES];
    const page = `${ctx.publicUrl ?? ''}/approvals/${ctx.run.id}/${ctx.node.id}`;
    const links = { approve: `${page}?decision=approve`, reject: `${page}?decision=reject` };
    const api = `${ctx.publicUrl ?? ''}/v1/runs/${ctx.run.id}/approvals/${ctx.node.id}`;
    if (to) {
      const text = [
        message,
        '',
        `Approve: ${links.approve}`,
        `Reject:  ${links.reject}`,
        '',
        `Members with the role ${roles.join(' or ')} may decide; signed in, or with POST ${api} {"decision": "approve"|"reject"}.`,
        `Run ${ctx.run.id}, step ${ctx.node.id}.`,
      ].join('\n');
      await sendSmtp({
        credential: ctx.credential,
        http: ctx.http,
        signal: ctx.signal,
        mail: { to, subject: ctx.params.subject ?? `Approval needed: ${message.slice(0, 120)}`, text },
      });
      ctx.logger.info('approval request sent by e-mail', { to: to.length });
    }
    if (webhook) {
      const response = await ctx.http.fetch(webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': ctx.idempotencyKey },
        body: JSON.stringify({ runId: ctx.run.id, nodeId: ctx.node.id, message, roles, links, decide: api }),
        signal: ctx.signal,
      });
      await response.body?.cancel();
      if (!response.ok) {
        const fail = response.status >= 500 || response.status === 429 ? ConnectorError.retryable : ConnectorError.fatal;
        throw fail('WEBHOOK_FAILED', `the approval webhook answered ${response.status}`, { status: response.status });
      }
    }
    const timeoutMs = timeout === undefined ? undefined : parseDuration(timeout);
    return {
      kind: 'waitForEvent',
      event: approvalEvent(ctx.node.id),
      timeoutAt: timeoutMs === undefined ? undefined : new Date(ctx.now() + timeoutMs),
    };
  },
});
