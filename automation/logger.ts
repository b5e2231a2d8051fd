/**
 * The logging surface the automation layer writes to. Structurally compatible with
 * `@aws-lambda-powertools/logger`'s `Logger` and with `console`, so either can be passed in.
 */
export interface AutomationLogger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** Discards everything (the default where no logger is given). */
export const silentLogger: AutomationLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
