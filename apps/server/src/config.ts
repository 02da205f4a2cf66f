import { resolve } from 'node:path';
import { UserError } from './lib/user-error';

/** The server's settings. This module is the only reader of `process.env`. */
export interface Config {
  /** PostgreSQL connection string; undefined: the embedded server in `dataDir`. */
  databaseUrl: string | undefined;
  /** Embedded database, blobs and key file. Default: ./.automateiq */
  dataDir: string;
  host: string;
  port: number;
  /** Concurrent steps per worker process. Default: 16. */
  workerConcurrency: number;
  /** Hosts or CIDRs connectors may reach although private, loopback or link-local. */
  egressAllow: string[];
  /** pino level. Default: info. */
  logLevel: string;
  /** Base64 32-byte key wrapping the tenants' data keys (AIQ_MASTER_KEY); undefined: the data dir's key file. */
  masterKey: string | undefined;
  /** The first platform admin (AIQ_ADMIN_EMAIL / AIQ_ADMIN_PASSWORD); undefined: generated and printed once. */
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  /** Largest request body, in bytes (AIQ_BODY_LIMIT). Default: 16 MiB. Plans cap payloads further. */
  bodyLimitBytes: number;
  /** Origins allowed by CORS (AIQ_CORS_ORIGINS, comma-separated). Default: none (CORS off). */
  corsOrigins: string[];
  /** Unauthenticated requests (logins, bad tokens) per minute and IP address (AIQ_IP_RATE_LIMIT). Default: 300. */
  ipRequestsPerMinute: number;
  /** Trust X-Forwarded-For from a proxy in front (AIQ_TRUST_PROXY=true). Default: false. */
  trustProxy: boolean;
  /** Create a `demo` tenant with the examples on a first start with no tenants (AIQ_DEMO). Default: true. */
  demoTenant: boolean;
  /** The platform's address as outside systems reach it (AIQ_PUBLIC_URL), for resume URLs. Default: http://HOST:PORT. */
  publicUrl: string;
  /** How long a `respond: sync` webhook waits for its run before answering 202 (AIQ_WEBHOOK_SYNC_TIMEOUT_MS). Default: 30000. */
  webhookSyncTimeoutMs: number;
}

export class ConfigError extends UserError {
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and checks the environment; a bad value fails at start with the variable's name. */
export function loadConfig(env: Env = process.env): Config {
  const host = optional(env, 'HOST') ?? '127.0.0.1';
  const port = integer(env, 'PORT', { default: 3000, min: 0, max: 65_535 });
  return {
    databaseUrl: optional(env, 'DATABASE_URL'),
    dataDir: resolve(optional(env, 'AIQ_DATA_DIR') ?? '.automateiq'),
    host,
    port,
    publicUrl: url(env, 'AIQ_PUBLIC_URL') ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    workerConcurrency: integer(env, 'AIQ_WORKER_CONCURRENCY', { default: 16, min: 1, max: 1_000 }),
    egressAllow: list(env, 'AIQ_EGRESS_ALLOW'),
    logLevel: oneOf(
      env,
      'AIQ_LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      'info',
    ),
    masterKey: optional(env, 'AIQ_MASTER_KEY'),
    adminEmail: optional(env, 'AIQ_ADMIN_EMAIL'),
    adminPassword: optional(env, 'AIQ_ADMIN_PASSWORD'),
    bodyLimitBytes: integer(env, 'AIQ_BODY_LIMIT', { default: 16 * 1024 * 1024, min: 1024, max: 1024 * 1024 * 1024 }),
    corsOrigins: list(env, 'AIQ_CORS_ORIGINS'),
    ipRequestsPerMinute: integer(env, 'AIQ_IP_RATE_LIMIT', { default: 300, min: 1, max: 100_000_000 }),
    trustProxy: oneOf(env, 'AIQ_TRUST_PROXY', ['true', 'false'], 'false') === 'true',
    demoTenant: oneOf(env, 'AIQ_DEMO', ['true', 'false'], 'true') === 'true',
    webhookSyncTimeoutMs: integer(env, 'AIQ_WEBHOOK_SYNC_TIMEOUT_MS', { default: 30_000, min: 1, max: 600_000 }),
  };
}

function list(env: Env, name: string): string[] {
  return (optional(env, name) ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** An http(s) URL without a trailing slash. */
function url(env: Env, name: string): string | undefined {
  const text = optional(env, name);
  if (text === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new ConfigError(`${name}: "${text}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`${name}: "${text}" is not an http(s) URL`);
  return text.replace(/\/+$/, '');
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function integer(env: Env, name: string, rule: { default: number; min: number; max: number }): number {
  const text = optional(env, name);
  if (text === undefined) return rule.default;
  const value = Number(text);
  if (!Number.isInteger(value) || value < rule.min || value > rule.max) {
    throw new ConfigError(`${name}: "${text}" is not a whole number from ${rule.min} to ${rule.max}`);
  }
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const text = optional(env, name);
  if (text === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(text)) {
    throw new ConfigError(`${name}: "${text}" is not one of ${allowed.join(', ')}`);
  }
  return text as T;
}
