import { ConnectorError } from '@automateiq/connector-kit';

/** Header of an `apiKey` credential when it names none. */
export const DEFAULT_API_KEY_HEADER = 'X-API-Key';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function field(credential: Readonly<Record<string, unknown>>, name: string, type: string): string {
  const value = credential[name];
  if (typeof value !== 'string' || value === '') {
    throw ConnectorError.fatal('INVALID_CREDENTIAL', `the ${type} credential has no "${name}"`, {
      type,
      field: name,
    });
  }
  return value;
}

function optionalField(credential: Readonly<Record<string, unknown>>, name: string, type: string): string | undefined {
  return credential[name] === undefined || credential[name] === null ? undefined : field(credential, name, type);
}

/** Where a request's authentication goes, and how an OAuth2 access token is had. */
export interface CredentialTarget {
  headers: Headers;
  url: URL;
  /** An access token for an `oauth2ClientCredentials` credential (fetched, or cached until it expires). */
  accessToken: () => Promise<string>;
}

/**
 * Sets the authentication a credential describes, by its `type` (a header it sets replaces the same
 * header from the params):
 * - `basic` `{ username, password }` → `Authorization: Basic base64(username:password)` (UTF-8);
 * - `bearer` `{ token }` → `Authorization: Bearer <token>`;
 * - `apiKey` `{ key, header?, query? }` → the query parameter `query` when set, else the header
 *   `header` (default `X-API-Key`);
 * - `oauth2ClientCredentials` → `Authorization: Bearer <access token>` (see `fetchClientCredentialsToken`).
 * Other types fail with the fatal `UNSUPPORTED_CREDENTIAL`; missing fields with `INVALID_CREDENTIAL`.
 */
export async function applyCredential(
  target: CredentialTarget,
  credential: Readonly<Record<string, unknown>> | undefined,
): Promise<void> {
  if (credential === undefined) return;
  const { headers } = target;
  const type = credential.type;
  switch (type) {
    case 'basic': {
      const username = field(credential, 'username', type);
      const password = typeof credential.password === 'string' ? credential.password : '';
      headers.set('authorization', `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`);
      return;
    }
    case 'bearer':
      headers.set('authorization', `Bearer ${field(credential, 'token', type)}`);
      return;
    case 'apiKey': {
      const key = field(credential, 'key', type);
      const query = optionalField(credential, 'query', type);
      if (query !== undefined) {
        target.url.searchParams.set(query, key);
        return;
      }
      const header = optionalField(credential, 'header', type) ?? DEFAULT_API_KEY_HEADER;
      if (!HEADER_NAME.test(header)) {
        throw ConnectorError.fatal('INVALID_CREDENTIAL', 'the apiKey credential has an invalid "header"', {
          type,
          field: 'header',
        });
      }
      headers.set(header, key);
      return;
    }
    case 'oauth2ClientCredentials':
      headers.set('authorization', `Bearer ${await target.accessToken()}`);
      return;
    default:
      throw ConnectorError.fatal(
        'UNSUPPORTED_CREDENTIAL',
        `http.request cannot use a credential of type ${JSON.stringify(type) ?? 'undefined'} (use basic, bearer, apiKey or oauth2ClientCredentials)`,
        { type: typeof type === 'string' ? type : null },
      );
  }
}
