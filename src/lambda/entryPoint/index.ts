/**
 * The Lambda entry file of `AVMEntryPoint` (handler setting `index.handler`). Every function has the same shape:
 * `handler.ts` is the logic over injected dependencies, `deps.ts` builds them from the environment the platform
 * stack sets, and this file joins the two. `deps.ts` (and with it the AWS SDK and the logger) is loaded on the
 * first invocation, not during the init phase (see `bench/coldStart.ts`).
 */
import { createEntryPointHandler } from "./handler";

/** The Lambda entry point (`AVMEntryPoint`), configured from the environment on the first invocation. */
export const handler = createEntryPointHandler(() =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require("./deps") as typeof import("./deps")).entryPointDepsFromEnv(process.env),
);
