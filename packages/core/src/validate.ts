import type { z } from 'zod';
import { graphDefinitionSchema, workflowDefinitionSchema } from './definition-schema';
import { compileTemplate, ExpressionError, hasExpression } from './expression';
import { ERROR_PORT, SUCCESS_PORT, type WorkflowDefinition } from './model';
import type { NodeTypeRegistry, NodeTypeSpec } from './node-type';

/** One problem in a definition. */
export interface ValidationIssue {
  /**
   * Where: keys joined by dots, indexes in brackets (`nodes[2].params.url`, `edges[0].to`); a key
   * that is not a plain name is quoted (`headers["a.b"]`). `""` is the whole definition.
   */
  path: string;
  message: string;
  /** 1-based line in the source text, when the definition came from text. */
  line?: number;
}

export type ValidationResult =
  | { ok: true; definition: WorkflowDefinition }
  | { ok: false; errors: ValidationIssue[] };

export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/** Renders path segments in the `ValidationIssue.path` format. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

const PATH_TOKEN = /^(?:\.?([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])/;

/** Reads a path written by `formatPath` back into segments; `undefined` when it is not one. */
export function parsePath(path: string): PathSegment[] | undefined {
  const segments: PathSegment[] = [];
  let rest = path;
  while (rest !== '') {
    const match = PATH_TOKEN.exec(rest);
    if (match === null) return undefined;
    const [token, name, index, quoted] = match;
    if (name !== undefined) {
      if (token.startsWith('.') === (segments.length === 0)) return undefined;
      segments.push(name);
    } else if (index !== undefined) segments.push(Number(index));
    else if (quoted !== undefined) {
      const key: unknown = JSON.parse(quoted);
      if (typeof key !== 'string') return undefined;
      segments.push(key);
    }
    rest = rest.slice(token.length);
  }
  return segments;
}

/** How deep inline graphs (`flow.forEach` inside `flow.forEach` …) may nest. */
export const MAX_GRAPH_NESTING = 16;

/**
 * Checks a definition as read from JSON or YAML and reports every problem found, each at its path:
 * the shape (definition-schema.ts), node types, duplicate node ids, edges to missing nodes or from
 * ports their node does not have, cycles, empty graphs, each node's params against its type's
 * schema (a `{{ … }}` string is accepted wherever the schema would refuse it), expressions that do
 * not compile, and inline graphs (`subgraphParam`) the same way. Never throws.
 */
export function validateDefinition(raw: unknown, registry: NodeTypeRegistry): ValidationResult {
  const issues: ValidationIssue[] = [];
  try {
    const parsed = workflowDefinitionSchema.safeParse(raw, { reportInput: true });
    if (!parsed.success) addZodIssues(issues, parsed.error.issues, []);
    if (isRecord(raw)) checkGraph(raw, [], { registry, issues, nesting: 0 });
    if (parsed.success && issues.length === 0) return { ok: true, definition: parsed.data };
  } catch (err) {
    // A safety net: nothing above is expected to throw, whatever `raw` is.
    issues.push({ path: '', message: `validation stopped by an internal error: ${describeError(err)}` });
  }
  return { ok: false, errors: dedupe(issues) };
}

interface Context {
  registry: NodeTypeRegistry;
  issues: ValidationIssue[];
  /** How many inline graphs enclose the current one. */
  nesting: number;
}

interface NodeEntry {
  index: number;
  type: string | undefined;
  spec: NodeTypeSpec | undefined;
  params: Record<string, unknown>;
}

function checkGraph(graph: Record<string, unknown>, at: readonly PathSegment[], ctx: Context): void {
  const nodes = Array.isArray(graph.nodes) ? graph.nodes : undefined;
  if (nodes?.length === 0) {
    issue(ctx, [...at, 'nodes'], 'a graph needs at least one node');
  }
  const byId = new Map<string, NodeEntry>();
  nodes?.forEach((node: unknown, index) => {
    if (!isRecord(node)) return;
    const nodeAt = [...at, 'nodes', index];
    const type = typeof node.type === 'string' && node.type !== '' ? node.type : undefined;
    const spec = type === undefined ? undefined : ctx.registry.get(type);
    const params = isRecord(node.params) ? node.params : {};
    if (typeof node.id === 'string') {
      const first = byId.get(node.id);
      if (first !== undefined) {
        issue(
          ctx,
          [...nodeAt, 'id'],
          `duplicate node id "${node.id}" (also ${formatPath([...at, 'nodes', first.index])})`,
        );
      } else {
        byId.set(node.id, { index, type, spec, params });
      }
    }
    if (type === undefined) return;
    if (spec === undefined) {
      issue(ctx, [...nodeAt, 'type'], unknownTypeMessage(type, ctx.registry));
      return;
    }
    if (node.params === undefined || isRecord(node.params))
      checkParams(params, spec, [...nodeAt, 'params'], ctx);
  });

  const edges = Array.isArray(graph.edges) ? graph.edges : [];
  const next = new Map<string, { to: string; edge: number }[]>();
  edges.forEach((edge: unknown, index) => {
    if (!isRecord(edge)) return;
    const edgeAt = [...at, 'edges', index];
    const from = typeof edge.from === 'string' && edge.from !== '' ? edge.from : undefined;
    const to = typeof edge.to === 'string' && edge.to !== '' ? edge.to : undefined;
    const source = from === undefined ? undefined : byId.get(from);
    if (from !== undefined && source === undefined) {
      issue(ctx, [...edgeAt, 'from'], `no node "${from}" in this graph`);
    }
    if (to !== undefined && !byId.has(to)) {
      issue(ctx, [...edgeAt, 'to'], `no node "${to}" in this graph`);
    }
    const port = edge.port === undefined ? SUCCESS_PORT : edge.port;
    if (source !== undefined && typeof port === 'string') {
      const ports = portsOf(source);
      if (ports !== undefined && !ports.includes(port)) {
        issue(
          ctx,
          [...edgeAt, 'port'],
          `node "${from}" (${source.type}) has no port "${port}"; valid ports: ${ports.join(', ')}`,
        );
      }
    }
    if (from !== undefined && to !== undefined && source !== undefined && byId.has(to)) {
      const list = next.get(from) ?? [];
      list.push({ to, edge: index });
      next.set(from, list);
    }
  });

  for (const cycle of findCycles([...byId.keys()], next)) {
    issue(ctx, [...at, 'edges', cycle.edge], `cycle: ${cycle.nodes.join(' -> ')}`);
  }
}

/** `success`, `error` and the node type's own ports; `undefined` when the type is unknown. */
function portsOf(node: NodeEntry): readonly string[] | undefined {
  if (node.spec === undefined) return undefined;
  let own: readonly string[];
  try {
    own = node.spec.ports?.(node.params) ?? [];
  } catch {
    // The params are wrong in a way the params check reports; the ports cannot be known.
    return undefined;
  }
  return [SUCCESS_PORT, ERROR_PORT, ...own.filter((p) => p !== SUCCESS_PORT && p !== ERROR_PORT)];
}

function checkParams(
  params: Record<string, unknown>,
  spec: NodeTypeSpec,
  at: readonly PathSegment[],
  ctx: Context,
): void {
  let parsed: ReturnType<NodeTypeSpec['params']['safeParse']>;
  try {
    parsed = spec.params.safeParse(params, { reportInput: true });
  } catch (err) {
    issue(ctx, at, `the params schema of ${spec.type} failed: ${describeError(err)}`);
    return;
  }
  if (!parsed.success) {
    const kept = parsed.error.issues.filter(
      (zi) =>
        !(spec.subgraphParam !== undefined && zi.path[0] === spec.subgraphParam) &&
        !landsOnExpression(params, zi.path),
    );
    addZodIssues(ctx.issues, kept, at);
  }

  const raw = new Set(spec.rawParams ?? []);
  for (const [key, value] of Object.entries(params)) {
    if (!raw.has(key)) checkExpressions(value, [...at, key], ctx);
  }

  const sub = spec.subgraphParam;
  if (sub !== undefined && Object.hasOwn(params, sub)) checkSubgraph(params[sub], [...at, sub], ctx);
}

function checkSubgraph(graph: unknown, at: readonly PathSegment[], ctx: Context): void {
  if (ctx.nesting >= MAX_GRAPH_NESTING) {
    issue(ctx, at, `inline graphs nest deeper than ${MAX_GRAPH_NESTING} levels`);
    return;
  }
  const parsed = graphDefinitionSchema.safeParse(graph, { reportInput: true });
  if (!parsed.success) addZodIssues(ctx.issues, parsed.error.issues, at);
  if (isRecord(graph)) checkGraph(graph, at, { ...ctx, nesting: ctx.nesting + 1 });
}

/** A path as a chain to the root, so walking deep data does not copy paths at every level. */
interface PathLink {
  segment: PathSegment;
  parent: PathLink | undefined;
}

function materialize(at: readonly PathSegment[], link: PathLink | undefined): PathSegment[] {
  const tail: PathSegment[] = [];
  for (let l = link; l !== undefined; l = l.parent) tail.push(l.segment);
  return [...at, ...tail.reverse()];
}

/** Every string holding `{{` anywhere under `value` must compile. Iterative: data may nest deeply. */
function checkExpressions(value: unknown, at: readonly PathSegment[], ctx: Context): void {
  const stack: { value: unknown; link: PathLink | undefined }[] = [{ value, link: undefined }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value: v, link } = item;
    if (typeof v === 'string') {
      if (hasExpression(v)) {
        const problem = expressionProblem(v);
        if (problem !== undefined) issue(ctx, materialize(at, link), problem);
      }
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i -= 1)
        stack.push({ value: v[i], link: { segment: i, parent: link } });
    } else if (isRecord(v)) {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i -= 1) {
        const entry = entries[i];
        if (entry !== undefined) stack.push({ value: entry[1], link: { segment: entry[0], parent: link } });
      }
    }
  }
}

function expressionProblem(text: string): string | undefined {
  try {
    compileTemplate(text);
    return undefined;
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    const where = err.position === undefined ? '' : ` at position ${err.position}`;
    return `invalid expression {{${truncate(err.expression, 80)}}}: ${err.message}${where}`;
  }
}

/** True when a params issue is at, or under, a string holding an expression. */
function landsOnExpression(params: unknown, path: readonly PropertyKey[]): boolean {
  let value = params;
  for (const seg of path) {
    if (typeof value === 'string') return hasExpression(value);
    if (Array.isArray(value) && typeof seg === 'number') value = value[seg];
    else if (isRecord(value) && typeof seg === 'string')
      value = Object.hasOwn(value, seg) ? value[seg] : undefined;
    else return false;
  }
  return typeof value === 'string' && hasExpression(value);
}

// ---------------------------------------------------------------------------------------------
// Cycles
// ---------------------------------------------------------------------------------------------

/** One cycle per back edge of a depth-first search: the nodes in order, closed, and that edge. */
function findCycles(
  ids: readonly string[],
  next: ReadonlyMap<string, readonly { to: string; edge: number }[]>,
): { nodes: string[]; edge: number }[] {
  const cycles: { nodes: string[]; edge: number }[] = [];
  const state = new Map<string, 'open' | 'done'>();
  for (const start of ids) {
    if (state.has(start)) continue;
    const path: string[] = [start];
    const cursor: number[] = [0];
    state.set(start, 'open');
    while (path.length > 0) {
      const top = path.length - 1;
      const id = path[top] ?? '';
      const out = next.get(id) ?? [];
      const at = cursor[top] ?? 0;
      const step = out[at];
      if (step === undefined) {
        state.set(id, 'done');
        path.pop();
        cursor.pop();
        continue;
      }
      cursor[top] = at + 1;
      const seen = state.get(step.to);
      if (seen === 'open') {
        cycles.push({ nodes: [...path.slice(path.indexOf(step.to)), step.to], edge: step.edge });
      } else if (seen === undefined) {
        state.set(step.to, 'open');
        path.push(step.to);
        cursor.push(0);
      }
    }
  }
  return cycles;
}

// ---------------------------------------------------------------------------------------------
// Zod issues in words
// ---------------------------------------------------------------------------------------------

function addZodIssues(
  issues: ValidationIssue[],
  zodIssues: readonly z.core.$ZodIssue[],
  at: readonly PathSegment[],
): void {
  for (const zi of zodIssues) {
    const path = [...at, ...zi.path.map(toSegment)];
    if (zi.code === 'unrecognized_keys') {
      for (const key of zi.keys)
        issues.push({ path: formatPath([...path, key]), message: `unknown key "${key}"` });
    } else {
      issues.push({ path: formatPath(path), message: describeZodIssue(zi) });
    }
  }
}

function describeZodIssue(zi: z.core.$ZodIssue): string {
  switch (zi.code) {
    case 'invalid_type':
      if (zi.input === undefined) return 'required';
      return `must be ${article(zi.expected)}, not ${kindOf(zi.input)}`;
    case 'invalid_value':
      if (zi.input === undefined) return `required (one of ${zi.values.map(String).join(', ')})`;
      return zi.values.length === 1
        ? `must be ${JSON.stringify(String(zi.values[0]))}`
        : `must be one of ${zi.values.map(String).join(', ')}`;
    case 'invalid_union':
      // A discriminated union names its options (not in zod's issue type).
      if ('options' in zi && Array.isArray(zi.options)) {
        const options = zi.options.map(String).join(', ');
        return zi.input === undefined ? `required (one of ${options})` : `must be one of ${options}`;
      }
      return 'matches none of the allowed shapes';
    case 'too_small':
      return describeBound({
        origin: zi.origin,
        word: 'at least',
        limit: zi.minimum,
        inclusive: zi.inclusive,
      });
    case 'too_big':
      return describeBound({
        origin: zi.origin,
        word: 'at most',
        limit: zi.maximum,
        inclusive: zi.inclusive,
      });
    case 'invalid_format':
      return zi.format === 'regex' && zi.pattern !== undefined
        ? `must match ${zi.pattern.replace(/^\/(.*)\/[a-z]*$/, '$1')}`
        : `must be a valid ${zi.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(zi.divisor)}`;
    default:
      return zi.message;
  }
}

function describeBound(bound: {
  origin: string;
  word: 'at least' | 'at most';
  limit: number | bigint;
  inclusive: boolean | undefined;
}): string {
  const { origin, word, inclusive } = bound;
  const n = Number(bound.limit);
  switch (origin) {
    case 'string':
      if (word === 'at least' && n === 1) return 'must not be empty';
      return `must be ${word} ${n} character${n === 1 ? '' : 's'} long`;
    case 'array':
    case 'set':
      if (word === 'at least' && n === 1) return 'must not be empty';
      return `must have ${word} ${n} item${n === 1 ? '' : 's'}`;
    default:
      if (inclusive === false) return `must be ${word === 'at least' ? 'greater' : 'less'} than ${n}`;
      return `must be ${word} ${n}`;
  }
}

function article(expected: string): string {
  switch (expected) {
    case 'int':
      return 'a whole number';
    case 'array':
    case 'object':
      return `an ${expected}`;
    case 'nan':
    case 'null':
    case 'undefined':
      return expected;
    default:
      return `a ${expected}`;
  }
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isInteger(value)) return `${value}`;
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function unknownTypeMessage(type: string, registry: NodeTypeRegistry): string {
  const near = nearest(type, [...registry.keys()]);
  return near === undefined
    ? `unknown node type "${truncate(type, 80)}"`
    : `unknown node type "${truncate(type, 80)}" (did you mean "${near}"?)`;
}

/** The known name closest to `name` by edit distance, when it is close enough to be a typo. */
function nearest(name: string, known: readonly string[]): string | undefined {
  if (name.length > 100) return undefined;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length * 0.3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function issue(ctx: Context, path: readonly PathSegment[], message: string): void {
  ctx.issues.push({ path: formatPath(path), message });
}

function toSegment(key: PropertyKey): PathSegment {
  return typeof key === 'symbol' ? String(key) : key;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function describeError(err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return 'unprintable error';
  }
}

function dedupe(issues: readonly ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
