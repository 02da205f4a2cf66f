import { access } from 'node:fs/promises';
import type { Config } from '../config';
import { UserError } from '../lib/user-error';
import { createLogger } from '../observability/logger';
import { openPlatform } from '../platform';
import { writePlatformAudit } from '../security/audit';
import { MasterKey } from '../security/master-key';
import { loadMasterKeyRing, masterKeyFilePath, MasterKeyRing, writeMasterKeyFile } from '../security/master-key-ring';
import { SYSTEM_ACTOR } from '../security/principal';
import { rewrapTenantKeys } from '../security/rewrap-tenant-keys';

export interface KeysRotateArgs {
  /** The new master key (base64, 32 bytes); undefined: a new random key. */
  newKey?: string | undefined;
  /** Tenants re-wrapped per transaction. Default: 100. */
  batchSize?: number | undefined;
}

interface Out {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * `aiq keys rotate [--new-key BASE64]`: makes a new master key current and re-wraps every tenant's data
 * key under it, a transaction per batch; credentials' ciphertexts are not touched, nothing is down.
 *
 * - Key file (no AIQ_MASTER_KEY): the file is rewritten first (atomically, 0600) with the new key first
 *   and the previous keys after, so running servers that meet the new key's id read it again and keep
 *   working; then the data keys are re-wrapped.
 * - AIQ_MASTER_KEY: the data keys are re-wrapped, and the value to set on every server is printed
 *   (`new,previous…`); servers that do not list the new key yet cannot open re-wrapped data keys once
 *   their cached copies expire, so list it as a previous key on them first (docs/credentials.md).
 *
 * Running it again with the same `--new-key` resumes an interrupted rotation. Exit 0, or 2 on a
 * problem a person can fix.
 */
export async function keysRotateCommand(args: KeysRotateArgs, config: Config, out: Out): Promise<number> {
  const fromEnv = config.masterKey !== undefined;
  const keyFile = masterKeyFilePath(config.dataDir);
  if (!fromEnv) {
    await access(keyFile).catch((cause: unknown) => {
      throw new UserError(`${keyFile}: no master key file (and AIQ_MASTER_KEY is unset): there is nothing to rotate`, { cause });
    });
  }
  const ring = await loadMasterKeyRing({ configured: config.masterKey, dataDir: config.dataDir });
  const newKey = args.newKey === undefined ? MasterKey.generate() : MasterKey.fromBase64(args.newKey, '--new-key');
  const rotated = MasterKeyRing.of(newKey, ...ring.all.filter((key) => key.id !== newKey.id));
  const previous = rotated.all.slice(1);
  if (!fromEnv) await writeMasterKeyFile(keyFile, rotated.all);

  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const platform = await openPlatform({ config, logger, maxConnections: 2 });
  try {
    const report = await rewrapTenantKeys({
      db: platform.db,
      keys: rotated,
      ...(args.batchSize === undefined ? {} : { batchSize: args.batchSize }),
      onBatch: (count) => out.stderr.write(`re-wrapped ${count} tenant data keys\n`),
    });
    await platform.db.withSystem('keys rotate: audit', (tx) =>
      writePlatformAudit(tx, {
        actor: { ...SYSTEM_ACTOR, label: 'aiq keys rotate' },
        action: 'keys.rotate',
        details: {
          masterKeyId: newKey.id,
          previousKeyIds: previous.map((key) => key.id),
          rewrapped: report.rewrapped,
          source: fromEnv ? 'AIQ_MASTER_KEY' : 'key file',
        },
      }),
    );
    const elsewhere = [...report.byMasterKey].filter(([id]) => id !== newKey.id).reduce((sum, [, n]) => sum + n, 0);
    out.stdout.write(
      `master key rotated: ${report.rewrapped} tenant data keys re-wrapped under key ${newKey.id}` +
        `${elsewhere > 0 ? ` (${elsewhere} still under previous keys, created meanwhile: run it again)` : ''}\n` +
        `previous keys, still listed so that nothing sealed or signed with them is lost: ${
          previous.map((key) => key.id).join(', ') || 'none'
        }\n`,
    );
    if (fromEnv) {
      out.stdout.write(
        `set on every server (the new key first, then the previous ones):\n` +
          `AIQ_MASTER_KEY=${rotated.all.map((key) => key.toBase64()).join(',')}\n`,
      );
    } else {
      out.stdout.write(`${keyFile} holds the new key first and the previous keys after it\n`);
    }
    return 0;
  } finally {
    await platform.close();
  }
}
