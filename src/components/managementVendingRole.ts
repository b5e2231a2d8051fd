import * as pulumi from "@pulumi/pulumi";
import { vendingRolePermissionsPolicy, vendingRoleTrustPolicy } from "../policies/managementVendingRole";
import { LeastPrivilegeRole } from "./leastPrivilegeRole";

/** Arguments of {@link ManagementVendingRole}. */
export interface ManagementVendingRoleArgs {
  /** Name of the role (default `AVMVendingRole`). */
  readonly roleName: string;
  /** AWS partition (from `aws.getPartitionOutput`). */
  readonly partition: pulumi.Input<string>;
  /** 12-digit id of the management account. */
  readonly managementAccountId: string;
  /** Organization id (`o-...`): scopes the account, OU and root ARNs. */
  readonly organizationId: string;
  /** ARNs of the AVM roles allowed to assume this role (the worker's execution role). */
  readonly trustedRoleArns: pulumi.Input<pulumi.Input<string>[]>;
}

/**
 * The role in the **management account** that the AVM's worker assumes for AWS Organizations calls (create,
 * describe, move, tag and close accounts). Deploy it with an explicit provider for the management account
 * (`opts.provider`). Trusts only the given AVM roles.
 *
 * Children: `<name>` LeastPrivilegeRole (role `<name>-role`, inline policy `<name>-permissions`).
 */
export class ManagementVendingRole extends pulumi.ComponentResource {
  /** Pulumi type token. */
  static readonly TYPE = "avm:vending:ManagementVendingRole";
  /** ARN of the vending role. */
  readonly roleArn: pulumi.Output<string>;
  /** Name of the vending role. */
  readonly roleName: pulumi.Output<string>;

  constructor(name: string, args: ManagementVendingRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ManagementVendingRole.TYPE, name, {}, opts);
    const role = new LeastPrivilegeRole(
      // Same name, different type: the role is the component's only child.
      name,
      {
        roleName: args.roleName,
        description: "AVM vending role: AWS Organizations calls of the meshStack Account Vending Machine",
        trustPolicy: pulumi
          .output(args.trustedRoleArns)
          .apply((trustedRoleArns) => vendingRoleTrustPolicy({ trustedRoleArns })),
        permissionsPolicy: pulumi.output(args.partition).apply((partition) =>
          vendingRolePermissionsPolicy({
            partition,
            managementAccountId: args.managementAccountId,
            organizationId: args.organizationId,
          }),
        ),
      },
      { parent: this },
    );
    this.roleArn = role.roleArn;
    this.roleName = role.roleName;
    this.registerOutputs({ roleArn: this.roleArn, roleName: this.roleName });
  }
}
