/**
 * Bad input never breaks the API. For every route, fast-check takes the route's valid request (from
 * the route catalogue) and spoils one thing, guided by the route's schemas in the OpenAPI document:
 * a wrong type, a missing required field, an extra property, a huge string, an invalid path
 * parameter, a bad query value, a body that is not JSON, a wrong content type, a bad header. The
 * answer is never a 5xx; every 4xx is problem+json with { type, title, status, detail, code } and no
 * stack trace; a 400 AIQ_VALIDATION lists `errors[]` whose paths name the spoilt field.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApiHarness } from '../support/api-harness';
import {
  type Answer,
  type CatalogueProblems,
  type CatalogueRoute,
  catalogueProblems,
  codeOf,
  contractRoutes,
  describeExchange,
  expectCompleteCatalogue,
  fixtureRequest,
  inCallOrder,
  isRegistered,
  makeTenantData,
  problemFault,
  reportCatalogue,
  type ApiRequest,
  send,
  type TenantData,
} from './route-catalogue';

/** Runs per route. */
const RUNS = 25;
/** The body limit of this suite's server, so that huge strings reach it cheaply. */
const BODY_LIMIT = 256 * 1024;

/** The part of JSON Schema (as the OpenAPI document writes it) that the generators read. */
interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
}

interface Parameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  required?: boolean;
  schema?: JsonSchema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

/** One way to spoil a valid request. */
type Spoil =
  | { kind: 'pathParam'; name: string; value: string }
  | { kind: 'pathRaw'; name: string; raw: string }
  | { kind: 'queryValue'; name: string; value: string }
  | { kind: 'queryRepeat'; name: string; values: [string, string] }
  | { kind: 'queryExtra'; name: string; value: string }
  | { kind: 'headerValue'; name: string; value: string }
  | { kind: 'tenantHeader'; value: string }
  | { kind: 'bodyReplace'; value: unknown }
  | { kind: 'bodyMissing'; field: string }
  | { kind: 'bodyField'; path: string[]; value: unknown }
  | { kind: 'bodyExtra'; field: string; value: unknown }
  | { kind: 'bodyHuge'; path: string[]; length: number }
  | { kind: 'bodyRawNumber'; field: string; token: string }
  | { kind: 'notJson'; raw: string }
  | { kind: 'contentType'; contentType: string; raw: string };

const JSON_TYPES = ['string', 'integer', 'number', 'boolean', 'null', 'array', 'object'] as const;
type JsonType = (typeof JSON_TYPES)[number];

const ANY_OF_TYPE: Record<JsonType, fc.Arbitrary<unknown>> = {
  string: fc.string({ maxLength: 20 }),
  integer: fc.integer(),
  number: fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n)),
  boolean: fc.boolean(),
  null: fc.constant(null),
  array: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  object: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
};

const NOT_JSON = fc.oneof(
  fc.constantFrom(
    '{',
    '{"a":',
    "{'a': 1}",
    '[1, 2',
    'nul',
    '{"a": undefined}',
    '{"a": 1,}',
    '\u0000',
    '{"__proto__": {"isAdmin": true}}',
    '{"constructor": {"prototype": {"isAdmin": true}}}',
    `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
  ),
  fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !isJson(s)),
);

const WRONG_CONTENT_TYPES = fc.constantFrom(
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/jsonx',
  'text/json; charset=utf-8',
  'image/png',
);

const BAD_UUIDS = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.constantFrom('0', 'null', 'undefined', '..', '-', 'x'.repeat(250), '{id}', ':id', ' ', 'true', '[]', '1e9'),
  fc.uuid().map((u) => u.slice(1)),
  fc.uuid().map((u) => `${u}0`),
  fc.uuid().map((u) => u.replace(/[0-9a-f]$/, 'g')),
  fc.uuid().map((u) => u.replaceAll('-', '')),
);

const BAD_INTEGERS = (schema: JsonSchema) =>
  fc.oneof(
    fc.constantFrom('abc', '1.5', '-1', '0', '1e400', '', '0x10', ' 7', 'NaN', 'Infinity', '99999999999999999999', '١'),
    ...(schema.maximum !== undefined ? [fc.constant(String(schema.maximum + 1))] : []),
    ...(schema.minimum !== undefined ? [fc.constant(String(schema.minimum - 1))] : []),
  );

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('bad input', () => {
  let h: ApiHarness;
  let data: TenantData;
  let doc: OpenApiDocument;
  let problems: CatalogueProblems;

  beforeAll(async () => {
    h = await startApiHarness({ workers: 1, env: { AIQ_IP_RATE_LIMIT: '1000000', AIQ_BODY_LIMIT: String(BODY_LIMIT) } });
    data = await makeTenantData(h, await h.tenant('bad-input'));
    doc = h.app.swagger() as unknown as OpenApiDocument;
    problems = catalogueProblems(h.app);
    reportCatalogue('bad-input', problems);
  });
  afterAll(async () => h?.close());

  it('has a fixture for every route, and a contract for every registered /v1 route', () => {
    expectCompleteCatalogue(problems);
  });

  it('the OpenAPI document resolves every $ref it makes', () => {
    const refs = new Set(JSON.stringify(doc).match(/"#\/components\/schemas\/[^"]+"/g) ?? []);
    const dangling = [...refs].map((ref) => ref.slice(1, -1)).filter((ref) => resolve({ $ref: ref }) === undefined);
    expect(dangling).toEqual([]);
  });

  /** A schema with its $ref followed; undefined when the ref points nowhere. */
  function resolve(schema: JsonSchema | undefined): JsonSchema | undefined {
    let current = schema;
    for (let hops = 0; current?.$ref !== undefined && hops < 10; hops++) {
      const name = current.$ref.replace('#/components/schemas/', '');
      current = doc.components?.schemas?.[name];
    }
    return current;
  }

  /** The JSON types a schema admits; undefined: any value (or a schema the document cannot resolve). */
  function typesOf(raw: JsonSchema | undefined): Set<JsonType> | undefined {
    const schema = resolve(raw);
    if (!schema) return undefined;
    if (schema.anyOf) {
      const all = new Set<JsonType>();
      for (const option of schema.anyOf) {
        const types = typesOf(option);
        if (!types) return undefined;
        for (const t of types) all.add(t);
      }
      return all;
    }
    if (schema.type === undefined) return schema.enum ? new Set(schema.enum.map(jsonTypeOf)) : undefined;
    const types = new Set((Array.isArray(schema.type) ? schema.type : [schema.type]) as JsonType[]);
    if (types.has('number')) types.add('integer');
    return types;
  }

  /** Values that break a schema: other JSON types, and strings or numbers outside its bounds. */
  function wrongValue(raw: JsonSchema | undefined): fc.Arbitrary<unknown> | undefined {
    const schema = resolve(raw);
    const types = typesOf(schema);
    if (!schema || !types) return undefined;
    const options: fc.Arbitrary<unknown>[] = JSON_TYPES.filter((t) => !types.has(t)).map((t) => ANY_OF_TYPE[t]);
    const simple = schema.anyOf?.map(resolve).find((s) => s?.type !== 'null') ?? schema;
    if (simple.enum) options.push(fc.string({ maxLength: 12 }).filter((s) => !simple.enum?.includes(s)));
    if (simple.maxLength !== undefined) {
      const max = simple.maxLength;
      options.push(fc.integer({ min: max + 1, max: max + 50 }).map((n) => 'x'.repeat(n)));
    }
    if (simple.minLength !== undefined && simple.minLength > 0) options.push(fc.constant('x'.repeat(simple.minLength - 1)));
    if (simple.pattern !== undefined || simple.format !== undefined) options.push(fc.string({ maxLength: 30 }));
    if (simple.maximum !== undefined) options.push(fc.integer({ min: 1, max: 1_000 }).map((n) => (simple.maximum ?? 0) + n));
    if (simple.minimum !== undefined) options.push(fc.integer({ min: 1, max: 1_000 }).map((n) => (simple.minimum ?? 0) - n));
    return options.length > 0 ? fc.oneof(...options) : undefined;
  }

  /** Strings that break a path or query parameter's schema. */
  function wrongString(raw: JsonSchema | undefined): fc.Arbitrary<string> | undefined {
    const schema = resolve(raw);
    if (!schema) return undefined;
    if (schema.type === 'integer' || schema.type === 'number') return BAD_INTEGERS(schema);
    if (schema.format === 'uuid') return BAD_UUIDS;
    const options: fc.Arbitrary<string>[] = [];
    if (schema.enum) options.push(fc.string({ maxLength: 12 }).filter((s) => !schema.enum?.includes(s)));
    if (schema.maxLength !== undefined) {
      const max = schema.maxLength;
      options.push(fc.integer({ min: max + 1, max: max + 50 }).map((n) => 'x'.repeat(n)));
    }
    if (schema.minLength !== undefined && schema.minLength > 0) options.push(fc.constant(''));
    if (schema.pattern !== undefined || schema.format !== undefined) options.push(fc.string({ maxLength: 30 }));
    return options.length > 0 ? fc.oneof(...options) : undefined;
  }

  function operationOf(route: CatalogueRoute): Operation {
    const operation = doc.paths[route.url.replace(/:(\w+)/g, '{$1}')]?.[route.method.toLowerCase()];
    if (!operation) throw new Error(`${route.key} is not in the OpenAPI document`);
    return operation;
  }

  /** Every way this route's request can be spoilt, from its OpenAPI operation. */
  function spoils(route: CatalogueRoute, base: ApiRequest): fc.Arbitrary<Spoil> {
    const operation = operationOf(route);
    const options: fc.Arbitrary<Spoil>[] = [
      NOT_JSON.map((raw): Spoil => ({ kind: 'notJson', raw })),
      WRONG_CONTENT_TYPES.map((contentType): Spoil => ({ kind: 'contentType', contentType, raw: JSON.stringify(base.body ?? {}) })),
      fc.string({ minLength: 1, maxLength: 12 }).filter((s) => /^[a-zA-Z_]\w*$/.test(s)).chain((name) =>
        fc.string({ maxLength: 20 }).map((value): Spoil => ({ kind: 'queryExtra', name: `x${name}`, value })),
      ),
    ];
    if (route.access.kind !== 'public')
      options.push(fc.stringMatching(/^[!-~]{1,60}$/).map((value): Spoil => ({ kind: 'tenantHeader', value })));
    for (const parameter of operation.parameters ?? []) {
      const bad = wrongString(parameter.schema);
      if (parameter.in === 'path') {
        if (bad) options.push(bad.map((value): Spoil => ({ kind: 'pathParam', name: parameter.name, value })));
        options.push(fc.constantFrom('%', '%zz', '%E0%A4%A', '%C0%AF', '%00').map((raw): Spoil => ({ kind: 'pathRaw', name: parameter.name, raw })));
      } else if (parameter.in === 'query') {
        if (bad) options.push(bad.map((value): Spoil => ({ kind: 'queryValue', name: parameter.name, value })));
        options.push(fc.tuple(fc.constant('1'), fc.constant('2')).map((values): Spoil => ({ kind: 'queryRepeat', name: parameter.name, values })));
        options.push(fc.integer({ min: 5_000, max: 50_000 }).map((n): Spoil => ({ kind: 'queryValue', name: parameter.name, value: 'q'.repeat(n) })));
      } else if (parameter.in === 'header' && bad) {
        options.push(bad.filter((v) => /^[ -~]*$/.test(v)).map((value): Spoil => ({ kind: 'headerValue', name: parameter.name, value })));
      }
    }
    const body = resolve(operation.requestBody?.content?.['application/json']?.schema);
    if (body) {
      options.push(
        fc.oneof(ANY_OF_TYPE.string, ANY_OF_TYPE.integer, ANY_OF_TYPE.boolean, ANY_OF_TYPE.null, ANY_OF_TYPE.array)
          .map((value): Spoil => ({ kind: 'bodyReplace', value })),
      );
      const required = body.required ?? [];
      if (required.length > 0) options.push(fc.constantFrom(...required).map((field): Spoil => ({ kind: 'bodyMissing', field })));
      if (body.additionalProperties === false)
        options.push(
          fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 1 }))
            .filter(([field]) => !(field in (body.properties ?? {})) && field !== '__proto__')
            .map(([field, value]): Spoil => ({ kind: 'bodyExtra', field, value })),
        );
      for (const [field, fieldSchema] of Object.entries(body.properties ?? {})) {
        const paths: [string[], JsonSchema | undefined][] = [[[field], fieldSchema]];
        const nested = resolve(fieldSchema);
        for (const [inner, innerSchema] of Object.entries(nested?.properties ?? {})) paths.push([[field, inner], innerSchema]);
        for (const [path, schema] of paths) {
          const bad = wrongValue(schema);
          if (bad) options.push(bad.map((value): Spoil => ({ kind: 'bodyField', path, value })));
          if (typesOf(schema)?.has('string'))
            options.push(fc.integer({ min: 5_000, max: 2 * BODY_LIMIT }).map((length): Spoil => ({ kind: 'bodyHuge', path, length })));
          if (path.length === 1 && typesOf(schema)?.has('integer'))
            options.push(
              fc.constantFrom('1e400', '-1e400', '1e-400', '123456789012345678901234567890', '-0', '1.0')
                .map((token): Spoil => ({ kind: 'bodyRawNumber', field, token })),
            );
        }
      }
    }
    return fc.oneof(...options);
  }

  /** The base request with one thing spoilt, and the field a validation error must name. */
  function spoilt(route: CatalogueRoute, base: ApiRequest, spoil: Spoil): { request: ApiRequest; names?: string[] | undefined } {
    const url = new URL(base.url, 'http://aiq.test');
    const hasQuery = (operationOf(route).parameters ?? []).some((p) => p.in === 'query');
    const withPath = (value: string, name: string) => {
      const params = [...route.url.matchAll(/:(\w+)/g)].map((m) => m[1]);
      const segments = route.url.split('/');
      const actual = url.pathname.split('/');
      const index = segments.indexOf(`:${name}`);
      if (index < 0 || params.length === 0) throw new Error(`${route.key} has no parameter ${name}`);
      actual[index] = value;
      return `${actual.join('/')}${url.search}`;
    };
    const body = structuredClone(base.body ?? {}) as Record<string, unknown>;
    switch (spoil.kind) {
      case 'pathParam':
        return { request: { ...base, url: withPath(encodeURIComponent(spoil.value), spoil.name) }, names: [`params.${spoil.name}`] };
      case 'pathRaw':
        return { request: { ...base, url: withPath(spoil.raw, spoil.name) }, names: [`params.${spoil.name}`] };
      case 'queryValue':
        url.searchParams.set(spoil.name, spoil.value);
        return { request: { ...base, url: `${url.pathname}${url.search}` }, names: [`query.${spoil.name}`] };
      case 'queryRepeat':
        for (const value of spoil.values) url.searchParams.append(spoil.name, value);
        return { request: { ...base, url: `${url.pathname}${url.search}` }, names: [`query.${spoil.name}`] };
      case 'queryExtra':
        url.searchParams.set(spoil.name, spoil.value);
        // A route without a query schema ignores unknown parameters; one with a schema refuses them.
        return { request: { ...base, url: `${url.pathname}${url.search}` }, names: hasQuery ? [`query.${spoil.name}`] : undefined };
      case 'headerValue':
        return { request: { ...base, headers: { ...base.headers, [spoil.name]: spoil.value } }, names: [`headers.${spoil.name}`] };
      case 'tenantHeader':
        return { request: { ...base, headers: { ...base.headers, 'x-tenant-id': spoil.value } }, names: ['headers.x-tenant-id'] };
      case 'bodyReplace':
        return { request: { ...base, body: undefined, raw: JSON.stringify(spoil.value), headers: json(base) }, names: ['body'] };
      case 'bodyMissing':
        delete body[spoil.field];
        return { request: { ...base, body }, names: [`body.${spoil.field}`] };
      case 'bodyField':
        setPath(body, spoil.path, spoil.value);
        return { request: { ...base, body }, names: [`body.${spoil.path.join('.')}`] };
      case 'bodyExtra':
        body[spoil.field] = spoil.value;
        return { request: { ...base, body }, names: ['body', `body.${spoil.field}`] };
      case 'bodyHuge':
        setPath(body, spoil.path, 'h'.repeat(spoil.length));
        return { request: { ...base, body }, names: [`body.${spoil.path.join('.')}`, 'body'] };
      case 'bodyRawNumber': {
        const marker = '"__aiq_number__"';
        const raw = JSON.stringify({ ...body, [spoil.field]: '__aiq_number__' }).replace(marker, spoil.token);
        return { request: { ...base, body: undefined, raw, headers: json(base) }, names: [`body.${spoil.field}`] };
      }
      case 'notJson':
        return { request: { ...base, body: undefined, raw: spoil.raw, headers: json(base) }, names: ['body'] };
      case 'contentType':
        return {
          request: { ...base, body: undefined, raw: spoil.raw, headers: { ...base.headers, 'content-type': spoil.contentType } },
          names: ['body', 'headers.content-type'],
        };
    }
  }

  /** Why an answer to bad input is wrong, or undefined. */
  function answerFault(answer: Answer, names: string[] | undefined): string | undefined {
    if (answer.status >= 500) return 'a server error';
    if (/\n\s+at .+:\d+:\d+/.test(answer.text)) return 'the answer carries a stack trace';
    if (answer.status < 400) return undefined;
    const fault = problemFault(answer);
    if (fault) return fault;
    if (answer.status !== 400 || codeOf(answer) !== 'AIQ_VALIDATION') return undefined;
    const errors = (answer.json as { errors?: unknown }).errors;
    if (!Array.isArray(errors) || errors.length === 0) return 'a validation problem without errors[]';
    const paths: string[] = [];
    for (const error of errors as { path?: unknown; message?: unknown }[]) {
      if (typeof error.path !== 'string' || typeof error.message !== 'string') return 'an error without a path and a message';
      if (!(error.path === 'body' || /^(body|query|params|headers)[.[]./.test(error.path)))
        return `the error path "${error.path}" names no field (body., query., params., headers. or body)`;
      paths.push(error.path);
    }
    if (names && !paths.some((path) => names.some((name) => path === name || path.startsWith(`${name}.`) || path.startsWith(`${name}[`))))
      return `no error names ${names.join(' or ')} (paths: ${paths.join(', ')})`;
    return undefined;
  }

  for (const route of inCallOrder(contractRoutes())) {
    it(`${route.key}: ${RUNS} spoilt requests`, async (ctx) => {
      if (!isRegistered(h.app, route)) {
        console.warn(`[bad-input] SKIPPED ${route.key}: not registered yet`);
        ctx.skip();
      }
      // A caller who gets past the access hook, so that requests reach validation.
      const token = route.access.kind === 'public' ? undefined : route.access.kind === 'platform' ? h.adminToken : data.tenant.ownerToken;
      const base = await fixtureRequest({ h, route, data, token });
      // Every kind of fault is collected (one example each) rather than stopping at the first, so a
      // run shows all that is wrong with a route; the seed replays the run.
      const seed = Date.now() % 2 ** 31;
      const faults = new Map<string, string>();
      await fc.assert(
        fc.asyncProperty(spoils(route, base), async (spoil) => {
          const { request, names } = spoilt(route, base, spoil);
          const answer = await send(h.app, request);
          const fault = answerFault(answer, names);
          const kind = `${spoil.kind}: ${fault?.replace(/"[^"]*"/g, '"…"')}`;
          if (fault && !faults.has(kind))
            faults.set(kind, `${fault}\n  spoil: ${JSON.stringify(spoil).slice(0, 200)}\n  ${describeExchange(request, answer)}`);
        }),
        { numRuns: RUNS, seed },
      );
      expect([...faults.values()], `fast-check seed ${seed}`).toEqual([]);
    });
  }
});

function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as JsonType;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const [i, key] of path.entries()) {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
}

function json(base: ApiRequest): Record<string, string> {
  return { ...base.headers, 'content-type': 'application/json' };
}
