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

/**
 * A {@link Logger} that writes each call as one line, `<prefix> <level>: <message> <attributes as JSON>\n` (no JSON
 * when there are no attributes), through `write` (e.g. stderr's). `avm serve` logs its deliveries with it.
 */
export function lineLogger(prefix: string, write: (line: string) => void): Logger {
  const line = (level: string) => (message: string, extra?: Record<string, unknown>) =>
    write(`${prefix} ${level}: ${message}${extra && Object.keys(extra).length ? ` ${JSON.stringify(extra)}` : ""}\n`);
  return { info: line("info"), warn: line("warn"), error: line("error") };
}
