import { type Logger, pino } from 'pino';

/** Structured JSON logs to stderr (stdout belongs to command output such as `aiq run`'s result). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'automateiq' } }, pino.destination(2));
}
