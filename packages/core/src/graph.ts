import type { GraphDefinition, NodeDefinition, WorkflowDefinition } from './model';
import { SUCCESS_PORT } from './model';
import type { NodeTypeRegistry } from './node-type';

/** An edge with its port resolved (`success` when the definition leaves it out). */
export interface CompiledEdge {
  readonly from: string;
  readonly to: string;
  readonly port: string;
}

/** One graph (the workflow's, or a `flow.forEach` node's inline `do` graph), indexed for the planner. */
export interface CompiledGraph {
  /** Nodes by id, in definition order. */
  readonly nodes: ReadonlyMap<string, NodeDefinition>;
  /** Every node id once, each after all its predecessors; among nodes free to go, definition order. */
  readonly order: readonly string[];
  /** Edges arriving at each node, in definition order. Every node has an entry (maybe empty). */
  readonly incoming: ReadonlyMap<string, readonly CompiledEdge[]>;
  /** Edges leaving each node, in definition order. Every node has an entry (maybe empty). */
  readonly outgoing: ReadonlyMap<string, readonly CompiledEdge[]>;
  /** Nodes without outgoing edges, in definition order. Their outputs make up the graph's output. */
  readonly terminals: readonly string[];
  /** The compiled inline graph of each node whose type declares a `subgraphParam` (`flow.forEach`). */
  readonly subgraphs: ReadonlyMap<string, CompiledGraph>;
}

/** A validated workflow definition, compiled once per version and shared by every plan call. */
export interface CompiledWorkflow {
  readonly definition: WorkflowDefinition;
  /** The top-level graph; its scope is `''`. */
  readonly graph: CompiledGraph;
}

/** One level of a scope: item `index` of the `flow.forEach` node `nodeId`. */
export interface ScopeSegment {
  readonly nodeId: string;
  readonly index: number;
}

/**
 * Compiles a definition that has already passed validation (acyclic, unique ids, edges between
 * existing nodes). Node types missing from `registry` are compiled as plain nodes.
 * Throws an `Error` when the graph has a cycle, and a `TypeError` when a subgraph param does not
 * hold a `{ nodes, edges }` graph — both mean the definition was not validated.
 */
export function compileWorkflow(
  definition: WorkflowDefinition,
  registry: NodeTypeRegistry,
): CompiledWorkflow {
  return { definition, graph: compileGraph(definition, registry) };
}

/** Compiles one graph and, recursively, the inline graphs of its nodes. Same contract as `compileWorkflow`. */
export function compileGraph(definition: GraphDefinition, registry: NodeTypeRegistry): CompiledGraph {
  const nodes = new Map(definition.nodes.map((node) => [node.id, node] as const));
  const incoming = new Map<string, CompiledEdge[]>(definition.nodes.map((node) => [node.id, []]));
  const outgoing = new Map<string, CompiledEdge[]>(definition.nodes.map((node) => [node.id, []]));
  for (const edge of definition.edges ?? []) {
    const compiled: CompiledEdge = { from: edge.from, to: edge.to, port: edge.port ?? SUCCESS_PORT };
    incoming.get(edge.to)?.push(compiled);
    outgoing.get(edge.from)?.push(compiled);
  }
  return {
    nodes,
    order: topologicalOrder(definition.nodes, incoming, outgoing),
    incoming,
    outgoing,
    terminals: definition.nodes.filter((node) => outgoing.get(node.id)?.length === 0).map((node) => node.id),
    subgraphs: compileSubgraphs(definition.nodes, registry),
  };
}

function compileSubgraphs(
  nodes: readonly NodeDefinition[],
  registry: NodeTypeRegistry,
): Map<string, CompiledGraph> {
  const subgraphs = new Map<string, CompiledGraph>();
  for (const node of nodes) {
    const param = registry.get(node.type)?.subgraphParam;
    if (param === undefined) continue;
    subgraphs.set(
      node.id,
      compileGraph(asGraphDefinition(node.params?.[param], `${node.id}.params.${param}`), registry),
    );
  }
  return subgraphs;
}

/** Kahn's algorithm; the ready set is kept sorted by definition index so the order is stable. */
function topologicalOrder(
  nodes: readonly NodeDefinition[],
  incoming: ReadonlyMap<string, readonly CompiledEdge[]>,
  outgoing: ReadonlyMap<string, readonly CompiledEdge[]>,
): string[] {
  const position = new Map(nodes.map((node, index) => [node.id, index] as const));
  const waitingFor = new Map(nodes.map((node) => [node.id, incoming.get(node.id)?.length ?? 0] as const));
  const ready = nodes.flatMap((node, index) => (waitingFor.get(node.id) === 0 ? [index] : []));
  const order: string[] = [];
  for (let index = ready.shift(); index !== undefined; index = ready.shift()) {
    const node = nodes[index];
    if (node === undefined) continue;
    order.push(node.id);
    for (const edge of outgoing.get(node.id) ?? []) {
      const left = (waitingFor.get(edge.to) ?? 0) - 1;
      waitingFor.set(edge.to, left);
      const to = position.get(edge.to);
      if (left === 0 && to !== undefined) insertSorted(ready, to);
    }
  }
  if (order.length !== nodes.length) throw new Error('The graph has a cycle; validate the definition first');
  return order;
}

function insertSorted(sorted: number[], value: number): void {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] ?? 0) < value) low = middle + 1;
    else high = middle;
  }
  sorted.splice(low, 0, value);
}

function asGraphDefinition(value: unknown, where: string): GraphDefinition {
  if (!isRecord(value) || !Array.isArray(value.nodes) || !value.nodes.every(isNodeDefinition)) {
    throw new TypeError(`${where} is not a graph ({ nodes, edges }); validate the definition first`);
  }
  const edges = value.edges ?? [];
  if (!Array.isArray(edges) || !edges.every(isEdgeDefinition)) {
    throw new TypeError(`${where}.edges is not a list of edges; validate the definition first`);
  }
  return { nodes: value.nodes, edges };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNodeDefinition(value: unknown): value is NodeDefinition {
  return isRecord(value) && typeof value.id === 'string' && typeof value.type === 'string';
}

function isEdgeDefinition(value: unknown): value is { from: string; to: string; port?: string } {
  return (
    isRecord(value) &&
    typeof value.from === 'string' &&
    typeof value.to === 'string' &&
    (value.port === undefined || typeof value.port === 'string')
  );
}

// ---------------------------------------------------------------------------------------------
// Scopes: '' is the top-level graph, `each[3]` item 3 of node `each`, `each[3]/inner[0]` deeper.
// ---------------------------------------------------------------------------------------------

const SEGMENT = /^([a-z][a-z0-9_]{0,62})\[(0|[1-9]\d{0,9})\]$/;

/** The scope of item `index` (0-based) of the `flow.forEach` node `nodeId` that lives in `parentScope`. */
export function itemScope(parentScope: string, nodeId: string, index: number): string {
  const segment = `${nodeId}[${index}]`;
  return parentScope === '' ? segment : `${parentScope}/${segment}`;
}

/** The levels of a scope, outermost first (`[]` for `''`). Throws a `RangeError` when it is not a scope. */
export function parseScope(scope: string): ScopeSegment[] {
  if (scope === '') return [];
  return scope.split('/').map((text) => {
    const match = SEGMENT.exec(text);
    if (!match) throw new RangeError(`"${scope}" is not a scope (expected e.g. each[3]/inner[0])`);
    const [, nodeId = '', index = '0'] = match;
    return { nodeId, index: Number(index) };
  });
}

/**
 * The graph whose nodes live in `scope`. Throws a `RangeError` when the scope does not exist in this
 * workflow (a level names a node without an inline graph).
 */
export function graphOfScope(workflow: CompiledWorkflow, scope: string): CompiledGraph {
  let graph = workflow.graph;
  for (const { nodeId } of parseScope(scope)) {
    const inner = graph.subgraphs.get(nodeId);
    if (inner === undefined) throw new RangeError(`"${scope}": node ${nodeId} has no inline graph there`);
    graph = inner;
  }
  return graph;
}
