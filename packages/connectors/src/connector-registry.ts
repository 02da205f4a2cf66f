import type { Connector } from '@automateiq/connector-kit';

/** Connectors by type. Throws when two connectors share a type. */
export function createConnectorRegistry(list: readonly Connector[]): ReadonlyMap<string, Connector> {
  const registry = new Map<string, Connector>();
  for (const connector of list) {
    if (registry.has(connector.type)) throw new Error(`two connectors have the type "${connector.type}"`);
    registry.set(connector.type, connector);
  }
  return registry;
}
