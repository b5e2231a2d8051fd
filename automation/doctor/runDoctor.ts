/**
 * Runs every `avm doctor` check in order (later checks use what earlier ones learned: the caller account, the
 * organization, the registered webhook). A check that throws unexpectedly is reported as `!` (not checked) with
 * the error, never as passed.
 */
import {
  checkAwsCredentials,
  checkBootstrapRole,
  checkEntryPoint,
  checkLedgerTable,
  checkOrganization,
  checkPlatformOutputs,
  checkQueues,
} from "./awsChecks";
import type { DoctorContext } from "./doctorContext";
import { errorText, result, type CheckResult } from "./doctorCheck";
import { checkNode, checkPulumiCli, checkStateBackend } from "./localChecks";
import { checkScps } from "./scpChecks";
import {
  checkDeploymentSettings,
  checkPulumiProject,
  checkReceiverSecret,
  checkWebhookDelivery,
  checkWebhookRegistered,
} from "./pulumiChecks";

async function guarded(id: string, title: string, fn: () => Promise<CheckResult | CheckResult[]> | CheckResult) {
  try {
    return [await fn()].flat();
  } catch (error) {
    return [result.warn(id, title, `not checked: the check itself failed: ${errorText(error)}`)];
  }
}

/** Runs the checks and returns their results in checklist order. */
export async function runDoctor(ctx: DoctorContext): Promise<CheckResult[]> {
  const checks: CheckResult[] = [];
  const add = async (id: string, title: string, fn: () => Promise<CheckResult | CheckResult[]> | CheckResult) => {
    checks.push(...(await guarded(id, title, fn)));
  };
  const webhook = {};
  let stacks: string[] = [];
  await add("aws-credentials", "AWS credentials", () => checkAwsCredentials(ctx));
  await add("organization", "AWS Organizations", () => checkOrganization(ctx));
  await add("platform-outputs", "platform stack outputs", () => checkPlatformOutputs(ctx));
  await add("entry-point", "AVMEntryPoint and its resource policy", () => checkEntryPoint(ctx));
  await add("ledger-table", "ledger table", () => checkLedgerTable(ctx));
  await add("queues", "queues", () => checkQueues(ctx));
  await add("webhook-registered", "Pulumi Cloud webhook", () => checkWebhookRegistered(ctx, webhook));
  await add("webhook-receiver", "webhook receiver signature check", () => checkReceiverSecret(ctx));
  await add("webhook-delivery", "Pulumi Cloud ping through the webhook", () => checkWebhookDelivery(ctx, webhook));
  await add("pulumi-project", "Pulumi token and project", async () => {
    const found = await checkPulumiProject(ctx);
    stacks = found.stacks;
    return found.check;
  });
  await add("deployment-settings", "Pulumi Deployments settings", () => checkDeploymentSettings(ctx, stacks));
  await add("bootstrap-role", `bootstrap role ${ctx.bootstrapRoleName}`, () => checkBootstrapRole(ctx));
  await add("scps", "service control policies", () => checkScps(ctx));
  await add("node", "Node.js", () => checkNode());
  await add("pulumi-cli", "pulumi CLI", () => checkPulumiCli(ctx));
  await add("state-backend", "state backend and passphrase", () => checkStateBackend(ctx));
  return checks;
}
