import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from './connector-error';
import { createSafeHttpClient } from './safe-http';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/final' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`served ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
});

async function refusal(promise: Promise<unknown>): Promise<ConnectorError> {
  const err = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(err instanceof ConnectorError)) throw new Error(`expected a ConnectorError, got ${String(err)}`);
  return err;
}

describe('createSafeHttpClient against a real server on 127.0.0.1', () => {
  it('refuses loopback without an allow-list entry, naming the host', async () => {
    const err = await refusal(createSafeHttpClient().fetch(`${base}/x`));
    expect(err.code).toBe('EGRESS_DENIED');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('127.0.0.1');
    expect(err.details).toMatchObject({ addressClass: 'loopback' });
  });

  it('serves loopback when the allow-list names 127.0.0.1', async () => {
    const response = await createSafeHttpClient({ allow: ['127.0.0.1'] }).fetch(`${base}/x`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('served /x');
  });

  it('serves loopback when the allow-list has a covering CIDR block', async () => {
    const response = await createSafeHttpClient({ allow: ['127.0.0.0/8'] }).fetch(`${base}/y`);
    expect(await response.text()).toBe('served /y');
  });

  it('refuses localhost by name, and serves it when the name is allowed', async () => {
    const port = (server.address() as AddressInfo).port;
    const denied = await refusal(createSafeHttpClient().fetch(`http://localhost:${port}/`));
    expect(denied.code).toBe('EGRESS_DENIED');
    expect(denied.message).toContain('localhost');
    const resolveToV4 = async () => ['127.0.0.1'];
    const response = await createSafeHttpClient({ allow: ['localhost'], resolve: resolveToV4 }).fetch(
      `http://localhost:${port}/z`,
    );
    expect(await response.text()).toBe('served /z');
  });

  it('follows a redirect on an allowed host', async () => {
    const response = await createSafeHttpClient({ allow: ['127.0.0.1'] }).fetch(`${base}/redirect`);
    expect(await response.text()).toBe('served /final');
  });
});

describe('createSafeHttpClient policy', () => {
  const publicResolver = async (host: string): Promise<readonly string[]> => {
    const table: Record<string, readonly string[]> = {
      'public.test': ['93.184.216.34'],
      'other.test': ['93.184.216.35'],
      'mixed.test': ['93.184.216.34', '10.0.0.7'],
      'mapped.test': ['::ffff:169.254.169.254'],
      'empty.test': [],
    };
    const answer = table[host];
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return answer;
  };

  it.each(['file:///etc/passwd', 'ftp://public.test/', 'gopher://public.test/', 'data:text/plain,hi'])(
    'refuses the scheme of %s',
    async (url) => {
      const err = await refusal(createSafeHttpClient({ resolve: publicResolver }).fetch(url));
      expect(err.code).toBe('EGRESS_DENIED');
    },
  );

  it.each([
    ['http://10.1.2.3/', '10.1.2.3'],
    ['http://169.254.169.254/latest/meta-data', '169.254.169.254'],
    ['http://[::1]/', '::1'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
    ['http://0.0.0.0/', '0.0.0.0'],
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://[fe80::1]/', 'fe80::1'],
    ['http://mixed.test/', 'mixed.test'],
    ['http://mapped.test/', 'mapped.test'],
  ])('refuses %s', async (url, named) => {
    const err = await refusal(createSafeHttpClient({ resolve: publicResolver }).fetch(url));
    expect(err.code).toBe('EGRESS_DENIED');
    expect(err.message).toContain(named);
  });

  it('fails with a retryable NETWORK_ERROR when the host does not resolve', async () => {
    const client = createSafeHttpClient({ resolve: publicResolver });
    const err = await refusal(client.fetch('http://nowhere.test/'));
    expect(err).toMatchObject({ code: 'NETWORK_ERROR', retryable: true });
    expect(err.cause).toBeInstanceOf(Error);
    expect((await refusal(client.fetch('http://empty.test/'))).code).toBe('NETWORK_ERROR');
  });

  it('refuses an invalid URL', async () => {
    expect((await refusal(createSafeHttpClient().fetch('not a url'))).code).toBe('INVALID_URL');
  });

  /** A fetch that answers from a table of `url -> response factory` and records what it was asked. */
  function fakeFetch(routes: Record<string, () => Response>) {
    const calls: { url: string; method: string; headers: Headers; body: unknown }[] = [];
    const impl: typeof fetch = async (input, init) => {
      const url = String(input);
      calls.push({
        url,
        method: init?.method ?? 'GET',
        headers: new Headers(init?.headers),
        body: init?.body,
      });
      const route = routes[url];
      if (!route) return new Response('not found', { status: 404 });
      return route();
    };
    return { impl, calls };
  }
  const redirect =
    (location: string, status = 302) =>
    () =>
      new Response(null, { status, headers: { location } });

  it('re-checks every redirect hop', async () => {
    const { impl, calls } = fakeFetch({ 'http://public.test/': redirect('http://169.254.169.254/latest') });
    const client = createSafeHttpClient({ resolve: publicResolver, fetchImpl: impl });
    const err = await refusal(client.fetch('http://public.test/'));
    expect(err.code).toBe('EGRESS_DENIED');
    expect(calls.map((call) => call.url)).toEqual(['http://public.test/']);
  });

  it('stops after 5 redirects', async () => {
    const { impl, calls } = fakeFetch({ 'http://public.test/loop': redirect('/loop') });
    const client = createSafeHttpClient({ resolve: publicResolver, fetchImpl: impl });
    expect((await refusal(client.fetch('http://public.test/loop'))).code).toBe('TOO_MANY_REDIRECTS');
    expect(calls).toHaveLength(6);
  });

  it('turns a 303 into a GET without body and drops credentials across origins', async () => {
    const { impl, calls } = fakeFetch({
      'http://public.test/form': redirect('http://other.test/done', 303),
      'http://other.test/done': () => new Response('ok'),
    });
    const client = createSafeHttpClient({ resolve: publicResolver, fetchImpl: impl });
    const response = await client.fetch('http://public.test/form', {
      method: 'POST',
      body: '{"a":1}',
      headers: { authorization: 'Bearer secret', 'content-type': 'application/json', 'x-keep': '1' },
    });
    expect(await response.text()).toBe('ok');
    const second = calls[1];
    expect(second).toMatchObject({ url: 'http://other.test/done', method: 'GET', body: null });
    expect(second?.headers.get('authorization')).toBeNull();
    expect(second?.headers.get('content-type')).toBeNull();
    expect(second?.headers.get('x-keep')).toBe('1');
  });

  it('keeps method, body and credentials on a same-origin 307', async () => {
    const { impl, calls } = fakeFetch({
      'http://public.test/a': redirect('/b', 307),
      'http://public.test/b': () => new Response('ok'),
    });
    const client = createSafeHttpClient({ resolve: publicResolver, fetchImpl: impl });
    await client.fetch('http://public.test/a', {
      method: 'PUT',
      body: 'x',
      headers: { authorization: 'Basic y' },
    });
    expect(calls[1]).toMatchObject({ method: 'PUT', body: 'x' });
    expect(calls[1]?.headers.get('authorization')).toBe('Basic y');
  });

  it("returns the 3xx itself with redirect: 'manual' and refuses with redirect: 'error'", async () => {
    const { impl } = fakeFetch({ 'http://public.test/': redirect('/next') });
    const client = createSafeHttpClient({ resolve: publicResolver, fetchImpl: impl });
    expect((await client.fetch('http://public.test/', { redirect: 'manual' })).status).toBe(302);
    expect((await refusal(client.fetch('http://public.test/', { redirect: 'error' }))).code).toBe(
      'REDIRECT_REFUSED',
    );
  });

  it('rejects with the signal reason when aborted during the DNS lookup', async () => {
    const controller = new AbortController();
    const slow = () => new Promise<readonly string[]>(() => {});
    const pending = createSafeHttpClient({ resolve: slow }).fetch('http://slow.test/', {
      signal: controller.signal,
    });
    controller.abort({ code: 'CANCELLED' });
    await expect(pending).rejects.toEqual({ code: 'CANCELLED' });
  });
});
