/** Structured log data: JSON values, never secrets. */
export type LogData = Record<string, unknown>;

/** The log a connector writes to; entries carry the tenant, run and step ids without being told. */
export interface ConnectorLogger {
  debug(message: string, data?: LogData): void;
  info(message: string, data?: LogData): void;
  warn(message: string, data?: LogData): void;
  error(message: string, data?: LogData): void;
}
