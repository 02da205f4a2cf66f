import type { Permission } from '@automateiq/contracts';
import { newId } from '../lib/ids';
import type { Tx } from '../store/database';
import { type ApiKeyRecord, insertApiKey } from '../store/queries/insert-api-key';
import { API_KEY_PREFIX, apiKeyDisplayPrefix, hashToken, newSecretToken } from './secret-token';

/** Makes a new API key of the tenant: stores its hash, returns the key itself (shown once). */
export async function issueApiKey(
  tx: Tx,
  args: {
    tenantId: string;
    name: string;
    scopes: readonly Permission[];
    createdBy: string | null;
    expiresAt?: Date | null | undefined;
  },
): Promise<ApiKeyRecord & { key: string }> {
  const key = newSecretToken(API_KEY_PREFIX);
  const record = await insertApiKey(tx, {
    tenantId: args.tenantId,
    id: newId(),
    name: args.name,
    prefix: apiKeyDisplayPrefix(key),
    keyHash: hashToken(key),
    scopes: args.scopes,
    createdBy: args.createdBy,
    expiresAt: args.expiresAt ?? null,
  });
  return { ...record, key };
}
