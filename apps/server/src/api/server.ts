import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { problemSchema } from '@automateiq/contracts';
import { formatPath } from '@automateiq/core';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import { registerHealthRoutes } from '../http/health-server';
import { createAccessHook } from './access-hook';
import type { ApiDeps } from './api-deps';
import { ApiError, problem } from './api-error';
import './request-context';
import { apiRoutes } from './routes';

export interface ApiServerOptions {
  deps: ApiDeps;
  metrics: Registry;
  ready: () => Promise<boolean>;
  /** How long closing waits for open requests before it cuts their connections. Default: 10 s. */
  closeGraceMs?: number;
}

const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

/**
 * The HTTP API (CONTRACT.md): health routes, `/openapi.json` and `/docs`, and every `/v1` route, one
 * Fastify plugin per resource. Every route's schemas come from `@automateiq/contracts`; every error
 * leaves as problem+json.
 */
export async function createApiServer(options: ApiServerOptions): Promise<FastifyInstance> {
  const { deps } = options;
  const { config } = deps;
  const app = Fastify({
    logger: false,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200 },
    // Errors met before routing (a malformed URL, an overlong parameter) are problems too.
    frameworkErrors: (error, request, reply) => {
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const message = tooLong ? 'longer than 200 characters' : 'not a valid percent-encoded path segment';
      const path = `params.${badPathParam(app, request.method, request.url, tooLong) ?? 'url'}`;
      void sendProblem(reply, new ApiError('AIQ_VALIDATION', `${path}: ${message}`, { errors: [{ path, message }] }));
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('auth', null as never);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'AutomateIQ API',
        version: '1',
        description:
          'Multi-tenant workflow automation. Authenticate with `Authorization: Bearer <API key or access token>`; ' +
          'errors are RFC 9457 problem details.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins,
      credentials: false,
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-tenant-id'],
      exposedHeaders: ['retry-after'],
    });
  }

  app.addHook('onRequest', securityHeaders);
  app.addHook(
    'onRequest',
    createAccessHook({
      authenticator: deps.authenticator,
      limiter: deps.limiter,
      ipRequestsPerMinute: config.ipRequestsPerMinute,
    }),
  );
  // Every route answers problems with the one schema.
  app.addHook('onRoute', (route) => {
    const response = route.schema?.response as Record<string, unknown> | undefined;
    if (response && !('4XX' in response)) response['4XX'] = problemSchema;
  });

  app.setErrorHandler((error: FastifyError, request, reply) => sendError(error, request, reply, deps));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new ApiError('AIQ_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  // Closing waits for requests in progress, but not forever: a client that keeps its connection busy
  // (or a connection the server never sees go idle) is cut after the grace period.
  app.addHook('preClose', (done) => {
    setTimeout(() => app.server.closeAllConnections(), options.closeGraceMs ?? 10_000).unref();
    done();
  });

  app.addHook('onClose', async () => deps.runEvents.close());
  registerHealthRoutes(app, { ready: options.ready, metrics: options.metrics });
  await app.register(apiRoutes(deps));
  return app;
}

function securityHeaders(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('cross-origin-resource-policy', 'same-origin');
  reply.header('cross-origin-opener-policy', 'same-origin');
  if (!request.url.startsWith('/docs')) {
    reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    reply.header('cache-control', 'no-store');
  }
  if (request.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
  done();
}

function sendProblem(reply: FastifyReply, error: ApiError): FastifyReply {
  for (const [name, value] of Object.entries(error.extra.headers ?? {})) reply.header(name, value);
  return reply.code(error.status).type(PROBLEM_JSON).send(error.toProblem());
}

/** Fastify's own request errors, as codes of the registry. */
const FASTIFY_ERRORS: Record<string, ApiError['code']> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'AIQ_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'AIQ_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'AIQ_VALIDATION',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'AIQ_VALIDATION',
  FST_ERR_CTP_INVALID_JSON_BODY: 'AIQ_VALIDATION',
};

function sendError(error: FastifyError, request: FastifyRequest, reply: FastifyReply, deps: ApiDeps): FastifyReply {
  if (error instanceof ApiError) return sendProblem(reply, error);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = error.validationContext ?? 'body';
    const where = context === 'querystring' ? 'query' : context;
    const errors = error.validation.flatMap((issue) => {
      const at = [where, ...issue.instancePath.split('/').filter(Boolean).map(segment)];
      // An unknown property is named by its own path, one error each.
      const keys = issue.keyword === 'unrecognized_keys' ? (issue.params as { keys?: unknown }).keys : undefined;
      if (Array.isArray(keys) && keys.length > 0)
        return keys.map((key) => ({ path: formatPath([...at, String(key)]), message: 'not a known property' }));
      return [{ path: formatPath(at), message: issue.message ?? issue.keyword }];
    });
    const first = errors[0];
    return sendProblem(
      reply,
      new ApiError('AIQ_VALIDATION', first ? `${first.path}: ${first.message}` : 'the request is not valid', { errors }),
    );
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return sendProblem(
      reply,
      new ApiError('AIQ_PAYLOAD_TOO_LARGE', `the body is larger than ${deps.config.bodyLimitBytes} bytes`, {
        extensions: { limit: deps.config.bodyLimitBytes },
      }),
    );
  }
  const mapped = error.code ? FASTIFY_ERRORS[error.code] : undefined;
  if (mapped) {
    const message = error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError
      ? `the body is not valid JSON: ${error.message}`
      : error.message;
    return sendProblem(reply, new ApiError(mapped, message, { errors: [{ path: 'body', message: message ?? mapped }] }));
  }
  if (error instanceof SyntaxError && error.statusCode === 400) {
    return sendProblem(
      reply,
      new ApiError('AIQ_VALIDATION', `the body is not valid JSON: ${error.message}`, {
        errors: [{ path: 'body', message: 'not valid JSON' }],
      }),
    );
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = status === 404 ? 'AIQ_NOT_FOUND' : status === 405 ? 'AIQ_METHOD_NOT_ALLOWED' : status === 406 ? 'AIQ_NOT_ACCEPTABLE' : status === 413 ? 'AIQ_PAYLOAD_TOO_LARGE' : status === 415 ? 'AIQ_UNSUPPORTED_MEDIA_TYPE' : 'AIQ_VALIDATION';
    return sendProblem(reply, new ApiError(code, error.message));
  }
  if (status === 503 && error.code === 'FST_ERR_SERVER_CLOSING') {
    return sendProblem(reply, new ApiError('AIQ_UNAVAILABLE', 'the server is shutting down'));
  }
  deps.logger.error(
    {
      err: error,
      method: request.method,
      route: request.routeOptions.url,
      tenantId: request.auth?.tenant?.id,
      serialization: isResponseSerializationError(error) ? true : undefined,
    },
    'request failed',
  );
  return reply
    .code(500)
    .type(PROBLEM_JSON)
    .send(problem('AIQ_INTERNAL', `the server failed; the error is logged with request id ${request.id}`));
}

/**
 * The name of the path parameter that a malformed or overlong URL segment would fill: the segment
 * is swapped for a placeholder and the URL routed again.
 */
function badPathParam(app: FastifyInstance, method: string, url: string, tooLong: boolean): string | undefined {
  const [path = ''] = url.split('?');
  const segments = path.split('/');
  const bad = segments.findIndex((s) => {
    if (tooLong) return s.length > 200;
    try {
      decodeURIComponent(s);
      return false;
    } catch {
      return true;
    }
  });
  if (bad < 0) return undefined;
  const placeholder = 'aiq-bad-segment';
  segments[bad] = placeholder;
  const found = app.findRoute({ method: method as 'GET', url: segments.join('/') }) as { params?: Record<string, string> } | null;
  const entry = Object.entries(found?.params ?? {}).find(([, value]) => value === placeholder);
  return entry?.[0];
}

function segment(part: string): string | number {
  return /^\d+$/.test(part) ? Number(part) : part;
}
