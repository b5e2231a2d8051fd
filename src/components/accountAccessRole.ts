import * as pulumi from "@pulumi/pulumi";
import { accessRolePermissionsPolicy, accessRoleTrustPolicy } from "../policies/accessRole";
import { DEFAULT_ACCESS_ROLE_NAME, DEFAULT_BOOTSTRAP_ROLE_NAME, DEFAULT_SAML_PROVIDER_NAME } from "../shared/naming";
import { LeastPrivilegeRole } from "./leastPrivilegeRole";

/** Arguments of {@link AccountAccessRole}. */
export interface AccountAccessRoleArgs {
  /** Name of the role (default `MeshstackAccountAccessRole`; never `OrganizationAccountAccessRole`). */
  readonly roleName?: string;
  /** AWS partition of the managed account (from `aws.getPartitionOutput`). */
  readonly partition: pulumi.Input<string>;
  /** 12-digit id of the managed account (scopes the SAML provider ARN). */
  readonly accountId: string;
  /** Region of the `AVMEntryPoint` Lambda. */
  readonly region: string;
  /** 12-digit id of the management account (home of the default meshfed-service user). */
  readonly managementAccountId: string;
  /** 12-digit id of the automation account hosting `AVMEntryPoint`. */
  readonly automationAccountId: string;
  /** Trusted principal ARN; default `arn:<partition>:iam::<managementAccountId>:user/meshfed-service`. */
  readonly principalArn?: string | undefined;
  /** Secret external id the trust requires, when set. */
  readonly externalId?: pulumi.Input<string> | undefined;
  /** Name of meshStack's SAML provider in the account (default `meshstack-saml-idp`). */
  readonly samlProviderName?: string;
  /** Tags of the role. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Raised by {@link validateAccountAccessRoleArgs}; the message names the property. */
export class AccountAccessRoleArgsError extends Error {
  override readonly name = "AccountAccessRoleArgsError";
}

/**
 * Validates the plain arguments of {@link AccountAccessRole}.
 * @throws AccountAccessRoleArgsError naming the property.
 */
export function validateAccountAccessRoleArgs(args: AccountAccessRoleArgs): void {
  for (const key of ["accountId", "managementAccountId", "automationAccountId"] as const) {
    if (!/^\d{12}$/.test(args[key])) {
      throw new AccountAccessRoleArgsError(`${key} must be a 12-digit AWS account id, got "${args[key]}"`);
    }
  }
  const roleName = args.roleName ?? DEFAULT_ACCESS_ROLE_NAME;
  if (!/^[\w+=,.@-]{1,64}$/.test(roleName)) {
    throw new AccountAccessRoleArgsError(`roleName must match [\\w+=,.@-]{1,64}, got "${roleName}"`);
  }
  if (roleName === DEFAULT_BOOTSTRAP_ROLE_NAME) {
    throw new AccountAccessRoleArgsError(
      `roleName must not be ${DEFAULT_BOOTSTRAP_ROLE_NAME}: AWS Organizations creates that admin role in every new account`,
    );
  }
}

/**
 * The corrected meshStack Access Stack for one managed account: a role that meshStack's service principal assumes
 * (optionally with `sts:ExternalId`) to read roles and SAML providers, update its own SAML provider and invoke
 * `AVMEntryPoint`. Nothing else: no access to workloads.
 *
 * Collision with an existing role of the same name: IAM's CreateRole is the atomic check (a pre-read would race),
 * so the deployment fails with `EntityAlreadyExists`; `AccountStacks.deploy` reports that as
 * `AccessRoleCollisionError` (see `src/stacks/accessRoleCollision.ts`). AWS Organizations' own
 * `OrganizationAccountAccessRole` name is rejected before anything is sent.
 *
 * Children: `<name>` LeastPrivilegeRole (role `<name>-role`, inline policy `<name>-permissions`, exclusive policy
 * management).
 */
export class AccountAccessRole extends pulumi.ComponentResource {
  /** Pulumi type token. */
  static readonly TYPE = "avm:access:AccountAccessRole";
  /** ARN of the access role (meshStack's "Access Role ARN"). */
  readonly roleArn: pulumi.Output<string>;
  /** Name of the access role. */
  readonly roleName: pulumi.Output<string>;

  constructor(name: string, args: AccountAccessRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super(AccountAccessRole.TYPE, name, {}, opts);
    validateAccountAccessRoleArgs(args);
    const roleName = args.roleName ?? DEFAULT_ACCESS_ROLE_NAME;
    const trustPolicy = pulumi.all([args.partition, args.externalId]).apply(([partition, externalId]) =>
      accessRoleTrustPolicy({
        partition,
        managementAccountId: args.managementAccountId,
        principalArn: args.principalArn,
        externalId,
      }),
    );
    const permissionsPolicy = pulumi.output(args.partition).apply((partition) =>
      accessRolePermissionsPolicy({
        partition,
        accountId: args.accountId,
        region: args.region,
        automationAccountId: args.automationAccountId,
        samlProviderName: args.samlProviderName ?? DEFAULT_SAML_PROVIDER_NAME,
      }),
    );
    const role = new LeastPrivilegeRole(
      // Same name, different type: the role is the component's only child.
      name,
      {
        roleName,
        description:
          "meshStack access role: read roles and SAML providers, update meshStack's SAML provider, invoke AVMEntryPoint",
        trustPolicy,
        permissionsPolicy,
        ...(args.tags === undefined ? {} : { tags: args.tags }),
      },
      { parent: this },
    );
    this.roleArn = role.roleArn;
    this.roleName = role.roleName;
    this.registerOutputs({ roleArn: this.roleArn, roleName: this.roleName });
  }
}
