import type { Connector } from './connector';
import { ConnectorError } from './connector-error';

/**
 * Parses evaluated params with the connector's schema. Throws the fatal `ConnectorError`
 * `INVALID_PARAMS` whose details list every problem as `{ path, message }` (path like `headers.accept`).
 */
export function parseConnectorParams<P>(connector: Pick<Connector<P>, 'type' | 'params'>, raw: unknown): P {
  const result = connector.params.safeParse(raw);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map((key) => String(key)).join('.'),
    message: issue.message,
  }));
  const summary = issues
    .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
    .join('; ');
  throw ConnectorError.fatal(
    'INVALID_PARAMS',
    `invalid params for ${connector.type}: ${summary}`,
    { issues },
    {
      cause: result.error,
    },
  );
}
