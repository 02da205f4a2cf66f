import { runs as contract } from '@automateiq/contracts';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { getRun } from '../../store/queries/get-run';
import type { ApiDeps } from '../api-deps';
import { ApiError, notFound } from '../api-error';
import { EventStream, type EventStreamOptions } from '../event-stream';
import type { RunChangeListener } from '../run-events';
import { RunFollower } from '../run-follower';
import { tenantOf } from '../request-context';
import { routeOptions } from '../route-options';
import { TenantRunFollower } from '../tenant-run-follower';

export interface RunStreamOptions extends EventStreamOptions {
  /** Event streams a tenant may hold open at once in this process; more are answered 429. Default: 100. */
  maxStreamsPerTenant?: number;
}

/**
 * Live run changes as server-sent events: one run (`GET /v1/runs/:id/stream`) or all of the tenant's
 * (`GET /v1/stream`). The engine announces changes on `aiq_runs`; this process listens on one
 * connection (`deps.runEvents`, closed with the server) and each stream reads what it shows itself.
 */
export function runStreamRoutes(deps: ApiDeps, options: RunStreamOptions = {}): FastifyPluginAsync {
  return async (root) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const { db, logger } = deps;
    const maxStreams = options.maxStreamsPerTenant ?? 100;
    const events = deps.runEvents;
    const open = new Set<EventStream>();
    const perTenant = new Map<string, number>();

    // Open streams would hold the server's close forever: they end first.
    app.addHook('preClose', async () => {
      for (const stream of [...open]) stream.end();
    });

    /** Counts a stream against the tenant's limit; the returned function gives it back (once). */
    function takeStreamSlot(tenantId: string): () => void {
      const held = perTenant.get(tenantId) ?? 0;
      if (held >= maxStreams)
        throw new ApiError('AIQ_RATE_LIMITED', `the tenant holds ${maxStreams} open event streams, the most it may`, {
          headers: { 'retry-after': '5' },
          extensions: { limit: maxStreams },
        });
      perTenant.set(tenantId, held + 1);
      let given = false;
      return () => {
        if (given) return;
        given = true;
        const left = (perTenant.get(tenantId) ?? 1) - 1;
        if (left > 0) perTenant.set(tenantId, left);
        else perTenant.delete(tenantId);
      };
    }

    /** Subscribes the follower, then takes the response over and starts the stream. Errors before that are problems. */
    async function follow(args: {
      reply: FastifyReply;
      tenantId: string;
      follower: RunChangeListener & { start(stream: EventStream): void };
    }): Promise<void> {
      const { reply, tenantId, follower } = args;
      const release = takeStreamSlot(tenantId);
      let unsubscribe: () => void;
      try {
        unsubscribe = await events.subscribe(tenantId, follower);
      } catch (error) {
        release();
        throw error;
      }
      reply.hijack();
      const stream = new EventStream(reply.raw, { headers: reply.getHeaders(), options });
      open.add(stream);
      stream.onEnd(() => {
        unsubscribe();
        release();
        open.delete(stream);
      });
      stream.comment('connected');
      follower.start(stream);
    }

    app.route({
      ...routeOptions(contract.streamRun),
      handler: async (request, reply) => {
        const tenant = tenantOf(request);
        const runId = request.params.id;
        const run = await db.withTenant(tenant.id, (tx) => getRun(tx, { tenantId: tenant.id, runId }));
        if (!run) throw notFound('AIQ_RUN_NOT_FOUND', 'run', runId);
        await follow({
          reply,
          tenantId: tenant.id,
          follower: new RunFollower({ db, logger, tenantId: tenant.id, runId }),
        });
      },
    });

    app.route({
      ...routeOptions(contract.streamTenant),
      handler: async (request, reply) => {
        const tenant = tenantOf(request);
        await follow({
          reply,
          tenantId: tenant.id,
          follower: new TenantRunFollower({ db, logger, tenantId: tenant.id, workflowId: request.query.workflowId }),
        });
      },
    });
  };
}
