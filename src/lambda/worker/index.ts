/**
 * The Lambda entry file of the worker (SQS event source, handler setting `index.handler`): `handler.ts` is the
 * logic over injected dependencies, `deps.ts` builds them from the environment and joins the two, loaded with the
 * first invocation. This file imports nothing else, so the init phase loads only its own small `index.js` (see
 * `bench/coldStart.ts`).
 */
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";

type WorkerHandler = (
  event: SQSEvent,
  context?: Pick<Context, "getRemainingTimeInMillis" | "awsRequestId">,
) => Promise<SQSBatchResponse>;

let production: WorkerHandler | undefined;

/** The Lambda entry point of the worker: SQS batch in, partial batch response out. */
export async function handler(
  event: SQSEvent,
  context?: Pick<Context, "getRemainingTimeInMillis" | "awsRequestId">,
): Promise<SQSBatchResponse> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  production ??= (require("./deps") as typeof import("./deps")).workerHandlerFromEnv(process.env);
  return production(event, context);
}
