import { finalRunStatuses, type RunStatus, type StepError, type StepState } from '@automateiq/core';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { WorkflowNotFoundError } from '../../engine/workflow-not-found-error';
import { newId } from '../../lib/ids';
import { TtlCache } from '../../lib/ttl-cache';
import type { AuditActor } from '../../security/principal';
import type { WebhookRecord } from '../../store/queries/find-webhook';
import { getRun } from '../../store/queries/get-run';
import { getRunWithSteps } from '../../store/queries/get-run-with-steps';
import type { StepAttemptRow } from '../../store/queries/list-step-attempts';
import { DEFAULT_WEBHOOK_CONTENT_TYPES, parseWebhookBody } from '../../triggers/webhook-body';
import { webhookReply } from '../../triggers/webhook-reply';
import { verifyWebhookSignature } from '../../triggers/webhook-signature';
import { rateLimited } from '../access-hook';
import type { ApiDeps } from '../api-deps';
import { ApiError } from '../api-error';
import { payloadTooLarge } from '../quota-errors';
import { runQuotaError } from '../run-quota';

/** The webhook trigger's declared options, as armed. */
interface WebhookConfig {
  path: string;
  respond?: 'async' | 'sync';
  secret?: { credential: string };
  contentTypes?: string[];
}

/** A webhook's run once recorded: its status after the start, for a run the start created, and how it ended if it ended there. */
type StartedWebhookRun = Awaited<ReturnType<ApiDeps['engine']['startRun']>>;

/** A run that ended, as a sync webhook answers it. */
interface EndedRun {
  id: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  output: unknown;
  error: StepError | null;
  startedAt: string | null;
  input: unknown;
  trigger: Record<string, unknown>;
  steps: readonly StepState[];
}

/** The run a sync webhook started, when it ended in its start (`started.ended`): all the answer needs, with no read. */
function endedInStart(started: StartedWebhookRun, args: { hook: WebhookRecord; input: unknown }): EndedRun {
  const { ended } = started;
  if (!ended) throw new Error('the run did not end in its start');
  const { outcome, trigger } = ended;
  return {
    id: started.runId,
    workflowId: args.hook.workflowId,
    version: args.hook.version,
    status: outcome.status,
    output: outcome.status === 'succeeded' ? outcome.output : null,
    error: outcome.status === 'failed' ? outcome.error : null,
    startedAt: typeof trigger.firedAt === 'string' ? trigger.firedAt : null,
    input: args.input,
    trigger,
    steps: ended.steps,
  };
}

/** Request headers that never reach the run (they authenticate the sender or frame the request). */
const PRIVATE_HEADERS = new Set(['authorization', 'cookie', 'x-aiq-signature', 'proxy-authorization']);
/** Lookups of paths that answer nothing an address may cause per minute; beyond, its lookups answer 429. */
export const WEBHOOK_MISSES_PER_MINUTE = 120;
/** How long a webhook's signing secret is kept in memory after it was read (and audited). */
const SECRET_CACHE_MS = 5_000;

/**
 * `ANY /hooks/:tenantSlug/*`: the webhook triggers of active workflows of active tenants. The body is
 * read raw (the signature covers the bytes), checked against the trigger's content types, the
 * tenant's payload limit and request rate, and becomes the run's input; the run starts through the
 * engine's one start path (idempotency, quotas and audit as for the API). `respond: async` answers 202
 * once the run is recorded; `sync` waits for its end (up to `webhookSyncTimeoutMs`, then 202). An
 * unknown tenant or path, a deactivated workflow and a suspended tenant all answer the same 404.
 */
export function webhookRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (app) => {
    const { db, engine, config } = deps;
    const secrets = new TtlCache<string, string | null>({ ttlMs: SECRET_CACHE_MS, max: 10_000 });

    // The raw bytes, whatever the type: this plugin's routes only.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    app.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      url: '/hooks/:tenantSlug/*',
      schema: { summary: 'Webhook triggers of active workflows', tags: ['webhooks'], hide: false },
      handler: async (request, reply) => {
        const { tenantSlug, '*': path } = request.params as { tenantSlug: string; '*': string };
        // An address that asked for many paths that answer nothing has its lookups refused for a while
        // (the paths kept in memory still answer): guessing paths costs it, not the database.
        const misses = `webhook-misses:${request.ip}`;
        if (deps.webhooks.known({ tenantSlug, path }) === undefined && deps.limiter.count(misses) >= WEBHOOK_MISSES_PER_MINUTE) {
          const verdict = deps.limiter.hit(misses, WEBHOOK_MISSES_PER_MINUTE);
          throw rateLimited(verdict.allowed ? 60 : verdict.retryAfterSeconds, 'unknown webhook paths from one address', WEBHOOK_MISSES_PER_MINUTE);
        }
        const hook = await deps.webhooks.find({ tenantSlug, path });
        if (!hook) {
          deps.limiter.hit(misses, WEBHOOK_MISSES_PER_MINUTE);
          throw new ApiError('AIQ_WEBHOOK_NOT_FOUND', `no webhook answers /hooks/${tenantSlug}/${path}`);
        }
        const trigger = hook.config as unknown as WebhookConfig;

        const perMinute = hook.quotas.apiRequestsPerMinute;
        const verdict = deps.limiter.hit(`tenant:${hook.tenantId}`, perMinute ?? Number.MAX_SAFE_INTEGER);
        if (!verdict.allowed && perMinute !== null)
          throw rateLimited(verdict.retryAfterSeconds, 'apiRequestsPerMinute', perMinute);

        const raw = Buffer.isBuffer(request.body) ? request.body : undefined;
        const limit = hook.quotas.maxPayloadBytes;
        if (limit !== null && raw !== undefined && raw.length > limit) throw payloadTooLarge('body', raw.length, limit);
        if (trigger.secret) await checkSignature(request, hook, trigger.secret.credential, raw);

        const parsed = parseWebhookBody({
          contentType: request.headers['content-type'],
          body: raw,
          allowed: trigger.contentTypes ?? DEFAULT_WEBHOOK_CONTENT_TYPES,
        });
        if (!parsed.ok) {
          throw parsed.code === 'unsupported'
            ? new ApiError('AIQ_UNSUPPORTED_MEDIA_TYPE', parsed.message, {
                errors: [{ path: 'headers.content-type', message: parsed.message }],
              })
            : new ApiError('AIQ_VALIDATION', parsed.message, { errors: [{ path: 'body', message: parsed.message }] });
        }

        const actor: AuditActor = { type: 'anonymous', id: null, label: `webhook ${path}` };
        const start = (runId?: string): Promise<StartedWebhookRun> =>
          startWebhookRun({ request, hook, path, input: parsed.input, actor, runId, sync: runId !== undefined });
        if (trigger.respond !== 'sync') {
          const { runId } = await start();
          return reply.code(202).send({ id: runId, status: 'queued' });
        }
        return answerSync({ reply, hook, input: parsed.input, start });
      },
    });

    /** Refuses the request (401) unless it carries a valid signature by the trigger's credential. */
    async function checkSignature(
      request: FastifyRequest,
      hook: WebhookRecord,
      credential: string,
      raw: Buffer | undefined,
    ): Promise<void> {
      const key = `${hook.tenantId}:${credential}`;
      let secret = secrets.get(key);
      if (secret === undefined) {
        const found = await deps.vault.read({
          tenantId: hook.tenantId,
          name: credential,
          actor: { type: 'system', id: null, label: 'webhook signature check' },
          details: { workflowId: hook.workflowId },
        });
        secret = signingSecret(found?.value);
        secrets.set(key, secret);
      }
      const header = request.headers['x-aiq-signature'];
      const check =
        secret === null
          ? { ok: false as const, reason: `the webhook's secret credential "${credential}" is missing or has no secret` }
          : verifyWebhookSignature({
              header: Array.isArray(header) ? header[0] : header,
              body: raw ?? Buffer.alloc(0),
              secret,
              nowMs: Date.now(),
            });
      if (!check.ok) {
        if (secret === null) deps.logger.warn({ tenantId: hook.tenantId, workflowId: hook.workflowId, credential }, check.reason);
        throw new ApiError('AIQ_SIGNATURE_INVALID', check.reason, {
          errors: [{ path: 'headers.x-aiq-signature', message: check.reason }],
        });
      }
    }

    async function startWebhookRun(args: {
      request: FastifyRequest;
      hook: WebhookRecord;
      path: string;
      input: unknown;
      actor: AuditActor;
      /** The new run's id, known before the start. */
      runId?: string | undefined;
      /** The caller waits for the end: the run's pure steps run in the start (`runPureSteps`). */
      sync: boolean;
    }): Promise<StartedWebhookRun> {
      const { request, hook } = args;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (value === undefined || PRIVATE_HEADERS.has(name)) continue;
        headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const idempotencyKey = request.headers['idempotency-key'];
      return engine
        .startRun({
          tenantId: hook.tenantId,
          workflowId: hook.workflowId,
          version: hook.version,
          tenantConcurrencyQuota: hook.quotas.concurrentRuns,
          input: args.input,
          trigger: {
            type: 'webhook',
            path: args.path,
            method: request.method,
            headers,
            query: request.query ?? {},
            input: args.input,
          },
          idempotencyKey: typeof idempotencyKey === 'string' && idempotencyKey !== '' ? `webhook:${idempotencyKey}` : undefined,
          runId: args.runId,
          runPureSteps: args.sync,
          runsPerDay: { limit: hook.quotas.runsPerDay },
          audit: ({ runId, version }) => ({
            actor: args.actor,
            action: 'run.start',
            target: { type: 'run', id: runId },
            ip: request.ip,
            details: { workflowId: hook.workflowId, version, trigger: 'webhook' },
          }),
        })
        .catch((error: unknown) => {
          // Deleted between the lookup and the start: as if it had never been there.
          if (error instanceof WorkflowNotFoundError)
            throw new ApiError('AIQ_WEBHOOK_NOT_FOUND', `no webhook answers /hooks/.../${args.path}`);
          throw runQuotaError(error);
        });
    }

    /** Starts the run and answers with its output once it ends, or 202 when the wait is over. */
    async function answerSync(args: {
      reply: FastifyReply;
      hook: WebhookRecord;
      input: unknown;
      start: (runId: string) => Promise<StartedWebhookRun>;
    }): Promise<FastifyReply> {
      const { reply, hook } = args;
      let started: StartedWebhookRun | undefined;
      const ended = await waitForRunEnd({
        tenantId: hook.tenantId,
        start: async (runId) => (started = await args.start(runId)),
        timeoutMs: config.webhookSyncTimeoutMs,
      });
      if (!ended.status) return reply.code(202).send({ id: ended.runId, status: 'running' });
      // A run of pure steps ended in its start, which told how; another is read in one round trip (aiq_read_run).
      const run = started?.ended ? endedInStart(started, { hook, input: args.input }) : await readEndedRun(hook.tenantId, ended.runId);
      const { definition } = await engine.workflows.get({ tenantId: hook.tenantId, workflowId: run.workflowId, version: run.version });
      if (run.status !== 'succeeded') {
        throw new ApiError('AIQ_RUN_FAILED', `run ${run.id} ended ${run.status}${run.error ? `: ${run.error.message}` : ''}`, {
          extensions: { runId: run.id, runStatus: run.status, ...(run.error ? { error: { code: run.error.code, message: run.error.message } } : {}) },
        });
      }
      const { steps } = run;
      const answer = await webhookReply({
        definition,
        steps,
        output: run.output,
        run: {
          id: run.id,
          workflowId: run.workflowId,
          version: run.version,
          startedAt: run.startedAt,
          input: run.input,
          trigger: run.trigger,
        },
      });
      reply.code(answer.status).headers({ ...answer.headers, 'x-aiq-run-id': run.id });
      if (typeof answer.body === 'string' && answer.headers['content-type'] !== undefined) return reply.send(answer.body);
      return reply.type('application/json').send(JSON.stringify(answer.body ?? null));
    }

    /** A run that ended, as the sync answer reads it. */
    async function readEndedRun(tenantId: string, runId: string): Promise<EndedRun> {
      const found = await getRunWithSteps(db, { tenantId, runId });
      if (!found) throw new Error(`run ${runId} vanished after it ended`);
      const { run } = found;
      return { ...run, startedAt: run.startedAt?.toISOString() ?? null, steps: latestAttempts(found.steps) };
    }

    /**
     * Starts a run (`start` is given its id and returns the id recorded) and waits for its end: its
     * final status, or none when `timeoutMs` passed first. Subscribed before the start, with the id
     * known, so no announcement is missed; an idempotent repeat (another run's id) is read once after
     * the start, as its end may have been announced before.
     */
    async function waitForRunEnd(args: {
      tenantId: string;
      start: (runId: string) => Promise<StartedWebhookRun>;
      timeoutMs: number;
    }): Promise<{ runId: string; status: RunStatus | undefined }> {
      const wanted = newId();
      let runId = wanted;
      let settle: (status: RunStatus | undefined) => void = () => {};
      const ended = new Promise<RunStatus | undefined>((resolve) => {
        settle = resolve;
      });
      const read = (): void => {
        const id = runId;
        db.withTenant(args.tenantId, (tx) => getRun(tx, { tenantId: args.tenantId, runId: id }))
          .then((run) => {
            if (run && finalRunStatuses.has(run.status)) settle(run.status);
          })
          .catch((error: unknown) => deps.logger.warn({ err: error, runId: id }, 'reading a sync webhook run failed'));
      };
      const unsubscribe = await deps.runEvents.subscribe(args.tenantId, {
        changes: (changes) => {
          for (const change of changes) {
            if (change.runId === runId && change.status !== null && finalRunStatuses.has(change.status)) settle(change.status);
          }
        },
        resync: read,
      });
      const timer = setTimeout(() => settle(undefined), args.timeoutMs);
      try {
        const started = await args.start(wanted);
        runId = started.runId;
        // Ended in its start (pure steps only), or an idempotent repeat whose end may have been announced before.
        if (started.status && finalRunStatuses.has(started.status)) settle(started.status);
        else if (runId !== wanted) read();
        return { runId, status: await ended };
      } finally {
        clearTimeout(timer);
        unsubscribe();
      }
    }
  };
}

/** The secret of a credential that signs webhooks: a `secret` credential's value, else the first of its usual fields. */
function signingSecret(value: Readonly<Record<string, unknown>> | undefined): string | null {
  if (!value) return null;
  for (const field of ['value', 'secret', 'token', 'password', 'key']) {
    const secret = value[field];
    if (typeof secret === 'string' && secret !== '') return secret;
  }
  return null;
}

/** The latest attempt of each step, from every attempt in the order they were created: what the planner and expressions read. */
function latestAttempts(attempts: readonly StepAttemptRow[]): StepState[] {
  const latest = new Map<string, StepState>();
  for (const a of attempts) {
    const key = `${a.scope}\u0000${a.nodeId}`;
    const before = latest.get(key);
    if (before && before.attempt > a.attempt) continue;
    latest.set(key, {
      scope: a.scope,
      nodeId: a.nodeId,
      status: a.status,
      attempt: a.attempt,
      ...(a.output === null ? {} : { output: a.output }),
      ...(a.error ? { error: a.error } : {}),
      ...(a.port ? { port: a.port } : {}),
    });
  }
  return [...latest.values()];
}
