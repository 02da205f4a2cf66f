import { UserError } from '../lib/user-error';
import type { Database } from '../store/database';
import { countTenantKeysByMasterKey } from '../store/queries/count-tenant-keys-by-master-key';
import { lockTenantKeysToRewrap } from '../store/queries/lock-tenant-keys-to-rewrap';
import { rewrapTenantKey } from '../store/queries/rewrap-tenant-key';
import type { MasterKeyRing } from './master-key-ring';
import { dataKeyContext } from './vault';

/** What re-wrapping did. */
export interface RewrapReport {
  /** Data keys re-wrapped by the ring's current key. */
  rewrapped: number;
  /** Data keys per master key id afterwards. */
  byMasterKey: Map<string, number>;
}

/**
 * Re-wraps every tenant's data key that another key of the ring wraps with the ring's current key, one
 * transaction per batch (default 100 tenants), in tenant order. The data keys themselves, and so every
 * credential's ciphertext, stay as they are. A few passes catch data keys that servers created meanwhile
 * under a previous key. A data key wrapped by a key the ring lacks stops it (nothing is lost: add the key
 * as a previous one and run again). System path: it crosses tenants.
 */
export async function rewrapTenantKeys(args: {
  db: Database;
  keys: MasterKeyRing;
  batchSize?: number;
  /** Called after each committed batch with the total so far. */
  onBatch?: (rewrapped: number) => void;
}): Promise<RewrapReport> {
  const { db, keys } = args;
  const target = keys.current;
  const limit = args.batchSize ?? 100;
  let rewrapped = 0;
  for (let pass = 0; pass < 3; pass++) {
    let inPass = 0;
    let after: string | undefined;
    for (;;) {
      const batch = await db.withSystem('keys rotate: re-wrap a batch of tenant data keys', async (tx) => {
        const rows = await lockTenantKeysToRewrap(tx, { masterKeyId: target.id, after, limit });
        for (const row of rows) {
          const previous = await keys.find(row.masterKeyId);
          if (!previous) {
            throw new UserError(
              `the data key of tenant ${row.tenantId} is wrapped by master key ${row.masterKeyId}, which is not among ` +
                'the keys given: list it as a previous key and run again',
            );
          }
          const context = dataKeyContext(row.tenantId);
          const raw = previous.open(row.wrappedKey, context);
          await rewrapTenantKey(tx, { tenantId: row.tenantId, wrappedKey: target.seal(raw, context), masterKeyId: target.id });
        }
        return rows;
      });
      rewrapped += batch.length;
      inPass += batch.length;
      if (batch.length > 0) args.onBatch?.(rewrapped);
      const last = batch.at(-1);
      if (batch.length < limit || !last) break;
      after = last.tenantId;
    }
    if (inPass === 0) break;
  }
  return { rewrapped, byMasterKey: await countTenantKeysByMasterKey(db.system) };
}
