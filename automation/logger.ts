/**
 * The logging surface of the automation layer: the core's {@link Logger} plus `debug` (engine output lines).
 * Structurally compatible with `@aws-lambda-powertools/logger`'s `Logger` and with `console`.
 */
import { silentLogger as silentCoreLogger, type Logger } from "../src/core/ports";

/** {@link Logger} with a `debug` level. */
export interface AutomationLogger extends Logger {
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
}

/** Discards everything (the default where no logger is given): the core's null logger plus `debug`. */
export const silentLogger: AutomationLogger = Object.freeze({ ...silentCoreLogger, debug: () => undefined });
