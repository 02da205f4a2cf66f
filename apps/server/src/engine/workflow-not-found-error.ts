/** A run was asked of a workflow that does not exist (or was deleted) in the tenant. */
export class WorkflowNotFoundError extends Error {
  override name = 'WorkflowNotFoundError';
}
