import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  DEPLOYMENTS_ROLE_NAME,
  PULUMI_OIDC_ISSUER,
  deploymentsRolePermissionsPolicy,
  deploymentsRoleTrustPolicy,
} from "../policies/deploymentsRole";
import { LeastPrivilegeRole } from "./leastPrivilegeRole";

/** Arguments of {@link DeploymentsOidcRole}. */
export interface DeploymentsOidcRoleArgs {
  /** AWS partition of the management account (from `aws.getPartitionOutput`). */
  readonly partition: pulumi.Input<string>;
  /** 12-digit id of the management account. */
  readonly managementAccountId: string;
  /** Organization id (`o-...`): the role may assume bootstrap roles only in this organization's accounts. */
  readonly organizationId: string;
  /** Name of the bootstrap role in member accounts (default `OrganizationAccountAccessRole`). */
  readonly bootstrapRoleName: string;
  /** Pulumi Cloud organization that owns the account stacks: the OIDC audience and the subject's organization. */
  readonly pulumiOrganization: string;
  /** Pulumi project of the account stacks (`meshstack-avm`). */
  readonly project: string;
  /**
   * ARN of an IAM OIDC provider for `https://api.pulumi.com/oidc` that already exists in the management account
   * (AWS allows one per URL); default: the component creates it with the organization as its only audience.
   */
  readonly existingProviderArn?: string | undefined;
}

/**
 * Pulumi Deployments' way into AWS without static keys, in the **management account** (deploy it with the management
 * provider): the IAM OIDC provider for Pulumi Cloud (`https://api.pulumi.com/oidc`, audience the Pulumi
 * organization, no thumbprint: see src/policies/deploymentsRole.ts) and the role `AVMDeploymentsRole`. Pulumi
 * Deployments runs of the project's `account-*` stacks assume the role with their OIDC token
 * (`sts:AssumeRoleWithWebIdentity`); the role can only assume the bootstrap role of the organization's member
 * accounts, which each account stack's provider does.
 *
 * Children: `<name>-provider` (aws.iam.OpenIdConnectProvider, replaced delete-first: one per URL and account; absent
 * with `existingProviderArn`) and `<name>` LeastPrivilegeRole (role `<name>-role`, inline policy
 * `<name>-permissions`).
 */
export class DeploymentsOidcRole extends pulumi.ComponentResource {
  /** Pulumi type token. */
  static readonly TYPE = "avm:deployments:DeploymentsOidcRole";
  /** ARN of the deploy role (the Deployments settings' `operationContext.oidc.aws.roleArn`). */
  readonly roleArn: pulumi.Output<string>;
  /** ARN of the OIDC provider the role trusts. */
  readonly providerArn: pulumi.Output<string>;

  constructor(name: string, args: DeploymentsOidcRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super(DeploymentsOidcRole.TYPE, name, {}, opts);
    this.providerArn =
      args.existingProviderArn !== undefined
        ? pulumi.output(args.existingProviderArn)
        : new aws.iam.OpenIdConnectProvider(
            `${name}-provider`,
            { url: PULUMI_OIDC_ISSUER, clientIdLists: [args.pulumiOrganization] },
            { parent: this, deleteBeforeReplace: true },
          ).arn;
    const role = new LeastPrivilegeRole(
      // Same name, different type: the role is the component's main child.
      name,
      {
        roleName: DEPLOYMENTS_ROLE_NAME,
        description: "AVM deploy role: Pulumi Deployments runs of the account stacks (OIDC), bootstrap roles only",
        trustPolicy: this.providerArn.apply((providerArn) =>
          deploymentsRoleTrustPolicy({
            providerArn,
            pulumiOrganization: args.pulumiOrganization,
            project: args.project,
          }),
        ),
        permissionsPolicy: pulumi.output(args.partition).apply((partition) =>
          deploymentsRolePermissionsPolicy({
            partition,
            managementAccountId: args.managementAccountId,
            organizationId: args.organizationId,
            bootstrapRoleName: args.bootstrapRoleName,
          }),
        ),
      },
      { parent: this },
    );
    this.roleArn = role.roleArn;
    this.registerOutputs({ roleArn: this.roleArn, providerArn: this.providerArn });
  }
}
