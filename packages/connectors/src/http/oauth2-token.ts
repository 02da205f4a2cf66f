import { ConnectorError, type SafeHttpClient } from '@automateiq/connector-kit';
import { readCappedBody } from './read-capped-body';

/** An access token from an OAuth2 token endpoint. */
export interface OAuth2Token {
  accessToken: string;
  /** Usually `Bearer`. */
  tokenType: string;
  /** When it expires, epoch milliseconds; undefined when the endpoint said nothing. */
  expiresAt: number | undefined;
}

/** Largest token endpoint answer read, in bytes. */
const MAX_TOKEN_RESPONSE_BYTES = 256 * 1024;

function text(credential: Readonly<Record<string, unknown>>, name: string): string {
  const value = credential[name];
  if (typeof value !== 'string' || value === '') {
    throw ConnectorError.fatal('INVALID_CREDENTIAL', `the oauth2ClientCredentials credential has no "${name}"`, {
      type: 'oauth2ClientCredentials',
      field: name,
    });
  }
  return value;
}

function optionalText(credential: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = credential[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Fetches an access token with the OAuth2 client credentials grant (RFC 6749 §4.4) through the
 * egress-checked client: a form POST of `grant_type=client_credentials` (+ `scope`, `audience`), the
 * client authenticated by HTTP Basic (default) or, with `clientAuth: body`, by `client_id` and
 * `client_secret` form fields. Fails: 5xx and 429 → retryable `OAUTH2_TOKEN_UNAVAILABLE`; other
 * answers → fatal `OAUTH2_TOKEN_REFUSED` (with the endpoint's `error` code); an answer without
 * `access_token` → fatal `OAUTH2_TOKEN_INVALID`; network failures → retryable `NETWORK_ERROR`.
 * No message names the client secret.
 */
export async function fetchClientCredentialsToken(args: {
  http: SafeHttpClient;
  credential: Readonly<Record<string, unknown>>;
  signal?: AbortSignal | undefined;
  now: () => number;
}): Promise<OAuth2Token> {
  const { credential } = args;
  const tokenUrl = text(credential, 'tokenUrl');
  const clientId = text(credential, 'clientId');
  const clientSecret = text(credential, 'clientSecret');
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  const scope = optionalText(credential, 'scope');
  const audience = optionalText(credential, 'audience');
  if (scope !== undefined) form.set('scope', scope);
  if (audience !== undefined) form.set('audience', audience);
  const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
  if (credential.clientAuth === 'body') {
    form.set('client_id', clientId);
    form.set('client_secret', clientSecret);
  } else {
    const pair = `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`;
    headers.set('authorization', `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`);
  }
  let target = 'the token endpoint';
  try {
    const url = new URL(tokenUrl);
    target = `${url.origin}${url.pathname}`;
  } catch {
    // The safe client reports an invalid URL itself.
  }
  let response: Response;
  let body: string;
  try {
    response = await args.http.fetch(tokenUrl, {
      method: 'POST',
      headers,
      body: form.toString(),
      ...(args.signal ? { signal: args.signal } : {}),
    });
    body = new TextDecoder().decode(await readCappedBody(response, MAX_TOKEN_RESPONSE_BYTES));
  } catch (error) {
    if (error instanceof ConnectorError || args.signal?.aborted) throw error;
    const reason = error instanceof TypeError && error.cause instanceof Error ? error.cause.message : String(error);
    throw ConnectorError.retryable('NETWORK_ERROR', `${target} failed: ${reason}`, undefined, { cause: error });
  }
  let parsed: Record<string, unknown> = {};
  try {
    const json: unknown = JSON.parse(body);
    if (json !== null && typeof json === 'object' && !Array.isArray(json)) parsed = json as Record<string, unknown>;
  } catch {
    // Not JSON: reported below as an answer without a token.
  }
  if (response.status >= 400 || response.status < 200) {
    const code = typeof parsed.error === 'string' ? parsed.error : undefined;
    const message = `${target} answered ${response.status}${code ? ` (${code})` : ''} to the client credentials grant`;
    const details = { status: response.status, ...(code ? { error: code } : {}) };
    throw response.status >= 500 || response.status === 429
      ? ConnectorError.retryable('OAUTH2_TOKEN_UNAVAILABLE', message, details)
      : ConnectorError.fatal('OAUTH2_TOKEN_REFUSED', message, details);
  }
  const accessToken = parsed.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw ConnectorError.fatal('OAUTH2_TOKEN_INVALID', `${target} answered ${response.status} without an access_token`, {
      status: response.status,
    });
  }
  const expiresIn = Number(parsed.expires_in);
  return {
    accessToken,
    tokenType: typeof parsed.token_type === 'string' ? parsed.token_type : 'Bearer',
    expiresAt: Number.isFinite(expiresIn) && expiresIn > 0 ? args.now() + expiresIn * 1000 : undefined,
  };
}
