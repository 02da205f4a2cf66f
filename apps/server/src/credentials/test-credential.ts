import type { CredentialType } from '@automateiq/contracts';
import { ConnectorError, type SafeHttpClient } from '@automateiq/connector-kit';
import { fetchClientCredentialsToken } from '@automateiq/connectors';
import { probeSmtp } from './smtp-probe';

/** What testing a credential found. `message` is for people; it never holds a secret value. */
export interface CredentialCheck {
  ok: boolean;
  message: string;
}

interface TestArgs {
  fields: Readonly<Record<string, unknown>>;
  http: SafeHttpClient;
  egressAllow: readonly string[];
  signal: AbortSignal;
  now: () => number;
}

/**
 * Checks that a credential works where that can be done without side effects: `oauth2ClientCredentials`
 * fetches a token from its `tokenUrl` (through the egress-checked client); `smtp` connects and says
 * EHLO; the others are checked for shape only (a well-formed URL of the right scheme, …). Gives up
 * after `timeoutMs` (default 10 s). The caller masks the message with the credential's secrets.
 */
export async function testCredential(args: {
  type: CredentialType;
  fields: Readonly<Record<string, unknown>>;
  http: SafeHttpClient;
  egressAllow: readonly string[];
  timeoutMs?: number;
  now?: () => number;
}): Promise<CredentialCheck> {
  const signal = AbortSignal.timeout(args.timeoutMs ?? 10_000);
  try {
    return await TESTS[args.type]({
      fields: args.fields,
      http: args.http,
      egressAllow: args.egressAllow,
      signal,
      now: args.now ?? Date.now,
    });
  } catch (error) {
    if (signal.aborted) return { ok: false, message: `no answer within ${args.timeoutMs ?? 10_000} ms` };
    return { ok: false, message: error instanceof ConnectorError || error instanceof Error ? error.message : String(error) };
  }
}

const COMPLETE = 'the credential has every required field; it names no server to try';

const TESTS: Readonly<Record<CredentialType, (args: TestArgs) => Promise<CredentialCheck>>> = {
  basic: async () => ({ ok: true, message: COMPLETE }),
  bearer: async () => ({ ok: true, message: COMPLETE }),
  apiKey: async () => ({ ok: true, message: COMPLETE }),
  secret: async () => ({ ok: true, message: COMPLETE }),
  oauth2ClientCredentials: async ({ fields, http, signal, now }) => {
    const token = await fetchClientCredentialsToken({ http, credential: fields, signal, now });
    const url = new URL(String(fields.tokenUrl));
    const life = token.expiresAt === undefined ? '' : `, valid for ${Math.round((token.expiresAt - now()) / 1000)} s`;
    return { ok: true, message: `obtained a ${token.tokenType} access token from ${url.origin}${url.pathname}${life}` };
  },
  smtp: async ({ fields, egressAllow, signal }) => {
    const secure = fields.secure === true;
    const port = typeof fields.port === 'number' ? fields.port : secure ? 465 : 587;
    const message = await probeSmtp({ host: String(fields.host), port, secure, egressAllow, signal });
    return { ok: true, message };
  },
  database: async ({ fields }) => urlShape(fields.url, ['postgres', 'postgresql', 'mysql', 'mariadb', 'mssql', 'sqlserver']),
  amqp: async ({ fields }) => urlShape(fields.url, ['amqp', 'amqps']),
  mqtt: async ({ fields }) => urlShape(fields.url, ['mqtt', 'mqtts', 'ws', 'wss', 'tcp', 'ssl', 'tls']),
  nats: async ({ fields }) => {
    const servers = (Array.isArray(fields.servers) ? fields.servers : String(fields.servers).split(','))
      .map((server) => String(server).trim())
      .filter((server) => server !== '');
    for (const server of servers) {
      const check = urlShape(/^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `nats://${server}`, ['nats', 'tls', 'ws', 'wss']);
      if (!check.ok) return check;
    }
    return { ok: true, message: `${servers.length} server address(es) are well-formed; no connection was tried` };
  },
};

/**
 * Whether `value` is a URL of one of `schemes` with a host. The message names the scheme only: the
 * URL may hold a password.
 */
function urlShape(value: unknown, schemes: readonly string[]): CredentialCheck {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    return { ok: false, message: 'the URL is not well-formed' };
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (!schemes.includes(scheme))
    return { ok: false, message: `the URL's scheme is ${scheme}; expected one of ${schemes.join(', ')}` };
  if (url.hostname === '') return { ok: false, message: 'the URL names no host' };
  return { ok: true, message: `the ${scheme} URL is well-formed; no connection was tried` };
}
