/** Ditto SDK log levels as the CLI spells them; kept apart so the CLI can name them without loading the SDK. */
export const DITTO_LOG_LEVELS = ['error', 'warning', 'info', 'debug', 'verbose'] as const;
export type DittoLogLevelName = (typeof DITTO_LOG_LEVELS)[number];
