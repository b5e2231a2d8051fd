/**
 * Builds the vending workflow for the commands that drive it locally (`vend`, `invoke --process`, `close`):
 * ledger (with progress reporting), Organizations gateway, CreateAccount slots, account stack runner, and
 * the account-stack settings resolved from flags and environment.
 */
import { BoundedRunner } from "../stacks/boundedRunner";
import { OrganizationsGateway } from "../../src/adapters/aws/organizationsGateway";
import type { Ledger } from "../../src/core/ports";
import type { LedgerRecord } from "../../src/core/ledger";
import type { AccountStackRequest, AccountStackResult, AccountStackRunner } from "../../src/core/ports";
import { createWorkflow, type Workflow } from "../../src/core/vending/workflow";
import { createProgress, type ProgressReporter } from "../progress";
import type { AutomationLogger } from "../logger";
import type { CommandContext } from "./context";
import type { StackSettings } from "./deps";
import { CliError, CliUsageError } from "./errors";
import { CLI_ENV, accountIdSetting, pick, roleNameSetting, runnerSetting, type RunnerKind } from "./settings";

/** Flags shared by the commands that run account stacks. */
export interface StackFlags {
  readonly managementAccountId?: string;
  readonly automationAccountId?: string;
  readonly bootstrapRole?: string;
  readonly accessRole?: string;
  readonly runner?: string;
}

/** Region of account stacks when neither `--region` nor `AWS_REGION` is set. */
export const DEFAULT_STACK_REGION = "us-east-1";

/**
 * Resolves the account-stack settings. The management account id falls back to `lookupManagement()` (the
 * organization's, via DescribeOrganization) and the automation account id to the management account's.
 * @throws CliUsageError naming the flag when a value is malformed or no management account id is known
 */
export async function resolveStackSettings(
  ctx: CommandContext,
  flags: StackFlags,
  lookupManagement?: () => Promise<string>,
): Promise<{ settings: StackSettings; notes: string[] }> {
  const env = ctx.io.env;
  const notes: string[] = [];
  let managementAccountId = accountIdSetting(
    flags.managementAccountId,
    env,
    "--management-account-id",
    CLI_ENV.managementAccountId,
  );
  if (managementAccountId === undefined) {
    if (!lookupManagement) {
      throw new CliUsageError(
        `--management-account-id (or ${CLI_ENV.managementAccountId}) is required: the account stack's access role trusts that account's meshfed-service user`,
      );
    }
    managementAccountId = await lookupManagement();
  }
  let automationAccountId = accountIdSetting(
    flags.automationAccountId,
    env,
    "--automation-account-id",
    CLI_ENV.automationAccountId,
  );
  if (automationAccountId === undefined) {
    automationAccountId = managementAccountId;
    notes.push(
      `${CLI_ENV.automationAccountId} not set: the access role may invoke AVMEntryPoint in the management account ${managementAccountId}`,
    );
  }
  const bootstrapRoleName = roleNameSetting(flags.bootstrapRole, env, "--bootstrap-role", CLI_ENV.bootstrapRoleName);
  const accessRoleName = roleNameSetting(flags.accessRole, env, "--access-role", CLI_ENV.accessRoleName);
  const externalId = pick(undefined, env, CLI_ENV.externalId);
  return {
    settings: {
      managementAccountId,
      automationAccountId,
      region: ctx.settings.region ?? DEFAULT_STACK_REGION,
      ...(bootstrapRoleName !== undefined ? { bootstrapRoleName } : {}),
      ...(accessRoleName !== undefined ? { accessRoleName } : {}),
      ...(externalId !== undefined ? { externalId } : {}),
    },
    notes,
  };
}

/** What Pulumi Deployments (runner `remote`) needs from the environment. */
export const DEPLOYMENTS_ENV = ["PULUMI_ACCESS_TOKEN", "AVM_PULUMI_ORGANIZATION", "AVM_PULUMI_REPO_URL"] as const;

/**
 * The runner actually used. `auto` means a way to deploy: `local` when `pulumi` is on PATH, else `remote` when
 * Pulumi Deployments is configured; it never falls back to the offline plan (planned is not deployed).
 * @throws CliUsageError naming what is missing when `auto` finds no way to deploy (before anything is done)
 */
export function effectiveRunner(ctx: CommandContext, flag: string | undefined): Exclude<RunnerKind, "auto"> {
  const kind = runnerSetting(flag, ctx.io.env);
  if (kind !== "auto") return kind;
  if (ctx.deps.hasPulumiCli(ctx.io.env)) return "local";
  const missing = DEPLOYMENTS_ENV.filter((name) => !ctx.io.env[name]?.trim());
  if (missing.length === 0) return "remote";
  throw new CliUsageError(
    `no way to deploy account stacks: the pulumi CLI is not on PATH (--runner local) and Pulumi Deployments is ` +
      `not configured (--runner remote needs ${missing.join(", ")}); install pulumi, configure Deployments, or ` +
      `pass --runner offline to plan only (the request then ends PLANNED, not deployed)`,
  );
}

/** Creates the account stack runner of `kind`. */
export async function createStackRunner(
  ctx: CommandContext,
  kind: Exclude<RunnerKind, "auto">,
  settings: StackSettings,
  progress: ProgressReporter,
  planners?: number,
): Promise<AccountStackRunner> {
  switch (kind) {
    case "local":
      if (!ctx.deps.hasPulumiCli(ctx.io.env)) {
        throw new CliError(
          "the pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) or use --runner offline",
        );
      }
      return ctx.deps.localStackRunner(settings, ctx.io.env, progress);
    case "offline":
      return ctx.deps.offlineStackRunner(settings, planners !== undefined ? { planners } : {});
    case "remote":
      return ctx.deps.remoteStackRunner(settings, ctx.io.env, progressLogger(ctx, "deployments"));
  }
}

/** An automation logger whose info/warn/error lines become progress lines (`<prefix>: message {fields}`). */
export function progressLogger(ctx: CommandContext, prefix: string): AutomationLogger {
  const line = (message: string, extra?: Record<string, unknown>) =>
    ctx.out.progress(
      `${prefix}: ${message}${extra && Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : ""}`,
    );
  return { debug: () => undefined, info: line, warn: line, error: line };
}

/** Records every runner result by account id (for summaries). */
export class RecordingRunner implements AccountStackRunner {
  /** Results by account id, in call order. */
  readonly results = new Map<string, AccountStackResult>();
  constructor(private readonly inner: AccountStackRunner) {}
  async deploy(request: AccountStackRequest): Promise<AccountStackResult> {
    const result = await this.inner.deploy(request);
    this.results.set(request.accountId, result);
    return result;
  }
  /** Ends what the runner keeps running (the offline planners of a batch). */
  async close(): Promise<void> {
    await (this.inner as { close?: () => Promise<void> }).close?.();
  }
}

/** Per-request progress on stderr: a live line per request on a TTY, one line per step otherwise. */
export class RequestProgress {
  private readonly live: ProgressReporter | undefined;
  constructor(private readonly ctx: CommandContext) {
    const stream = ctx.out.progressStream;
    this.live = !ctx.out.quiet && stream.isTTY === true ? createProgress(stream, true) : undefined;
  }
  /** Reports the latest step of `record`. */
  step(record: LedgerRecord): void {
    const note = record.history.at(-1)?.note;
    // What just happened, then the step the request is in now: "account 1234... created -> MOVING".
    const line = note ? `${note} -> ${record.state}` : record.state;
    if (this.live) this.live.update(record.email, line);
    else this.ctx.out.progress(`${record.email}: ${line}`);
  }
  /** Reports the end of a request. */
  done(record: LedgerRecord): void {
    if (!this.live) return;
    const detail = record.failureReason ?? (record.accountId ? `account ${record.accountId}` : "");
    if (record.state === "FAILED") this.live.fail(record.email, detail);
    else this.live.succeed(record.email, `${record.state} ${detail}`.trim());
  }
}

/** A workflow wired for local use. */
export interface LocalWorkflow {
  readonly workflow: Workflow;
  readonly organizations: OrganizationsGateway;
  readonly runner: RecordingRunner;
  readonly runnerKind: Exclude<RunnerKind, "auto">;
  readonly progress: RequestProgress;
  /** Notes about defaults applied (shown as progress). */
  readonly notes: readonly string[];
}

/** Options of {@link openLocalWorkflow}. */
export interface LocalWorkflowOptions extends StackFlags {
  /** Default target OU of vend requests naming none (`--default-ou` / `AVM_DEFAULT_OU`). */
  readonly defaultOu?: string;
  /** Build no stack runner (close). */
  readonly withoutStacks?: boolean;
  /** Report every step of every request (default true; a batch reports per request instead). */
  readonly stepProgress?: boolean;
  /** Offline stacks: long-lived planners shared by all requests (a batch); default a planner per plan. */
  readonly planners?: number;
  /** Local stacks: at most this many `pulumi up`s at once (a batch); default no bound beyond the caller's. */
  readonly localStacksAtOnce?: number;
  /** Backoff while every CreateAccount slot is taken (the workflow's default otherwise). */
  readonly slotWait?: { readonly baseDelayMs: number; readonly maxDelayMs: number };
}

/**
 * Wires the workflow over `ledger` for this process: in-process CreateAccount slots, the Organizations
 * gateway on `deps.organizationsClient`, and the chosen account stack runner.
 */
export async function openLocalWorkflow(
  ctx: CommandContext,
  ledger: Ledger,
  options: LocalWorkflowOptions,
): Promise<LocalWorkflow> {
  const timing = ctx.deps.timing;
  const organizations = new OrganizationsGateway(ctx.deps.organizationsClient(ctx.io.env), { timing });
  const progress = new RequestProgress(ctx);
  const runnerKind = options.withoutStacks ? "offline" : effectiveRunner(ctx, options.runner);
  let notes: string[] = [];
  let inner: AccountStackRunner = {
    deploy: async () => {
      throw new CliError("no account stack runner configured for this command");
    },
  };
  if (!options.withoutStacks) {
    const resolved = await resolveStackSettings(
      ctx,
      options,
      async () => (await organizations.describeOrganization()).managementAccountId,
    );
    notes = resolved.notes;
    inner = await createStackRunner(
      ctx,
      runnerKind,
      resolved.settings,
      createProgress(ctx.out.progressStream),
      options.planners,
    );
    if (runnerKind === "local" && options.localStacksAtOnce !== undefined) {
      inner = new BoundedRunner(inner, options.localStacksAtOnce);
    }
  }
  const runner = new RecordingRunner(inner);
  const defaultTargetOu = pick(options.defaultOu, ctx.io.env, CLI_ENV.defaultOu);
  const bootstrapRoleName = roleNameSetting(
    options.bootstrapRole,
    ctx.io.env,
    "--bootstrap-role",
    CLI_ENV.bootstrapRoleName,
  );
  const workflow = createWorkflow({
    ledger,
    organizations,
    stackRunner: runner,
    createSlots: ctx.deps.createSlots(ctx.settings.ledger, () => timing.now()),
    timing,
    options: {
      ...(defaultTargetOu !== undefined ? { defaultTargetOu } : {}),
      ...(bootstrapRoleName !== undefined ? { bootstrapRoleName } : {}),
      ...(options.slotWait !== undefined ? { slotWait: options.slotWait } : {}),
      ...(options.stepProgress === false ? {} : { onStep: (record: LedgerRecord) => progress.step(record) }),
    },
  });
  return { workflow, organizations, runner, runnerKind, progress, notes };
}
