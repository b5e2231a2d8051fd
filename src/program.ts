/**
 * The `meshstack-avm` Pulumi program as a function, {@link avmProgram}. One project, two stack kinds (see src/config.ts):
 * - account stack `account-<id>`: the corrected Access Stack (and optional baseline) in the managed account,
 *   deployed through the Organizations bootstrap role;
 * - platform stack: the Account Vending Machine in the automation account and its vending role in the
 *   management account.
 * `src/index.ts` (the entry of `pulumi up` and Pulumi Deployments) calls it and exports its outputs; the Automation API
 * runs the same function as an inline program (`automation/stacks/`, the real-engine tests); `pulumi.runtime.setMocks`
 * tests load `src/index.ts`.
 *
 * Providers: `@pulumi/aws` only. Every resource here (including `RolePoliciesExclusive`,
 * `RolePolicyAttachmentsExclusive`, `account.AlternativeContact` and Lambda Function URL permissions) exists in it
 * with typed inputs, mocks and a mature diff; `@pulumi/aws-native` would add a second provider plugin per stack
 * (and per account stack) without a resource this program needs.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AccountAccessRole } from "./components/accountAccessRole";
import { AccountBaseline } from "./components/accountBaseline";
import { AccountVendingMachine } from "./components/accountVendingMachine";
import { ManagementVendingRole } from "./components/managementVendingRole";
import { DeploymentsOidcRole } from "./components/deploymentsOidcRole";
import { GuardrailPolicies } from "./components/guardrailPolicies";
import { MeshfedServicePolicy } from "./components/meshfedServicePolicy";
import type { AccountStackConfig, PlatformStackConfig } from "./config/types";
import { loadConfig } from "./config";
import { MESHFED_SERVICE_POLICY_NAME, meshfedServicePrincipal } from "./policies/meshfedServicePolicy";
import { partitionOfRegion } from "./policies/partition";
import { roleArn } from "./policies/stackPolicies";
import {
  accountConfigDigest,
  programVersion,
  type DeploymentStamp,
  type PlainAccountConfig,
} from "./shared/deploymentStamp";
import { PROJECT_NAME } from "./shared/naming";

/** Stack outputs of either kind; the keys of the other kind are absent. */
export interface StackOutputs {
  /** `account` or `platform`. */
  readonly stackKind: "account" | "platform";
  readonly accessRoleArn?: pulumi.Output<string>;
  readonly accessRoleName?: pulumi.Output<string>;
  /**
   * Account stacks: what the stack was deployed with (program version, digest of the effective config), read by
   * `avm fleet status` to tell current from outdated stacks. Secret when an external id is configured (the digest
   * covers it).
   */
  readonly avmDeployment?: pulumi.Output<DeploymentStamp>;
  readonly entryPointArn?: pulumi.Output<string>;
  readonly webhookUrl?: pulumi.Output<string>;
  readonly ledgerTableName?: pulumi.Output<string>;
  readonly queueUrl?: pulumi.Output<string>;
  readonly deadLetterQueueUrl?: pulumi.Output<string>;
  readonly entryPointRoleArn?: pulumi.Output<string>;
  readonly workerRoleArn?: pulumi.Output<string>;
  readonly webhookRoleArn?: pulumi.Output<string>;
  readonly vendingRoleArn?: pulumi.Output<string>;
  /** ARN of meshStack's principal policy in the management account (`meshfedServicePolicy` create or attach). */
  readonly meshfedServicePolicyArn?: pulumi.Output<string>;
  /**
   * Platform stack: the guardrail SCPs and where they are attached (`avm doctor` checks the attachments). Always
   * exported on the platform stack; `{targets: [], policies: {}}` when `guardrailTargets` is empty (none deployed).
   */
  readonly guardrails?: pulumi.Output<GuardrailsOutput>;
  /** ARN of the deploy role Pulumi Deployments assumes through OIDC (`deploymentsOidc`). */
  readonly deploymentsRoleArn?: pulumi.Output<string>;
}

/** The platform stack output `guardrails`. */
export interface GuardrailsOutput {
  /** The configured `guardrailTargets` (OU or root ids), in order. */
  readonly targets: string[];
  /** Id (`p-...`) of each deployed guardrail SCP, by policy name. */
  readonly policies: Record<string, string>;
}

function accountStack(cfg: AccountStackConfig): Omit<StackOutputs, "stackKind"> {
  // The assume-role ARN is needed before any provider exists, so its partition comes from the region.
  const bootstrapRoleArn = roleArn(partitionOfRegion(cfg.region), cfg.accountId, cfg.bootstrapRoleName);
  const provider = new aws.Provider("managed-account", {
    region: cfg.region as aws.Region,
    allowedAccountIds: [cfg.accountId],
    assumeRoles: [{ roleArn: bootstrapRoleArn, sessionName: PROJECT_NAME }],
    ...(Object.keys(cfg.tags).length === 0 ? {} : { defaultTags: { tags: cfg.tags } }),
  });
  const partition = aws.getPartitionOutput({}, { provider }).partition;
  const accessRole = new AccountAccessRole(
    "access-role",
    {
      roleName: cfg.accessRoleName,
      partition,
      accountId: cfg.accountId,
      region: cfg.region,
      managementAccountId: cfg.managementAccountId,
      automationAccountId: cfg.automationAccountId,
      principalArn: cfg.meshfedServicePrincipalArn,
      externalId: cfg.externalId,
      samlProviderName: cfg.samlProviderName,
    },
    { provider },
  );
  if (cfg.accountAlias !== undefined || cfg.alternateContacts !== undefined) {
    new AccountBaseline(
      "baseline",
      { accountAlias: cfg.accountAlias, alternateContacts: cfg.alternateContacts },
      { provider },
    );
  }
  return {
    accessRoleArn: accessRole.roleArn,
    accessRoleName: accessRole.roleName,
    avmDeployment: deploymentStamp(cfg),
  };
}

/** The {@link DeploymentStamp} of an account stack: this program's version and the digest of `cfg`. */
export function deploymentStamp(cfg: AccountStackConfig): pulumi.Output<DeploymentStamp> {
  const version = programVersion();
  const plain = (externalId: string | undefined): PlainAccountConfig => ({
    accountId: cfg.accountId,
    region: cfg.region,
    managementAccountId: cfg.managementAccountId,
    automationAccountId: cfg.automationAccountId,
    meshfedServicePrincipalArn: cfg.meshfedServicePrincipalArn,
    externalId,
    accessRoleName: cfg.accessRoleName,
    samlProviderName: cfg.samlProviderName,
    bootstrapRoleName: cfg.bootstrapRoleName,
    accountAlias: cfg.accountAlias,
    alternateContacts: cfg.alternateContacts,
    tags: cfg.tags,
  });
  // An apply over the secret external id keeps the result secret.
  const digest =
    cfg.externalId === undefined
      ? pulumi.output(accountConfigDigest(plain(undefined)))
      : cfg.externalId.apply((id) => accountConfigDigest(plain(id)));
  return digest.apply((configDigest) => ({ programVersion: version, configDigest }));
}

function platformStack(cfg: PlatformStackConfig): Omit<StackOutputs, "stackKind"> {
  const automation = new aws.Provider("automation", {
    region: cfg.region as aws.Region,
    allowedAccountIds: [cfg.automationAccountId],
  });
  const management = new aws.Provider("management", {
    region: cfg.region as aws.Region,
    allowedAccountIds: [cfg.managementAccountId],
    ...(cfg.managementDeployRoleArn === undefined
      ? {}
      : { assumeRoles: [{ roleArn: cfg.managementDeployRoleArn, sessionName: PROJECT_NAME }] }),
  });
  const partition = aws.getPartitionOutput({}, { provider: automation }).partition;
  const avm = new AccountVendingMachine(
    "avm",
    {
      partition,
      region: cfg.region,
      accountId: cfg.automationAccountId,
      organizationId: cfg.organizationId,
      managementAccountId: cfg.managementAccountId,
      vendingRoleName: cfg.vendingRoleName,
      bootstrapRoleName: cfg.bootstrapRoleName,
      defaultOuId: cfg.defaultOuId,
      logRetentionDays: cfg.logRetentionDays,
      maxConcurrentCreates: cfg.maxConcurrentCreates,
      webhookSecret: cfg.webhookSecret,
      pulumiAccessToken: cfg.pulumiAccessToken,
      pulumiOrganization: cfg.pulumiOrganization,
      pulumiRepoUrl: cfg.pulumiRepoUrl,
      pulumiRepoBranch: cfg.pulumiRepoBranch,
      pulumiRepoDir: cfg.pulumiRepoDir,
      accessRoleName: cfg.accessRoleName,
      samlProviderName: cfg.samlProviderName,
      meshfedServicePrincipalArn: cfg.meshfedServicePrincipalArn,
      externalId: cfg.externalId,
      entryPointAuthority: cfg.entryPointAuthority,
      deploymentsOidc: cfg.deploymentsOidc !== undefined,
    },
    { providers: [automation] },
  );
  const managementPartition = aws.getPartitionOutput({}, { provider: management }).partition;
  const vendingRole = new ManagementVendingRole(
    "vending-role",
    {
      roleName: cfg.vendingRoleName,
      partition: managementPartition,
      managementAccountId: cfg.managementAccountId,
      organizationId: cfg.organizationId,
      // The entry point assumes it only to check a hook's account (DescribeAccount, see entryPointSessionPolicy).
      trustedRoleArns: [avm.workerRoleArn, avm.entryPointRoleArn],
    },
    { providers: [management] },
  );
  const principalPolicy =
    cfg.meshfedServicePolicy === "none"
      ? undefined
      : new MeshfedServicePolicy(
          "meshfed-service-policy",
          {
            policyName: MESHFED_SERVICE_POLICY_NAME,
            partition: managementPartition,
            managementAccountId: cfg.managementAccountId,
            organizationId: cfg.organizationId,
            automationAccountId: cfg.automationAccountId,
            accessRoleName: cfg.accessRoleName,
            bootstrapRoleName: cfg.bootstrapRoleName,
            attachTo:
              cfg.meshfedServicePolicy === "attach"
                ? meshfedServicePrincipal(cfg.meshfedServicePrincipalArn)
                : undefined,
          },
          { providers: [management] },
        );
  let guardrailPolicyIds: Record<string, pulumi.Output<string>> = {};
  if (cfg.guardrailTargets.length > 0) {
    // Opt-in: the guardrail SCPs, attached to the configured OUs or root (management account).
    guardrailPolicyIds = new GuardrailPolicies(
      "guardrails",
      {
        targets: cfg.guardrailTargets,
        accessRoleName: cfg.accessRoleName,
        samlProviderName: cfg.samlProviderName,
        bootstrapRoleName: cfg.bootstrapRoleName,
        automationAccountId: cfg.automationAccountId,
      },
      { providers: [management] },
    ).policyIds;
  }
  const guardrails: pulumi.Output<GuardrailsOutput> = pulumi
    .all(guardrailPolicyIds)
    .apply((policies) => ({ targets: [...cfg.guardrailTargets], policies }));
  const deploymentsRole =
    cfg.deploymentsOidc === undefined || cfg.pulumiOrganization === undefined
      ? undefined
      : new DeploymentsOidcRole(
          "deployments-role",
          {
            partition: managementPartition,
            managementAccountId: cfg.managementAccountId,
            organizationId: cfg.organizationId,
            bootstrapRoleName: cfg.bootstrapRoleName,
            pulumiOrganization: cfg.pulumiOrganization,
            project: PROJECT_NAME,
            existingProviderArn: cfg.deploymentsOidc.providerArn,
          },
          { providers: [management] },
        );
  return {
    ...(principalPolicy === undefined ? {} : { meshfedServicePolicyArn: principalPolicy.policyArn }),
    ...(deploymentsRole === undefined ? {} : { deploymentsRoleArn: deploymentsRole.roleArn }),
    entryPointArn: avm.entryPointArn,
    webhookUrl: avm.webhookUrl,
    ledgerTableName: avm.ledgerTableName,
    queueUrl: avm.queueUrl,
    deadLetterQueueUrl: avm.deadLetterQueueUrl,
    entryPointRoleArn: avm.entryPointRoleArn,
    workerRoleArn: avm.workerRoleArn,
    webhookRoleArn: avm.webhookRoleArn,
    vendingRoleArn: vendingRole.roleArn,
    guardrails,
  };
}

/**
 * Reads and validates the stack's configuration, declares every resource of its kind and returns the stack outputs.
 * Must run inside a Pulumi program (`pulumi up`, an inline Automation API program, or under mocks).
 * @throws ConfigError (src/config/configError.ts) naming the key and the rule when the configuration is invalid.
 */
export function avmProgram(): StackOutputs {
  const config = loadConfig();
  const outputs = config.kind === "account" ? accountStack(config) : platformStack(config);
  return { stackKind: config.kind, ...outputs };
}
