import { CronSchedule, type TriggerDefinition, type WorkflowDefinition } from '@automateiq/core';
import type { Tx } from '../store/database';
import { isUniqueViolation } from '../store/pg-errors';
import { findTakenWebhookPaths } from '../store/queries/find-taken-webhook-paths';
import { getWorkflow } from '../store/queries/get-workflow';
import { type ArmedTriggerRow, replaceTriggers } from '../store/queries/replace-triggers';

/** Another workflow of the tenant holds the webhook path of trigger `position`. */
export class WebhookPathTakenError extends Error {
  override name = 'WebhookPathTakenError';
  constructor(
    readonly path: string,
    readonly position: number,
  ) {
    super(`another active workflow of the tenant answers webhook path "${path}"`);
  }
}

/**
 * Makes the armed triggers follow the workflow's state, in the caller's transaction: an active workflow's
 * triggers are those of its latest version (cron ticks from `now` on); a deactivated or deleted one has
 * none. Called after every change of state or definition. Throws `WebhookPathTakenError`.
 */
export async function syncTriggers(
  tx: Tx,
  args: { tenantId: string; workflowId: string; now?: number },
): Promise<void> {
  const { tenantId, workflowId } = args;
  const workflow = await getWorkflow(tx, { tenantId, workflowId });
  const triggers = workflow?.active ? armedRows(workflow.definition, new Date(args.now ?? Date.now())) : [];
  const webhooks = triggers.filter((t): t is ArmedTriggerRow & { path: string } => t.path !== null);
  const taken = await findTakenWebhookPaths(tx, { tenantId, workflowId, paths: webhooks.map((t) => t.path) });
  const first = webhooks.find((t) => taken.has(t.path));
  if (first) throw new WebhookPathTakenError(first.path, first.position);
  await replaceTriggers(tx, { tenantId, workflowId, version: workflow?.version ?? 0, triggers }).catch((error: unknown) => {
    // Two activations at once: the index decides.
    if (isUniqueViolation(error, 'triggers_webhook_path') && webhooks[0])
      throw new WebhookPathTakenError(webhooks[0].path, webhooks[0].position);
    throw error;
  });
}

/** The rows of a definition's triggers, armed at `now`. */
export function armedRows(definition: WorkflowDefinition, now: Date): ArmedTriggerRow[] {
  return (definition.triggers ?? []).map((trigger, position) => armedRow(trigger, position, now));
}

function armedRow(trigger: TriggerDefinition, position: number, now: Date): ArmedTriggerRow {
  const config = { ...trigger } as Record<string, unknown>;
  switch (trigger.type) {
    case 'cron':
      return {
        position,
        type: 'cron',
        config,
        path: null,
        // A schedule with no future tick (e.g. 30 February) is armed for never.
        nextFireAt: CronSchedule.parse(trigger.schedule, trigger.timezone).next(now) ?? new Date('9999-12-31T00:00:00Z'),
      };
    case 'webhook':
      return { position, type: 'webhook', config, path: trigger.path, nextFireAt: null };
    case 'event':
      return { position, type: 'event', config, path: null, nextFireAt: null };
  }
}
