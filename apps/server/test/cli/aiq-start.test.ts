import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/lib/free-port';
import { REPO_ROOT, runAiq } from '../support/run-aiq';

const AIQ = fileURLToPath(new URL('../../bin/aiq.mjs', import.meta.url));

/** `aiq start` in a child process, with the embedded PostgreSQL in `dataDir` (no DATABASE_URL). */
async function start(dataDir: string): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, AIQ_DATA_DIR: dataDir, PORT: String(port) };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, [AIQ, 'start'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const deadline = Date.now() + 30_000;
  while (!output.includes('AutomateIQ is up')) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`aiq start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, port, output: () => output };
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

function postmasterAlive(dataDir: string): boolean {
  try {
    const pid = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function postgresProcessesFor(dataDir: string): number {
  const out = execFileSync('ps', ['-eo', 'args']).toString();
  return out.split('\n').filter((line) => line.includes(join(dataDir, 'pg'))).length;
}

describe('aiq start with the embedded PostgreSQL', () => {
  const root = mkdtempSync(join(tmpdir(), 'aiq-start-'));
  // Under root the embedded server runs as the postgres user, which must be able to enter the path.
  chmodSync(root, 0o755);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('initialises, serves /healthz, /readyz and /metrics, stops cleanly on SIGTERM, and reuses its data on restart', async () => {
    const dataDir = join(root, 'one');
    const first = await start(dataDir);
    const base = `http://127.0.0.1:${first.port}`;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('aiq_queue_claim_seconds');
    expect(metrics).toContain('aiq_queue_jobs');
    expect(postmasterAlive(dataDir)).toBe(true);
    // The first start makes the platform admin (password printed once) and a demo tenant with the examples.
    expect(first.output()).toMatch(/Platform admin created: admin@automateiq\.local {2}password: \S{12,}/);
    const demoKey = /its API key \(shown once\): (aiq_\S+)/.exec(first.output())?.[1];
    expect(demoKey).toBeDefined();
    const demo = await fetch(`${base}/v1/workflows`, { headers: { authorization: `Bearer ${demoKey}` } });
    expect(demo.status).toBe(200);
    const names = ((await demo.json()) as { items: { name: string }[] }).items.map((w) => w.name);
    expect(names.length).toBeGreaterThanOrEqual(6);
    expect((await (await fetch(`${base}/openapi.json`)).json()) as { openapi: string }).toMatchObject({ openapi: '3.1.0' });
    expect((await fetch(`${base}/docs/`)).status).toBe(200);
    expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
    // Local clients reach the embedded server through its Unix socket in the data dir.
    const state = JSON.parse(readFileSync(join(dataDir, 'embedded-postgres.json'), 'utf8')) as { socketDir?: string; port: number };
    expect(state.socketDir).toBe(join(dataDir, 'pg'));
    expect(statSync(join(dataDir, 'pg', `.s.PGSQL.${state.port}`)).isSocket()).toBe(true);
    expect(await stop(first.child, 'SIGTERM')).toBe(0);
    expect(postmasterAlive(dataDir)).toBe(false);
    expect(postgresProcessesFor(dataDir)).toBe(0);

    const began = Date.now();
    const second = await start(dataDir);
    expect(Date.now() - began).toBeLessThan(15_000);
    expect(second.output()).not.toContain('database migrated');
    expect(second.output()).not.toContain('Platform admin created');
    expect(second.output()).not.toContain('Demo tenant');
    expect((await fetch(`http://127.0.0.1:${second.port}/readyz`)).status).toBe(200);
    expect(await stop(second.child, 'SIGINT')).toBe(130);
    expect(postgresProcessesFor(dataDir)).toBe(0);
  }, 90_000);

  it('runs two data dirs side by side, beside the system PostgreSQL, each on a port of its own', async () => {
    const a = await start(join(root, 'a'));
    const b = await start(join(root, 'b'));
    const portOf = (dir: string): number =>
      (JSON.parse(readFileSync(join(root, dir, 'embedded-postgres.json'), 'utf8')) as { port: number }).port;
    expect(portOf('a')).not.toBe(portOf('b'));
    expect([portOf('a'), portOf('b')]).not.toContain(5432);
    expect((await fetch(`http://127.0.0.1:${a.port}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${b.port}/readyz`)).status).toBe(200);
    expect(await stop(a.child, 'SIGTERM')).toBe(0);
    expect(await stop(b.child, 'SIGTERM')).toBe(0);
    expect(postgresProcessesFor(join(root, 'a')) + postgresProcessesFor(join(root, 'b'))).toBe(0);
  }, 90_000);

  it('aiq run and aiq migrate share the embedded server of a running aiq start', async () => {
    const dataDir = join(root, 'shared');
    const server = await start(dataDir);
    const env = { AIQ_DATA_DIR: dataDir, DATABASE_URL: '' };
    const run = await runAiq(['run', 'examples/hello.yaml', '--input', '{"name":"Lin"}'], env);
    expect(run.stderr).not.toContain('unexpected');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ message: 'HELLO, LIN!', letters: 3 });
    const migrate = await runAiq(['migrate'], env);
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toContain('the database is up to date');
    // The server still answers: the commands left its database running.
    expect((await fetch(`http://127.0.0.1:${server.port}/readyz`)).status).toBe(200);
    expect(await stop(server.child, 'SIGTERM')).toBe(0);
    expect(postgresProcessesFor(dataDir)).toBe(0);
  }, 90_000);
});
