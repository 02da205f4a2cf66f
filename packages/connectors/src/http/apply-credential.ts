import { ConnectorError } from '@automateiq/connector-kit';

/** Header of an `apiKey` credential when it names none. */
export const DEFAULT_API_KEY_HEADER = 'X-API-Key';

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

/**
 * Sets the authentication a credential describes, by its `type` (a header it sets replaces the same
 * header from the params):
 * - `basic` `{ username, password }` → `Authorization: Basic base64(username:password)` (UTF-8);
 * - `bearer` `{ token }` → `Authorization: Bearer <token>`;
 * - `apiKey` `{ header?, value }` → `<header>: <value>`, header default `X-API-Key`.
 * Other types fail with the fatal `UNSUPPORTED_CREDENTIAL`; missing fields with `INVALID_CREDENTIAL`.
 */
export function applyCredential(
  headers: Headers,
  credential: Readonly<Record<string, unknown>> | undefined,
): void {
  if (credential === undefined) return;
  const type = credential.type;
  switch (type) {
    case 'basic': {
      const username = field(credential, 'username', type);
      const password = typeof credential.password === 'string' ? credential.password : '';
      headers.set(
        'authorization',
        `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`,
      );
      return;
    }
    case 'bearer':
      headers.set('authorization', `Bearer ${field(credential, 'token', type)}`);
      return;
    case 'apiKey': {
      const header = credential.header === undefined ? DEFAULT_API_KEY_HEADER : credential.header;
      if (typeof header !== 'string' || header === '') {
        throw ConnectorError.fatal('INVALID_CREDENTIAL', 'the apiKey credential has an invalid "header"', {
          type,
          field: 'header',
        });
      }
      headers.set(header, field(credential, 'value', type));
      return;
    }
    default:
      throw ConnectorError.fatal(
        'UNSUPPORTED_CREDENTIAL',
        `http.request cannot use a credential of type ${JSON.stringify(type) ?? 'undefined'} (use basic, bearer or apiKey)`,
        { type: typeof type === 'string' ? type : null },
      );
  }
}
