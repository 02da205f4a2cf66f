import type { Connector } from '@automateiq/connector-kit';
import { audit as contract } from '@automateiq/contracts';
import { ERROR_PORT, SUCCESS_PORT } from '@automateiq/core';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../api-deps';
import { routeOptions } from '../route-options';

/** The node types this server runs, with the JSON Schemas of their params (built once). */
export function connectorRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (root) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const items = [...deps.connectors.values()]
      .map((connector) => connectorJson(connector, deps))
      .sort((a, b) => a.type.localeCompare(b.type));

    app.route({
      ...routeOptions(contract.listConnectors),
      handler: async () => ({ items }),
    });
  };
}

function connectorJson(connector: Connector, deps: Pick<ApiDeps, 'logger'>) {
  const own = connector.ports?.({}) ?? [];
  return {
    type: connector.type,
    connector: connector.type.split('.')[0] ?? connector.type,
    title: connector.title,
    description: connector.description === '' ? null : connector.description,
    ports: [...new Set([SUCCESS_PORT, ERROR_PORT, ...own])],
    paramsSchema: paramsSchemaOf(connector, deps),
  };
}

/**
 * The params as written (input side: defaults make fields optional). Parts JSON Schema cannot say
 * (transforms, custom checks) are left open; a schema that cannot be converted at all becomes `{}`.
 */
function paramsSchemaOf(connector: Connector, deps: Pick<ApiDeps, 'logger'>): Record<string, never> {
  try {
    return z.toJSONSchema(connector.params, { io: 'input', unrepresentable: 'any' }) as unknown as Record<string, never>;
  } catch (error) {
    deps.logger.warn({ err: error, type: connector.type }, 'the params schema of a node type has no JSON Schema');
    return {};
  }
}
