import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids';
import { AccessTokens } from '../../src/security/access-token';
import { MasterKey } from '../../src/security/master-key';
import { loadMasterKeyRing, MasterKeyRing, writeMasterKeyFile } from '../../src/security/master-key-ring';
import { Vault } from '../../src/security/vault';
import { ensureTenant } from '../../src/tenancy/ensure-tenant';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('the credentials vault', () => {
  let t: TestDatabase;
  let acme: string;
  let globex: string;
  beforeAll(async () => {
    t = await createTestDatabase();
    acme = (await ensureTenant(t.db, 'acme')).id;
    globex = (await ensureTenant(t.db, 'globex')).id;
  });
  afterAll(() => t?.drop());

  it("creates a tenant's data key on first use, once, stored wrapped by the master key with its id", async () => {
    const master = MasterKey.generate();
    const vault = new Vault({ db: t.db, keys: MasterKeyRing.of(master) });
    const tenant = (await ensureTenant(t.db, `first-${newId()}`)).id;
    // Concurrent first uses in one process and in another one agree on one key.
    const other = new Vault({ db: t.db, keys: MasterKeyRing.of(master) });
    const [a, b, c] = await Promise.all([vault.dataKey(tenant), vault.dataKey(tenant), other.dataKey(tenant)]);
    expect(a).toBe(b);
    const sealed = a.seal('cred-1', { token: 'tok' });
    expect(c.open('cred-1', sealed)).toEqual({ token: 'tok' });

    const rows = await t.db.withTenant(tenant, async (tx) =>
      (await tx.query<{ wrapped_key: Buffer; master_key_id: string }>('SELECT wrapped_key, master_key_id FROM tenant_keys')).rows,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.master_key_id).toBe(master.id);
    // 12 bytes iv + 16 bytes tag + 32 bytes key: wrapped, not the key itself.
    expect(rows[0]?.wrapped_key.length).toBe(60);
  });

  it("binds a ciphertext to its tenant and credential: it opens nowhere else", async () => {
    const vault = new Vault({ db: t.db, keys: MasterKeyRing.of(MasterKey.generate()) });
    const acmeKey = await vault.dataKey(acme);
    const globexKey = await vault.dataKey(globex);
    const sealed = acmeKey.seal('cred-a', { password: 'hunter2' });
    expect(sealed.includes(Buffer.from('hunter2'))).toBe(false);
    expect(acmeKey.open('cred-a', sealed)).toEqual({ password: 'hunter2' });
    expect(() => acmeKey.open('cred-b', sealed)).toThrow(/do not open/);
    expect(() => globexKey.open('cred-a', sealed)).toThrow(/do not open/);
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1] = (tampered.at(-1) ?? 0) ^ 1;
    expect(() => acmeKey.open('cred-a', tampered)).toThrow();
  });

  it('refuses a data key wrapped by a master key it does not have, naming the key, never the secret', async () => {
    const tenant = (await ensureTenant(t.db, `lost-${newId()}`)).id;
    await new Vault({ db: t.db, keys: MasterKeyRing.of(MasterKey.generate()) }).dataKey(tenant);
    const stranger = new Vault({ db: t.db, keys: MasterKeyRing.of(MasterKey.generate()) });
    await expect(stranger.dataKey(tenant)).rejects.toThrow(/wrapped by master key [0-9a-f]{16}, which this server does not have/);
  });

  it('keeps unwrapped data keys in memory briefly', async () => {
    const vault = new Vault({ db: t.db, keys: MasterKeyRing.of(MasterKey.generate()), dataKeyTtlMs: 60_000 });
    const tenant = (await ensureTenant(t.db, `cache-${newId()}`)).id;
    const key = await vault.dataKey(tenant);
    await t.db.systemQuery('test: drop the stored key', 'DELETE FROM tenant_keys WHERE tenant_id = $1', [tenant]);
    expect(await vault.dataKey(tenant)).toBe(key);
    vault.forgetKeys();
    expect(await vault.dataKey(tenant)).not.toBe(key);
  });
});

describe('the master key ring', () => {
  it('reads AIQ_MASTER_KEY as "current,previous…"', async () => {
    const [a, b] = [MasterKey.generate(), MasterKey.generate()];
    const ring = await loadMasterKeyRing({ configured: `${a.toBase64()}, ${b.toBase64()}`, dataDir: '/nonexistent' });
    expect(ring.all.map((k) => k.id)).toEqual([a.id, b.id]);
    expect(ring.current.id).toBe(a.id);
    await expect(loadMasterKeyRing({ configured: 'c2hvcnQ=', dataDir: '/nonexistent' })).rejects.toThrow(
      /AIQ_MASTER_KEY: must be 32 bytes/,
    );
  });

  it('creates the key file 0600 on first use and reads it again when it meets an unknown key id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiq-ring-'));
    const ring = await loadMasterKeyRing({ configured: undefined, dataDir: dir });
    const file = join(dir, 'master.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const original = ring.current;
    const next = MasterKey.generate();
    await writeMasterKeyFile(file, [next, original]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain(next.toBase64());
    // Known ids need no reading; the unknown one is found after reading the file again.
    expect(ring.current.id).toBe(original.id);
    expect((await ring.find(next.id))?.id).toBe(next.id);
    expect(ring.current.id).toBe(next.id);
    expect(await ring.find('0000000000000000')).toBeUndefined();
  });

  it('opens what any of its keys sealed, and verifies access tokens signed under a previous key', async () => {
    const [old, next] = [MasterKey.generate(), MasterKey.generate()];
    const before = MasterKeyRing.of(old);
    const after = MasterKeyRing.of(next, old);
    const sealed = before.seal(Buffer.from('totp-seed'), 'user:1');
    expect(after.open(sealed, 'user:1').toString()).toBe('totp-seed');

    const oldTokens = new AccessTokens({ key: before.signingKeys('jwt-signing') });
    const newTokens = new AccessTokens({ key: after.signingKeys('jwt-signing') });
    const claims = { userId: newId(), sessionId: newId(), platformAdmin: false };
    const signedBefore = await oldTokens.sign(claims);
    expect(await newTokens.verify(signedBefore)).toEqual(claims);
    // A ring without the new key (and no file to read) refuses what the new key signed.
    expect(await oldTokens.verify(await newTokens.sign(claims))).toBeUndefined();
    expect(await new AccessTokens({ key: MasterKeyRing.of(MasterKey.generate()).signingKeys('jwt-signing') }).verify(signedBefore)).toBeUndefined();
  });
});
