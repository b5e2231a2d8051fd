/**
 * The Pulumi Deployments deploy role in the management account: Pulumi Deployments runs of this project's account
 * stacks exchange their OIDC token for it (no static AWS keys anywhere), and its only right is `sts:AssumeRole` into
 * the bootstrap role of the organization's member accounts, which the account stack's provider assumes.
 *
 * Why Deployments OIDC and not Pulumi ESC `aws-login`: Pulumi names ESC the general recommendation
 * (https://www.pulumi.com/docs/deployments/guides/oidc/aws/, linking "Supplying Cloud Credentials to Pulumi
 * Deployments"), but an ESC token's audience is `aws:{org}` and its subject names the ESC environment
 * (e.g. `pulumi:environments:org:contoso:env:development`), not the stack being deployed
 * (https://www.pulumi.com/docs/pulumi-cloud/access-management/oidc/provider/,
 * https://www.pulumi.com/docs/esc/guides/configuring-oidc/aws/), so a role behind ESC could not be limited to this
 * project's `account-*` stacks. The Deployments token carries the stack:
 * - issuer `https://api.pulumi.com/oidc`, audience = the Pulumi organization name (compared case-sensitively),
 *   subject `pulumi:deploy:org:<organization name>:project:<project name>:stack:<stack name>:operation:<operation
 *   kind>:scope:write` (https://www.pulumi.com/docs/pulumi-cloud/oidc/ "Token Claims",
 *   https://www.pulumi.com/docs/pulumi-cloud/deployments/oidc/);
 * - trust conditions on `api.pulumi.com/oidc:aud` and `api.pulumi.com/oidc:sub`, `StringLike` for a pattern
 *   (https://www.pulumi.com/docs/guides/oidc/aws/, https://www.pulumi.com/docs/pulumi-cloud/deployments/oidc/aws/);
 * - AWS allows one OIDC provider per URL and account: where one exists already (e.g. for ESC), reuse it
 *   (`deploymentsOidcProviderArn`) with the organization among its audiences
 *   (https://www.pulumi.com/docs/deployments/guides/oidc/aws/).
 * Thumbprints: none are sent. AWS verifies an OIDC provider's JWKS endpoint through its library of trusted root CAs
 * and uses configured thumbprints only for a certificate no trusted CA signed
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateOpenIDConnectProviderThumbprint.html);
 * `api.pulumi.com` has a publicly trusted certificate, and `@pulumi/aws` 7 makes `thumbprintLists` optional.
 */
import { type PolicyDocument, policyDocument } from "./document";

/** Issuer of Pulumi Cloud's OIDC tokens (the IAM OIDC provider's URL). */
export const PULUMI_OIDC_ISSUER = "https://api.pulumi.com/oidc";

/** The issuer without scheme: the IAM provider's name and the prefix of its condition keys. */
export const PULUMI_OIDC_PROVIDER = "api.pulumi.com/oidc";

/** Name of the deploy role in the management account. */
export const DEPLOYMENTS_ROLE_NAME = "AVMDeploymentsRole";

/** ARN of the IAM OIDC provider for Pulumi Cloud in `accountId`. */
export function pulumiOidcProviderArn(partition: string, accountId: string): string {
  return `arn:${partition}:iam::${accountId}:oidc-provider/${PULUMI_OIDC_PROVIDER}`;
}

/**
 * The `sub` pattern (IAM `StringLike`) of a Deployments run of an account stack of `project` in `organization`: the
 * stack is `account-` and exactly 12 characters (`?` matches one), any operation, write scope. Pulumi organization,
 * project and stack names cannot contain `:`, so no other claim can be smuggled into a wildcard.
 */
export function accountStackSubjectPattern(organization: string, project: string): string {
  return `pulumi:deploy:org:${organization}:project:${project}:stack:account-????????????:operation:*:scope:write`;
}

/** Inputs of {@link deploymentsRoleTrustPolicy}. */
export interface DeploymentsRoleTrustArgs {
  /** ARN of the IAM OIDC provider for `https://api.pulumi.com/oidc` in the management account. */
  readonly providerArn: string;
  /** Pulumi Cloud organization that owns the account stacks (the token's audience). */
  readonly pulumiOrganization: string;
  /** Pulumi project of the account stacks (`meshstack-avm`). */
  readonly project: string;
}

/**
 * Trust policy: only web identities from Pulumi Cloud's issuer whose audience is the organization and whose subject
 * is a Deployments run of one of the project's `account-<12 characters>` stacks.
 */
export function deploymentsRoleTrustPolicy(args: DeploymentsRoleTrustArgs): PolicyDocument {
  return policyDocument({
    Sid: "PulumiDeploymentsOfAccountStacks",
    Effect: "Allow",
    Principal: { Federated: args.providerArn },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition: {
      StringEquals: { [`${PULUMI_OIDC_PROVIDER}:aud`]: args.pulumiOrganization },
      StringLike: {
        [`${PULUMI_OIDC_PROVIDER}:sub`]: accountStackSubjectPattern(args.pulumiOrganization, args.project),
      },
    },
  });
}

/** Inputs of {@link deploymentsRolePermissionsPolicy}. */
export interface DeploymentsRolePermissionsArgs {
  readonly partition: string;
  /** 12-digit id of the management account (its roles are denied). */
  readonly managementAccountId: string;
  /** Organization id (`o-...`): only roles in accounts of this organization (`aws:ResourceOrgID`). */
  readonly organizationId: string;
  /** The bootstrap role the account stacks deploy through (default `OrganizationAccountAccessRole`). */
  readonly bootstrapRoleName: string;
}

/**
 * Permissions: `sts:AssumeRole` into the bootstrap role of accounts of this organization, never one in the management
 * account (the organization includes it); nothing else.
 */
export function deploymentsRolePermissionsPolicy(args: DeploymentsRolePermissionsArgs): PolicyDocument {
  return policyDocument(
    {
      Sid: "AssumeBootstrapRoleInMemberAccounts",
      Effect: "Allow",
      Action: "sts:AssumeRole",
      Resource: `arn:${args.partition}:iam::*:role/${args.bootstrapRoleName}`,
      Condition: { StringEquals: { "aws:ResourceOrgID": args.organizationId } },
    },
    {
      Sid: "DenyManagementAccountRoles",
      Effect: "Deny",
      Action: "sts:AssumeRole",
      Resource: `arn:${args.partition}:iam::${args.managementAccountId}:role/*`,
    },
  );
}
