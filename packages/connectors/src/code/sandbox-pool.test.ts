import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ConnectorError, stepAbortReason } from '@automateiq/connector-kit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  closeCodeSandboxPool,
  configureCodeSandboxPool,
  runSandboxedCode,
  type SandboxOptions,
  startCodeSandboxPool,
} from './run-sandboxed-code';

const MIB = 1024 * 1024;
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

function sandboxed(code: string, extra: Partial<SandboxOptions> = {}): Promise<unknown> {
  return runSandboxedCode({ code, args: {}, memoryLimitBytes: 64 * MIB, timeoutMs: 5_000, ...extra });
}

function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => new Error(`expected a failure, got ${JSON.stringify(value)}`),
    (error: unknown) => error,
  );
}

/** Code that spins for `ms` of wall time, then returns when it started and ended. */
function spin(ms: number): string {
  return `const start = Date.now(); while (Date.now() < start + ${ms}) {} return [start, Date.now()];`;
}

afterEach(async () => {
  await closeCodeSandboxPool();
  configureCodeSandboxPool({});
});

describe('the code sandbox pool keeps the calling thread free', () => {
  it('keeps timers ticking while the code spins', async () => {
    await sandboxed('return 1;'); // the worker is up
    let ticks = 0;
    const interval = setInterval(() => ticks++, 10);
    const err = await failureOf(sandboxed('while (true) {}', { timeoutMs: 300 })).finally(() =>
      clearInterval(interval),
    );
    expect(err).toMatchObject({ code: 'CODE_TIMEOUT' });
    expect(ticks).toBeGreaterThanOrEqual(10);
  });

  it('rejects with the reason within 100ms of an abort during a spin, and stops the code', async () => {
    configureCodeSandboxPool({ size: 1 });
    await sandboxed('return 1;');
    const controller = new AbortController();
    const reason = stepAbortReason('CANCELLED');
    const discarded = vi.fn();
    const running = failureOf(
      sandboxed('while (true) {}', {
        timeoutMs: 30_000,
        signal: controller.signal,
        onModuleDiscarded: discarded,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const abortedAt = performance.now();
    controller.abort(reason);
    expect(await running).toBe(reason);
    expect(performance.now() - abortedAt).toBeLessThan(100);
    // The stop flag ended the spin: the only worker is free again, not replaced.
    expect(await sandboxed('return 2;')).toBe(2);
    expect(discarded).not.toHaveBeenCalled();
  });

  it('rejects with the reason when aborted while waiting for a worker, without running the code', async () => {
    configureCodeSandboxPool({ size: 1 });
    const busy = sandboxed(spin(300));
    const controller = new AbortController();
    const waiting = failureOf(sandboxed('return 1;', { signal: controller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const abortedAt = performance.now();
    controller.abort(stepAbortReason('TIMEOUT'));
    expect(await waiting).toMatchObject({ code: 'TIMEOUT' });
    expect(performance.now() - abortedAt).toBeLessThan(50);
    expect(await busy).toHaveLength(2);
  });

  it('does not count the wait for a worker against the timeout', async () => {
    configureCodeSandboxPool({ size: 1 });
    const [first, second] = await Promise.all([
      sandboxed(spin(300)),
      sandboxed('return 2;', { timeoutMs: 100 }),
    ]);
    expect(first).toHaveLength(2);
    expect(second).toBe(2);
  });
});

describe('the code sandbox pool runs evaluations in parallel', () => {
  it('overlaps two evaluations with two workers', async () => {
    configureCodeSandboxPool({ size: 2 });
    await startCodeSandboxPool();
    const spans = await Promise.all([sandboxed(spin(300)), sandboxed(spin(300))]);
    const [a, b] = spans as [[number, number], [number, number]];
    expect(a[0]).toBeLessThan(b[1]);
    expect(b[0]).toBeLessThan(a[1]);
  });

  it('finishes 8 evaluations of 200ms with 4 workers in about two rounds', async () => {
    configureCodeSandboxPool({ size: 4 });
    await startCodeSandboxPool();
    const started = performance.now();
    await Promise.all(Array.from({ length: 8 }, () => sandboxed(spin(200))));
    expect(performance.now() - started).toBeLessThan(1_200); // two rounds: 400ms; one at a time: 1,600ms
  });
});

describe('the code sandbox pool replaces broken workers', () => {
  it('replaces a worker whose sandbox broke (CODE_SANDBOX_FAILURE) and keeps working', async () => {
    configureCodeSandboxPool({ size: 1 });
    const discarded = vi.fn();
    // A QuickJS stack limit as large as the worker's own stack: the host stack runs out first.
    const err = await failureOf(
      sandboxed('function f(n) { return f(n + 1) + 1; } return f(0);', {
        stackSizeBytes: 4 * MIB,
        onModuleDiscarded: discarded,
      }),
    );
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ code: 'CODE_SANDBOX_FAILURE', retryable: false });
    expect(discarded).toHaveBeenCalledOnce();
    expect(await sandboxed('return 1 + 1;')).toBe(2);
  });

  it('terminates a worker stuck in native code past its deadline (CODE_TIMEOUT) and keeps working', async () => {
    configureCodeSandboxPool({ size: 1, unresponsiveGraceMs: 10 });
    await sandboxed('return 1;'); // a cold worker can spend the whole deadline setting up
    const discarded = vi.fn();
    // One split of 4M characters takes hundreds of milliseconds without an interrupt check.
    const err = await failureOf(
      sandboxed("const s = 'a'.repeat(1 << 22); for (;;) s.split('');", {
        timeoutMs: 50,
        memoryLimitBytes: 256 * MIB,
        onModuleDiscarded: discarded,
      }),
    );
    expect(err).toMatchObject({ code: 'CODE_TIMEOUT', details: { timeoutMs: 50 } });
    expect(discarded).toHaveBeenCalledOnce();
    expect(await sandboxed('return 1 + 1;')).toBe(2);
  });
});

describe('the code sandbox pool times set-up as code', () => {
  it('reports a deadline that ends during the set-up of a cold worker as CODE_TIMEOUT', async () => {
    const outcome = await sandboxed('return 1;', { timeoutMs: 1 }).catch((error: unknown) => error);
    if (outcome !== 1) expect(outcome).toMatchObject({ code: 'CODE_TIMEOUT' });
  });
});

describe('the code sandbox pool outside Vitest', () => {
  const run = `
    const { runSandboxedCode } = await import(${JSON.stringify(new URL('./run-sandboxed-code.ts', import.meta.url).href)});
    console.log(await runSandboxedCode({ code: 'return 1 + 1;', args: {}, memoryLimitBytes: 1 << 24, timeoutMs: 1000 }));
  `;
  const launches: [string, string[]][] = [
    ['node --import tsx', ['--import', 'tsx', '--input-type=module', '-e', run]],
    [
      "tsx's register() API (bin/aiq.mjs)",
      ['--input-type=module', '-e', `import { register } from 'tsx/esm/api'; register(); ${run}`],
    ],
  ];

  it.each(launches)(
    'loads its worker under %s, and an idle pool lets the process exit',
    async (_name, args) => {
      const { stdout } = await promisify(execFile)(process.execPath, args, {
        cwd: REPO_ROOT,
        timeout: 20_000,
      });
      expect(stdout.trim()).toBe('2');
    },
  );
});

describe('configureCodeSandboxPool', () => {
  it('refuses sizes that are not positive integers', () => {
    expect(() => configureCodeSandboxPool({ size: 0 })).toThrow(RangeError);
    expect(() => configureCodeSandboxPool({ size: 1.5 })).toThrow(RangeError);
  });
});
