import type { ConnectorLogger, LogData } from './connector-logger';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  data?: LogData;
}

/** A logger that keeps its entries in memory, for tests. */
export interface MemoryLogger extends ConnectorLogger {
  readonly entries: LogEntry[];
}

export function createMemoryLogger(): MemoryLogger {
  const entries: LogEntry[] = [];
  const write =
    (level: LogEntry['level']) =>
    (message: string, data?: LogData): void => {
      entries.push(data === undefined ? { level, message } : { level, message, data });
    };
  return { entries, debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
