import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/**
 * The routes every role serves: `/healthz` (the process is alive), `/readyz` (it can reach its
 * database) and `/metrics` (Prometheus).
 */
export function createHealthServer(args: {
  ready: () => Promise<boolean>;
  metrics: Registry;
}): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = await args.ready().catch(() => false);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable' });
  });
  app.get('/metrics', async (_request, reply) => {
    const body = await args.metrics.metrics();
    return reply.type(args.metrics.contentType).send(body);
  });
  return app;
}
