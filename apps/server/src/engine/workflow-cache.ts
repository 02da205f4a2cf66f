import {
  type CompiledWorkflow,
  compileRetryPolicy,
  compileWorkflow,
  durationMs,
  type NodeTypeRegistry,
  type RetryPolicy,
  type WorkflowDefinition,
} from '@automateiq/core';
import type { Database, Tx } from '../store/database';
import { getWorkflowVersion } from '../store/queries/get-workflow-version';

/** A workflow version ready to run: compiled once, then shared by every run of that version. */
export interface LoadedWorkflow {
  definition: WorkflowDefinition;
  compiled: CompiledWorkflow;
  /** The workflow's default retry policy (settings.retry). */
  retry: RetryPolicy;
  /** settings.timeout in ms, if any. */
  runTimeoutMs: number | undefined;
}

/**
 * Versions are immutable, so a compiled version can be cached for as long as the process lives.
 * The cache is bounded; an evicted version is simply read and compiled again.
 */
export class WorkflowCache {
  private readonly entries = new Map<string, LoadedWorkflow>();

  constructor(private readonly options: { db: Database; registry: NodeTypeRegistry; maxEntries?: number }) {}

  /** The compiled version; read with `tx` when given (inside a transaction of that tenant), else in one of its own. */
  async get(
    args: { tenantId: string; workflowId: string; version: number },
    tx?: Tx,
  ): Promise<LoadedWorkflow> {
    const key = workflowKey(args);
    const hit = this.entries.get(key);
    if (hit) return hit;
    const definition = tx
      ? await getWorkflowVersion(tx, args)
      : await this.options.db.withTenant(args.tenantId, (own) => getWorkflowVersion(own, args));
    if (!definition) throw new Error(`workflow version ${key} not found`);
    return this.remember(key, definition);
  }

  /** Compiles a definition already in hand (e.g. just saved) and caches it under its version. */
  remember(key: string, definition: WorkflowDefinition): LoadedWorkflow {
    const loaded: LoadedWorkflow = {
      definition,
      compiled: compileWorkflow(definition, this.options.registry),
      retry: compileRetryPolicy(definition.settings?.retry),
      runTimeoutMs:
        definition.settings?.timeout === undefined ? undefined : durationMs(definition.settings.timeout),
    };
    if (this.entries.size >= (this.options.maxEntries ?? 1_000)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, loaded);
    return loaded;
  }
}

export function workflowKey(args: { tenantId: string; workflowId: string; version: number }): string {
  return `${args.tenantId}/${args.workflowId}/${args.version}`;
}
