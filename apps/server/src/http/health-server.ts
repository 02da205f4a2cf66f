import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface HealthRoutesOptions {
  ready: () => Promise<boolean>;
  metrics: Registry;
}

/**
 * The routes every role serves: `/healthz` (the process is alive), `/readyz` (it can reach its
 * database) and `/metrics` (Prometheus).
 */
export function registerHealthRoutes(app: FastifyInstance, args: HealthRoutesOptions): void {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const ready = await args.ready().catch(() => false);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable' });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const body = await args.metrics.metrics();
    return reply.type(args.metrics.contentType).send(body);
  });
}

/** A server with the health routes only: the worker and scheduler roles. */
export function createHealthServer(args: HealthRoutesOptions): FastifyInstance {
  const app = Fastify({ logger: false });
  registerHealthRoutes(app, args);
  return app;
}
