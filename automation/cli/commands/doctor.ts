/**
 * `avm doctor`: checks every link a working installation needs and prints a checklist: ✓ passed, ✗ failed (with
 * the exact fix under it), ! not checked (and why). Exit 0 when no check failed, 1 when one did (`--strict`: also
 * when one could not be checked), 2 on usage errors. The checks live in `automation/doctor/`.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { LambdaClient } from "@aws-sdk/client-lambda";
import type { OrganizationsClient } from "@aws-sdk/client-organizations";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { STSClient } from "@aws-sdk/client-sts";
import { doctorReport, doctorText, type DoctorReport } from "../../doctor/doctorCheck";
import type { DoctorAws, DoctorContext, OutputsSource, PlatformOutputs } from "../../doctor/doctorContext";
import { runDoctor } from "../../doctor/runDoctor";
import { defaultRepoRoot } from "../../stacks/workspaceSettings";
import type { CommandContext } from "../context";
import { EXIT, CliUsageError } from "../errors";
import { readAll } from "../io";
import { CLI_ENV, accountIdSetting, pick, roleNameSetting, runnerSetting } from "../settings";

/** Options of `avm doctor`. */
export interface DoctorOptions {
  /** The platform stack whose outputs are read with the pulumi CLI. */
  readonly stack?: string;
  /** A file (or `-`) holding `pulumi stack output --json` of the platform stack. */
  readonly outputs?: string;
  readonly managementAccountId?: string;
  readonly bootstrapRole?: string;
  readonly runner?: string;
  /** Count `!` (not checked) as failing. */
  readonly strict?: boolean;
}

/** `--json` shape of `avm doctor`. */
export type DoctorJson = DoctorReport;

const STACK_NAME = /^[\w.\-/]{1,200}$/;

async function loadOutputs(ctx: CommandContext, options: DoctorOptions): Promise<OutputsSource> {
  if (options.outputs !== undefined && options.stack !== undefined) {
    throw new CliUsageError(
      "--outputs and --stack are mutually exclusive (a file of outputs, or the stack to read them from)",
    );
  }
  if (options.outputs !== undefined) {
    const file = options.outputs;
    let text: string;
    try {
      text = file === "-" ? await readAll(ctx.io.stdin) : await readFile(path.resolve(ctx.io.cwd, file), "utf8");
    } catch (error) {
      throw new CliUsageError(`--outputs: cannot read "${file}": ${(error as Error).message}`, { cause: error });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new CliUsageError(`--outputs: "${file}" is not JSON (expected the output of pulumi stack output --json)`, {
        cause: error,
      });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new CliUsageError(`--outputs: "${file}" must hold a JSON object (pulumi stack output --json)`);
    }
    return { kind: "loaded", source: `outputs file ${file}`, outputs: parsed as PlatformOutputs };
  }
  const stack = pick(options.stack, ctx.io.env, "AVM_PLATFORM_STACK");
  if (stack === undefined) return { kind: "none" };
  if (!STACK_NAME.test(stack)) throw new CliUsageError(`--stack must be a Pulumi stack name, got "${stack}"`);
  const source = `stack ${stack}`;
  try {
    const outputs = await ctx.deps.platformStackOutputs(stack, ctx.io.env);
    if (typeof outputs !== "object" || outputs === null) return { kind: "error", source, message: "no outputs" };
    return { kind: "loaded", source, outputs: outputs as PlatformOutputs };
  } catch (error) {
    return { kind: "error", source, message: (error as Error).message.replace(/\s*\n\s*/g, " ") };
  }
}

/** The platform's region: the one in the `entryPointArn` output, when there is one. */
function regionOf(outputs: OutputsSource): string | undefined {
  if (outputs.kind !== "loaded") return undefined;
  const arn = outputs.outputs.entryPointArn;
  return typeof arn === "string" ? arn.split(":")[3] || undefined : undefined;
}

function doctorAws(ctx: CommandContext, region: string | undefined): DoctorAws {
  const made: { destroy(): void }[] = [];
  const keep = <C extends { destroy(): void }>(client: C): C => {
    made.push(client);
    return client;
  };
  let organizations: OrganizationsClient | undefined;
  let sqs: SQSClient | undefined;
  let sts: STSClient | undefined;
  let lambda: LambdaClient | undefined;
  let dynamodb: DynamoDBClient | undefined;
  return {
    sts: () => (sts ??= keep(ctx.deps.awsClient(STSClient, region))),
    stsWith: (credentials) => keep(ctx.deps.awsClient(STSClient, region, credentials)),
    organizations: () => (organizations ??= keep(ctx.deps.organizationsClient(ctx.io.env))),
    lambda: () => (lambda ??= keep(ctx.deps.awsClient(LambdaClient, region))),
    dynamodb: () => (dynamodb ??= keep(ctx.deps.awsClient(DynamoDBClient, region))),
    sqs: () => (sqs ??= keep(ctx.deps.sqsClient(region))),
    destroy: () => made.forEach((client) => client.destroy()),
  };
}

/** Runs `avm doctor`; returns the exit code. */
export async function doctorCommand(ctx: CommandContext, options: DoctorOptions): Promise<number> {
  const { env } = ctx.io;
  const managementAccountId = accountIdSetting(
    options.managementAccountId,
    env,
    "--management-account-id",
    CLI_ENV.managementAccountId,
  );
  const bootstrapRoleName =
    roleNameSetting(options.bootstrapRole, env, "--bootstrap-role", CLI_ENV.bootstrapRoleName) ??
    "OrganizationAccountAccessRole";
  const runner = runnerSetting(options.runner, env);
  const outputs = await loadOutputs(ctx, options);
  const platformStack = options.outputs === undefined ? pick(options.stack, env, "AVM_PLATFORM_STACK") : undefined;
  const region = ctx.settings.region ?? regionOf(outputs);
  let pulumi: DoctorContext["pulumi"];
  try {
    pulumi = { client: await ctx.deps.pulumiCloudClient(env, ctx.deps.timing, "avm doctor's Pulumi Cloud checks") };
  } catch (error) {
    pulumi = { missing: (error as Error).message };
  }
  const aws = doctorAws(ctx, region);
  const organization = pick(undefined, env, "AVM_PULUMI_ORGANIZATION");
  const secret = env[CLI_ENV.webhookSecret];
  const doctor: DoctorContext = {
    env,
    repoRoot: defaultRepoRoot(),
    ...(managementAccountId !== undefined ? { managementAccountId } : {}),
    bootstrapRoleName,
    runner,
    hasPulumiCli: ctx.deps.hasPulumiCli(env),
    outputs,
    ...(platformStack !== undefined ? { platformStack } : {}),
    aws,
    pulumi,
    ...(organization !== undefined ? { pulumiOrganization: organization } : {}),
    ...(secret !== undefined && secret !== "" ? { webhookSecret: secret } : {}),
    pulumiVersion: () => ctx.deps.pulumiVersion(env),
    fetch: (...args) => fetch(...args),
    facts: {},
  };
  let report: DoctorReport;
  try {
    report = doctorReport(await runDoctor(doctor), options.strict === true);
  } finally {
    aws.destroy();
  }
  ctx.out.result(report satisfies DoctorJson, doctorText(report));
  return report.ok ? EXIT.ok : EXIT.runtime;
}
