import { randomBytes } from 'node:crypto';
import type { Database } from '../store/database';
import { findCredentialByName } from '../store/queries/find-credential-by-name';
import type { CredentialRecord } from '../store/queries/get-credential';
import { getTenantKey } from '../store/queries/get-tenant-key';
import { insertTenantKey } from '../store/queries/insert-tenant-key';
import { writeAudit } from './audit';
import { openWith, sealWith } from './master-key';
import type { MasterKeyRing } from './master-key-ring';
import { type AuditActor, SYSTEM_ACTOR } from './principal';
import { TtlCache } from '../lib/ttl-cache';

/** The first byte of sealed credential data: the format (AES-256-GCM under the tenant's data key). */
const SEALED_FORMAT = 1;

/** What a tenant's data key is bound to when the master key wraps it. */
export function dataKeyContext(tenantId: string): string {
  return `tenant-data-key:${tenantId}`;
}

/** A tenant's unwrapped data key: seals and opens the secret fields of that tenant's credentials. */
export interface TenantDataKey {
  readonly tenantId: string;
  /**
   * Seals secret fields (AES-256-GCM) with the additional data `${tenantId}:${credentialId}`, so a
   * ciphertext cannot be moved to another row or tenant.
   */
  seal(credentialId: string, secrets: Readonly<Record<string, unknown>>): Buffer;
  /** The secret fields sealed for this credential; throws when they were sealed for another. */
  open(credentialId: string, sealed: Buffer): Record<string, unknown>;
}

/** A credential with its secrets, for the code that uses it (never for an API answer). */
export interface DecryptedCredential {
  id: string;
  name: string;
  type: string;
  /** `{ type, ...fields }`, what a connector receives. */
  value: Readonly<Record<string, unknown>>;
  /** Every secret string of it, and values derived from them (a Basic authorization), to mask. */
  secrets: readonly string[];
}

/** The vault could not give a tenant's data key (an unknown master key, a broken wrap). */
export class VaultKeyError extends Error {
  override name = 'VaultKeyError';
}

export interface VaultOptions {
  db: Database;
  keys: MasterKeyRing;
  /** How long an unwrapped data key stays in memory. Default: 5 min. */
  dataKeyTtlMs?: number;
}

/**
 * The credentials vault (envelope encryption): each tenant has a random 32-byte data key, created on
 * first use and stored wrapped by the master key (additional data: the tenant id) with that master
 * key's id; credentials' secret fields are sealed with it. Unwrapped data keys are kept in memory
 * briefly. The master key ring decides which key unwraps a data key, so rotation (`aiq keys rotate`)
 * re-wraps data keys without touching a credential.
 */
export class Vault {
  private readonly cache: TtlCache<string, TenantDataKey>;
  private readonly loading = new Map<string, Promise<TenantDataKey>>();

  constructor(private readonly options: VaultOptions) {
    this.cache = new TtlCache({ ttlMs: options.dataKeyTtlMs ?? 300_000, max: 10_000 });
  }

  /**
   * The tenant's data key, created on first use. Runs in transactions of its own: call it before the
   * transaction that seals or opens, never inside one.
   */
  async dataKey(tenantId: string): Promise<TenantDataKey> {
    const cached = this.cache.get(tenantId);
    if (cached) return cached;
    let loading = this.loading.get(tenantId);
    if (!loading) {
      loading = this.loadDataKey(tenantId).finally(() => this.loading.delete(tenantId));
      this.loading.set(tenantId, loading);
    }
    return loading;
  }

  /** Forgets every unwrapped data key (tests; after an incident). */
  forgetKeys(): void {
    this.cache.clear();
  }

  /**
   * The tenant's credential named `name`, decrypted, or undefined when there is none. The read is
   * audited (`credential.read`, by `actor`, with `details`) in the tenant's trail.
   */
  async read(args: {
    tenantId: string;
    name: string;
    actor: AuditActor;
    details?: Record<string, unknown>;
  }): Promise<DecryptedCredential | undefined> {
    const { tenantId, name } = args;
    const key = await this.dataKey(tenantId);
    const row = await this.options.db.withTenant(tenantId, async (tx) => {
      const found = await findCredentialByName(tx, { tenantId, name });
      if (found) {
        await writeAudit(tx, tenantId, {
          actor: args.actor,
          action: 'credential.read',
          target: { type: 'credential', id: found.id },
          details: { name, ...args.details },
        });
      }
      return found;
    });
    return row && decryptCredential(row, key);
  }

  /** The engine's read: a step's credential, audited as read by the system for that run and node. */
  async forStep(args: { tenantId: string; name: string; runId: string; nodeId: string }): Promise<
    { value: Readonly<Record<string, unknown>>; secrets: readonly string[] } | undefined
  > {
    const credential = await this.read({
      tenantId: args.tenantId,
      name: args.name,
      actor: SYSTEM_ACTOR,
      details: { runId: args.runId, nodeId: args.nodeId },
    });
    return credential && { value: credential.value, secrets: credential.secrets };
  }

  private async loadDataKey(tenantId: string): Promise<TenantDataKey> {
    const { db, keys } = this.options;
    let row = await db.withTenant(tenantId, (tx) => getTenantKey(tx, tenantId));
    if (!row) {
      // A new data key is wrapped by the newest current key, also when the key file changed since start.
      await keys.reload();
      const raw = randomBytes(32);
      const master = keys.current;
      const stored = { tenantId, wrappedKey: master.seal(raw, dataKeyContext(tenantId)), masterKeyId: master.id };
      row = await db.withTenant(tenantId, async (tx) =>
        (await insertTenantKey(tx, stored)) ? stored : getTenantKey(tx, tenantId),
      );
      if (!row) throw new VaultKeyError(`the data key of tenant ${tenantId} could not be stored`);
    }
    const master = await keys.find(row.masterKeyId);
    if (!master) {
      throw new VaultKeyError(
        `the data key of tenant ${tenantId} is wrapped by master key ${row.masterKeyId}, which this server does not ` +
          'have: list it in AIQ_MASTER_KEY or the key file (see docs/credentials.md)',
      );
    }
    let raw: Buffer;
    try {
      raw = master.open(row.wrappedKey, dataKeyContext(tenantId));
    } catch (cause) {
      throw new VaultKeyError(`the data key of tenant ${tenantId} does not open with master key ${master.id}`, { cause });
    }
    const key = tenantDataKey(tenantId, raw);
    this.cache.set(tenantId, key);
    return key;
  }
}

function tenantDataKey(tenantId: string, raw: Buffer): TenantDataKey {
  const context = (credentialId: string) => `${tenantId}:${credentialId}`;
  return {
    tenantId,
    seal(credentialId, secrets) {
      const sealed = sealWith(raw, Buffer.from(JSON.stringify(secrets), 'utf8'), context(credentialId));
      return Buffer.concat([Buffer.from([SEALED_FORMAT]), sealed]);
    },
    open(credentialId, sealed) {
      if (sealed[0] !== SEALED_FORMAT) throw new VaultKeyError(`credential ${credentialId}: unknown sealed format`);
      let plain: Buffer;
      try {
        plain = openWith(raw, sealed.subarray(1), context(credentialId));
      } catch (cause) {
        throw new VaultKeyError(`credential ${credentialId}: its secret fields do not open in tenant ${tenantId}`, {
          cause,
        });
      }
      return JSON.parse(plain.toString('utf8')) as Record<string, unknown>;
    },
  };
}

/** A stored credential with its secret fields opened. */
export function decryptCredential(row: CredentialRecord, key: TenantDataKey): DecryptedCredential {
  const secrets = key.open(row.id, row.sealedData);
  const fields = { ...row.publicData, ...secrets };
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    value: { ...fields, type: row.type },
    secrets: secretStringsOf(row.type, fields, secrets),
  };
}

/** Values a connector derives from a credential's fields in a way that could be echoed back. */
const DERIVED_SECRETS: Readonly<Record<string, (fields: Readonly<Record<string, unknown>>) => string[]>> = {
  basic: ({ username, password }) =>
    typeof username === 'string' && typeof password === 'string'
      ? [Buffer.from(`${username}:${password}`, 'utf8').toString('base64')]
      : [],
};

/** The strings to mask for a credential: every secret field's value, and what is derived from them. */
export function secretStringsOf(
  type: string,
  fields: Readonly<Record<string, unknown>>,
  secrets: Readonly<Record<string, unknown>>,
): string[] {
  const values = Object.values(secrets)
    .map((value) => (typeof value === 'string' ? value : JSON.stringify(value)))
    .filter((value) => value !== '');
  return [...values, ...(DERIVED_SECRETS[type]?.(fields) ?? [])];
}
