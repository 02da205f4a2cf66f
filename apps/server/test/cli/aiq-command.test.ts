import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAiq } from '../support/run-aiq';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('the aiq command on bad input', () => {
  let t: TestDatabase;
  const dir = mkdtempSync(join(tmpdir(), 'aiq-cli-'));
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.drop());

  it('validate: every problem on its own line as FILE:PATH: message, with the YAML line, exit 1', async () => {
    const file = write(
      'bad.yaml',
      [
        'name: Broken',
        'nodes:',
        '  - id: a',
        '    type: transfrom',
        '  - id: a',
        '    type: transform',
        'edges:',
        '  - { from: a, to: ghost }',
        '',
      ].join('\n'),
    );
    const r = await runAiq(['validate', file]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${file}:nodes\\[0\\]\\.type: .*transfrom.*\\(line 4\\)$`)),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${file}:nodes\\[1\\]\\.id: .*duplicate`, 'i')),
    );
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${file}:edges\\[0\\]\\.to: .*ghost`)));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('validate: valid files pass with exit 0', async () => {
    const r = await runAiq(['validate', 'examples/hello.yaml', 'examples/for-each.yaml']);
    expect(r.code).toBe(0);
  });

  it('run: an invalid file exits 2 with its validation messages and starts nothing', async () => {
    const file = write(
      'cycle.yaml',
      'name: Loop\nnodes:\n  - { id: a, type: transform }\n  - { id: b, type: transform }\nedges:\n  - { from: a, to: b }\n  - { from: b, to: a }\n',
    );
    const r = await runAiq(['run', file], { DATABASE_URL: t.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cycle/i);
    expect(r.stdout).toBe('');
  });

  it('run: unparsable YAML and a missing file exit 2 with one clear line', async () => {
    const yaml = write('syntax.yaml', 'name: [unclosed\nnodes: {');
    const r1 = await runAiq(['run', yaml], { DATABASE_URL: t.url });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(new RegExp(`^${yaml}: .*\\(line \\d+\\)`));
    const r2 = await runAiq(['run', join(dir, 'nope.yaml')], { DATABASE_URL: t.url });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('no such file');
  });

  it('run: bad --input is refused with exit 2', async () => {
    const r = await runAiq(['run', 'examples/hello.yaml', '--input', '{nope'], { DATABASE_URL: t.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^--input: not valid JSON/);
  });

  it('run: a failing run exits 1 and prints its error, stdout stays empty', async () => {
    const file = write(
      'fail.yaml',
      "name: Fails\nnodes:\n  - id: stop\n    type: flow.fail\n    params: { message: 'no stock', code: OUT_OF_STOCK }\n",
    );
    const r = await runAiq(['run', file], { DATABASE_URL: t.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('OUT_OF_STOCK: no stock');
    expect(r.stdout).toBe('');
  });

  it('a bad environment value is named, without a stack trace', async () => {
    const r = await runAiq(['run', 'examples/hello.yaml'], {
      DATABASE_URL: t.url,
      AIQ_WORKER_CONCURRENCY: 'lots',
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('aiq: AIQ_WORKER_CONCURRENCY: "lots" is not a whole number from 1 to 1000');
  });

  it('an unknown command prints the usage and exits 2', async () => {
    const r = await runAiq(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });
});
