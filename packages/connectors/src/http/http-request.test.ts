import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ConnectorContext,
  ConnectorError,
  createMemoryLogger,
  createSafeHttpClient,
  toStepError,
} from '@automateiq/connector-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeForTest, rejection } from '../test-run';
import { type HttpResponseOutput, httpRequest } from './http-request';
import { parseRetryAfter } from './retry-after';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
const received: Received[] = [];

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
const routes: Record<string, Handler> = {
  '/echo': (req, res, body) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'x-multi': ['a', 'b'] });
    res.end(JSON.stringify({ method: req.method, url: req.url, body }));
  },
  '/text': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hello');
  },
  '/json-text': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('{"a":1}');
  },
  '/bad-json': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{not json');
  },
  '/problem+json': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/problem+json' });
    res.end('{"title":"t"}');
  },
  '/missing': (_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"no such order"}');
  },
  '/unavailable': (_req, res) => {
    res.writeHead(503, { 'retry-after': '7', 'content-type': 'text/html' });
    res.end(`<html>${'x'.repeat(10_000)}</html>`);
  },
  '/limited': (_req, res) => {
    res.writeHead(429, { 'retry-after': '2' });
    res.end();
  },
  '/slow': (_req, res) => {
    setTimeout(() => {
      res.writeHead(200);
      res.end('late');
    }, 2_000).unref();
  },
  '/huge': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const chunk = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 11; i++) res.write(chunk);
    res.end();
  },
  '/redirect': (_req, res) => {
    res.writeHead(302, { location: '/text' });
    res.end();
  },
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const handler = routes[path];
      if (handler) handler(req, res, body);
      else {
        res.writeHead(500);
        res.end('no route');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
});

type HttpParams = Parameters<typeof httpRequest.execute>[0]['params'];
const allowed = createSafeHttpClient({ allow: ['127.0.0.1'] });

async function request(
  params: Record<string, unknown>,
  extra: Partial<ConnectorContext<HttpParams>> = {},
): Promise<HttpResponseOutput> {
  const outcome = await executeForTest(httpRequest, params, { http: allowed, ...extra });
  if (outcome.kind !== 'output') throw new Error(`unexpected outcome ${outcome.kind}`);
  return outcome.output as HttpResponseOutput;
}

async function failure(params: Record<string, unknown>, extra: Partial<ConnectorContext<HttpParams>> = {}) {
  return rejection(request(params, extra));
}

function last(): Received {
  const entry = received.at(-1);
  if (!entry) throw new Error('the server received nothing');
  return entry;
}

describe('http.request', () => {
  it.each(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])('sends %s', async (method) => {
    const output = await request({ method, url: `${base}/echo` });
    expect(output.status).toBe(200);
    expect(output.body).toMatchObject({ method });
  });

  it('sends HEAD and outputs an empty body', async () => {
    const output = await request({ method: 'HEAD', url: `${base}/echo` });
    expect(output).toMatchObject({ status: 200, body: null });
    expect(last().method).toBe('HEAD');
  });

  it('defaults to GET and appends query parameters to the URL’s own', async () => {
    const output = await request({ url: `${base}/echo?a=1`, query: { b: 'x y', c: 2, d: true } });
    expect(output.body).toMatchObject({ method: 'GET', url: '/echo?a=1&b=x+y&c=2&d=true' });
  });

  it('sends an object as JSON with its content type', async () => {
    await request({ method: 'POST', url: `${base}/echo`, body: { a: [1, 'b'] } });
    expect(last().body).toBe('{"a":[1,"b"]}');
    expect(last().headers['content-type']).toBe('application/json');
  });

  it('sends a string as is and keeps a content type the params set', async () => {
    await request({
      method: 'PUT',
      url: `${base}/echo`,
      body: 'a,b\n1,2',
      headers: { 'Content-Type': 'text/csv' },
    });
    expect(last().body).toBe('a,b\n1,2');
    expect(last().headers['content-type']).toBe('text/csv');
  });

  it('outputs lower-case response headers, joining repeated ones', async () => {
    const output = await request({ url: `${base}/echo` });
    expect(output.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(output.headers['x-multi']).toBe('a, b');
  });

  it('sends the params’ headers and the step’s idempotency key', async () => {
    await request({ url: `${base}/echo`, headers: { 'X-Trace': 't1' } }, { idempotencyKey: 'run-1:fetch' });
    expect(last().headers['x-trace']).toBe('t1');
    expect(last().headers['idempotency-key']).toBe('run-1:fetch');
  });

  it('keeps an idempotency key the params set', async () => {
    await request({ url: `${base}/echo`, headers: { 'idempotency-key': 'mine' } });
    expect(last().headers['idempotency-key']).toBe('mine');
  });

  it('reads bodies by content type or responseType', async () => {
    expect((await request({ url: `${base}/text` })).body).toBe('hello');
    expect((await request({ url: `${base}/json-text` })).body).toBe('{"a":1}');
    expect((await request({ url: `${base}/json-text`, responseType: 'json' })).body).toEqual({ a: 1 });
    expect((await request({ url: `${base}/echo`, responseType: 'text' })).body).toMatch(/^\{"method"/);
    expect((await request({ url: `${base}/problem+json` })).body).toEqual({ title: 't' });
  });

  it('outputs a JSON-typed body that is not JSON as text with a warning, or fails when json was asked', async () => {
    const logger = createMemoryLogger();
    expect((await request({ url: `${base}/bad-json` }, { logger })).body).toBe('{not json');
    expect(logger.entries.some((entry) => entry.level === 'warn')).toBe(true);
    expect(await failure({ url: `${base}/bad-json`, responseType: 'json' })).toMatchObject({
      code: 'INVALID_RESPONSE_JSON',
    });
  });

  it('follows redirects', async () => {
    expect((await request({ url: `${base}/redirect` })).body).toBe('hello');
  });

  it('fails a 404 as fatal HTTP_404 with the body in the details', async () => {
    const err = await failure({ url: `${base}/missing` });
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({
      code: 'HTTP_404',
      retryable: false,
      details: { status: 404, body: { error: 'no such order' } },
    });
  });

  it('fails a 503 as retryable HTTP_503 with a truncated body and Retry-After', async () => {
    const err = await failure({ url: `${base}/unavailable` });
    expect(err).toMatchObject({
      code: 'HTTP_503',
      retryable: true,
      details: { status: 503, retryAfterMs: 7_000 },
    });
    const details = (err as ConnectorError).details as { body: string };
    expect(details.body.length).toBeLessThanOrEqual(4_097);
  });

  it('fails a 429 as retryable', async () => {
    expect(await failure({ url: `${base}/limited` })).toMatchObject({
      code: 'HTTP_429',
      retryable: true,
      details: { retryAfterMs: 2_000 },
    });
  });

  it('fails with a retryable NETWORK_ERROR when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await failure({ url: `http://127.0.0.1:${port}/` });
    expect(err).toMatchObject({ code: 'NETWORK_ERROR', retryable: true, details: { code: 'ECONNREFUSED' } });
  });

  it('fails with TIMEOUT after its own timeout', async () => {
    const started = performance.now();
    const err = await failure({ url: `${base}/slow`, timeout: '200ms' });
    expect(toStepError(err)).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('fails with CANCELLED when the run is cancelled, and TIMEOUT when the engine times the step out', async () => {
    for (const code of ['CANCELLED', 'TIMEOUT'] as const) {
      const controller = new AbortController();
      setTimeout(() => controller.abort({ code }), 100);
      const err = await failure({ url: `${base}/slow` }, { signal: controller.signal });
      expect(toStepError(err, { signal: controller.signal }).code).toBe(code);
    }
    const plain = new AbortController();
    setTimeout(() => plain.abort(), 100);
    const err = await failure({ url: `${base}/slow` }, { signal: plain.signal });
    expect(toStepError(err, { signal: plain.signal }).code).toBe('CANCELLED');
  });

  it('refuses a body larger than 10 MiB', async () => {
    expect(await failure({ url: `${base}/huge` })).toMatchObject({
      code: 'RESPONSE_TOO_LARGE',
      retryable: false,
    });
  });

  it('is refused by the egress policy without an allow-list entry', async () => {
    const err = await failure({ url: `${base}/echo` }, { http: createSafeHttpClient() });
    expect(err).toMatchObject({ code: 'EGRESS_DENIED' });
  });

  it('refuses a body on GET and non-http URLs as invalid params', async () => {
    expect(await failure({ url: `${base}/echo`, body: 'x' })).toMatchObject({ code: 'INVALID_PARAMS' });
    expect(await failure({ url: 'file:///etc/passwd' })).toMatchObject({ code: 'INVALID_PARAMS' });
    expect(await failure({ url: `${base}/echo`, headers: { 'bad header': 'x' } })).toMatchObject({
      code: 'INVALID_PARAMS',
    });
  });
});

describe('http.request credentials', () => {
  it('applies basic authentication', async () => {
    await request(
      { url: `${base}/echo` },
      { credential: { type: 'basic', username: 'ann', password: 'pä:ss' } },
    );
    expect(last().headers.authorization).toBe(`Basic ${Buffer.from('ann:pä:ss').toString('base64')}`);
  });

  it('applies a bearer token over an Authorization header from the params', async () => {
    await request(
      { url: `${base}/echo`, headers: { Authorization: 'Bearer old' } },
      { credential: { type: 'bearer', token: 'tok' } },
    );
    expect(last().headers.authorization).toBe('Bearer tok');
  });

  it('applies an API key in X-API-Key, the header it names, or the query parameter it names', async () => {
    await request({ url: `${base}/echo` }, { credential: { type: 'apiKey', key: 'k1' } });
    expect(last().headers['x-api-key']).toBe('k1');
    await request(
      { url: `${base}/echo` },
      { credential: { type: 'apiKey', header: 'X-Token', key: 'k2' } },
    );
    expect(last().headers['x-token']).toBe('k2');
    await request({ url: `${base}/echo?a=1` }, { credential: { type: 'apiKey', query: 'api_key', key: 'k3' } });
    expect(last().url).toBe('/echo?a=1&api_key=k3');
    expect(last().headers['x-api-key']).toBeUndefined();
  });

  it('refuses unsupported or incomplete credentials before sending', async () => {
    const before = received.length;
    expect(await failure({ url: `${base}/echo` }, { credential: { type: 'smtp', host: 'x' } })).toMatchObject(
      {
        code: 'UNSUPPORTED_CREDENTIAL',
      },
    );
    expect(await failure({ url: `${base}/echo` }, { credential: { type: 'bearer' } })).toMatchObject({
      code: 'INVALID_CREDENTIAL',
    });
    expect(received.length).toBe(before);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
