/**
 * Every policy document a stack writes, computed from its configuration alone (no Pulumi runtime): used by the
 * security tests for offline IAM evaluation (`avm plan` renders the documents by running the program itself, see
 * `automation/plan/`). The components build the same documents from the same builders.
 */
import { accessRolePermissionsPolicy, accessRoleTrustPolicy } from "./accessRole";
import { entryPointPolicy, lambdaTrustPolicy, webhookPolicy, workerPolicy } from "./avmRoles";
import {
  DEPLOYMENTS_ROLE_NAME,
  deploymentsRolePermissionsPolicy,
  deploymentsRoleTrustPolicy,
  pulumiOidcProviderArn,
} from "./deploymentsRole";
import type { NamedPolicy } from "./document";
import { vendingRolePermissionsPolicy, vendingRoleTrustPolicy } from "./managementVendingRole";
import { MESHFED_SERVICE_POLICY_NAME, meshfedServicePolicy } from "./meshfedServicePolicy";
import { AVM_RESOURCE_NAMES } from "./platformNames";
import { PROJECT_NAME } from "../shared/naming";

/**
 * What an account stack's policies depend on: the matching fields of `AccountStackConfig` (`src/config/types.ts`),
 * restated here so that policy modules stay pure data (no `@pulumi/pulumi` behind the config types).
 */
export interface AccountPolicyInputs {
  readonly accessRoleName: string;
  readonly managementAccountId: string;
  readonly meshfedServicePrincipalArn: string | undefined;
  readonly accountId: string;
  readonly region: string;
  readonly automationAccountId: string;
  readonly samlProviderName: string;
}

/** What the platform stack's policies depend on: the matching fields of `PlatformStackConfig`; secrets count only by presence. */
export interface PlatformPolicyInputs {
  readonly region: string;
  readonly automationAccountId: string;
  readonly managementAccountId: string;
  readonly organizationId: string;
  readonly vendingRoleName: string;
  readonly accessRoleName: string;
  readonly bootstrapRoleName: string;
  readonly meshfedServicePolicy: string;
  readonly pulumiAccessToken: unknown;
  readonly externalId: unknown;
  readonly webhookSecret: unknown;
  readonly pulumiOrganization: string | undefined;
  readonly deploymentsOidc: { readonly providerArn: string | undefined } | undefined;
}

/** Facts that come from lookups or secrets at deploy time and must be supplied for an offline build. */
export interface PolicyEnvironment {
  /** AWS partition, e.g. `aws`. */
  readonly partition: string;
  /** Plain value of the external id, when one is configured (it is a secret in the stack). */
  readonly externalId?: string | undefined;
}

/** ARN of an IAM role by account and name. */
export function roleArn(partition: string, accountId: string, roleName: string): string {
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

/** The access role's trust and permission policies of an account stack, named `<accessRoleName>/trust|permissions`. */
export function buildAccountStackPolicies(cfg: AccountPolicyInputs, env: PolicyEnvironment): NamedPolicy[] {
  return [
    {
      name: `${cfg.accessRoleName}/trust`,
      document: accessRoleTrustPolicy({
        partition: env.partition,
        managementAccountId: cfg.managementAccountId,
        principalArn: cfg.meshfedServicePrincipalArn,
        externalId: env.externalId,
      }),
    },
    {
      name: `${cfg.accessRoleName}/permissions`,
      document: accessRolePermissionsPolicy({
        partition: env.partition,
        accountId: cfg.accountId,
        region: cfg.region,
        automationAccountId: cfg.automationAccountId,
        samlProviderName: cfg.samlProviderName,
      }),
    },
  ];
}

/**
 * Every policy of the platform stack: the three Lambda roles, the management vending role, with
 * `meshfedServicePolicy` create or attach meshStack's principal policy (named `MeshfedServicePolicy`), and with
 * `deploymentsOidc` the deploy role `AVMDeploymentsRole`.
 */
export function buildPlatformPolicies(cfg: PlatformPolicyInputs, env: PolicyEnvironment): NamedPolicy[] {
  const location = { partition: env.partition, region: cfg.region, accountId: cfg.automationAccountId };
  const names = AVM_RESOURCE_NAMES;
  const vendingRoleArn = roleArn(env.partition, cfg.managementAccountId, cfg.vendingRoleName);
  return [
    { name: `${names.entryPointRole}/trust`, document: lambdaTrustPolicy() },
    { name: `${names.entryPointRole}/permissions`, document: entryPointPolicy({ ...location, vendingRoleArn }) },
    { name: `${names.workerRole}/trust`, document: lambdaTrustPolicy() },
    {
      name: `${names.workerRole}/permissions`,
      document: workerPolicy({
        ...location,
        vendingRoleArn,
        pulumiTokenSecret: cfg.pulumiAccessToken !== undefined,
        externalIdSecret: cfg.externalId !== undefined,
      }),
    },
    { name: `${names.webhookRole}/trust`, document: lambdaTrustPolicy() },
    {
      name: `${names.webhookRole}/permissions`,
      document: webhookPolicy({ ...location, webhookSecret: cfg.webhookSecret !== undefined }),
    },
    {
      name: `${cfg.vendingRoleName}/trust`,
      document: vendingRoleTrustPolicy({
        trustedRoleArns: [
          roleArn(env.partition, cfg.automationAccountId, names.workerRole),
          roleArn(env.partition, cfg.automationAccountId, names.entryPointRole),
        ],
      }),
    },
    {
      name: `${cfg.vendingRoleName}/permissions`,
      document: vendingRolePermissionsPolicy({
        partition: env.partition,
        managementAccountId: cfg.managementAccountId,
        organizationId: cfg.organizationId,
      }),
    },
    ...(cfg.meshfedServicePolicy === "none"
      ? []
      : [
          {
            name: MESHFED_SERVICE_POLICY_NAME,
            document: meshfedServicePolicy({
              partition: env.partition,
              managementAccountId: cfg.managementAccountId,
              organizationId: cfg.organizationId,
              automationAccountId: cfg.automationAccountId,
              accessRoleName: cfg.accessRoleName,
              bootstrapRoleName: cfg.bootstrapRoleName,
            }),
          },
        ]),
    ...(cfg.deploymentsOidc === undefined || cfg.pulumiOrganization === undefined
      ? []
      : [
          {
            name: `${DEPLOYMENTS_ROLE_NAME}/trust`,
            document: deploymentsRoleTrustPolicy({
              providerArn:
                cfg.deploymentsOidc.providerArn ?? pulumiOidcProviderArn(env.partition, cfg.managementAccountId),
              pulumiOrganization: cfg.pulumiOrganization,
              project: PROJECT_NAME,
            }),
          },
          {
            name: `${DEPLOYMENTS_ROLE_NAME}/permissions`,
            document: deploymentsRolePermissionsPolicy({
              partition: env.partition,
              managementAccountId: cfg.managementAccountId,
              organizationId: cfg.organizationId,
              bootstrapRoleName: cfg.bootstrapRoleName,
            }),
          },
        ]),
  ];
}
