import type { ConnectorContext } from '@automateiq/connector-kit';
import {
  ConnectorError,
  createTestContext,
  parseConnectorParams,
  toStepError,
} from '@automateiq/connector-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { codeJs } from './code-js';
import { closeCodeSandboxPool } from './run-sandboxed-code';

afterAll(closeCodeSandboxPool);

type CodeParams = Parameters<typeof codeJs.execute>[0]['params'];

async function run(
  params: Record<string, unknown>,
  extra: Partial<ConnectorContext<CodeParams>> = {},
): Promise<unknown> {
  const ctx = createTestContext({ params: parseConnectorParams(codeJs, params), ...extra });
  const outcome = await codeJs.execute(ctx);
  if (outcome.kind !== 'output') throw new Error(`unexpected outcome ${outcome.kind}`);
  return outcome.output;
}

async function failure(params: Record<string, unknown>, extra: Partial<ConnectorContext<CodeParams>> = {}) {
  const err = await run(params, extra).then(
    (output) => new Error(`expected a failure, got ${JSON.stringify(output)}`),
    (error: unknown) => error,
  );
  if (!(err instanceof ConnectorError)) throw err;
  return err;
}

describe('code.js results', () => {
  it('sees input, steps, item, index and vars from the scope and returns JSON', async () => {
    const scope = {
      input: { a: 2 },
      steps: { s: { output: [1, 2, 3] } },
      item: 'x',
      index: 4,
      vars: { k: 'v' },
    };
    const output = await run(
      {
        code: 'return { sum: input.a + steps.s.output.reduce((a, b) => a + b, 0), item, index, k: vars.k };',
      },
      { scope },
    );
    expect(output).toEqual({ sum: 8, item: 'x', index: 4, k: 'v' });
  });

  it('awaits promises the code makes', async () => {
    const output = await run({
      code: 'const v = await Promise.resolve(21); return await (async () => v * 2)();',
    });
    expect(output).toBe(42);
  });

  it('turns undefined into null', async () => {
    expect(await run({ code: 'const x = 1;' })).toBeNull();
  });

  it('refuses results that have no JSON form', async () => {
    expect((await failure({ code: 'return () => 1;' })).code).toBe('CODE_RESULT_NOT_JSON');
    expect((await failure({ code: 'return 10n;' })).code).toBe('CODE_RESULT_NOT_JSON');
    const cyclic = await failure({ code: 'const a = {}; a.a = a; return a;' });
    expect(cyclic.code).toBe('CODE_RESULT_NOT_JSON');
    expect(cyclic.message).toMatch(/circular/i);
  });

  it('reports a thrown error with its line', async () => {
    const err = await failure({ code: 'const a = 1;\n\nthrow new TypeError("bad thing");' });
    expect(err.code).toBe('CODE_ERROR');
    expect(err.retryable).toBe(false);
    expect(err.message).toBe('TypeError: bad thing (line 3)');
  });

  it('reports a syntax error with its line', async () => {
    const err = await failure({ code: 'const a = 1;\nconst = ;' });
    expect(err.code).toBe('CODE_ERROR');
    expect(err.message).toMatch(/^SyntaxError: .*\(line 2\)$/);
  });

  it('reports thrown non-errors and bounds long messages', async () => {
    expect((await failure({ code: 'throw "plain";' })).message).toBe('plain');
    expect((await failure({ code: 'throw { reason: 1 };' })).message).toBe('{"reason":1}');
    expect((await failure({ code: 'throw new Error("x".repeat(1e6));' })).message.length).toBeLessThan(2_100);
  });

  it('never copies an unbounded error description out, even with String.prototype.slice replaced', async () => {
    const err = await failure({
      code: "String.prototype.slice = function () { return 'y'.repeat(5e6); }; throw new Error('x'.repeat(5000));",
    });
    expect(err).toMatchObject({
      code: 'CODE_ERROR',
      message: 'the code failed with an error that cannot be shown',
    });
  });

  it('fails when the code awaits a promise that never settles', async () => {
    const err = await failure({ code: 'await new Promise(() => {}); return 1;' });
    expect(err.message).toMatch(/never settled/);
  });
});

describe('code.js limits', () => {
  it('stops an endless loop at the deadline (CODE_TIMEOUT)', async () => {
    const started = performance.now();
    const err = await failure({ code: 'while (true) {}', timeout: '200ms' });
    expect(err.code).toBe('CODE_TIMEOUT');
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('caps the timeout at the plan', async () => {
    const started = performance.now();
    const err = await failure(
      { code: 'for (;;) {}', timeout: '1h' },
      { limits: { codeMemoryMb: 64, codeTimeoutMs: 150 } },
    );
    expect(err.code).toBe('CODE_TIMEOUT');
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('stops an endless loop inside a promise job', async () => {
    const err = await failure({ code: 'await null; while (true) {}', timeout: '100ms' });
    expect(err.code).toBe('CODE_TIMEOUT');
  });

  it('stops runaway allocation (CODE_MEMORY_LIMIT), capped by the plan', async () => {
    const err = await failure(
      { code: 'const a = []; for (;;) a.push(new Array(1e6));', memoryMb: 4096 },
      { limits: { codeMemoryMb: 32, codeTimeoutMs: 5_000 } },
    );
    expect(err.code).toBe('CODE_MEMORY_LIMIT');
    expect(err.details).toEqual({ memoryLimitMb: 32 });
  });

  it('stops string doubling (QuickJS refuses the length, or the memory runs out)', async () => {
    const err = await failure({ code: "let s = 'x'; for (;;) s += s;", memoryMb: 16 });
    expect(['CODE_ERROR', 'CODE_MEMORY_LIMIT']).toContain(err.code);
  });

  it('stops deep recursion with a stack overflow', async () => {
    const err = await failure({ code: 'function f(n) { return f(n + 1) + 1; } return f(0);' });
    expect(err.code).toBe('CODE_ERROR');
    expect(err.message).toMatch(/stack overflow/);
  });

  it('refuses a huge output (CODE_OUTPUT_TOO_LARGE)', async () => {
    const err = await failure({ code: 'return "x".repeat(11 * 1024 * 1024);', memoryMb: 64 });
    expect(err.code).toBe('CODE_OUTPUT_TOO_LARGE');
  });

  it('refuses a result nested too deeply to convert to JSON (QuickJS stack overflow)', async () => {
    const err = await failure(
      {
        code: 'const o = {}; let p = o; for (let i = 0; i < 20000; i++) { p = p.x = {}; } return o;',
        timeout: '5s',
      },
      { limits: { codeMemoryMb: 64, codeTimeoutMs: 5_000 } },
    );
    expect(err.code).toBe('CODE_RESULT_NOT_JSON');
    expect(err.message).toMatch(/stack overflow/);
    expect(await run({ code: 'return 1 + 1;' })).toBe(2);
  });

  it('rejects with the abort reason when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort({ code: 'CANCELLED' });
    const err = await run({ code: 'return 1;' }, { signal: controller.signal }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(toStepError(err).code).toBe('CANCELLED');
  });
});

describe('code.js escape attempts fail', () => {
  const attempts: [string, string][] = [
    ['require', "return require('fs').readFileSync('/etc/passwd', 'utf8');"],
    ['process.exit', 'process.exit(1);'],
    ['dynamic import', "const fs = await import('fs'); return fs.readFileSync('/etc/passwd', 'utf8');"],
    ['constructor chain to process', "return globalThis.constructor.constructor('return process')().pid;"],
    ['this.constructor to process', "return this.constructor.constructor('return this')().process.pid;"],
    ['fetch', "return await fetch('http://127.0.0.1/');"],
    ['XMLHttpRequest', 'return new XMLHttpRequest();'],
    ['eval to host', "return eval('process.versions.node');"],
    ['new Function to host', "return new Function('return process.env')();"],
    ['Function of a function', "return (() => 1).constructor('return process')().pid;"],
    ['async function constructor', "return await (async () => 1).constructor('return process.pid')();"],
    [
      'Error.prepareStackTrace',
      'Error.prepareStackTrace = (e, frames) => frames[0].getThis(); const s = new Error().stack; return s.process.pid;',
    ],
    ['std/os modules', "const os = await import('os'); return os.exec(['ls']);"],
    ['console and timers', 'console.log(1); setTimeout(() => {}, 1); return 1;'],
    ['Deno, Bun, globalThis.global', 'return (Deno || Bun || global).process.pid;'],
  ];

  it.each(attempts)('%s', async (_name, code) => {
    const err = await failure({ code });
    expect(err.code).toBe('CODE_ERROR');
  });

  it('sees nothing of the host in globalThis', async () => {
    const names = await run({ code: 'return Object.getOwnPropertyNames(globalThis);' });
    expect(names).toEqual(
      expect.not.arrayContaining(['process', 'require', 'fetch', 'console', 'std', 'os']),
    );
  });

  it('cannot pollute the host Object.prototype', async () => {
    const output = await run({
      code: [
        'Object.prototype.polluted = "yes";',
        '({}).__proto__.polluted2 = "yes";',
        'Array.prototype.polluted3 = "yes";',
        'return JSON.parse(\'{"__proto__": {"polluted4": "yes"}, "constructor": {"prototype": {"polluted5": "yes"}}}\');',
      ].join('\n'),
    });
    const probe: Record<string, unknown> = {};
    for (const key of ['polluted', 'polluted2', 'polluted3', 'polluted4', 'polluted5']) {
      expect(probe[key]).toBeUndefined();
      expect(([] as unknown as Record<string, unknown>)[key]).toBeUndefined();
    }
    expect(Object.getPrototypeOf(output)).toBe(Object.prototype);
  });

  it('does not leak state from one evaluation into the next', async () => {
    await run({ code: 'globalThis.leak = 42; Object.prototype.shared = 1; return null;' });
    expect(await run({ code: 'return [typeof leak, typeof ({}).shared];' })).toEqual([
      'undefined',
      'undefined',
    ]);
  });
});

describe('code.js resources', () => {
  it('keeps memory stable over 2,000 evaluations (every handle and runtime is disposed)', async () => {
    const code = 'const rows = input.rows.map((r) => ({ ...r, total: r.n * 2 })); return rows.length;';
    const scope = { input: { rows: Array.from({ length: 50 }, (_, n) => ({ n, name: `row ${n}` })) } };
    for (let i = 0; i < 100; i++) await run({ code }, { scope });
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 2_000; i++) {
      expect(await run({ code }, { scope })).toBe(50);
      if (i % 500 === 0) await failure({ code: 'throw new Error("x")' });
    }
    const grownMb = (process.memoryUsage().rss - before) / 1024 / 1024;
    expect(grownMb).toBeLessThan(40);
  });
});

describe('code.js errors and attempts', () => {
  it('sees the attempt number and retries only errors marked retryable', async () => {
    const flaky =
      "if (attempt < 2) { const e = new Error('busy'); e.retryable = true; throw e; } return attempt;";
    const first = await codeJs
      .execute(createTestContext({ params: { code: flaky }, attempt: 1 }))
      .catch((e: unknown) => e);
    expect(first).toMatchObject({ code: 'CODE_ERROR', retryable: true });
    const second = await codeJs.execute(createTestContext({ params: { code: flaky }, attempt: 2 }));
    expect(second).toEqual({ kind: 'output', output: 2 });
    const plain = await codeJs
      .execute(createTestContext({ params: { code: "throw new Error('no')" } }))
      .catch((e: unknown) => e);
    expect(plain).toMatchObject({ code: 'CODE_ERROR', retryable: false });
    const sneaky =
      "const e = new Error('x'); Object.defineProperty(e, 'retryable', { get() { throw 1; } }); throw e;";
    const trap = await codeJs
      .execute(createTestContext({ params: { code: sneaky } }))
      .catch((e: unknown) => e);
    expect(trap).toMatchObject({ code: 'CODE_ERROR', retryable: false });
  });
});
