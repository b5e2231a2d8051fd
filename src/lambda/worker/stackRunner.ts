/**
 * The account stack runner the worker Lambda uses. In Lambda there is no Pulumi CLI, so account stacks run
 * remotely on Pulumi Deployments and the runner returns `queued` right after creating the deployment; the
 * Pulumi Cloud webhook (`src/lambda/webhook.ts`) reports the outcome and moves the ledger record on.
 *
 * Configuration (set by the platform stack on the worker):
 * - `AVM_PULUMI_ORGANIZATION`, `AVM_PULUMI_TOKEN_SECRET_ARN` (Secrets Manager, read once per container),
 *   `AVM_PULUMI_REPO_URL`, optional `AVM_PULUMI_REPO_BRANCH` (default `main`) and `AVM_PULUMI_REPO_DIR`, optional
 *   `AVM_DEPLOYMENTS_ROLE_ARN` (the deploy role each deployment assumes through OIDC);
 * - stack config: the management account id from `AVM_MANAGEMENT_ROLE_ARN`, the automation account id from
 *   `AVM_QUEUE_URL`, the region from `AWS_REGION`, `AVM_BOOTSTRAP_ROLE_NAME`, optional `AVM_ACCESS_ROLE_NAME`,
 *   `AVM_MESHFED_SERVICE_PRINCIPAL_ARN`, `AVM_SAML_PROVIDER_NAME` and `AVM_EXTERNAL_ID_SECRET_ARN` (Secrets Manager).
 * Without the organization or token the runner fails clearly, so a vend stops at BOOTSTRAPPING with a readable
 * reason.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DeploymentsAccountStackRunner } from "../../stacks/deploymentsRunner";
import { PulumiCloudClient } from "../../stacks/pulumiCloudClient";
import { PulumiCloudAuthError } from "../../stacks/deploymentsErrors";
import type { AccountStackSettings } from "../../stacks/accountStackConfig";
import { realTiming, type Timing } from "../../shared/timing";
import type { AccountStackRequest, AccountStackResult, AccountStackRunner } from "../../core/ports";
import { ENV, requireEnv } from "../env";

/** No account stack runner is configured for the Lambda. */
export class AccountStackRunnerNotConfiguredError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Injectable parts of {@link createLambdaAccountStackRunner}. */
export interface LambdaStackRunnerDeps {
  readonly secrets?: SecretsManagerClient;
  readonly timing?: Timing;
  /** Pulumi Cloud API base URL (tests); default `https://api.pulumi.com`. */
  readonly apiBaseUrl?: string;
  /** How long the secrets read for the runner are used before they are read again. Default 5 minutes. */
  readonly secretTtlMs?: number;
}

/** Default of {@link LambdaStackRunnerDeps.secretTtlMs}: a rotated token or external id is used within 5 minutes. */
export const SECRET_TTL_MS = 5 * 60_000;

const ROLE_ARN_ACCOUNT = /^arn:[\w-]+:iam::(\d{12}):role\//;
const QUEUE_URL_ACCOUNT = /^https:\/\/[^/]+\/(\d{12})\//;

async function readSecret(client: SecretsManagerClient, arn: string, what: string): Promise<string> {
  const result = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  const value = result.SecretString?.trim();
  if (!value) throw new AccountStackRunnerNotConfiguredError(`${what} secret ${arn} has no string value`);
  return value;
}

/** The account stack settings derivable from the worker's environment. @throws naming the variable */
export function settingsFromEnv(env: NodeJS.ProcessEnv): AccountStackSettings {
  const roleArn = requireEnv(ENV.managementRoleArn, env);
  const managementAccountId = ROLE_ARN_ACCOUNT.exec(roleArn)?.[1];
  if (!managementAccountId) {
    throw new AccountStackRunnerNotConfiguredError(
      `${ENV.managementRoleArn} must be an IAM role ARN, got "${roleArn}"`,
    );
  }
  const queueUrl = requireEnv(ENV.queueUrl, env);
  const automationAccountId = QUEUE_URL_ACCOUNT.exec(queueUrl)?.[1];
  if (!automationAccountId) {
    throw new AccountStackRunnerNotConfiguredError(`${ENV.queueUrl} must be an SQS queue URL, got "${queueUrl}"`);
  }
  const optional = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const bootstrapRoleName = optional(ENV.bootstrapRoleName);
  const accessRoleName = optional(ENV.accessRoleName);
  const meshfedServicePrincipalArn = optional(ENV.meshfedServicePrincipalArn);
  const samlProviderName = optional(ENV.samlProviderName);
  return {
    managementAccountId,
    automationAccountId,
    region: requireEnv("AWS_REGION", env),
    ...(bootstrapRoleName ? { bootstrapRoleName } : {}),
    ...(accessRoleName ? { accessRoleName } : {}),
    ...(meshfedServicePrincipalArn ? { meshfedServicePrincipalArn } : {}),
    ...(samlProviderName ? { samlProviderName } : {}),
  };
}

/**
 * Builds the worker's {@link AccountStackRunner} from the Lambda environment. Secrets (Pulumi token, external
 * id) are read on the first deploy and used for at most `secretTtlMs` (default 5 minutes), then read again, so a
 * rotated secret reaches warm workers; a token Pulumi Cloud rejects (401/403) is dropped at once, so the retry of
 * the work item reads it again. A failed read is retried on the next call.
 * @param env the Lambda environment (`process.env`).
 */
export function createLambdaAccountStackRunner(
  env: NodeJS.ProcessEnv = process.env,
  deps: LambdaStackRunnerDeps = {},
): AccountStackRunner {
  let runner: Promise<DeploymentsAccountStackRunner> | undefined;
  let builtAt = 0;
  const timingOf = deps.timing ?? realTiming;
  const ttlMs = deps.secretTtlMs ?? SECRET_TTL_MS;
  const build = async (): Promise<DeploymentsAccountStackRunner> => {
    const organization = env[ENV.pulumiOrganization]?.trim();
    const tokenArn = env[ENV.pulumiTokenSecretArn]?.trim();
    if (!organization || !tokenArn) {
      throw new AccountStackRunnerNotConfiguredError(
        `Pulumi Deployments is not configured for the worker Lambda: set ${ENV.pulumiOrganization} and ` +
          `${ENV.pulumiTokenSecretArn} (platform stack config pulumiOrganization and pulumiAccessToken)`,
      );
    }
    const secrets = deps.secrets ?? new SecretsManagerClient({});
    const settings = settingsFromEnv(env);
    const externalIdArn = env[ENV.externalIdSecretArn]?.trim();
    const externalId = externalIdArn ? await readSecret(secrets, externalIdArn, "external id") : undefined;
    const timing = deps.timing ?? realTiming;
    const repoDir = env[ENV.pulumiRepoDir]?.trim();
    const awsOidcRoleArn = env[ENV.deploymentsRoleArn]?.trim();
    return new DeploymentsAccountStackRunner({
      client: new PulumiCloudClient({
        token: await readSecret(secrets, tokenArn, "Pulumi access token"),
        timing,
        ...(deps.apiBaseUrl ? { baseUrl: deps.apiBaseUrl } : {}),
      }),
      organization,
      source: {
        repoUrl: requireEnv(ENV.pulumiRepoUrl, env),
        branch: env[ENV.pulumiRepoBranch]?.trim() || "main",
        ...(repoDir ? { repoDir } : {}),
      },
      settings: { ...settings, ...(externalId ? { externalId } : {}) },
      timing,
      // The Lambda does not wait: the deployment's webhook continues the workflow.
      waitTimeoutMs: 0,
      ...(awsOidcRoleArn ? { awsOidcRoleArn } : {}),
    });
  };
  return {
    async deploy(request: AccountStackRequest): Promise<AccountStackResult> {
      const now = timingOf.now().getTime();
      if (runner !== undefined && now - builtAt >= ttlMs) runner = undefined;
      if (runner === undefined) {
        builtAt = now;
        runner = build().catch((error: unknown) => {
          runner = undefined;
          throw error;
        });
      }
      const current = runner;
      try {
        return await (await current).deploy(request);
      } catch (error) {
        // Maybe the token was rotated (or revoked): read it again on the next attempt.
        if (error instanceof PulumiCloudAuthError && runner === current) runner = undefined;
        throw error;
      }
    },
  };
}
