import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { builtInConnectors, closeCodeSandboxPool, createConnectorRegistry } from '@automateiq/connectors';
import { formatDuration, formatIssue, finalRunStatuses } from '@automateiq/core';
import type { Config } from '../config';
import { workflowKey } from '../engine/workflow-cache';
import { onShutdown } from '../lifecycle/on-shutdown';
import { createLogger } from '../observability/logger';
import { openPlatform } from '../platform';
import { getRun } from '../store/queries/get-run';
import { listStepAttempts } from '../store/queries/list-step-attempts';
import { ensureTenant } from '../tenancy/ensure-tenant';
import { saveWorkflowByName } from '../workflows/save-workflow-by-name';
import { readDefinitionFile } from '../workflows/read-definition-file';

export interface RunCommandArgs {
  file: string;
  /** JSON text, or `@path` of a JSON file. */
  input?: string | undefined;
  tenant: string;
}

interface Out {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}


/**
 * `aiq run FILE`: saves the file as a workflow of the tenant, runs it once with an in-process worker,
 * streams one line per step start and end to stderr, and prints the run's output as JSON on stdout.
 * Exit 0 when the run succeeded, 1 when it failed, 2 when the file or the input is invalid.
 */
export async function runCommand(args: RunCommandArgs, config: Config, out: Out): Promise<number> {
  const registry = createConnectorRegistry(builtInConnectors);
  const loaded = readDefinitionFile(args.file, registry);
  if (!loaded.ok) {
    for (const issue of loaded.errors) out.stderr.write(`${formatIssue(args.file, issue)}\n`);
    return 2;
  }
  const input = parseInput(args.input);
  if (!input.ok) {
    out.stderr.write(`--input: ${input.message}\n`);
    return 2;
  }
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const platform = await openPlatform({
    config,
    logger,
    maxConnections: 16,
  });
  const worker = platform.engine.createWorker({
    workerId: `cli-${hostname()}-${process.pid}`,
    concurrency: config.workerConcurrency,
  });
  try {
    const tenant = await ensureTenant(platform.db, args.tenant);
    const tenantId = tenant.id;
    const saved = await saveWorkflowByName(platform.db, { tenantId, definition: loaded.definition });
    platform.engine.workflows.remember(workflowKey({ tenantId, ...saved }), loaded.definition);
    await worker.start();
    // Ctrl-C stops the worker and the embedded database in order; the run goes on in the next worker.
    onShutdown(async () => {
      await worker.stop(1_000);
      await Promise.all([platform.close(), closeCodeSandboxPool()]);
    });
    const { runId } = await platform.engine.startRun({
      tenantId,
      ...saved,
      input: input.value,
      trigger: { type: 'cli' },
    });
    const progress = new ProgressPrinter(out.stderr);
    for (;;) {
      const [run, attempts] = await platform.db.withTenant(
        tenantId,
        async (tx) =>
          [await getRun(tx, { tenantId, runId }), await listStepAttempts(tx, { tenantId, runId })] as const,
      );
      progress.update(attempts);
      if (!run) throw new Error(`run ${runId} disappeared`);
      if (finalRunStatuses.has(run.status)) {
        if (run.status === 'succeeded') {
          out.stdout.write(`${JSON.stringify(run.output, null, 2)}\n`);
          return 0;
        }
        out.stderr.write(
          `run ${run.status}: ${run.error ? `${run.error.code}: ${run.error.message}` : ''}\n`,
        );
        return 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    await worker.stop(1_000);
    await Promise.all([platform.close(), closeCodeSandboxPool()]);
  }
}

function parseInput(text: string | undefined): { ok: true; value: unknown } | { ok: false; message: string } {
  if (text === undefined) return { ok: true, value: {} };
  let source = text;
  if (text.startsWith('@')) {
    try {
      source = readFileSync(text.slice(1), 'utf8');
    } catch (error) {
      return { ok: false, message: `cannot read ${text.slice(1)}: ${(error as Error).message}` };
    }
  }
  try {
    return { ok: true, value: JSON.parse(source) };
  } catch (error) {
    return { ok: false, message: `not valid JSON: ${(error as Error).message}` };
  }
}

/** Prints a line when a step attempt starts and when it ends. */
class ProgressPrinter {
  private readonly seen = new Map<string, string>();

  constructor(private readonly stream: NodeJS.WritableStream) {}

  update(attempts: Awaited<ReturnType<typeof listStepAttempts>>): void {
    for (const a of attempts) {
      const key = `${a.scope}/${a.nodeId}#${a.attempt}`;
      const before = this.seen.get(key);
      if (before === a.status) continue;
      this.seen.set(key, a.status);
      const name = a.scope === '' ? a.nodeId : `${a.scope}/${a.nodeId}`;
      const started = before === undefined || before === 'pending';
      if (a.status !== 'pending' && a.status !== 'skipped' && started && a.startedAt) {
        this.stream.write(`▶ ${name}  started  attempt ${a.attempt}\n`);
      }
      if (a.status === 'running' || a.status === 'pending') continue;
      const took =
        a.startedAt && a.finishedAt
          ? `  ${formatDuration(a.finishedAt.getTime() - a.startedAt.getTime())}`
          : '';
      const mark =
        a.status === 'succeeded' ? '✔' : a.status === 'skipped' || a.status === 'waiting' ? '·' : '✖';
      const why = a.error ? `  ${a.error.code}: ${a.error.message}` : '';
      this.stream.write(`${mark} ${name}  ${a.status}  attempt ${a.attempt}${took}${why}\n`);
    }
  }
}
