/**
 * Physical names of the AVM's resources in the automation account. Fixed (not auto-named) so that policies can be
 * computed from configuration alone, offline, and so that `AVMEntryPoint` has the exact name meshStack targets.
 * Consequence: one platform stack per automation account and region.
 */
import { ENTRY_POINT_FUNCTION_NAME } from "../shared/naming";

/** Names of the platform stack's resources. */
export const AVM_RESOURCE_NAMES = {
  entryPointFunction: ENTRY_POINT_FUNCTION_NAME,
  workerFunction: "AVMWorker",
  webhookFunction: "AVMWebhook",
  entryPointRole: "AVMEntryPointRole",
  workerRole: "AVMWorkerRole",
  webhookRole: "AVMWebhookRole",
  ledgerTable: "avm-ledger",
  workQueue: "avm-work",
  deadLetterQueue: "avm-work-dlq",
  /** CloudWatch alarm on the dead-letter queue's depth (a request needs `avm reconcile`). */
  deadLetterAlarm: "avm-work-dlq-not-empty",
  webhookSecret: "avm/webhook-secret",
  pulumiTokenSecret: "avm/pulumi-access-token",
  externalIdSecret: "avm/external-id",
} as const;

/** Name of the CloudWatch Logs group Lambda writes to for `functionName`. */
export function lambdaLogGroupName(functionName: string): string {
  return `/aws/lambda/${functionName}`;
}
