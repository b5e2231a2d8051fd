/**
 * Names of the environment variables the Pulumi program sets on the AVM's Lambdas and the handlers
 * read. One list, so the two sides cannot drift.
 */
export const ENV = {
  /** DynamoDB table of the request ledger. */
  ledgerTable: "AVM_LEDGER_TABLE",
  /** URL of the SQS work queue the entry point feeds and the worker consumes. */
  queueUrl: "AVM_QUEUE_URL",
  /** ARN of the role in the management account the AVM assumes for Organizations calls. */
  managementRoleArn: "AVM_MANAGEMENT_ROLE_ARN",
  /** Default target OU id (`ou-...` or `r-...`) for vend requests that name none. */
  defaultOuId: "AVM_DEFAULT_OU_ID",
  /** Maximum CreateAccount requests in flight (default 5). */
  maxConcurrentCreates: "AVM_MAX_CONCURRENT_CREATES",
  /** Name of the role AWS Organizations creates in new accounts (default OrganizationAccountAccessRole). */
  bootstrapRoleName: "AVM_BOOTSTRAP_ROLE_NAME",
  /** ARN of the Secrets Manager secret holding the Pulumi Cloud webhook secret. */
  webhookSecretArn: "AVM_WEBHOOK_SECRET_ARN",
  /** ARN of the Secrets Manager secret holding the Pulumi access token for Pulumi Deployments. */
  pulumiTokenSecretArn: "AVM_PULUMI_TOKEN_SECRET_ARN",
  /** Pulumi Cloud organization that owns the account stacks. */
  pulumiOrganization: "AVM_PULUMI_ORGANIZATION",
  /**
   * The work queue's redrive `maxReceiveCount`: on that delivery the worker records the failure in the
   * ledger before SQS moves the message to the dead-letter queue (default 5).
   */
  queueMaxReceiveCount: "AVM_QUEUE_MAX_RECEIVE_COUNT",
  /** Git clone URL of this repository, the source Pulumi Deployments runs account stacks from. */
  pulumiRepoUrl: "AVM_PULUMI_REPO_URL",
  /** Branch of {@link ENV.pulumiRepoUrl} (default `main`). */
  pulumiRepoBranch: "AVM_PULUMI_REPO_BRANCH",
  /** Directory of `Pulumi.yaml` inside the repository (default: the root). */
  pulumiRepoDir: "AVM_PULUMI_REPO_DIR",
  /** Name of the meshStack access role written into account stacks (program default when unset). */
  accessRoleName: "AVM_ACCESS_ROLE_NAME",
  /** Principal ARN the access role trusts (program default when unset). */
  meshfedServicePrincipalArn: "AVM_MESHFED_SERVICE_PRINCIPAL_ARN",
  /** Name of the SAML provider meshStack maintains, written into account stacks (program default when unset). */
  samlProviderName: "AVM_SAML_PROVIDER_NAME",
  /** ARN of the Secrets Manager secret holding the access role's `sts:ExternalId`, when one is used. */
  externalIdSecretArn: "AVM_EXTERNAL_ID_SECRET_ARN",
  /**
   * ARN of the deploy role Pulumi Deployments assumes through OIDC for account stacks (platform setting
   * `deploymentsOidc`); unset: the deployment settings carry no cloud credentials.
   */
  deploymentsRoleArn: "AVM_DEPLOYMENTS_ROLE_ARN",
  /** 12-digit id of the management account (the entry point refuses hooks for it). */
  managementAccountId: "AVM_MANAGEMENT_ACCOUNT_ID",
  /** `true` when vend requests may come through AVMEntryPoint (platform setting `entryPointVending`). */
  entryPointVending: "AVM_ENTRY_POINT_VENDING",
  /** `true` when such vends may adopt existing accounts (platform setting `entryPointAdoption`). */
  entryPointAdoption: "AVM_ENTRY_POINT_ADOPTION",
  /** JSON array of the target OUs such vends may move to (platform setting `entryPointTargetOus`). */
  entryPointTargetOus: "AVM_ENTRY_POINT_TARGET_OUS",
  /** Powertools service name for structured logs. */
  serviceName: "POWERTOOLS_SERVICE_NAME",
} as const;

/**
 * Reads a required environment variable.
 * @throws Error naming the variable when it is missing or empty.
 */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") {
    throw new Error(`environment variable ${name} is required but not set`);
  }
  return value;
}
