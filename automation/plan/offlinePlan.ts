/**
 * The offline plan of an account stack (or of the platform stack): renders the resources and IAM policies the Pulumi program would
 * register for one managed account WITHOUT the Pulumi CLI or AWS credentials, by running `src/index.ts` under
 * the Pulumi mock runtime in a child process (mocks are process-global), and runs the IAM catalog check on
 * every policy document. {@link OfflinePlanRunner} exposes it as an {@link AccountStackRunner} (status
 * `planned`: nothing is deployed), for machines without a `pulumi` binary (the demo).
 */
import type { AccountStackRequest, AccountStackResult, AccountStackRunner } from "../../src/core/ports";
import { PROJECT_NAME, accountStackName } from "../../src/shared/naming";
import { buildAccountStackConfig, type AccountStackSettings, type AccountStackTarget } from "../stacks/stackConfig";
import { defaultRepoRoot } from "../stacks/workspaceSettings";
import { PlannerExitError, PlanPool } from "./planPool";
import {
  spawnPlanner,
  PLAN_MARKER,
  type PlanChildRequest,
  type PlanChildResult,
  type PlannedPolicy,
  type PlannedResource,
} from "./planProtocol";

export type { PlannedPolicy, PlannedResource } from "./planProtocol";

/** The offline plan of one account stack. */
export interface OfflinePlan {
  readonly accountId: string;
  readonly stackName: string;
  /** Every registration (providers, components, resources), in registration order; secrets masked. */
  readonly resources: readonly PlannedResource[];
  /** Every IAM policy document, parsed; secrets masked. */
  readonly policies: readonly PlannedPolicy[];
  /** The IAM catalog check passed for this many policies / actions. */
  readonly catalogCheck: { readonly policies: number; readonly actions: number };
}

/** The program failed under the mock runtime (bad config, unknown IAM action, crash); `message` is the program's. */
export class OfflinePlanError extends Error {
  constructor(
    message: string,
    readonly programErrorName?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Options of {@link planAccountStack}. */
export interface OfflinePlanOptions {
  /** Repo root holding `src/index.ts`; default this repository. */
  readonly repoRoot?: string;
  /** Kill the child after this many ms; default 120 s. */
  readonly timeoutMs?: number;
  /** Plan on these long-lived planners instead of a child process per plan (batch vending). */
  readonly pool?: PlanPool;
}

function toMockConfig(target: AccountStackTarget, settings: AccountStackSettings): PlanChildRequest {
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, entry] of Object.entries(buildAccountStackConfig(target, settings))) {
    config[key] = typeof entry.value === "string" ? entry.value : JSON.stringify(entry.value);
    if (entry.secret) secretKeys.push(key);
  }
  return { project: PROJECT_NAME, stack: accountStackName(target.accountId), config, secretKeys };
}

/**
 * Plans `target`'s account stack offline.
 * @throws AutomationConfigError for invalid settings (before the child starts)
 * @throws OfflinePlanError when the program fails under the mocks (its message kept) or the child crashes
 */
export async function planAccountStack(
  target: AccountStackTarget,
  settings: AccountStackSettings,
  options: OfflinePlanOptions = {},
): Promise<OfflinePlan> {
  const result = await runPlanChild(toMockConfig(target, settings), options);
  return { accountId: target.accountId, ...result };
}

/** The offline plan of the platform stack. */
export type PlatformPlan = Omit<OfflinePlan, "accountId">;

/**
 * Plans the platform stack `stack` offline from its configuration (`meshstack-avm:<key>` and `aws:region` values,
 * as `pulumi config` stores them); `secretKeys` names the secret ones, which are masked in the result.
 * @throws OfflinePlanError when the program fails under the mocks (e.g. a ConfigError, its message kept)
 */
export function planPlatformStack(
  stack: string,
  config: Readonly<Record<string, string>>,
  secretKeys: readonly string[] = [],
  options: OfflinePlanOptions = {},
): Promise<PlatformPlan> {
  return runPlanChild({ project: PROJECT_NAME, stack, config: { ...config }, secretKeys: [...secretKeys] }, options);
}

async function runPlanChild(request: PlanChildRequest, options: OfflinePlanOptions): Promise<PlatformPlan> {
  const secrets = request.secretKeys.map((k) => request.config[k] ?? "").filter((s) => s !== "");
  const incomplete = (detail: string): OfflinePlanError => {
    for (const secret of secrets) detail = detail.split(secret).join("[secret]");
    return new OfflinePlanError(`offline plan of ${request.stack} did not complete: ${detail}`);
  };
  let result: PlanChildResult;
  if (options.pool) {
    try {
      result = await options.pool.plan(request);
    } catch (error) {
      if (error instanceof PlannerExitError) throw incomplete(error.detail);
      throw error;
    }
  } else {
    result = await planInChild(request, options, incomplete);
  }
  if (!result.ok) {
    throw new OfflinePlanError(`offline plan of ${request.stack} failed: ${result.error}`, result.errorName);
  }
  return {
    stackName: request.stack,
    resources: result.resources,
    policies: result.policies,
    catalogCheck: result.catalog,
  };
}

/** Runs `request` in a child process of its own. */
async function planInChild(
  request: PlanChildRequest,
  options: OfflinePlanOptions,
  incomplete: (detail: string) => OfflinePlanError,
): Promise<PlanChildResult> {
  const repoRoot = options.repoRoot ?? defaultRepoRoot();
  const child = spawnPlanner(repoRoot, "one");
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  child.stdin.end(JSON.stringify(request));
  const timeoutMs = options.timeoutMs ?? 120_000;
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  const line = stdout.split("\n").find((l) => l.startsWith(PLAN_MARKER));
  if (line === undefined) throw incomplete(stderr.trim().split("\n").slice(-5).join(" | ") || `exit code ${code}`);
  return JSON.parse(line.slice(PLAN_MARKER.length)) as PlanChildResult;
}

/** Options of {@link OfflinePlanRunner}. */
export interface OfflinePlanRunnerOptions extends Omit<OfflinePlanOptions, "pool"> {
  /**
   * Keep this many long-lived planners for all the plans of this runner (batch vending: `@pulumi/aws` loads once
   * per planner, not once per account); {@link OfflinePlanRunner.close} ends them. Default: a child per plan.
   */
  readonly planners?: number;
}

/** Renders the account stack offline instead of deploying it: status `planned`. */
export class OfflinePlanRunner implements AccountStackRunner {
  /** Plans by account id, most recent last (for the demo's printout). */
  readonly plans = new Map<string, OfflinePlan>();
  private readonly pool: PlanPool | undefined;

  constructor(
    private readonly settings: AccountStackSettings,
    private readonly options: OfflinePlanRunnerOptions = {},
  ) {
    this.pool =
      options.planners !== undefined
        ? new PlanPool({
            repoRoot: options.repoRoot ?? defaultRepoRoot(),
            size: options.planners,
            ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
          })
        : undefined;
    // The planners load the program while the batch's first accounts are created.
    this.pool?.warm();
  }

  /** Ends the long-lived planners, if any. */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  async deploy(request: AccountStackRequest): Promise<AccountStackResult> {
    const plan = await planAccountStack({ accountId: request.accountId, tags: request.tags }, this.settings, {
      ...this.options,
      ...(this.pool ? { pool: this.pool } : {}),
    });
    this.plans.set(request.accountId, plan);
    const custom = plan.resources.filter(
      (r) => !r.type.startsWith("pulumi:providers:") && r.type.startsWith("aws:"),
    ).length;
    return {
      status: "planned",
      stackName: plan.stackName,
      summary:
        `planned offline (no pulumi CLI; nothing deployed): ${custom} AWS resources, ${plan.policies.length} IAM policies, ` +
        `IAM catalog check passed for ${plan.catalogCheck.actions} actions`,
    };
  }
}
