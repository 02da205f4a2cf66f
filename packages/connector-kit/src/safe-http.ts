import { lookup as dnsLookup } from 'node:dns/promises';
import { ConnectorError } from './connector-error';
import { compileEgressAllowList, normaliseHost } from './egress-allow-list';
import { AddressClass, classifyAddress, parseIp } from './ip-address';

/** Resolves a host name to every address it has (IPv4 and IPv6, as text). */
export type HostResolver = (hostname: string) => Promise<readonly string[]>;

export interface SafeHttpClientOptions {
  /**
   * Hosts, IP addresses or CIDR blocks that may be reached although they are private, loopback,
   * link-local or unspecified (see `AddressClass`). Default: none.
   */
  allow?: readonly string[];
  /** The fetch that performs requests. Default: the global `fetch`. */
  fetchImpl?: typeof fetch;
  /** Resolves host names before the check. Default: `node:dns` lookup with `all: true`. */
  resolve?: HostResolver;
  /** Redirects followed before failing with `TOO_MANY_REDIRECTS`. Default: 5. */
  maxRedirects?: number;
}

/**
 * A `fetch` that enforces the egress policy (SSRF protection) on every request and every redirect hop.
 *
 * `fetch(url, init)` behaves like the global `fetch`, except that:
 * - only `http:` and `https:` URLs are allowed;
 * - a URL whose host resolves to any non-public address (see `AddressClass`) is refused with the fatal
 *   `ConnectorError` `EGRESS_DENIED`, unless the allow-list names the host or covers every such address;
 * - redirects are followed by the client (at most `maxRedirects`, default 5), checking each hop.
 *   `init.redirect: 'manual'` returns the 3xx response; `'error'` fails with `REDIRECT_REFUSED`.
 *   A 303, or a 301/302 answering a POST, continues as a GET without body; a cross-origin hop drops
 *   the `authorization`, `proxy-authorization` and `cookie` headers.
 * - a host that does not resolve fails with the retryable `NETWORK_ERROR`.
 *
 * Known gap: the name is resolved for the check and again by `fetch` when it connects, so a DNS answer
 * that changes in between (DNS rebinding) is not caught. Closing it needs a connect-time check (a
 * dispatcher with its own `lookup`), which the global `fetch` does not expose.
 */
export interface SafeHttpClient {
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
  /**
   * Refuses (EGRESS_DENIED) a host that the egress policy does not allow, as `fetch` does, for
   * connectors that reach hosts over other protocols (SMTP, say).
   */
  checkHost(host: string, signal?: AbortSignal | null): Promise<void>;
}

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const BODY_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
];
const CROSS_ORIGIN_DROPPED_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];

async function defaultResolve(hostname: string): Promise<readonly string[]> {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => answer.address);
}

/** `promise`, or a rejection with the signal's reason as soon as `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | null | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** Creates a fetch that enforces the egress policy; see `SafeHttpClient`. */
export function createSafeHttpClient(options: SafeHttpClientOptions = {}): SafeHttpClient {
  const allowList = compileEgressAllowList(options.allow ?? []);
  const fetchImpl = options.fetchImpl ?? globalThis.fetch;
  const resolve = options.resolve ?? defaultResolve;
  const maxRedirects = options.maxRedirects ?? 5;

  async function check(url: URL, signal: AbortSignal | null | undefined): Promise<void> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw ConnectorError.fatal(
        'EGRESS_DENIED',
        `scheme "${url.protocol}" is not allowed (use http or https)`,
        {
          url: describeUrl(url),
        },
      );
    }
    await checkHost(url.hostname, signal);
  }

  async function checkHost(hostname: string, signal: AbortSignal | null | undefined): Promise<void> {
    const host = normaliseHost(hostname);
    if (allowList.allowsHost(host)) return;
    let addresses: readonly string[];
    const literal = parseIp(host);
    if (literal) {
      addresses = [host];
    } else {
      try {
        addresses = await abortable(resolve(host), signal);
      } catch (cause) {
        if (signal?.aborted) throw cause;
        throw ConnectorError.retryable(
          'NETWORK_ERROR',
          `could not resolve host "${host}"`,
          { host },
          { cause },
        );
      }
      if (addresses.length === 0) {
        throw ConnectorError.retryable('NETWORK_ERROR', `host "${host}" has no addresses`, { host });
      }
    }
    for (const text of addresses) {
      const address = parseIp(text);
      if (!address) {
        throw ConnectorError.fatal(
          'EGRESS_DENIED',
          `host "${host}" resolved to "${text}", which is not an IP address`,
          {
            host,
            address: text,
          },
        );
      }
      const addressClass = classifyAddress(address);
      if (addressClass !== AddressClass.public && !allowList.allowsAddress(address)) {
        throw ConnectorError.fatal(
          'EGRESS_DENIED',
          `host "${host}" resolves to ${text} (${addressClass}), which the egress allow-list does not name`,
          { host, address: text, addressClass },
        );
      }
    }
  }

  return {
    checkHost: (host, signal) => checkHost(host, signal),
    async fetch(input, init = {}) {
      let url: URL;
      try {
        url = new URL(input);
      } catch (cause) {
        throw ConnectorError.fatal('INVALID_URL', `"${String(input)}" is not a valid URL`, undefined, {
          cause,
        });
      }
      const mode = init.redirect ?? 'follow';
      let request: RequestInit = { ...init, redirect: 'manual' };
      for (let hop = 0; ; hop++) {
        await check(url, init.signal);
        const response = await fetchImpl(url, request);
        const location = response.headers.get('location');
        if (mode === 'manual' || !REDIRECT_STATUSES.has(response.status) || location === null)
          return response;
        await response.body?.cancel();
        if (mode === 'error') {
          throw ConnectorError.fatal(
            'REDIRECT_REFUSED',
            `${describeUrl(url)} redirected (${response.status})`,
            {
              status: response.status,
            },
          );
        }
        if (hop >= maxRedirects) {
          throw ConnectorError.fatal(
            'TOO_MANY_REDIRECTS',
            `more than ${maxRedirects} redirects from ${describeUrl(url)}`,
            {
              maxRedirects,
            },
          );
        }
        let next: URL;
        try {
          next = new URL(location, url);
        } catch (cause) {
          throw ConnectorError.fatal(
            'INVALID_REDIRECT',
            `${describeUrl(url)} redirected to an invalid URL`,
            undefined,
            {
              cause,
            },
          );
        }
        request = nextRequest({ request, status: response.status, crossOrigin: next.origin !== url.origin });
        url = next;
      }
    },
  };
}

/** The request for the next redirect hop, following the fetch standard's method and header rules. */
function nextRequest(options: { request: RequestInit; status: number; crossOrigin: boolean }): RequestInit {
  const { request, status, crossOrigin } = options;
  const method = (request.method ?? 'GET').toUpperCase();
  const headers = new Headers(request.headers);
  const toGet =
    (status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST');
  const next: RequestInit = { ...request, headers };
  if (toGet) {
    next.method = 'GET';
    next.body = null;
    for (const name of BODY_HEADERS) headers.delete(name);
  } else if (request.body instanceof ReadableStream) {
    throw ConnectorError.fatal(
      'REDIRECT_NOT_REPLAYABLE',
      `a ${status} redirect needs the request body again, but it was a stream`,
    );
  }
  if (crossOrigin) {
    for (const name of CROSS_ORIGIN_DROPPED_HEADERS) headers.delete(name);
  }
  return next;
}
