import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { NodeTypeRegistry, NodeTypeSpec } from './node-type';
import { formatIssue, loadDefinition, parseDefinitionText } from './parse-definition';

const specs: NodeTypeSpec[] = [
  { type: 'flow.if', params: z.object({ condition: z.unknown() }), ports: () => ['true', 'false'] },
  {
    type: 'flow.forEach',
    params: z.object({ items: z.unknown(), do: z.unknown() }),
    rawParams: ['do'],
    subgraphParam: 'do',
  },
  { type: 'transform', params: z.object({ value: z.unknown() }) },
  { type: 'http.request', params: z.object({ method: z.enum(['GET', 'POST']), url: z.string() }) },
];
const registry: NodeTypeRegistry = new Map(specs.map((s) => [s.type, s]));

const yamlText = `name: Order sync
settings:
  priority: urgent
nodes:
  - id: fetch
    type: http.request
    params:
      method: GET
      url: "https://shop.example.com/orders?since={{ input.since }}"
  - id: big
    type: flow.if
    params: { condition: "{{ steps.fetch.output.body.total > 100 }}" }
  - id: each
    type: flow.forEch
  - id: loop
    type: flow.forEach
    params:
      items: []
      do:
        nodes:
          - id: inner
            type: transform
            params:
              value: "{{ item + }}"
edges:
  - { from: fetch, to: big }
  - from: big
    to: each
    port: "yes"
`;

function parsed(text: string, format: 'yaml' | 'json' = 'yaml') {
  const result = parseDefinitionText(text, { format });
  if (!result.ok) throw new Error(`expected ${format} to parse: ${JSON.stringify(result.errors)}`);
  return result;
}

describe('parseDefinitionText', () => {
  it('reads YAML into plain data', () => {
    const { raw } = parsed(yamlText);
    expect(raw).toMatchObject({ name: 'Order sync', nodes: [{ id: 'fetch' }, { id: 'big' }, {}, {}] });
  });

  it('finds the 1-based line of a path in YAML', () => {
    const { lineOf } = parsed(yamlText);
    expect(lineOf('name')).toBe(1);
    expect(lineOf('settings.priority')).toBe(3);
    expect(lineOf('nodes[0]')).toBe(5);
    expect(lineOf('nodes[2].type')).toBe(14);
    expect(lineOf('nodes[1].params.condition')).toBe(12);
    expect(lineOf('nodes[3].params.do.nodes[0].params.value')).toBe(24);
    expect(lineOf('edges[1].port')).toBe(29);
  });

  it('falls back to the nearest ancestor for a path that is not written, and knows nothing of ""', () => {
    const { lineOf } = parsed(yamlText);
    expect(lineOf('nodes[2].params.url')).toBe(13);
    expect(lineOf('nodes[9]')).toBe(4);
    expect(lineOf('')).toBeUndefined();
    expect(lineOf('not a path!')).toBeUndefined();
  });

  it('finds lines in JSON text too', () => {
    const json = JSON.stringify(
      { name: 'x', nodes: [{ id: 'a', type: 'transform', params: { value: 1 } }], edges: [] },
      null,
      2,
    );
    const { raw, lineOf } = parsed(json, 'json');
    expect(raw).toMatchObject({ name: 'x' });
    expect(lineOf('name')).toBe(2);
    expect(lineOf('nodes[0].type')).toBe(6);
    expect(lineOf('nodes[0].params.value')).toBe(8);
  });

  it('reads tab-indented JSON', () => {
    const { lineOf } = parsed('{\n\t"name": "x",\n\t"nodes": [\n\t\t{ "id": "a" }\n\t]\n}', 'json');
    expect(lineOf('nodes[0].id')).toBe(4);
  });

  it('turns a YAML syntax error into an issue at path "" with its line', () => {
    const result = parseDefinitionText('name: x\nnodes:\n  - id: a\n   type: b\n', { format: 'yaml' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors[0]).toMatchObject({ path: '', line: 4 });
      expect(result.errors[0]?.message).not.toMatch(/\n/);
    }
  });

  it('refuses duplicate YAML keys', () => {
    const result = parseDefinitionText('name: x\nname: y\n', { format: 'yaml' });
    expect(result).toMatchObject({ ok: false, errors: [{ path: '', line: 2 }] });
  });

  it('turns a JSON syntax error into an issue with its line', () => {
    const result = parseDefinitionText('{\n  "name": "x",\n  "nodes": [,]\n}', { format: 'json' });
    expect(result).toMatchObject({ ok: false, errors: [{ path: '', line: 3 }] });
  });

  it('refuses a YAML alias bomb', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
    ].join('\n');
    expect(parseDefinitionText(bomb, { format: 'yaml' }).ok).toBe(false);
  });
});

describe('loadDefinition', () => {
  it('validates and puts the line on every issue', () => {
    const result = loadDefinition(yamlText, { format: 'yaml', registry });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual(
      expect.arrayContaining([
        { path: 'settings.priority', message: 'must be one of low, normal, high', line: 3 },
        {
          path: 'nodes[2].type',
          message: 'unknown node type "flow.forEch" (did you mean "flow.forEach"?)',
          line: 14,
        },
        {
          path: 'nodes[3].params.do.nodes[0].params.value',
          message: expect.stringMatching(/^invalid expression/),
          line: 24,
        },
        {
          path: 'edges[1].port',
          message: 'node "big" (flow.if) has no port "yes"; valid ports: success, error, true, false',
          line: 29,
        },
      ]),
    );
    expect(result.errors).toHaveLength(4);
  });

  it('returns the definition when it is valid', () => {
    const result = loadDefinition(
      'name: ok\nnodes:\n  - { id: a, type: transform, params: { value: 1 } }\n',
      {
        format: 'yaml',
        registry,
      },
    );
    expect(result).toEqual({
      ok: true,
      definition: { name: 'ok', nodes: [{ id: 'a', type: 'transform', params: { value: 1 } }], edges: [] },
    });
  });

  it('passes syntax errors through', () => {
    expect(loadDefinition('{', { format: 'json', registry })).toMatchObject({
      ok: false,
      errors: [{ path: '' }],
    });
  });
});

describe('formatIssue', () => {
  it('writes FILE:PATH: message (line N)', () => {
    expect(
      formatIssue('flow.yaml', { path: 'edges[0].to', message: 'no node "x" in this graph', line: 7 }),
    ).toBe('flow.yaml:edges[0].to: no node "x" in this graph (line 7)');
  });

  it('leaves out what is unknown', () => {
    expect(formatIssue('flow.yaml', { path: 'name', message: 'required' })).toBe('flow.yaml:name: required');
    expect(formatIssue('flow.yaml', { path: '', message: 'must be an object', line: 1 })).toBe(
      'flow.yaml: must be an object (line 1)',
    );
  });
});
