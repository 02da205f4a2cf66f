import { type ConnectorContext, ConnectorError, defineConnector } from '@automateiq/connector-kit';
import { parseDuration, durationSchema } from '@automateiq/core';
import { z } from 'zod';
import { applyCredential } from './apply-credential';
import { fetchClientCredentialsToken } from './oauth2-token';
import { OAuth2TokenCache } from './oauth2-token-cache';
import { readCappedBody } from './read-capped-body';
import { parseRetryAfter } from './retry-after';

/** Largest response body read, in bytes (10 MiB); larger fails with the fatal `RESPONSE_TOO_LARGE`. */
export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
/** Characters of an error response's body kept in the step error's details. */
export const ERROR_BODY_CHARS = 4_096;

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[^\r\n\0]*$/;
const JSON_CONTENT_TYPE = /^[^;]*[/+]json\s*(;|$)/i;

const params = z
  .object({
    method: z.enum(HTTP_METHODS).default('GET').describe('HTTP method. Default: GET.'),
    url: z.url({ protocol: /^https?$/ }).describe('An http or https URL.'),
    query: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .describe('Query parameters appended to the URL’s own.'),
    headers: z
      .record(
        z.string().regex(HEADER_NAME, 'is not a valid header name'),
        z.string().regex(HEADER_VALUE, 'must not contain line breaks'),
      )
      .optional()
      .describe('Request headers. Idempotency-Key defaults to the step’s idempotency key.'),
    body: z
      .unknown()
      .optional()
      .describe(
        'Request body: a string is sent as is; anything else as JSON (content-type application/json unless set). Not with GET or HEAD.',
      ),
    timeout: durationSchema
      .optional()
      .describe('Longest wait for the whole response, e.g. 10s. Default: only the step’s timeout.'),
    responseType: z
      .enum(['auto', 'json', 'text'])
      .default('auto')
      .describe('How to read the body: auto (JSON when the content-type says so, else text), json or text.'),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.body !== undefined && (value.method === 'GET' || value.method === 'HEAD')) {
      ctx.addIssue({
        code: 'custom',
        path: ['body'],
        message: `a ${value.method} request cannot have a body`,
      });
    }
  })
  .describe('http.request params');

type HttpRequestParams = z.output<typeof params>;

/** Access tokens of `oauth2ClientCredentials` credentials, shared by the steps of this process. */
const accessTokens = new OAuth2TokenCache({ max: 1_000 });

/** What `http.request` outputs. */
export interface HttpResponseOutput {
  status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** Parsed JSON, or text; see `responseType`. */
  body: unknown;
}

/**
 * `http.request`: one HTTP request through the egress-checked client, with the node's credential (see
 * `applyCredential`) and an `Idempotency-Key` header (the step's key unless the params set one). An
 * OAuth2 access token is cached until shortly before it expires; a 401 answering a cached token is
 * tried once more with a fresh one. Access tokens are handed to `ctx.maskSecret`.
 *
 * Outputs `{ status, headers, body }` for 1xx–3xx answers (redirects are followed, at most 5). Fails:
 * 5xx, 408, 429 → retryable `HTTP_<status>`; other 4xx → fatal `HTTP_<status>`, details
 * `{ status, body (first 4,096 characters, or parsed JSON if that short), retryAfterMs? }`;
 * network failures → retryable `NETWORK_ERROR`; its own `timeout` → retryable `TIMEOUT`; a body over
 * 10 MiB → fatal `RESPONSE_TOO_LARGE`; `responseType: json` with a body that is not JSON → fatal
 * `INVALID_RESPONSE_JSON`. The body is decoded as UTF-8.
 */
export const httpRequest = defineConnector({
  type: 'http.request',
  title: 'HTTP request',
  description: 'Calls an HTTP API and outputs the status, headers and body of its answer.',
  params,
  run: async (ctx): Promise<HttpResponseOutput> => {
    const p = ctx.params;
    const url = new URL(p.url);
    for (const [name, value] of Object.entries(p.query ?? {})) url.searchParams.append(name, String(value));
    const headers = new Headers(p.headers);
    const timeoutMs = p.timeout === undefined ? undefined : parseDuration(p.timeout);
    const timeoutSignal = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
    const signal = timeoutSignal ? AbortSignal.any([ctx.signal, timeoutSignal]) : ctx.signal;
    const target = `${p.method} ${url.origin}${url.pathname}`;
    const started = performance.now();

    let tokenFromCache = false;
    const accessToken = async (refresh: boolean): Promise<string> => {
      const credential = ctx.credential ?? {};
      const key = accessTokens.keyOf(ctx.run.tenantId, credential);
      const cached = refresh ? undefined : accessTokens.get(key, ctx.now());
      tokenFromCache = cached !== undefined;
      const token = cached ?? (await fetchClientCredentialsToken({ http: ctx.http, credential, signal, now: ctx.now }));
      ctx.maskSecret?.(token.accessToken);
      if (!cached) accessTokens.set(key, token);
      return token.accessToken;
    };

    let response: Response;
    let bytes: Uint8Array;
    try {
      await applyCredential({ headers, url, accessToken: () => accessToken(false) }, ctx.credential);
      if (!headers.has('idempotency-key')) headers.set('idempotency-key', ctx.idempotencyKey);
      const init = { method: p.method, headers, body: encodeBody(p.body, headers), signal };
      response = await ctx.http.fetch(url, init);
      if (response.status === 401 && tokenFromCache) {
        // The cached token was revoked or expired early: once more with a fresh one.
        await response.body?.cancel();
        headers.set('authorization', `Bearer ${await accessToken(true)}`);
        response = await ctx.http.fetch(url, init);
      }
      bytes = await readCappedBody(response, MAX_RESPONSE_BYTES);
    } catch (error) {
      throw requestFailure({ error, ctx, timeoutSignal, timeoutMs, target });
    }
    ctx.logger.debug('http.request answered', {
      target,
      status: response.status,
      durationMs: Math.round(performance.now() - started),
    });

    const failed = response.status >= 400;
    const output: HttpResponseOutput = {
      status: response.status,
      headers: headersToRecord(response.headers),
      // An error answer is often not in the format asked for (an HTML 502 page): read it leniently.
      body: decodeBody({
        bytes,
        headers: response.headers,
        responseType: failed ? 'auto' : p.responseType,
        ctx,
      }),
    };
    if (failed) throw statusFailure({ output, target, statusText: response.statusText, ctx });
    return output;
  },
});

/** The fetch body for `body`; sets `content-type: application/json` for JSON unless set. */
function encodeBody(body: unknown, headers: Headers): string | undefined {
  if (body === undefined) return undefined;
  if (typeof body === 'string') return body;
  if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  return JSON.stringify(body);
}

function headersToRecord(headers: Headers): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [name, value] of headers) {
    const previous = record[name];
    record[name] = previous === undefined ? value : `${previous}, ${value}`;
  }
  return record;
}

function decodeBody(options: {
  bytes: Uint8Array;
  headers: Headers;
  responseType: HttpRequestParams['responseType'];
  ctx: ConnectorContext<HttpRequestParams>;
}): unknown {
  const text = new TextDecoder().decode(options.bytes);
  const type = options.responseType;
  const isJson =
    type === 'json' || (type === 'auto' && JSON_CONTENT_TYPE.test(options.headers.get('content-type') ?? ''));
  if (!isJson) return text;
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch (cause) {
    if (type === 'json') {
      throw ConnectorError.fatal('INVALID_RESPONSE_JSON', 'the response body is not valid JSON', undefined, {
        cause,
      });
    }
    options.ctx.logger.warn('http.request: the response says JSON but is not; its body is output as text', {
      reason: cause instanceof Error ? cause.message : String(cause),
    });
    return text;
  }
}

function statusFailure(options: {
  output: HttpResponseOutput;
  target: string;
  statusText: string;
  ctx: ConnectorContext<HttpRequestParams>;
}): ConnectorError {
  const { output, target, statusText, ctx } = options;
  const { status } = output;
  const retryable = status >= 500 || RETRYABLE_STATUSES.has(status);
  const details: { status: number; body: unknown; retryAfterMs?: number } = {
    status,
    body: errorBody(output.body),
  };
  const retryAfterMs = parseRetryAfter(output.headers['retry-after'] ?? null, ctx.now());
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  const message = `${target} answered ${status}${statusText ? ` ${statusText}` : ''}`;
  return retryable
    ? ConnectorError.retryable(`HTTP_${status}`, message, details)
    : ConnectorError.fatal(`HTTP_${status}`, message, details);
}

/** An error body small enough for the step's error: parsed JSON when short, else text cut at `ERROR_BODY_CHARS`. */
function errorBody(body: unknown): unknown {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  if (text.length <= ERROR_BODY_CHARS) return body;
  return `${text.slice(0, ERROR_BODY_CHARS)}…`;
}

function requestFailure(options: {
  error: unknown;
  ctx: ConnectorContext<HttpRequestParams>;
  timeoutSignal: AbortSignal | undefined;
  timeoutMs: number | undefined;
  target: string;
}): unknown {
  const { error, ctx, timeoutSignal, timeoutMs, target } = options;
  if (error instanceof ConnectorError) return error;
  // The engine's abort: its reason (TIMEOUT or CANCELLED) is mapped by toStepError.
  if (ctx.signal.aborted) return error;
  if (timeoutSignal?.aborted) {
    return ConnectorError.retryable(
      'TIMEOUT',
      `${target} did not answer within ${timeoutMs}ms`,
      { timeoutMs },
      {
        cause: error,
      },
    );
  }
  if (error instanceof TypeError) {
    const reason = error.cause instanceof Error ? error.cause.message : error.message;
    const code = error.cause instanceof Error && 'code' in error.cause ? error.cause.code : undefined;
    return ConnectorError.retryable(
      'NETWORK_ERROR',
      `${target} failed: ${reason}`,
      typeof code === 'string' ? { code } : undefined,
      { cause: error },
    );
  }
  return error;
}
