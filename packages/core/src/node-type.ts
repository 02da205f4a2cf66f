import type { z } from 'zod';

/**
 * What the workflow language needs to know about a node type to validate and plan a definition.
 * Connectors (packages/connector-kit) extend this with how to execute the node.
 */
export interface NodeTypeSpec {
  /** e.g. `http.request`. */
  type: string;
  /**
   * Schema of the node's params after expressions are evaluated. At validation time a param whose
   * value is a string holding `{{ … }}` is accepted wherever the schema would refuse it.
   */
  params: z.ZodType;
  /** The node's own ports beyond `success` and `error` (e.g. `true`/`false`), given its params. */
  ports?: (params: Record<string, unknown>) => readonly string[];
  /** Top-level params that are not templates and are passed through unevaluated (e.g. `code`, `do`). */
  rawParams?: readonly string[];
  /** Top-level param holding an inline graph (`flow.forEach`'s `do`), validated and planned as a graph. */
  subgraphParam?: string;
}

export type NodeTypeRegistry = ReadonlyMap<string, NodeTypeSpec>;
