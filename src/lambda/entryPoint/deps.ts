/**
 * Production wiring of `AVMEntryPoint`: the DynamoDB ledger, the SQS work queue and the Powertools logger, from
 * the environment the platform stack sets. `entryPoint.ts` loads this module on the first invocation, so the
 * AWS SDK is not loaded during the Lambda's init phase; its static imports let esbuild keep only the SDK parts
 * used here (see `bench/coldStart.ts`).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoLedger } from "../../adapters/aws/dynamoLedger";
import { SqsWorkQueue } from "../../adapters/aws/sqsWorkQueue";
import { ENTRY_POINT_FUNCTION_NAME } from "../../shared/naming";
import { createEntryPointHandler, type EntryPointDeps, type EntryPointLogger } from "./handler";
import { ENV, requireEnv } from "../env";
import {
  authorityFromEnv,
  authorityProblems,
  createEntryPointGate,
  type EntryPointGate,
} from "../../core/vending/entryPointGate";
import { OrganizationsGateway } from "../../adapters/aws/organizationsGateway";
import { entryPointSessionPolicy } from "../../policies/managementVendingRole";
import { realTiming } from "../../shared/timing";
import { createManagementOrganizationsClient } from "../../adapters/aws/managementClients";

/** STS session name of the entry point's identity lookups in the management account. */
export const ENTRY_POINT_SESSION_NAME = "meshstack-avm-entry-point";

/**
 * Retries of the entry point's DescribeAccount: few and short, because meshStack waits for the answer; a
 * lookup still throttled after them fails the invocation, and meshStack's retry of the replication is safe.
 */
export const ENTRY_POINT_LOOKUP_RETRY = Object.freeze({ baseDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 3 });

/**
 * Builds the entry point's gate from the environment: the authority (`AVM_ENTRY_POINT_VENDING`,
 * `AVM_ENTRY_POINT_ADOPTION`, `AVM_ENTRY_POINT_TARGET_OUS`; all off when unset), the management account
 * (`AVM_MANAGEMENT_ACCOUNT_ID`), the default OU (`AVM_DEFAULT_OU_ID`), and account lookups through the
 * vending role (`AVM_MANAGEMENT_ROLE_ARN`) in sessions limited to DescribeAccount.
 * @throws Error naming a missing or malformed variable, or a contradiction between the settings.
 */
export function gateFromEnv(env: NodeJS.ProcessEnv = process.env): EntryPointGate {
  const authority = authorityFromEnv(env, {
    vend: ENV.entryPointVending,
    adopt: ENV.entryPointAdoption,
    moveTargets: ENV.entryPointTargetOus,
  });
  const defaultTargetOu = env[ENV.defaultOuId]?.trim() || undefined;
  const problems = authorityProblems(authority, defaultTargetOu);
  if (problems.length > 0) throw new Error(`entry point settings are inconsistent: ${problems.join("; ")}`);
  const client = createManagementOrganizationsClient({
    env,
    sessionName: ENTRY_POINT_SESSION_NAME,
    sessionPolicy: JSON.stringify(entryPointSessionPolicy()),
  });
  return createEntryPointGate({
    authority,
    directory: new OrganizationsGateway(client, { timing: realTiming, retry: ENTRY_POINT_LOOKUP_RETRY }),
    managementAccountId: requireEnv(ENV.managementAccountId, env),
    ...(defaultTargetOu !== undefined ? { defaultTargetOu } : {}),
  });
}

/** The Powertools logger of the entry point; `POWERTOOLS_SERVICE_NAME` (set by the platform stack) wins. */
export function entryPointLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  return new Logger({ serviceName: env[ENV.serviceName] ?? ENTRY_POINT_FUNCTION_NAME });
}

/**
 * Builds the production dependencies (`AVM_LEDGER_TABLE`, `AVM_QUEUE_URL`, the gate's variables) over clients using the standard
 * credential chain and `AWS_ENDPOINT_URL`.
 * @param logger default {@link entryPointLogger}
 * @throws Error naming the missing variable.
 */
export function entryPointDepsFromEnv(env: NodeJS.ProcessEnv, logger?: EntryPointLogger): EntryPointDeps {
  const tableName = requireEnv(ENV.ledgerTable, env);
  const queueUrl = requireEnv(ENV.queueUrl, env);
  return {
    ledger: new DynamoLedger({ client: new DynamoDBClient({}), tableName }),
    queue: new SqsWorkQueue({ client: new SQSClient({}), queueUrl }),
    gate: gateFromEnv(env),
    now: () => new Date(),
    logger: logger ?? entryPointLogger(env),
  };
}

/**
 * The production handler: {@link createEntryPointHandler} over {@link entryPointDepsFromEnv}, whose clients are
 * built on the first invocation and kept. `index.ts` loads this module (`deps.js` in the Lambda archive) on the
 * first invocation, so the init phase loads only the small `index.js`.
 */
export function entryPointHandlerFromEnv(env: NodeJS.ProcessEnv): ReturnType<typeof createEntryPointHandler> {
  return createEntryPointHandler(() => entryPointDepsFromEnv(env));
}
