import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../lib/user-error';
import type { SigningKeys } from './access-token';
import { MASTER_KEY_FILE, MasterKey } from './master-key';

/** Where a ring's keys come from, and how to read them again. */
export type MasterKeySource =
  | { kind: 'env'; name: string }
  | { kind: 'file'; path: string };

/**
 * The master keys a server knows: the current one (wraps new data keys, signs new access tokens) and
 * the previous ones, kept so that whatever they wrapped or signed stays readable during and after a
 * rotation (`aiq keys rotate`). A data key names the key that wrapped it (`master_key_id`); meeting an
 * id it does not know, a ring read from a key file reads the file again, once (at most once a second),
 * so that servers follow a rotation without a restart.
 */
export class MasterKeyRing {
  private keys: readonly MasterKey[];
  private reloading: Promise<void> | undefined;
  /** Unknown key ids, and when the file was last read for them. */
  private readonly missing = new Map<string, number>();
  private readonly derived = new Map<string, Buffer>();
  readonly source: MasterKeySource | undefined;

  constructor(args: { keys: readonly MasterKey[]; source?: MasterKeySource | undefined }) {
    if (args.keys.length === 0) throw new UserError('a master key ring needs at least one key');
    this.keys = dedupe(args.keys);
    this.source = args.source;
  }

  /** A ring of the given keys, the first current; it cannot reload. */
  static of(...keys: MasterKey[]): MasterKeyRing {
    return new MasterKeyRing({ keys });
  }

  /** A ring as is, or a single key as a ring of one. */
  static from(key: MasterKey | MasterKeyRing): MasterKeyRing {
    return key instanceof MasterKeyRing ? key : MasterKeyRing.of(key);
  }

  /** The key that wraps and signs from now on. */
  get current(): MasterKey {
    const first = this.keys[0];
    if (!first) throw new Error('the master key ring is empty');
    return first;
  }

  /** The current key's id. */
  get id(): string {
    return this.current.id;
  }

  /** Every key, current first. */
  get all(): readonly MasterKey[] {
    return this.keys;
  }

  /**
   * The key with `id`; when it is unknown, the key file is read again (once per unknown id and second;
   * callers meanwhile wait for that read). Undefined when it is still unknown.
   */
  async find(id: string): Promise<MasterKey | undefined> {
    const known = this.keys.find((key) => key.id === id);
    if (known || this.source?.kind !== 'file') return known;
    const now = Date.now();
    if (this.reloading) await this.reloading;
    else if (now - (this.missing.get(id) ?? 0) >= 1_000) {
      this.missing.set(id, now);
      if (this.missing.size > 100) this.missing.delete(this.missing.keys().next().value ?? id);
      await this.reload();
    }
    return this.keys.find((key) => key.id === id);
  }

  /**
   * Reads the key file again (rings from AIQ_MASTER_KEY cannot change while the process runs); callers
   * at the same time share one read. A file that cannot be read or holds a bad key leaves the ring as it
   * was and rejects.
   */
  async reload(): Promise<void> {
    const source = this.source;
    if (source?.kind !== 'file') return;
    this.reloading ??= readKeyFile(source.path)
      .then((keys) => {
        if (keys === undefined || keys.length === 0) throw new UserError(`${source.path}: holds no master key`);
        this.keys = dedupe(keys);
      })
      .finally(() => {
        this.reloading = undefined;
      });
    return this.reloading;
  }

  /** Seals a platform secret with the current key (see `MasterKey.seal`). */
  seal(plain: Buffer, context: string): Buffer {
    return this.current.seal(plain, context);
  }

  /** Opens what any key of the ring sealed, trying the current key first. */
  open(sealed: Buffer, context: string): Buffer {
    let failure: unknown;
    for (const key of this.keys) {
      try {
        return key.open(sealed, context);
      } catch (error) {
        failure = error;
      }
    }
    throw new Error('no master key of the ring opens this sealed value', { cause: failure });
  }

  /** The current key's derived key for `purpose` (see `MasterKey.derive`). */
  derive(purpose: string): Buffer {
    return this.derivedOf(this.current, purpose);
  }

  /**
   * Keys for signing with the current key and verifying with any key of the ring, named by the master
   * key's id (the JWT `kid`), each derived for `purpose`: access tokens stay valid across a rotation
   * while the previous key is listed.
   */
  signingKeys(purpose: string): SigningKeys {
    return {
      current: () => ({ id: this.current.id, key: this.derive(purpose) }),
      find: async (id) => {
        const key = await this.find(id);
        return key && this.derivedOf(key, purpose);
      },
    };
  }

  private derivedOf(key: MasterKey, purpose: string): Buffer {
    const name = `${key.id}:${purpose}`;
    let derived = this.derived.get(name);
    if (!derived) {
      derived = key.derive(purpose);
      this.derived.set(name, derived);
    }
    return derived;
  }
}

function dedupe(keys: readonly MasterKey[]): MasterKey[] {
  const seen = new Set<string>();
  return keys.filter((key) => !seen.has(key.id) && Boolean(seen.add(key.id)));
}

/** Keys as written in AIQ_MASTER_KEY (comma-separated) or the key file (one a line; `#` starts a comment). */
export function parseMasterKeys(text: string, source: string): MasterKey[] {
  const entries = text
    .split('\n')
    .flatMap((line) => line.replace(/#.*$/, '').split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return entries.map((entry, index) =>
    MasterKey.fromBase64(entry, entries.length > 1 ? `${source} (key ${index + 1})` : source),
  );
}

/** The keys in a key file, or undefined when it does not exist. */
async function readKeyFile(path: string): Promise<MasterKey[] | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseMasterKeys(text, path);
}

/** The key file of a data directory. */
export function masterKeyFilePath(dataDir: string): string {
  return join(dataDir, MASTER_KEY_FILE);
}

/**
 * Replaces the key file (mode 0600) with `keys`, current first, atomically: a reader sees the old file
 * or the new one, never a part.
 */
export async function writeMasterKeyFile(path: string, keys: readonly MasterKey[]): Promise<void> {
  const body =
    '# AutomateIQ master keys: the current key first, previous keys after (see docs/credentials.md).\n' +
    keys.map((key) => `${key.toBase64()}\n`).join('');
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, body, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

/**
 * The server's master keys: AIQ_MASTER_KEY if set ("current[,previous…]"); else the data directory's
 * key file (current key first, then previous keys, one base64 key a line), created (0600) with a new
 * key when missing.
 */
export async function loadMasterKeyRing(args: { configured: string | undefined; dataDir: string }): Promise<MasterKeyRing> {
  if (args.configured !== undefined) {
    const keys = parseMasterKeys(args.configured, 'AIQ_MASTER_KEY');
    if (keys.length === 0) throw new UserError('AIQ_MASTER_KEY: holds no key');
    return new MasterKeyRing({ keys, source: { kind: 'env', name: 'AIQ_MASTER_KEY' } });
  }
  const path = masterKeyFilePath(args.dataDir);
  const source: MasterKeySource = { kind: 'file', path };
  const existing = await readKeyFile(path);
  if (existing !== undefined) {
    if (existing.length === 0) throw new UserError(`${path}: holds no master key`);
    return new MasterKeyRing({ keys: existing, source });
  }
  await mkdir(args.dataDir, { recursive: true });
  const key = MasterKey.generate();
  try {
    await writeFile(path, `${key.toBase64()}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const theirs = await readKeyFile(path);
    if (!theirs || theirs.length === 0) throw new UserError(`${path}: holds no master key`, { cause: error });
    return new MasterKeyRing({ keys: theirs, source });
  }
  await chmod(path, 0o600);
  return new MasterKeyRing({ keys: [key], source });
}
