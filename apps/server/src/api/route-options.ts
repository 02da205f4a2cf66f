import type { RouteContract } from '@automateiq/contracts';

/**
 * Fastify route options from a contract: address, schemas (the validator, the serializer and the
 * OpenAPI document all come from them) and the access rule that the access hook enforces.
 * Spread it into `app.route({ ...routeOptions(contract), handler })`.
 */
export function routeOptions<const R extends RouteContract>(contract: R) {
  const options = {
    method: contract.method,
    url: contract.url,
    schema: {
      summary: contract.summary,
      tags: [...contract.tags],
      ...(contract.access.kind === 'public' ? {} : { security: [{ bearer: [] }] }),
      params: contract.params as R['params'],
      querystring: contract.querystring as R['querystring'],
      headers: contract.headers as R['headers'],
      body: contract.body as R['body'],
      response: contract.response as R['response'],
    },
    config: { access: contract.access },
  };
  // Fastify warns about schema keys that are present but undefined.
  const schema = options.schema as Record<string, unknown>;
  for (const key of Object.keys(schema)) if (schema[key] === undefined) delete schema[key];
  return options;
}
