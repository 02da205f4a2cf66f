import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids';
import { SYSTEM_ACTOR } from '../../src/security/principal';
import { onboardTenant } from '../../src/tenancy/onboard-tenant';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('the platform tables at the SQL level', () => {
  let t: TestDatabase;
  let a: string;
  let b: string;
  beforeAll(async () => {
    t = await createTestDatabase();
    const onboard = (slug: string) =>
      onboardTenant(t.db, { name: slug, slug, ownerEmail: `owner@${slug}.example.com`, actor: SYSTEM_ACTOR });
    a = (await onboard('a')).tenant.id;
    b = (await onboard('b')).tenant.id;
  });
  afterAll(() => t?.drop());

  it('a tenant sees only the users who are its members', async () => {
    const emails = await t.db.withTenant(a, async (tx) => (await tx.query<{ email: string }>('SELECT email FROM users')).rows);
    expect(emails.map((r) => r.email)).toEqual(['owner@a.example.com']);
    const none = await t.db.pool.query('SELECT count(*)::int AS n FROM users');
    expect(none.rows[0].n).toBe(0);
  });

  it('the tenant role cannot create users nor read sessions or the platform audit trail', async () => {
    await expect(
      t.db.withTenant(a, (tx) => tx.query("INSERT INTO users (id, email) VALUES ($1, 'x@example.com')", [newId()])),
    ).rejects.toThrow(/permission denied/);
    for (const table of ['refresh_tokens', 'platform_settings', 'platform_audit_log']) {
      await expect(t.db.withTenant(a, (tx) => tx.query(`SELECT * FROM ${table}`))).rejects.toThrow(/permission denied/);
    }
  });

  it('the audit trail is append-only, even on the privileged path', async () => {
    await expect(t.db.withTenant(a, (tx) => tx.query('UPDATE audit_log SET action = $1', ['x']))).rejects.toThrow();
    await expect(t.db.withTenant(a, (tx) => tx.query('DELETE FROM audit_log'))).rejects.toThrow();
    await expect(t.db.withSystem('test', (tx) => tx.query('DELETE FROM audit_log'))).rejects.toThrow(/permission denied/);
    // Even the tables' owner (the migrating superuser) is stopped by the trigger.
    const owner = new pg.Client({ connectionString: t.url });
    await owner.connect();
    try {
      await expect(owner.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
      await expect(owner.query('UPDATE platform_audit_log SET action = $1', ['x'])).rejects.toThrow(/append-only/);
      await expect(owner.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    } finally {
      await owner.end();
    }
    const mine = await t.db.withTenant(b, async (tx) => (await tx.query<{ tenant_id: string }>('SELECT tenant_id FROM audit_log')).rows);
    expect(mine.length).toBeGreaterThan(0);
    expect(new Set(mine.map((r) => r.tenant_id))).toEqual(new Set([b]));
  });
});
