/**
 * The Lambda entry file of the webhook receiver (Function URL, handler setting `index.handler`): `handler.ts` is
 * the logic over injected dependencies, `deps.ts` builds them from the environment and joins the two, loaded with
 * the first invocation. This file imports nothing else, so the init phase loads only its own small `index.js`
 * (see `bench/coldStart.ts`).
 */
import type { LambdaFunctionURLEvent } from "aws-lambda";
import type { FunctionUrlResponse } from "./handler";

let production: ((event: LambdaFunctionURLEvent) => Promise<FunctionUrlResponse>) | undefined;

/** The Lambda entry point of the webhook receiver, configured from the environment on the first invocation. */
export async function handler(event: LambdaFunctionURLEvent): Promise<FunctionUrlResponse> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  production ??= (require("./deps") as typeof import("./deps")).webhookHandlerFromEnv(process.env);
  return production(event);
}
