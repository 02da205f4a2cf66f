import { isDeepStrictEqual } from 'node:util';
import type { WorkflowDefinition } from '@automateiq/core';
import { newId } from '../lib/ids';
import type { Database } from '../store/database';
import { findWorkflowByName } from '../store/queries/find-workflow-by-name';
import { insertWorkflow } from '../store/queries/insert-workflow';
import { insertWorkflowVersion } from '../store/queries/insert-workflow-version';

/**
 * Saves a definition under its name in the tenant: a new workflow, a new version when the definition
 * changed, or the latest version as it is. Used by `aiq run FILE`, where the file is the workflow.
 */
export async function saveWorkflowByName(
  db: Database,
  args: { tenantId: string; definition: WorkflowDefinition },
): Promise<{ workflowId: string; version: number }> {
  const { tenantId, definition } = args;
  return db.withTenant(tenantId, async (tx) => {
    const found = await findWorkflowByName(tx, tenantId, definition.name);
    if (!found) {
      const id = newId();
      await insertWorkflow(tx, { tenantId, id, definition });
      return { workflowId: id, version: 1 };
    }
    if (isDeepStrictEqual(found.definition, JSON.parse(JSON.stringify(definition)))) {
      return { workflowId: found.id, version: found.latestVersion };
    }
    const version = await insertWorkflowVersion(tx, { tenantId, workflowId: found.id, definition });
    if (version === undefined) throw new Error(`workflow ${found.id} vanished while saving`);
    return { workflowId: found.id, version };
  });
}
