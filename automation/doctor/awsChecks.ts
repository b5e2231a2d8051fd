/**
 * `avm doctor`'s AWS checks: credentials and caller account; Organizations with all features and the expected
 * management account; `AVMEntryPoint` and its resource policy; the ledger table, the work queue and the
 * dead-letter queue; the bootstrap role in a sample member account. The SCP check is in scpChecks.ts.
 */
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { LEDGER_INDEXES } from "../../src/adapters/aws/ledgerTable";
import { GetFunctionCommand, GetPolicyCommand } from "@aws-sdk/client-lambda";
import { DescribeOrganizationCommand, ListAccountsCommand } from "@aws-sdk/client-organizations";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { AssumeRoleCommand, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import type { DoctorContext, PlatformOutputs } from "./doctorContext";
import { errorText, isAccessDenied, result, type CheckResult } from "./doctorCheck";

const CREDENTIALS_FIX =
  "configure AWS credentials for the automation or management account (AWS_PROFILE, or AWS_ACCESS_KEY_ID and " +
  "AWS_SECRET_ACCESS_KEY, or aws sso login); `aws sts get-caller-identity` must work";

/** Credentials resolve and STS names the caller. */
export async function checkAwsCredentials(ctx: DoctorContext): Promise<CheckResult> {
  const title = "AWS credentials";
  try {
    const identity = await ctx.aws.sts().send(new GetCallerIdentityCommand({}));
    ctx.facts.callerAccount = identity.Account;
    ctx.facts.callerArn = identity.Arn;
    ctx.facts.partition = identity.Arn?.split(":")[1];
    return result.pass("aws-credentials", title, `${identity.Arn} (account ${identity.Account})`);
  } catch (error) {
    return result.fail("aws-credentials", title, errorText(error), CREDENTIALS_FIX);
  }
}

/** Organizations is in use with all features, and its management account is the configured one. */
export async function checkOrganization(ctx: DoctorContext): Promise<CheckResult> {
  const id = "organization";
  const title = "AWS Organizations";
  if (ctx.facts.callerAccount === undefined) {
    return result.warn(id, title, "not checked: no working AWS credentials", CREDENTIALS_FIX);
  }
  let org;
  try {
    org = (await ctx.aws.organizations().send(new DescribeOrganizationCommand({}))).Organization;
  } catch (error) {
    if (error instanceof Error && error.name === "AWSOrganizationsNotInUseException") {
      return result.fail(
        id,
        title,
        `account ${ctx.facts.callerAccount} is not in an organization`,
        "aws organizations create-organization --feature-set ALL (in the management account)",
      );
    }
    if (isAccessDenied(error)) {
      return result.warn(
        id,
        title,
        `not checked: ${errorText(error)}`,
        "grant organizations:DescribeOrganization to the caller",
      );
    }
    return result.fail(id, title, errorText(error), "check the AWS credentials and region, then run avm doctor again");
  }
  ctx.facts.organizationId = org?.Id;
  ctx.facts.managementAccountId = org?.MasterAccountId;
  if (org?.FeatureSet !== "ALL") {
    return result.fail(
      id,
      title,
      `organization ${org?.Id} has feature set ${org?.FeatureSet}, not ALL (CreateAccount's bootstrap role and SCPs need all features)`,
      "aws organizations enable-all-features (in the management account; every member account accepts the handshake)",
    );
  }
  if (ctx.managementAccountId !== undefined && ctx.managementAccountId !== org.MasterAccountId) {
    return result.fail(
      id,
      title,
      `the organization's management account is ${org.MasterAccountId}, but AVM_MANAGEMENT_ACCOUNT_ID is ${ctx.managementAccountId}`,
      `export AVM_MANAGEMENT_ACCOUNT_ID=${org.MasterAccountId} (or --management-account-id; ` +
        `and pulumi config set managementAccountId ${org.MasterAccountId} on the platform stack)`,
    );
  }
  const setting =
    ctx.managementAccountId === undefined
      ? " (AVM_MANAGEMENT_ACCOUNT_ID not set: the organization's is used)"
      : " (matches AVM_MANAGEMENT_ACCOUNT_ID)";
  return result.pass(id, title, `${org.Id}, all features, management account ${org.MasterAccountId}${setting}`);
}

const OUTPUT_KEYS = ["entryPointArn", "webhookUrl", "ledgerTableName", "queueUrl", "deadLetterQueueUrl"] as const;
const STACK_FIX = "run avm doctor with --stack <platform stack> (needs the pulumi CLI) or --outputs <file>";

/** The platform stack outputs are there and name every resource the other checks look at. */
export function checkPlatformOutputs(ctx: DoctorContext): CheckResult {
  const id = "platform-outputs";
  const title = "platform stack outputs";
  const source = ctx.outputs;
  if (source.kind === "none") {
    return result.warn(
      id,
      title,
      "not checked: no platform stack given",
      `${STACK_FIX} (from pulumi stack output --json)`,
    );
  }
  if (source.kind === "error") {
    return result.fail(
      id,
      title,
      `${source.source}: ${source.message}`,
      `${STACK_FIX}; deploy it first with pulumi up`,
    );
  }
  const missing = OUTPUT_KEYS.filter((key) => typeof source.outputs[key] !== "string" || source.outputs[key] === "");
  if (missing.length > 0) {
    return result.fail(
      id,
      title,
      `${source.source} lacks ${missing.join(", ")}`,
      "pulumi up on the platform stack (this version exports them), then pass its outputs again",
    );
  }
  return result.pass(id, title, `${source.source}: ${OUTPUT_KEYS.join(", ")}`);
}

/** The outputs when loaded and complete, else undefined. */
export function platformOutputs(
  ctx: DoctorContext,
): Required<Pick<PlatformOutputs, (typeof OUTPUT_KEYS)[number]>> | undefined {
  if (ctx.outputs.kind !== "loaded") return undefined;
  const o = ctx.outputs.outputs;
  if (!OUTPUT_KEYS.every((key) => typeof o[key] === "string" && o[key] !== "")) return undefined;
  return o as Required<Pick<PlatformOutputs, (typeof OUTPUT_KEYS)[number]>>;
}

const NO_OUTPUTS = "not checked: the platform stack outputs are not available";

/**
 * Why the automation account's resources cannot be read with these credentials (the entry point's account is not
 * the caller's), or undefined when they can.
 */
function otherAccount(ctx: DoctorContext, outputs: { entryPointArn: string }): string | undefined {
  const automation = outputs.entryPointArn.split(":")[4];
  if (ctx.facts.callerAccount === undefined || automation === undefined || automation === ctx.facts.callerAccount) {
    return undefined;
  }
  return `not checked: the platform runs in account ${automation}, the caller is in ${ctx.facts.callerAccount}`;
}
const AUTOMATION_CREDENTIALS = "run avm doctor again with credentials of the automation account";

interface PolicyStatement {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly Principal?: string | { readonly AWS?: string | string[] };
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

function statementAdmitsOrganization(statement: PolicyStatement, organizationId: string | undefined): boolean {
  const actions = [statement.Action ?? []].flat();
  const principal = typeof statement.Principal === "string" ? statement.Principal : statement.Principal?.AWS;
  const orgIds = [statement.Condition?.StringEquals?.["aws:PrincipalOrgID"] ?? []].flat();
  return (
    statement.Effect === "Allow" &&
    actions.includes("lambda:InvokeFunction") &&
    [principal].flat().includes("*") &&
    orgIds.length > 0 &&
    (organizationId === undefined || orgIds.includes(organizationId))
  );
}

/** `AVMEntryPoint` exists and its resource policy lets principals of the organization invoke it. */
export async function checkEntryPoint(ctx: DoctorContext): Promise<CheckResult> {
  const id = "entry-point";
  const title = "AVMEntryPoint and its resource policy";
  const outputs = platformOutputs(ctx);
  if (outputs === undefined) return result.warn(id, title, NO_OUTPUTS);
  const elsewhere = otherAccount(ctx, outputs);
  if (elsewhere !== undefined) return result.warn(id, title, elsewhere, AUTOMATION_CREDENTIALS);
  const arn = outputs.entryPointArn;
  const lambda = ctx.aws.lambda();
  let runtime: string | undefined;
  try {
    runtime = (await lambda.send(new GetFunctionCommand({ FunctionName: arn }))).Configuration?.Runtime;
  } catch (error) {
    if (isAccessDenied(error))
      return result.warn(
        id,
        title,
        `not checked: ${errorText(error)}`,
        "grant lambda:GetFunction and lambda:GetPolicy",
      );
    return result.fail(
      id,
      title,
      `${arn}: ${errorText(error)}`,
      "pulumi up on the platform stack (creates AVMEntryPoint)",
    );
  }
  const org = ctx.facts.organizationId ?? "<organization id>";
  const addPermission =
    `aws lambda add-permission --function-name ${arn} --statement-id organization-invoke ` +
    `--action lambda:InvokeFunction --principal '*' --principal-org-id ${org} (or pulumi up on the platform stack)`;
  let statements: PolicyStatement[] = [];
  try {
    const policy = (await lambda.send(new GetPolicyCommand({ FunctionName: arn }))).Policy;
    statements = (JSON.parse(policy ?? "{}") as { Statement?: PolicyStatement[] }).Statement ?? [];
  } catch (error) {
    if (isAccessDenied(error))
      return result.warn(id, title, `not checked: ${errorText(error)}`, "grant lambda:GetPolicy");
    if (!(error instanceof Error && error.name === "ResourceNotFoundException")) {
      return result.fail(id, title, errorText(error), addPermission);
    }
  }
  if (!statements.some((s) => statementAdmitsOrganization(s, ctx.facts.organizationId))) {
    return result.fail(
      id,
      title,
      `${arn} exists (${runtime}) but its resource policy does not let principals of organization ${org} invoke it, so meshStack's calls fail`,
      addPermission,
    );
  }
  return result.pass(id, title, `${arn} (${runtime}); principals of organization ${org} may invoke it`);
}

/** The ledger table exists, is active and has every index of `ledgerTable.ts` (a missing one: `pulumi up`). */
export async function checkLedgerTable(ctx: DoctorContext): Promise<CheckResult> {
  const id = "ledger-table";
  const title = "ledger table";
  const outputs = platformOutputs(ctx);
  if (outputs === undefined) return result.warn(id, title, NO_OUTPUTS);
  const elsewhere = otherAccount(ctx, outputs);
  if (elsewhere !== undefined) return result.warn(id, title, elsewhere, AUTOMATION_CREDENTIALS);
  try {
    const table = (await ctx.aws.dynamodb().send(new DescribeTableCommand({ TableName: outputs.ledgerTableName })))
      .Table;
    if (table?.TableStatus !== "ACTIVE") {
      return result.fail(
        id,
        title,
        `${outputs.ledgerTableName} is ${table?.TableStatus}`,
        "wait until it is ACTIVE, then run avm doctor again",
      );
    }
    const indexes = new Map((table.GlobalSecondaryIndexes ?? []).map((index) => [index.IndexName, index]));
    const missing = LEDGER_INDEXES.filter((index) => !indexes.has(index.name)).map((index) => index.name);
    if (missing.length > 0) {
      return result.fail(
        id,
        title,
        `${outputs.ledgerTableName} has no index ${missing.join(", ")} (a table deployed before it was added)`,
        "pulumi up on the platform stack (adds the missing indexes to the table in place)",
      );
    }
    const building = LEDGER_INDEXES.filter((index) => {
      const described = indexes.get(index.name);
      return described?.IndexStatus !== "ACTIVE" || described.Backfilling === true;
    }).map((index) => `${index.name} ${indexes.get(index.name)?.IndexStatus ?? "?"}`);
    if (building.length > 0) {
      // DynamoDB is still building an index added by an update: nothing to fix, the ledger falls back meanwhile.
      return result.pass(
        id,
        title,
        `${outputs.ledgerTableName} (ACTIVE; index ${building.join(", ")}: avm list reads the whole table until it is ACTIVE)`,
      );
    }
    return result.pass(id, title, `${outputs.ledgerTableName} (ACTIVE)`);
  } catch (error) {
    if (isAccessDenied(error))
      return result.warn(id, title, `not checked: ${errorText(error)}`, "grant dynamodb:DescribeTable");
    return result.fail(
      id,
      title,
      `${outputs.ledgerTableName}: ${errorText(error)}`,
      "pulumi up on the platform stack (creates the ledger table)",
    );
  }
}

async function messageCount(ctx: DoctorContext, queueUrl: string): Promise<number> {
  const attributes = await ctx.aws
    .sqs()
    .send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }));
  return Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0);
}

/** The work queue and the dead-letter queue exist; the dead-letter queue is empty. */
export async function checkQueues(ctx: DoctorContext): Promise<CheckResult[]> {
  const outputs = platformOutputs(ctx);
  if (outputs === undefined) {
    return [
      result.warn("work-queue", "work queue", NO_OUTPUTS),
      result.warn("dead-letter-queue", "dead-letter queue", NO_OUTPUTS),
    ];
  }
  const elsewhere = otherAccount(ctx, outputs);
  if (elsewhere !== undefined) {
    return [
      result.warn("work-queue", "work queue", elsewhere, AUTOMATION_CREDENTIALS),
      result.warn("dead-letter-queue", "dead-letter queue", elsewhere, AUTOMATION_CREDENTIALS),
    ];
  }
  const checks: CheckResult[] = [];
  try {
    const waiting = await messageCount(ctx, outputs.queueUrl);
    checks.push(result.pass("work-queue", "work queue", `${outputs.queueUrl} (${waiting} waiting)`));
  } catch (error) {
    checks.push(
      isAccessDenied(error)
        ? result.warn("work-queue", "work queue", `not checked: ${errorText(error)}`, "grant sqs:GetQueueAttributes")
        : result.fail(
            "work-queue",
            "work queue",
            `${outputs.queueUrl}: ${errorText(error)}`,
            "pulumi up on the platform stack (creates the queues)",
          ),
    );
  }
  try {
    const held = await messageCount(ctx, outputs.deadLetterQueueUrl);
    checks.push(
      held === 0
        ? result.pass("dead-letter-queue", "dead-letter queue", `${outputs.deadLetterQueueUrl} is empty`)
        : result.fail(
            "dead-letter-queue",
            "dead-letter queue",
            `${outputs.deadLetterQueueUrl} holds ${held} message${held === 1 ? "" : "s"} (requests whose worker gave up)`,
            `avm reconcile --ledger-table ${outputs.ledgerTableName} --dlq-url ${outputs.deadLetterQueueUrl} --queue-url ${outputs.queueUrl}`,
          ),
    );
  } catch (error) {
    checks.push(
      isAccessDenied(error)
        ? result.warn(
            "dead-letter-queue",
            "dead-letter queue",
            `not checked: ${errorText(error)}`,
            "grant sqs:GetQueueAttributes",
          )
        : result.fail(
            "dead-letter-queue",
            "dead-letter queue",
            `${outputs.deadLetterQueueUrl}: ${errorText(error)}`,
            "pulumi up on the platform stack (creates the queues)",
          ),
    );
  }
  return checks;
}

/** The bootstrap role can be assumed in one member account (the first active one that is not the caller's). */
export async function checkBootstrapRole(ctx: DoctorContext): Promise<CheckResult> {
  const id = "bootstrap-role";
  const title = `bootstrap role ${ctx.bootstrapRoleName}`;
  if (ctx.facts.organizationId === undefined) {
    return result.warn(id, title, "not checked: the organization could not be read");
  }
  if (ctx.facts.callerAccount !== ctx.facts.managementAccountId) {
    return result.warn(
      id,
      title,
      `not checked: the caller is in account ${ctx.facts.callerAccount}, not the management account ${ctx.facts.managementAccountId} (the bootstrap role trusts the management account)`,
      "run avm doctor again with credentials of the management account",
    );
  }
  let sample: string | undefined;
  try {
    const accounts = (await ctx.aws.organizations().send(new ListAccountsCommand({}))).Accounts ?? [];
    sample = accounts.find(
      (a) => a.Status === "ACTIVE" && a.Id !== ctx.facts.managementAccountId && a.Id !== ctx.facts.callerAccount,
    )?.Id;
  } catch (error) {
    return result.warn(id, title, `not checked: ${errorText(error)}`, "grant organizations:ListAccounts");
  }
  if (sample === undefined) {
    return result.warn(id, title, "not checked: the organization has no active member account to try yet");
  }
  const roleArn = `arn:${ctx.facts.partition ?? "aws"}:iam::${sample}:role/${ctx.bootstrapRoleName}`;
  try {
    const assumed = await ctx.aws
      .sts()
      .send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "avm-doctor", DurationSeconds: 900 }));
    const c = assumed.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error("AssumeRole returned no credentials");
    const inside = await ctx.aws
      .stsWith({ accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken })
      .send(new GetCallerIdentityCommand({}));
    if (inside.Account !== sample) {
      return result.fail(
        id,
        title,
        `assumed ${roleArn} but landed in account ${inside.Account}`,
        "check AWS_ENDPOINT_URL and the role's account",
      );
    }
    return result.pass(id, title, `assumed ${roleArn} (sample member account ${sample})`);
  } catch (error) {
    return result.fail(
      id,
      title,
      `cannot assume ${roleArn}: ${errorText(error)}`,
      `allow the caller (${ctx.facts.callerArn}) sts:AssumeRole on arn:aws:iam::*:role/${ctx.bootstrapRoleName} and make ` +
        "the role trust the management account; if your bootstrap role has another name, export AVM_BOOTSTRAP_ROLE_NAME",
    );
  }
}
