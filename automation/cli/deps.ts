/**
 * The dependencies of the `avm` CLI, with their production defaults. Each default loads its modules
 * lazily (a literal `require()` on first use, which esbuild bundles into dist/cli/main.js without evaluating
 * it at start), so `avm --help` and `avm status` never pay for the Pulumi SDK, and tests replace any of them
 * (a memory ledger, a mocked Organizations client, a recording stack runner, instant timing).
 *
 * AWS clients are created with only a region: the SDK's standard credential chain and `AWS_ENDPOINT_URL`
 * (e.g. a local moto) apply unchanged.
 */
import type { OrganizationsClient } from "@aws-sdk/client-organizations";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Ledger } from "../../src/core/ports";
import type { AccountStackRunner } from "../../src/core/ports";
import { InProcessCreateSlots } from "../../src/adapters/local/inProcessCreateSlots";
import { type CreateSlots } from "../../src/core/ports";
import { realTiming, type Timing } from "../../src/shared/timing";
import type { LedgerSpec } from "./settings";
import { pulumiOnPath } from "./settings";
import type { ProgressReporter } from "../progress";
import type { AutomationLogger } from "../logger";
import type { AccountStackSettings, AccountStackTarget } from "../stacks/stackConfig";
import type { OfflinePlan, PlatformPlan } from "../plan/offlinePlan";
import type { PulumiCloudClient } from "../../src/stacks/pulumiCloudClient";
import type { PulumiEngine } from "../stacks/engine";
import type { RemoteDriftRunner } from "../fleet/remoteDrift";

/** Operator settings every account stack needs (see `automation/stacks/stackConfig.ts`). */
export type StackSettings = AccountStackSettings;

/** Everything the CLI reaches outside its own process. */
export interface CliDeps {
  /** Opens the ledger (SQLite file or DynamoDB table). The caller closes it. */
  openLedger(spec: LedgerSpec): Promise<Ledger>;
  /**
   * The CreateAccount concurrency cap shared by everyone using the same ledger: in-process for SQLite (one
   * CLI process), lease items in the ledger table for DynamoDB (shared with the deployed workers).
   */
  createSlots(spec: LedgerSpec, now: () => Date): CreateSlots;
  /** An Organizations client with management-account credentials (standard chain). */
  organizationsClient(env: Readonly<Record<string, string | undefined>>): OrganizationsClient;
  /**
   * An SQS client for the work and dead-letter queues (`avm reconcile`), standard credential chain. The
   * caller destroys it.
   * @param region the queue's region (`--region`, else the one in the queue URL); undefined = SDK chain
   */
  sqsClient(region: string | undefined): SQSClient;
  /** Waits, clock and jitter of the workflow. */
  readonly timing: Timing;
  /** True when a `pulumi` binary is available (decides `--runner auto`). */
  hasPulumiCli(env: Readonly<Record<string, string | undefined>>): boolean;
  /** The account-stack verbs on the local Automation API (the product's program, inline). */
  accountStacks(
    settings: StackSettings,
    env: Readonly<Record<string, string | undefined>>,
  ): Promise<import("../stacks/accountStacks").AccountStacks>;
  /** The local Automation API runner (`pulumi up` of `account-<id>`). */
  localStackRunner(
    settings: StackSettings,
    env: Readonly<Record<string, string | undefined>>,
    progress: ProgressReporter,
  ): Promise<AccountStackRunner>;
  /**
   * The engine the fleet verbs run account stacks on: the local Automation API on this repository
   * (`PULUMI_BACKEND_URL`, default `file://<repo>/.avm/state`).
   */
  pulumiEngine(env: Readonly<Record<string, string | undefined>>): Promise<PulumiEngine>;
  /**
   * The offline planner: renders the account stack under the Pulumi mock runtime (status `planned`).
   * @param options `planners`: long-lived planner processes shared by every plan (a batch); the caller closes
   * the runner then
   */
  offlineStackRunner(settings: StackSettings, options?: { readonly planners?: number }): Promise<AccountStackRunner>;
  /**
   * Starts a long-lived offline planner now, before the settings are known, for the next `offlineStackRunner` with
   * `planners` to adopt (a batch's first plan then does not wait for the planner's whole start-up). Optional: the
   * test doubles have none. An unadopted planner ends when this process does (its stdin closes).
   */
  prestartOfflinePlanner?(): void;
  /** Plans one account stack offline (resources, policies, IAM catalog check). */
  planAccountStack(target: AccountStackTarget, settings: StackSettings): Promise<OfflinePlan>;
  /** Plans the platform stack offline from its configuration values (secret keys masked). */
  planPlatformStack(
    stack: string,
    config: Record<string, string>,
    secretKeys: readonly string[],
  ): Promise<PlatformPlan>;
  /**
   * The Pulumi Deployments runner: token `PULUMI_ACCESS_TOKEN`, organization `AVM_PULUMI_ORGANIZATION`, git
   * source `AVM_PULUMI_REPO_URL` / `AVM_PULUMI_REPO_BRANCH` (default `main`) / `AVM_PULUMI_REPO_DIR`, API
   * `PULUMI_API_URL` (default `https://api.pulumi.com`), AWS credentials through OIDC with the deploy role
   * `AVM_DEPLOYMENTS_ROLE_ARN` (optional). Waits for the deployment (status `deployed`) or
   * returns `queued` after `AVM_DEPLOYMENT_WAIT_SECONDS` (default 1800).
   */
  remoteStackRunner(
    settings: StackSettings,
    env: Readonly<Record<string, string | undefined>>,
    logger: AutomationLogger,
  ): Promise<AccountStackRunner>;
  /** The same Deployments runner as {@link remoteStackRunner}, for `detect-drift` runs (`avm fleet drift --remote`). */
  remoteDriftRunner(
    settings: StackSettings,
    env: Readonly<Record<string, string | undefined>>,
    logger: AutomationLogger,
  ): Promise<RemoteDriftRunner>;
  /**
   * A Pulumi Cloud REST client (`avm webhooks`, `avm doctor`): token `PULUMI_ACCESS_TOKEN`, API `PULUMI_API_URL`.
   * @param purpose what needs the token, named when it is missing
   */
  pulumiCloudClient(
    env: Readonly<Record<string, string | undefined>>,
    timing: Timing,
    purpose: string,
  ): Promise<PulumiCloudClient>;
  /**
   * Any other AWS SDK v3 client (`avm doctor`: STS, Lambda, DynamoDB), standard credential chain, or `credentials`
   * when given (an assumed role). The caller destroys it.
   */
  awsClient<C>(
    Client: new (config: AwsClientConfig) => C,
    region: string | undefined,
    credentials?: AwsClientConfig["credentials"],
  ): C;
  /** The platform stack's outputs: `pulumi stack output --json --stack <stack>` in the repository root. */
  platformStackOutputs(stack: string, env: Readonly<Record<string, string | undefined>>): Promise<unknown>;
  /** `pulumi version`, or undefined when it cannot be run. */
  pulumiVersion(env: Readonly<Record<string, string | undefined>>): Promise<string | undefined>;
}

/** The configuration {@link CliDeps.awsClient} hands to a client constructor. */
export interface AwsClientConfig {
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** The ledger's methods bound to it (so they can be spread into a wrapper). */
export function bindLedger(ledger: Ledger): Ledger {
  return {
    claim: ledger.claim.bind(ledger),
    get: ledger.get.bind(ledger),
    getByRequestId: ledger.getByRequestId.bind(ledger),
    getByAccountId: ledger.getByAccountId.bind(ledger),
    list: ledger.list.bind(ledger),
    update: ledger.update.bind(ledger),
    close: ledger.close.bind(ledger),
  };
}

/** The account-stack verbs on the local Automation API: the product's program, inline, on the configured backend. */
async function localAccountStacks(
  settings: StackSettings,
  env: Readonly<Record<string, string | undefined>>,
): Promise<import("../stacks/accountStacks").AccountStacks> {
  const { AccountStacks } = require("../stacks/accountStacks") as typeof import("../stacks/accountStacks");
  const { LocalPulumiEngine } = require("../stacks/localPulumiEngine") as typeof import("../stacks/localPulumiEngine");
  const { resolveWorkspaceSettings } =
    require("../stacks/workspaceSettings") as typeof import("../stacks/workspaceSettings");
  return new AccountStacks({ engine: new LocalPulumiEngine(resolveWorkspaceSettings({ ...env })), settings });
}

/** The production dependencies. */
export function defaultDeps(): CliDeps {
  return {
    async openLedger(spec) {
      if (spec.kind === "sqlite") {
        const { SqliteLedger } =
          require("../../src/adapters/local/sqliteLedger") as typeof import("../../src/adapters/local/sqliteLedger");
        return new SqliteLedger({ path: spec.path });
      }
      const { DynamoDBClient } = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
      const { DynamoLedger } =
        require("../../src/adapters/aws/dynamoLedger") as typeof import("../../src/adapters/aws/dynamoLedger");
      const client = new DynamoDBClient(spec.region !== undefined ? { region: spec.region } : {});
      const ledger = new DynamoLedger({ client, tableName: spec.table });
      return {
        ...bindLedger(ledger),
        close: async () => {
          await ledger.close();
          client.destroy();
        },
      };
    },
    createSlots(spec, now) {
      if (spec.kind === "sqlite") return new InProcessCreateSlots({ now });
      const { DynamoDBClient } = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
      const { DynamoCreateSlots } =
        require("../../src/adapters/aws/dynamoCreateSlots") as typeof import("../../src/adapters/aws/dynamoCreateSlots");
      const client = new DynamoDBClient(spec.region !== undefined ? { region: spec.region } : {});
      return new DynamoCreateSlots({ client, tableName: spec.table, now });
    },
    organizationsClient() {
      const { OrganizationsClient } =
        require("@aws-sdk/client-organizations") as typeof import("@aws-sdk/client-organizations");
      // Organizations is a global service served from us-east-1 (aws partition).
      return new OrganizationsClient({ region: "us-east-1" });
    },
    sqsClient(region) {
      const { SQSClient } = require("@aws-sdk/client-sqs") as typeof import("@aws-sdk/client-sqs");
      return new SQSClient(region !== undefined ? { region } : {});
    },
    timing: realTiming,
    hasPulumiCli: (env) => pulumiOnPath(env),
    accountStacks: localAccountStacks,
    async localStackRunner(settings, env, progress) {
      const { LocalAccountStackRunner } =
        require("../stacks/localAccountStackRunner") as typeof import("../stacks/localAccountStackRunner");
      return new LocalAccountStackRunner(await localAccountStacks(settings, env), progress);
    },
    async pulumiEngine(env) {
      const { LocalPulumiEngine } =
        require("../stacks/localPulumiEngine") as typeof import("../stacks/localPulumiEngine");
      const { resolveWorkspaceSettings } =
        require("../stacks/workspaceSettings") as typeof import("../stacks/workspaceSettings");
      return new LocalPulumiEngine(resolveWorkspaceSettings({ ...env }));
    },
    prestartOfflinePlanner() {
      const { prestartPlanner } = require("../plan/planPool") as typeof import("../plan/planPool");
      const { defaultRepoRoot } =
        require("../stacks/workspaceSettings") as typeof import("../stacks/workspaceSettings");
      prestartPlanner(defaultRepoRoot());
    },
    async offlineStackRunner(settings, options = {}) {
      const { OfflinePlanRunner } = require("../plan/offlinePlan") as typeof import("../plan/offlinePlan");
      return new OfflinePlanRunner(settings, options.planners !== undefined ? { planners: options.planners } : {});
    },
    async planAccountStack(target, settings) {
      const { planAccountStack } = require("../plan/offlinePlan") as typeof import("../plan/offlinePlan");
      return planAccountStack(target, settings);
    },
    async planPlatformStack(stack, config, secretKeys) {
      const { planPlatformStack } = require("../plan/offlinePlan") as typeof import("../plan/offlinePlan");
      return planPlatformStack(stack, config, secretKeys);
    },
    async remoteStackRunner(settings, env, logger) {
      return deploymentsRunnerFromEnv(settings, env, logger);
    },
    async remoteDriftRunner(settings, env, logger) {
      return deploymentsRunnerFromEnv(settings, env, logger);
    },
    async pulumiCloudClient(env, timing, purpose) {
      const { pulumiCloudClientFromEnv } =
        require("../../src/stacks/pulumiCloudClient") as typeof import("../../src/stacks/pulumiCloudClient");
      return pulumiCloudClientFromEnv(env, timing, purpose);
    },
    awsClient(Client, region, credentials) {
      return new Client({
        ...(region !== undefined ? { region } : {}),
        ...(credentials !== undefined ? { credentials } : {}),
      });
    },
    async platformStackOutputs(stack, env) {
      const { execFile } = require("node:child_process") as typeof import("node:child_process");
      const { defaultRepoRoot } =
        require("../stacks/workspaceSettings") as typeof import("../stacks/workspaceSettings");
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(
          "pulumi",
          ["stack", "output", "--json", "--stack", stack, "--non-interactive"],
          { cwd: defaultRepoRoot(), env: { ...env }, timeout: 120_000, maxBuffer: 4 * 1024 * 1024 },
          (error, out, err) =>
            error ? reject(new Error(err.trim().split("\n").at(-1) || error.message)) : resolve(out),
        ),
      );
      return JSON.parse(stdout) as unknown;
    },
    async pulumiVersion(env) {
      const { execFile } = require("node:child_process") as typeof import("node:child_process");
      return new Promise((resolve) =>
        execFile("pulumi", ["version"], { env: { ...env }, timeout: 20_000 }, (error, out) =>
          resolve(error ? undefined : out.trim()),
        ),
      );
    },
  };
}

/** The Pulumi Deployments runner configured from the environment (see {@link CliDeps.remoteStackRunner}). */
function deploymentsRunnerFromEnv(
  settings: StackSettings,
  env: Readonly<Record<string, string | undefined>>,
  logger: AutomationLogger,
): import("../../src/stacks/deploymentsRunner").DeploymentsAccountStackRunner {
  const { DeploymentsAccountStackRunner } =
    require("../../src/stacks/deploymentsRunner") as typeof import("../../src/stacks/deploymentsRunner");
  const { pulumiCloudClientFromEnv } =
    require("../../src/stacks/pulumiCloudClient") as typeof import("../../src/stacks/pulumiCloudClient");
  const { DeploymentsConfigError } =
    require("../../src/stacks/deploymentsErrors") as typeof import("../../src/stacks/deploymentsErrors");
  const need = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) throw new DeploymentsConfigError(`${name} is not set: Pulumi Deployments needs it`);
    return value;
  };
  const waitSeconds = Number(env.AVM_DEPLOYMENT_WAIT_SECONDS ?? 1800);
  const repoDir = env.AVM_PULUMI_REPO_DIR?.trim();
  const awsOidcRoleArn = env.AVM_DEPLOYMENTS_ROLE_ARN?.trim();
  return new DeploymentsAccountStackRunner({
    client: pulumiCloudClientFromEnv(env),
    organization: need("AVM_PULUMI_ORGANIZATION"),
    source: {
      repoUrl: need("AVM_PULUMI_REPO_URL"),
      branch: env.AVM_PULUMI_REPO_BRANCH?.trim() || "main",
      ...(repoDir ? { repoDir } : {}),
    },
    settings,
    logger,
    waitTimeoutMs: Number.isFinite(waitSeconds) && waitSeconds >= 0 ? waitSeconds * 1000 : 1_800_000,
    ...(awsOidcRoleArn ? { awsOidcRoleArn } : {}),
  });
}
