/**
 * The Lambda entry file of `AVMEntryPoint` (handler setting `index.handler`). Every function has the same shape:
 * `handler.ts` is the logic over injected dependencies, `deps.ts` builds them from the environment the platform
 * stack sets and joins the two, and this file loads `deps.ts` on the first invocation. It imports nothing else, so
 * the bundler makes it a file of its own (`index.js`, a few hundred bytes) and the init phase loads only that; the
 * AWS SDK, the logger, zod and the intake (`deps.js`) load with the first invocation (see `bench/coldStart.ts`).
 */
import type { Context } from "aws-lambda";
import type { EntryPointResponse } from "./handler";

let production: ((event: unknown, context?: Context) => Promise<EntryPointResponse>) | undefined;

/** The Lambda entry point (`AVMEntryPoint`), configured from the environment on the first invocation. */
export async function handler(event: unknown, context?: Context): Promise<EntryPointResponse> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  production ??= (require("./deps") as typeof import("./deps")).entryPointHandlerFromEnv(process.env);
  return production(event, context);
}
