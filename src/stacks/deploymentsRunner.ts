/**
 * {@link AccountStackRunner} on Pulumi Deployments (REST API): the account stack runs remotely from this
 * repository's git source. Steps per call:
 * 1. create the stack if missing (`POST /api/stacks/{org}/{project}`, 409 = exists);
 * 2. patch its deployment settings (`POST .../deployments/settings`): git source (repo URL, branch, directory)
 *    and pre-run commands that write the stack config (`pulumi config set-all`), the external id passed as a
 *    secret environment variable, never on a command line;
 * 3. create a deployment (`POST .../deployments`, `operation` and `inheritSettings: true` set explicitly);
 *    when one is already running for the stack (HTTP 409) wait for it, then create ours;
 * 4. poll `GET .../deployments/{id}` until `succeeded`, `failed` or `skipped`, or until the wait budget is
 *    spent, which returns `queued` (the Pulumi Cloud webhook then reports the outcome).
 * AWS credentials: with {@link DeploymentsRunnerOptions.awsOidcRoleArn} (the platform stack's `AVMDeploymentsRole`,
 * `deploymentsOidc`) the patch sets `operationContext.oidc.aws` (`roleArn`, `sessionName`, `duration`; the REST
 * schema https://www.pulumi.com/docs/reference/cloud-rest-api/schema/operationcontextawsoidcconfiguration/ and
 * .../operationcontextoidcconfigurationrequest/), so each deployment exchanges its own OIDC token for a session of
 * that role; without it the operator's cloud credentials in the stack's or organization's settings are left alone
 * (the patch merges). Static AWS keys are never sent.
 */
import { PROJECT_NAME, accountStackName } from "../shared/naming";
import { shellQuote } from "../shared/shellQuote";
import { realTiming, type Timing } from "../shared/timing";
import type { AccountStackRequest, AccountStackResult, AccountStackRunner } from "../core/ports";
import { silentLogger, type Logger } from "../core/ports";
import { accountStackConfig, type AccountStackSettings, type AccountStackTarget } from "./accountStackConfig";
import type { EngineConfig } from "./stackConfigTypes";
import {
  DeploymentFailedError,
  DeploymentSkippedError,
  DeploymentsConfigError,
  PulumiCloudApiError,
} from "./deploymentsErrors";
import type { PulumiCloudClient } from "./pulumiCloudClient";

/** Deployment statuses of the REST API. */
export type DeploymentStatus = "not-started" | "accepted" | "running" | "succeeded" | "failed" | "skipped";

/** The deployment operations the runner starts. */
export type DeploymentOperation = "update" | "destroy" | "detect-drift" | "remediate-drift";

const TERMINAL: ReadonlySet<string> = new Set(["succeeded", "failed", "skipped"]);
const ACTIVE: ReadonlySet<string> = new Set(["not-started", "accepted", "running"]);

/** Where Pulumi Deployments fetches the program. */
export interface GitSource {
  /** Clone URL of this repository. */
  readonly repoUrl: string;
  /** Branch (`main` or `refs/heads/main`). */
  readonly branch: string;
  /** Directory of `Pulumi.yaml` inside the repository; default the root. */
  readonly repoDir?: string;
}

/** Options of {@link DeploymentsAccountStackRunner}. */
export interface DeploymentsRunnerOptions {
  readonly client: PulumiCloudClient;
  /** Pulumi Cloud organization owning the account stacks. */
  readonly organization: string;
  /** Pulumi project; default `meshstack-avm`. */
  readonly project?: string;
  readonly source: GitSource;
  /** Operator settings that become stack config (validated with the program's rules). */
  readonly settings: AccountStackSettings;
  readonly timing?: Timing;
  readonly logger?: Logger;
  /** Delay between status polls; default 10 s. */
  readonly pollIntervalMs?: number;
  /** How long to wait for a terminal status before returning `queued`; default 30 min; 0 returns at once. */
  readonly waitTimeoutMs?: number;
  /** Attempts to create the deployment while another one runs on the stack; default 3. */
  readonly busyAttempts?: number;
  /**
   * ARN of the role each deployment assumes with its Pulumi OIDC token (`AVMDeploymentsRole`, env
   * `AVM_DEPLOYMENTS_ROLE_ARN`); default none: no AWS credentials in the settings.
   */
  readonly awsOidcRoleArn?: string;
}

/** A created deployment. */
interface CreatedDeployment {
  readonly id: string;
  readonly consoleUrl?: string;
  readonly version?: number;
}

/** Outcome of {@link DeploymentsAccountStackRunner.run}. */
export interface DeploymentOutcome {
  readonly stackName: string;
  readonly deploymentId: string;
  readonly version?: number;
  readonly status: DeploymentStatus;
  readonly consoleUrl?: string;
}

const ORG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Environment variable that carries the external id into the deployment (as a secret). */
export const EXTERNAL_ID_ENV = "AVM_EXTERNAL_ID";

/**
 * Session length asked for the deploy role. Set explicitly: Pulumi's OIDC login defaults to 2 hours while an IAM role
 * allows 1 hour unless its maximum is raised (https://www.pulumi.com/docs/esc/providers/aws-login), and
 * `AVMDeploymentsRole` keeps the 1-hour maximum; an account stack deploys in minutes.
 */
export const OIDC_SESSION_DURATION = "1h";

const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

/** The assume-role session name of a deployment of `stackName` (shown in CloudTrail): `avm-account-<id>`. */
export function oidcSessionName(stackName: string): string {
  return `avm-${stackName}`;
}

/** Runs account stacks on Pulumi Deployments. */
export class DeploymentsAccountStackRunner implements AccountStackRunner {
  private readonly project: string;
  private readonly timing: Timing;
  private readonly logger: Logger;
  private readonly pollIntervalMs: number;
  private readonly waitTimeoutMs: number;
  private readonly busyAttempts: number;

  constructor(private readonly options: DeploymentsRunnerOptions) {
    if (!ORG.test(options.organization)) {
      throw new DeploymentsConfigError(
        `Pulumi organization must be letters, digits and ._- (at most 100), got "${options.organization}"`,
      );
    }
    if (!/^(https:\/\/|git@|ssh:\/\/)/.test(options.source.repoUrl)) {
      throw new DeploymentsConfigError(
        `repository URL must be an https:// or ssh git URL, got "${options.source.repoUrl}"`,
      );
    }
    if (options.source.branch.trim() === "") throw new DeploymentsConfigError("git branch must not be empty");
    if (options.awsOidcRoleArn !== undefined && !ROLE_ARN.test(options.awsOidcRoleArn)) {
      throw new DeploymentsConfigError(
        `AVM_DEPLOYMENTS_ROLE_ARN must be an IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>), got "${options.awsOidcRoleArn}"`,
      );
    }
    this.project = options.project ?? PROJECT_NAME;
    this.timing = options.timing ?? realTiming;
    this.logger = options.logger ?? silentLogger;
    this.pollIntervalMs = options.pollIntervalMs ?? 10_000;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 30 * 60_000;
    this.busyAttempts = options.busyAttempts ?? 3;
  }

  private stackPath(stackName: string): string {
    return `/api/stacks/${encodeURIComponent(this.options.organization)}/${encodeURIComponent(this.project)}/${encodeURIComponent(stackName)}`;
  }

  /** `update` of the account stack (see the module comment for the steps). */
  async deploy(request: AccountStackRequest): Promise<AccountStackResult> {
    const outcome = await this.run({ accountId: request.accountId, tags: request.tags }, "update");
    return this.toResult(outcome);
  }

  /**
   * `detect-drift`: a preview-only refresh of the account stack run by Pulumi Deployments (operation names of the
   * REST API's `PulumiOperation`, https://www.pulumi.com/docs/reference/pkg/nodejs/pulumi/cloud-sdk/enums/Models.PulumiOperation.html).
   * Whether it found drift is reported by the `drift_detection` webhook event, not by the deployment's status.
   */
  async detectDrift(target: AccountStackTarget): Promise<DeploymentOutcome> {
    return this.run(target, "detect-drift");
  }

  /** `remediate-drift`: `pulumi up --refresh` of the account stack on Pulumi Deployments (program wins over the cloud). */
  async remediateDrift(target: AccountStackTarget): Promise<DeploymentOutcome> {
    return this.run(target, "remediate-drift");
  }

  /** `destroy` of the account stack's resources; Pulumi Cloud then removes the stack (`deleteAfterDestroy`). */
  async destroy(accountId: string): Promise<AccountStackResult> {
    return this.toResult(await this.run({ accountId }, "destroy"));
  }

  private toResult(outcome: DeploymentOutcome): AccountStackResult {
    const label = `deployment #${outcome.version ?? "?"}`;
    const base = { stackName: outcome.stackName, ...(outcome.consoleUrl ? { url: outcome.consoleUrl } : {}) };
    if (outcome.status === "succeeded") return { ...base, status: "deployed", summary: `${label} succeeded` };
    return {
      ...base,
      status: "queued",
      ...(outcome.version !== undefined ? { deploymentVersion: outcome.version } : {}),
      summary: `${label} ${outcome.status}; the outcome arrives by webhook`,
    };
  }

  /**
   * Creates (if needed), configures and deploys the stack; waits as configured.
   * @throws DeploymentFailedError / DeploymentSkippedError for those terminal statuses
   * @throws PulumiCloudApiError / PulumiCloudAuthError for API failures; AccountStackConfigError for bad settings
   */
  async run(target: AccountStackTarget, operation: DeploymentOperation): Promise<DeploymentOutcome> {
    const stackName = accountStackName(target.accountId);
    // Basic checks only (no Pulumi SDK in the worker Lambda's bundle); the program validates fully when it runs.
    const config = accountStackConfig(target, this.options.settings);
    const { client, organization } = this.options;
    const deadline = this.timing.now().getTime() + this.waitTimeoutMs;

    const created = await client.request(
      "POST",
      `/api/stacks/${encodeURIComponent(organization)}/${encodeURIComponent(this.project)}`,
      { stackName },
      [409],
    );
    this.logger.info(created.status === 409 ? "stack exists" : "stack created", { stackName });

    await client.request(
      "POST",
      `${this.stackPath(stackName)}/deployments/settings`,
      this.settingsPatch(stackName, config),
    );

    const deployment = await this.createDeployment(stackName, operation, deadline);
    this.logger.info("deployment created", {
      stackName,
      operation,
      deploymentId: deployment.id,
      version: deployment.version,
      consoleUrl: deployment.consoleUrl,
    });
    const status = await this.poll(stackName, deployment.id, deadline);
    const outcome: DeploymentOutcome = {
      stackName,
      deploymentId: deployment.id,
      status,
      ...(deployment.version === undefined ? {} : { version: deployment.version }),
      ...(deployment.consoleUrl === undefined ? {} : { consoleUrl: deployment.consoleUrl }),
    };
    const where = deployment.consoleUrl ? ` (${deployment.consoleUrl})` : "";
    if (status === "failed") {
      throw new DeploymentFailedError(
        `${operation} deployment #${deployment.version ?? "?"} of ${stackName} failed${where}`,
        deployment.id,
        deployment.consoleUrl,
      );
    }
    if (status === "skipped") {
      throw new DeploymentSkippedError(
        `${operation} deployment #${deployment.version ?? "?"} of ${stackName} was skipped (superseded or expired in the queue)${where}`,
        deployment.id,
        deployment.consoleUrl,
      );
    }
    this.logger.info("deployment finished", { stackName, deploymentId: deployment.id, status });
    return outcome;
  }

  /** The deployment settings patch: git source, the config-writing pre-run commands and, when set, AWS OIDC. */
  settingsPatch(stackName: string, config: EngineConfig): Record<string, unknown> {
    const { source, organization } = this.options;
    const branch = source.branch.startsWith("refs/") ? source.branch : `refs/heads/${source.branch}`;
    const qualified = `${organization}/${this.project}/${stackName}`;
    const plain: string[] = [];
    let secretKey: string | undefined;
    let secretValue: string | undefined;
    for (const [key, entry] of Object.entries(config)) {
      const value = typeof entry.value === "string" ? entry.value : JSON.stringify(entry.value);
      if (entry.secret) {
        secretKey = key;
        secretValue = value;
      } else {
        plain.push(`--plaintext ${shellQuote(`${key}=${value}`)}`);
      }
    }
    const commands = [`pulumi config set-all --stack ${shellQuote(qualified)} ${plain.join(" ")}`];
    if (secretKey !== undefined) {
      // `--` ends the flags: an external id may start with "-" and must not be read as one.
      commands.push(
        `pulumi config set --stack ${shellQuote(qualified)} --secret -- ${shellQuote(secretKey)} "$${EXTERNAL_ID_ENV}"`,
      );
    }
    return {
      sourceContext: {
        git: { repoURL: source.repoUrl, branch, ...(source.repoDir ? { repoDir: source.repoDir } : {}) },
      },
      operationContext: {
        preRunCommands: commands,
        ...(secretValue === undefined ? {} : { environmentVariables: { [EXTERNAL_ID_ENV]: { secret: secretValue } } }),
        ...(this.options.awsOidcRoleArn === undefined
          ? {}
          : {
              oidc: {
                aws: {
                  roleArn: this.options.awsOidcRoleArn,
                  sessionName: oidcSessionName(stackName),
                  duration: OIDC_SESSION_DURATION,
                },
              },
            }),
      },
    };
  }

  /** POST the deployment; on 409 (one already running for the stack) wait for that one, then try again. */
  private async createDeployment(stackName: string, operation: string, deadline: number): Promise<CreatedDeployment> {
    for (let attempt = 1; ; attempt++) {
      const response = await this.options.client.request<CreatedDeployment & { message?: string }>(
        "POST",
        `${this.stackPath(stackName)}/deployments`,
        {
          operation,
          inheritSettings: true,
          // Like the local destroy: remove the (empty) stack once its resources are gone.
          ...(operation === "destroy" ? { operationContext: { options: { deleteAfterDestroy: true } } } : {}),
        },
        [409],
      );
      if (response.status !== 409) return response.body;
      if (attempt >= this.busyAttempts) {
        throw new PulumiCloudApiError(
          `POST ${this.stackPath(stackName)}/deployments: HTTP 409 after ${attempt} attempts: another deployment keeps the stack busy`,
          409,
          "POST",
          `${this.stackPath(stackName)}/deployments`,
        );
      }
      const active = await this.activeDeployment(stackName);
      this.logger.info("a deployment is already running for the stack; waiting for it", {
        stackName,
        activeDeploymentId: active?.id,
      });
      if (active) {
        await this.poll(stackName, active.id, Math.max(deadline, this.timing.now().getTime() + this.pollIntervalMs));
      } else {
        await this.timing.sleep(this.pollIntervalMs);
      }
    }
  }

  private async activeDeployment(stackName: string): Promise<{ id: string } | undefined> {
    const list = await this.options.client.request<{ deployments?: Array<{ id: string; status: string }> }>(
      "GET",
      `${this.stackPath(stackName)}/deployments?page=1&pageSize=10`,
    );
    return (list.body.deployments ?? []).find((d) => ACTIVE.has(d.status));
  }

  /** Polls until a terminal status or the deadline; returns the last status seen. */
  private async poll(stackName: string, deploymentId: string, deadline: number): Promise<DeploymentStatus> {
    for (;;) {
      const response = await this.options.client.request<{ status: DeploymentStatus }>(
        "GET",
        `${this.stackPath(stackName)}/deployments/${encodeURIComponent(deploymentId)}`,
      );
      const status = response.body.status;
      if (TERMINAL.has(status)) return status;
      if (this.timing.now().getTime() + this.pollIntervalMs > deadline) return status;
      await this.timing.sleep(this.pollIntervalMs);
    }
  }
}
