/**
 * The Lambda entry file of the worker (SQS event source, handler setting `index.handler`): `handler.ts` is the
 * logic over injected dependencies, `deps.ts` builds them from the environment, loaded with the first
 * invocation rather than during the init phase (see `bench/coldStart.ts`).
 */
import { createWorkerHandler } from "./handler";

/** The Lambda entry point of the worker: SQS batch in, partial batch response out. */
export const handler = createWorkerHandler(() =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require("./deps") as typeof import("./deps")).workerDepsFromEnv(process.env),
);
