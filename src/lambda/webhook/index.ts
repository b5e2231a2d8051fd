/**
 * The Lambda entry file of the webhook receiver (Function URL, handler setting `index.handler`): `handler.ts` is
 * the logic over injected dependencies, `deps.ts` builds them from the environment, loaded with the first
 * invocation rather than during the init phase (see `bench/coldStart.ts`).
 */
import type { LambdaFunctionURLEvent } from "aws-lambda";
import { createWebhookHandler, type FunctionUrlResponse } from "./handler";

let production: ((event: LambdaFunctionURLEvent) => Promise<FunctionUrlResponse>) | undefined;

/** The Lambda entry point of the webhook receiver, configured from the environment on the first invocation. */
export async function handler(event: LambdaFunctionURLEvent): Promise<FunctionUrlResponse> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  production ??= createWebhookHandler((require("./deps") as typeof import("./deps")).webhookDepsFromEnv(process.env));
  return production(event);
}
