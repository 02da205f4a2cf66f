import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysRotateCommand } from '../../src/cli/keys-rotate-command';
import { loadConfig } from '../../src/config';
import { newId } from '../../src/lib/ids';
import { AccessTokens } from '../../src/security/access-token';
import { MasterKey } from '../../src/security/master-key';
import { loadMasterKeyRing, MasterKeyRing, parseMasterKeys } from '../../src/security/master-key-ring';
import { SYSTEM_ACTOR } from '../../src/security/principal';
import { Vault } from '../../src/security/vault';
import { insertCredential } from '../../src/store/queries/insert-credential';
import { ensureTenant } from '../../src/tenancy/ensure-tenant';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** Runs `aiq keys rotate` in-process; returns its exit code and output. */
async function rotate(env: Record<string, string>, args: { newKey?: string; batchSize?: number } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const text = { out: '', err: '' };
  stdout.on('data', (chunk: Buffer) => (text.out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (text.err += chunk.toString()));
  const code = await keysRotateCommand(args, loadConfig({ AIQ_LOG_LEVEL: 'silent', ...env }), { stdout, stderr });
  return { code, ...text };
}

describe('aiq keys rotate', () => {
  let t: TestDatabase;
  let dir: string;
  let env: Record<string, string>;
  /** A running server's vault, holding the ring it read from the key file at start. */
  let server: Vault;
  let serverRing: MasterKeyRing;
  const tenants: string[] = [];
  /** Credential name -> its secret. */
  const secrets = new Map<string, string>();
  const sealedBefore = async () =>
    (await t.db.systemQuery<{ id: string; sealed: Buffer }>('test: ciphertexts', 'SELECT id, sealed_data AS sealed FROM credentials ORDER BY id')).rows;
  const wrappedBy = async () =>
    (await t.db.systemQuery<{ id: string }>('test: wrapping keys', 'SELECT DISTINCT master_key_id AS id FROM tenant_keys')).rows.map((r) => r.id);

  /** Every credential, read through a vault with `ring`. */
  async function readAll(ring: MasterKeyRing): Promise<Map<string, string>> {
    const vault = new Vault({ db: t.db, keys: ring });
    const read = new Map<string, string>();
    for (const [index, tenantId] of tenants.entries()) {
      for (const name of [`c${index}a`, `c${index}b`]) {
        const credential = await vault.read({ tenantId, name, actor: SYSTEM_ACTOR });
        read.set(name, String(credential?.value.token));
      }
    }
    return read;
  }

  beforeAll(async () => {
    t = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'aiq-rotate-'));
    env = { DATABASE_URL: t.url, AIQ_DATA_DIR: dir };
    serverRing = await loadMasterKeyRing({ configured: undefined, dataDir: dir });
    server = new Vault({ db: t.db, keys: serverRing });
    for (let i = 0; i < 5; i++) {
      const tenantId = (await ensureTenant(t.db, `rotate-${i}`)).id;
      tenants.push(tenantId);
      const key = await server.dataKey(tenantId);
      for (const name of [`c${i}a`, `c${i}b`]) {
        const id = newId();
        const secret = `secret-${name}-${newId()}`;
        secrets.set(name, secret);
        await t.db.withTenant(tenantId, (tx) =>
          insertCredential(tx, { tenantId, id, name, type: 'bearer', publicData: {}, sealedData: key.seal(id, { token: secret }), secretFields: ['token'] }),
        );
      }
    }
  });
  afterAll(() => t?.drop());

  it('re-wraps every data key under a new key in the key file, leaving ciphertexts alone; a running server keeps working', async () => {
    const original = serverRing.current;
    const tokens = new AccessTokens({ key: serverRing.signingKeys('jwt-signing') });
    const claims = { userId: newId(), sessionId: newId(), platformAdmin: false };
    const tokenBefore = await tokens.sign(claims);
    const before = await sealedBefore();

    const result = await rotate(env, { batchSize: 2 });
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/master key rotated: 5 tenant data keys re-wrapped under key [0-9a-f]{16}/);
    expect(result.err).toContain('re-wrapped 5 tenant data keys');

    const file = join(dir, 'master.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const listed = parseMasterKeys(readFileSync(file, 'utf8'), file);
    expect(listed).toHaveLength(2);
    expect(listed[1]?.id).toBe(original.id);
    const current = listed[0];
    expect(await wrappedBy()).toEqual([current?.id]);
    expect(await sealedBefore()).toEqual(before);

    // A fresh server reads every credential.
    expect(await readAll(await loadMasterKeyRing({ configured: undefined, dataDir: dir }))).toEqual(secrets);
    // The running server, its cached keys gone, meets the new key id, reads the file again and goes on.
    server.forgetKeys();
    expect((await server.read({ tenantId: tenants[0] ?? '', name: 'c0a', actor: SYSTEM_ACTOR }))?.value.token).toBe(secrets.get('c0a'));
    expect(serverRing.current.id).toBe(current?.id);
    // Access tokens signed before the rotation are still good, on old and new servers alike.
    const fresh = new AccessTokens({ key: (await loadMasterKeyRing({ configured: undefined, dataDir: dir })).signingKeys('jwt-signing') });
    expect(await fresh.verify(tokenBefore)).toEqual(claims);
    expect(await tokens.verify(await fresh.sign(claims))).toEqual(claims);

    const audit = await t.db.systemQuery<{ details: { masterKeyId: string; rewrapped: number } }>(
      'test: platform audit',
      "SELECT details FROM platform_audit_log WHERE action = 'keys.rotate'",
    );
    expect(audit.rows.map((r) => r.details)).toMatchObject([{ masterKeyId: current?.id, rewrapped: 5 }]);
  });

  it('rotates again to a given key, and resumes with the same key without harm', async () => {
    const given = MasterKey.generate();
    const before = await sealedBefore();
    expect((await rotate(env, { newKey: given.toBase64() })).code).toBe(0);
    const ring = await loadMasterKeyRing({ configured: undefined, dataDir: dir });
    expect(ring.all).toHaveLength(3);
    expect(ring.current.id).toBe(given.id);
    expect(await wrappedBy()).toEqual([given.id]);
    expect(await readAll(ring)).toEqual(secrets);
    expect(await readAll(MasterKeyRing.of(given))).toEqual(secrets);

    const again = await rotate(env, { newKey: given.toBase64() });
    expect(again.code).toBe(0);
    expect(again.out).toContain('0 tenant data keys re-wrapped');
    expect((await loadMasterKeyRing({ configured: undefined, dataDir: dir })).all).toHaveLength(3);
    expect(await sealedBefore()).toEqual(before);
  });

  it('with AIQ_MASTER_KEY, prints the value to set (new key first, previous keys after) and leaves the key file alone', async () => {
    const fileBefore = readFileSync(join(dir, 'master.key'), 'utf8');
    const ring = await loadMasterKeyRing({ configured: undefined, dataDir: dir });
    const configured = ring.all.map((key) => key.toBase64()).join(',');
    // A server configured by AIQ_MASTER_KEY cannot re-read it: it goes on with its cached data keys.
    const envServer = new Vault({ db: t.db, keys: await loadMasterKeyRing({ configured, dataDir: dir }) });
    for (const tenantId of tenants) await envServer.dataKey(tenantId);

    const result = await rotate({ ...env, AIQ_MASTER_KEY: configured });
    expect(result.code).toBe(0);
    const printed = /^AIQ_MASTER_KEY=(.+)$/m.exec(result.out)?.[1];
    expect(printed?.endsWith(`,${configured}`)).toBe(true);
    const rotated = await loadMasterKeyRing({ configured: printed, dataDir: dir });
    expect(await wrappedBy()).toEqual([rotated.current.id]);
    expect(await readAll(rotated)).toEqual(secrets);
    expect(readFileSync(join(dir, 'master.key'), 'utf8')).toBe(fileBefore);
    expect((await envServer.read({ tenantId: tenants[1] ?? '', name: 'c1b', actor: SYSTEM_ACTOR }))?.value.token).toBe(secrets.get('c1b'));

    // Without the key that wraps the data keys now, nothing opens, and nothing is changed.
    await expect(rotate({ ...env, AIQ_MASTER_KEY: MasterKey.generate().toBase64() })).rejects.toThrow(
      /wrapped by master key [0-9a-f]{16}, which is not among the keys given/,
    );
    expect(await wrappedBy()).toEqual([rotated.current.id]);
  });
});
