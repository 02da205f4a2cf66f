import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { NodeTypeRegistry, NodeTypeSpec } from './node-type';
import { formatPath, parsePath, type ValidationIssue, validateDefinition } from './validate';

const specs: NodeTypeSpec[] = [
  { type: 'flow.if', params: z.object({ condition: z.unknown() }), ports: () => ['true', 'false'] },
  {
    type: 'flow.forEach',
    params: z.object({
      items: z.unknown(),
      concurrency: z.number().int().min(1).optional(),
      do: z.unknown(),
    }),
    rawParams: ['do'],
    subgraphParam: 'do',
  },
  { type: 'transform', params: z.object({ value: z.unknown() }) },
  {
    type: 'http.request',
    params: z.object({
      method: z.enum(['GET', 'POST', 'PUT', 'DELETE']),
      url: z.string(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
    }),
  },
  { type: 'code.js', params: z.object({ code: z.string() }), rawParams: ['code'] },
];
const registry: NodeTypeRegistry = new Map(specs.map((s) => [s.type, s]));

const fetchNode = { id: 'fetch', type: 'http.request', params: { method: 'GET', url: 'https://x.test' } };

function errorsOf(raw: unknown): ValidationIssue[] {
  const result = validateDefinition(raw, registry);
  if (result.ok) throw new Error('expected validation to fail');
  return result.errors;
}

function at(issues: readonly ValidationIssue[], path: string): string[] {
  return issues.filter((i) => i.path === path).map((i) => i.message);
}

describe('validateDefinition', () => {
  it('accepts a valid definition and returns it with defaults', () => {
    const result = validateDefinition(
      {
        name: 'Order sync',
        nodes: [
          fetchNode,
          { id: 'big', type: 'flow.if', params: { condition: '{{ steps.fetch.output.body.total > 100 }}' } },
          {
            id: 'each',
            type: 'flow.forEach',
            params: {
              items: '{{ steps.fetch.output.body.orders }}',
              do: { nodes: [{ id: 'fetch', type: 'transform', params: { value: '{{ item }}' } }] },
            },
          },
        ],
        edges: [
          { from: 'fetch', to: 'big' },
          { from: 'big', to: 'each', port: 'true' },
        ],
      },
      registry,
    );
    expect(result).toMatchObject({ ok: true, definition: { name: 'Order sync' } });
  });

  it('reports schema problems in plain words at their paths', () => {
    const issues = errorsOf({
      description: 5,
      settings: { priority: 'urgent', timeout: 'soon', retry: { attempts: 0, delay: '1 second' } },
      nodes: [{ id: 'Bad-Id', type: 'transform', params: { value: 1 }, timeout: '10', colour: 'red' }],
      foo: 1,
    });
    expect(at(issues, 'name')).toEqual(['required']);
    expect(at(issues, 'description')).toEqual(['must be a string, not a number']);
    expect(at(issues, 'settings.priority')).toEqual(['must be one of low, normal, high']);
    expect(at(issues, 'settings.timeout')).toEqual(['must be a duration such as 250ms, 30s, 5m, 2h, 1d']);
    expect(at(issues, 'settings.retry.attempts')).toEqual(['must be at least 1']);
    expect(at(issues, 'settings.retry.delay')).toHaveLength(1);
    expect(at(issues, 'nodes[0].id')).toEqual(['must match ^[a-z][a-z0-9_]{0,62}$']);
    expect(at(issues, 'nodes[0].timeout')).toHaveLength(1);
    expect(at(issues, 'nodes[0].colour')).toEqual(['unknown key "colour"']);
    expect(at(issues, 'foo')).toEqual(['unknown key "foo"']);
  });

  it('reports a definition that is not an object at path ""', () => {
    for (const raw of [null, 'name: x', 42, [], undefined]) {
      expect(errorsOf(raw)).toEqual([
        { path: '', message: expect.stringMatching(/^(must be an object|required)/) },
      ]);
    }
  });

  it('reports an unknown trigger type and the event address rule', () => {
    const issues = errorsOf({
      name: 'x',
      nodes: [fetchNode],
      triggers: [
        { type: 'email' },
        { type: 'event', source: 'nats', credential: 'n', queue: 'q' },
        { type: 'webhook', path: '/x' },
      ],
    });
    expect(at(issues, 'triggers[0].type')).toEqual(['must be one of cron, webhook, event']);
    expect(at(issues, 'triggers[1].subject')).toEqual(['required for source nats']);
    expect(at(issues, 'triggers[1].queue')).toEqual(['not allowed for source nats (use subject)']);
    expect(at(issues, 'triggers[2].path')).toHaveLength(1);
  });

  it('names an unknown node type and suggests the nearest known one', () => {
    const issues = errorsOf({
      name: 'x',
      nodes: [
        { id: 'a', type: 'http.requst' },
        { id: 'b', type: 'totally.unknown' },
      ],
    });
    expect(at(issues, 'nodes[0].type')).toEqual([
      'unknown node type "http.requst" (did you mean "http.request"?)',
    ]);
    expect(at(issues, 'nodes[1].type')).toEqual(['unknown node type "totally.unknown"']);
  });

  it('reports duplicate ids, edges to missing nodes and an empty graph', () => {
    const dup = errorsOf({
      name: 'x',
      nodes: [fetchNode, fetchNode],
      edges: [{ from: 'fetch', to: 'nope' }],
    });
    expect(at(dup, 'nodes[1].id')).toEqual(['duplicate node id "fetch" (also nodes[0])']);
    expect(at(dup, 'edges[0].to')).toEqual(['no node "nope" in this graph']);
    const missing = errorsOf({ name: 'x', nodes: [fetchNode], edges: [{ from: 'ghost', to: 'fetch' }] });
    expect(at(missing, 'edges[0].from')).toEqual(['no node "ghost" in this graph']);
    expect(at(errorsOf({ name: 'x', nodes: [] }), 'nodes')).toEqual(['a graph needs at least one node']);
  });

  it('checks edge ports against the ports of the from node', () => {
    const issues = errorsOf({
      name: 'x',
      nodes: [fetchNode, { id: 'big', type: 'flow.if', params: { condition: true } }],
      edges: [
        { from: 'fetch', to: 'big', port: 'true' },
        { from: 'big', to: 'fetch', port: 'yes' },
      ],
    });
    expect(at(issues, 'edges[0].port')).toEqual([
      'node "fetch" (http.request) has no port "true"; valid ports: success, error',
    ]);
    expect(at(issues, 'edges[1].port')).toEqual([
      'node "big" (flow.if) has no port "yes"; valid ports: success, error, true, false',
    ]);
  });

  it('names the nodes of a cycle at an edge in it', () => {
    const t = (id: string) => ({ id, type: 'transform', params: { value: 1 } });
    const issues = errorsOf({
      name: 'x',
      nodes: [t('a'), t('b'), t('c'), t('d')],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
        { from: 'c', to: 'a' },
        { from: 'd', to: 'd' },
      ],
    });
    expect(issues).toEqual([
      { path: 'edges[2]', message: 'cycle: a -> b -> c -> a' },
      { path: 'edges[3]', message: 'cycle: d -> d' },
    ]);
  });

  it('checks params against the node type, accepting an expression wherever a value is expected', () => {
    const issues = errorsOf({
      name: 'x',
      nodes: [
        { id: 'a', type: 'http.request', params: { method: 'FETCH', url: 5 } },
        { id: 'b', type: 'http.request', params: { method: '{{ input.method }}', url: '{{ input.url }}' } },
        {
          id: 'c',
          type: 'http.request',
          params: { method: 'GET', url: 'u', headers: '{{ input.headers }}' },
        },
        {
          id: 'd',
          type: 'http.request',
          params: { method: 'GET', url: 'u', headers: { x: '{{ 1 }}', y: 2 } },
        },
        { id: 'e', type: 'http.request' },
      ],
    });
    expect(at(issues, 'nodes[0].params.method')).toEqual(['must be one of GET, POST, PUT, DELETE']);
    expect(at(issues, 'nodes[0].params.url')).toEqual(['must be a string, not a number']);
    expect(issues.filter((i) => /nodes\[[12]\]/.test(i.path))).toEqual([]);
    expect(at(issues, 'nodes[3].params.headers.y')).toEqual(['must be a string, not a number']);
    expect(at(issues, 'nodes[4].params.method')).toEqual(['required (one of GET, POST, PUT, DELETE)']);
    expect(at(issues, 'nodes[4].params.url')).toEqual(['required']);
  });

  it('reports an expression that does not compile, quoting JSONata, except in raw params', () => {
    const issues = errorsOf({
      name: 'x',
      nodes: [
        {
          id: 'a',
          type: 'http.request',
          params: {
            method: 'GET',
            url: 'https://x.test/{{ input.id + }}',
            body: { list: ['ok', '{{ ( }}'] },
          },
        },
        { id: 'b', type: 'code.js', params: { code: 'return `{{ ( }}`' } },
        { id: 'c', type: 'transform', params: { value: 'hello {{ name' } },
      ],
    });
    expect(at(issues, 'nodes[0].params.url')).toEqual([
      expect.stringMatching(
        /^invalid expression \{\{ input\.id \+ \}\}: .*Unexpected end of expression.* at position 12$/,
      ),
    ]);
    expect(at(issues, 'nodes[0].params.body.list[1]')).toHaveLength(1);
    expect(issues.filter((i) => i.path.startsWith('nodes[1]'))).toEqual([]);
    expect(at(issues, 'nodes[2].params.value')).toEqual([expect.stringMatching(/unclosed/)]);
  });

  it('validates the inline graph of flow.forEach the same way, ids unique per graph', () => {
    const issues = errorsOf({
      name: 'x',
      nodes: [
        fetchNode,
        {
          id: 'each',
          type: 'flow.forEach',
          params: {
            items: '{{ steps.fetch.output }}',
            do: {
              nodes: [
                { id: 'fetch', type: 'transform', params: { value: '{{ item }}' } },
                { id: 'inner', type: 'transfrom' },
                { id: 'fetch', type: 'http.request', params: { method: 'GET', url: '{{ ) }}' } },
              ],
              edges: [
                { from: 'fetch', to: 'each' },
                { from: 'fetch', to: 'fetch', port: 'sideways' },
              ],
              extra: true,
            },
          },
        },
        { id: 'empty', type: 'flow.forEach', params: { items: [], do: { nodes: [] } } },
      ],
    });
    const inner = 'nodes[1].params.do';
    expect(at(issues, `${inner}.nodes[1].type`)).toEqual([
      'unknown node type "transfrom" (did you mean "transform"?)',
    ]);
    expect(at(issues, `${inner}.nodes[2].id`)).toEqual([
      `duplicate node id "fetch" (also ${inner}.nodes[0])`,
    ]);
    expect(at(issues, `${inner}.nodes[2].params.url`)).toHaveLength(1);
    expect(at(issues, `${inner}.edges[0].to`)).toEqual(['no node "each" in this graph']);
    expect(at(issues, `${inner}.edges[1].port`)).toHaveLength(1);
    expect(at(issues, `${inner}.edges[1]`)).toEqual(['cycle: fetch -> fetch']);
    expect(at(issues, `${inner}.extra`)).toEqual(['unknown key "extra"']);
    expect(at(issues, 'nodes[2].params.do.nodes')).toEqual(['a graph needs at least one node']);
    expect(issues.some((i) => i.path === 'nodes[0].id')).toBe(false);
  });

  it('reports a missing inline graph', () => {
    const issues = errorsOf({
      name: 'x',
      nodes: [{ id: 'each', type: 'flow.forEach', params: { items: [], do: '{{ input.graph }}' } }],
    });
    expect(at(issues, 'nodes[0].params.do')).toEqual(['must be an object, not a string']);
  });

  it('reports a params schema or ports function that throws instead of throwing', () => {
    const broken: NodeTypeRegistry = new Map([
      [
        'boom',
        {
          type: 'boom',
          params: z.object({}).superRefine(() => {
            throw new Error('kaput');
          }),
          ports: () => {
            throw new Error('no ports');
          },
        },
      ],
    ]);
    const result = validateDefinition(
      { name: 'x', nodes: [{ id: 'a', type: 'boom' }], edges: [{ from: 'a', to: 'a', port: 'p' }] },
      broken,
    );
    expect(result).toMatchObject({
      ok: false,
      errors: expect.arrayContaining([{ path: 'nodes[0].params', message: expect.stringMatching(/kaput/) }]),
    });
  });

  it('never throws and always answers ok or a non-empty list of issues', () => {
    const node = fc.record(
      {
        id: fc.oneof(fc.constantFrom('a', 'b', 'c'), fc.string()),
        type: fc.oneof(fc.constantFrom(...registry.keys()), fc.string()),
        params: fc.oneof(fc.anything(), fc.dictionary(fc.string(), fc.anything())),
      },
      { requiredKeys: [] },
    );
    const definition = fc.record(
      {
        name: fc.oneof(fc.string(), fc.anything()),
        nodes: fc.oneof(fc.array(node), fc.anything()),
        edges: fc.oneof(
          fc.array(fc.record({ from: fc.constantFrom('a', 'b', 'c'), to: fc.constantFrom('a', 'b', 'c') })),
          fc.anything(),
        ),
        settings: fc.anything(),
        triggers: fc.anything(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.anything({ withNullPrototype: true, withObjectString: true }), definition),
        (raw) => {
          const result = validateDefinition(raw, registry);
          return result.ok ? typeof result.definition.name === 'string' : result.errors.length > 0;
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('copes with deeply nested junk', () => {
    let deep: unknown = '{{ ( }}';
    for (let i = 0; i < 50_000; i += 1) deep = [deep];
    const issues = errorsOf({ name: 'x', nodes: [{ id: 'a', type: 'transform', params: { value: deep } }] });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toMatch(/^nodes\[0\]\.params\.value(\[0\])+$/);
  });
});

describe('paths', () => {
  it('formats keys with dots and indexes in brackets, quoting odd keys', () => {
    expect(formatPath(['nodes', 2, 'params', 'url'])).toBe('nodes[2].params.url');
    expect(formatPath(['nodes', 0, 'params', 'headers', 'Content-Type'])).toBe(
      'nodes[0].params.headers.Content-Type',
    );
    expect(formatPath(['params', 'a.b', '0', 'x y'])).toBe('params["a.b"]["0"]["x y"]');
    expect(formatPath([])).toBe('');
  });

  it('reads back what it formats', () => {
    for (const segments of [['nodes', 2, 'params', 'url'], ['a.b', 0, ''], [], ['edges', 0]]) {
      expect(parsePath(formatPath(segments))).toEqual(segments);
    }
    expect(parsePath('.name')).toBeUndefined();
    expect(parsePath('a..b')).toBeUndefined();
  });
});
