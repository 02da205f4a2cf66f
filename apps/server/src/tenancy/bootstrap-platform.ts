import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Connector } from '@automateiq/connector-kit';
import type { Logger } from 'pino';
import { writePlatformAudit } from '../security/audit';
import { SYSTEM_ACTOR } from '../security/principal';
import type { Database } from '../store/database';
import { readDefinitionFile } from '../workflows/read-definition-file';
import { saveWorkflowByName } from '../workflows/save-workflow-by-name';
import { findOrCreateUser } from './find-or-create-user';
import { onboardTenant } from './onboard-tenant';

export interface BootstrapResult {
  /** Set when this start created the platform admin. */
  admin?: { email: string; password?: string; generated: boolean };
  /** Set when this start created the demo tenant. */
  demo?: { slug: string; apiKey: string; workflows: number };
}

/**
 * First start: makes the platform admin (from AIQ_ADMIN_EMAIL/AIQ_ADMIN_PASSWORD, or generated and
 * returned to be printed once) and, when there are no tenants, a `demo` tenant owned by the admin
 * with the example workflows loaded. Later starts change nothing. Safe when several processes start
 * at once (an advisory lock).
 */
export async function bootstrapPlatform(args: {
  db: Database;
  connectors: ReadonlyMap<string, Connector>;
  logger: Logger;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  demoTenant: boolean;
  examplesDir: string;
}): Promise<BootstrapResult> {
  const { db } = args;
  const result: BootstrapResult = {};
  const email = args.adminEmail ?? 'admin@automateiq.local';
  const adminMade = await db.withSystem('bootstrap the platform admin', async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('aiq_bootstrap'))");
    const admins = await tx.query('SELECT 1 FROM users WHERE platform_admin LIMIT 1');
    if (admins.rowCount) return undefined;
    const generated = args.adminPassword === undefined;
    const password = args.adminPassword ?? randomBytes(18).toString('base64url');
    const { user, created } = await findOrCreateUser(tx, { email, password, platformAdmin: true });
    if (!created) await tx.query('UPDATE users SET platform_admin = true WHERE id = $1', [user.id]);
    await writePlatformAudit(tx, { actor: SYSTEM_ACTOR, action: 'platform-admin.create', target: { type: 'user', id: user.id } });
    return { email: user.email, generated, ...(generated ? { password } : {}) };
  });
  if (adminMade) result.admin = adminMade;
  if (!args.demoTenant) return result;
  const tenants = await db.systemQuery('bootstrap: are there tenants', 'SELECT 1 FROM tenants LIMIT 1');
  if (tenants.rowCount) return result;
  const demo = await onboardTenant(db, {
    name: 'Demo',
    slug: 'demo',
    ownerEmail: email,
    plan: 'standard',
    actor: SYSTEM_ACTOR,
  }).catch((error: unknown) => {
    // Another process made it first.
    args.logger.debug({ err: error }, 'demo tenant not created');
    return undefined;
  });
  if (!demo) return result;
  let workflows = 0;
  const files = await readdir(args.examplesDir).catch(() => [] as string[]);
  for (const file of files.filter((f) => /\.(ya?ml|json)$/.test(f)).sort()) {
    const loaded = readDefinitionFile(join(args.examplesDir, file), args.connectors);
    if (!loaded.ok) {
      args.logger.warn({ file, errors: loaded.errors }, 'example not loaded into the demo tenant');
      continue;
    }
    await saveWorkflowByName(db, { tenantId: demo.tenant.id, definition: loaded.definition });
    workflows++;
  }
  result.demo = { slug: 'demo', apiKey: demo.apiKey.key, workflows };
  return result;
}
