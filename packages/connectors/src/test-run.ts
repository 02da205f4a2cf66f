import {
  type Connector,
  type ConnectorContext,
  createTestContext,
  type NodeOutcome,
  parseConnectorParams,
} from '@automateiq/connector-kit';

/** Parses `params` with the connector's schema (as the engine does) and executes it in a test context. */
export async function executeForTest<P>(
  connector: Connector<P>,
  params: unknown,
  extra: Partial<ConnectorContext<P>> = {},
): Promise<NodeOutcome> {
  return connector.execute(createTestContext({ ...extra, params: parseConnectorParams(connector, params) }));
}

/** The thrown error of a promise that must reject. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}
