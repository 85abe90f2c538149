import { pino, type Logger as PinoLogger } from 'pino';

/** The subset of pino the exporter uses; any pino-compatible logger fits. */
export type Logger = Pick<PinoLogger, 'debug' | 'info' | 'warn' | 'error'>;

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel = 'info'): PinoLogger {
  return pino({ name: 'ditto-sync-exporter', level });
}
