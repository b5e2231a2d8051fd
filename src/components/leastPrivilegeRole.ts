import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyDocument } from "../policies/document";
import { checkPolicyActions } from "../policies/iamCatalog";

/** Name of the single inline policy every {@link LeastPrivilegeRole} carries. */
export const PERMISSIONS_POLICY_NAME = "permissions";

/** Arguments of {@link LeastPrivilegeRole}. */
export interface LeastPrivilegeRoleArgs {
  /** Physical IAM role name (required: every role of this product has a documented, stable name). */
  readonly roleName: string;
  /** Trust policy (who may assume the role). */
  readonly trustPolicy: pulumi.Input<PolicyDocument>;
  /** The role's only permissions, written as the inline policy `permissions`. */
  readonly permissionsPolicy: pulumi.Input<PolicyDocument>;
  /** Role description shown in the IAM console. */
  readonly description: string;
  /** Tags of the role. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * An IAM role whose permissions are exactly one inline policy: the trust and permission documents are checked
 * against the IAM catalog before they are sent, and the role's inline-policy list and managed-policy attachments are
 * managed exclusively (anything added out of band is removed on the next `pulumi up`).
 *
 * Children: `<name>-role` (aws.iam.Role), `<name>-permissions` (aws.iam.RolePolicy),
 * `<name>-inline-policies` (aws.iam.RolePoliciesExclusive), `<name>-managed-policies`
 * (aws.iam.RolePolicyAttachmentsExclusive, empty list).
 */
export class LeastPrivilegeRole extends pulumi.ComponentResource {
  /** Pulumi type token. */
  static readonly TYPE = "avm:iam:LeastPrivilegeRole";
  /** ARN of the role. */
  readonly roleArn: pulumi.Output<string>;
  /** Name of the role. */
  readonly roleName: pulumi.Output<string>;
  /** The inline policy; depend on it before using the role (Lambda creation, event source mappings). */
  readonly permissions: aws.iam.RolePolicy;

  constructor(name: string, args: LeastPrivilegeRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super(LeastPrivilegeRole.TYPE, name, {}, opts);
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        name: args.roleName,
        description: args.description,
        assumeRolePolicy: checkedPolicyJson(`${args.roleName}/trust`, args.trustPolicy),
        maxSessionDuration: 3600,
        tags: args.tags,
      },
      // A fixed role name: a replacement must delete the old role first, or the new one collides with it.
      { parent: this, deleteBeforeReplace: true },
    );
    this.permissions = new aws.iam.RolePolicy(
      `${name}-permissions`,
      {
        role: role.name,
        name: PERMISSIONS_POLICY_NAME,
        policy: checkedPolicyJson(`${args.roleName}/${PERMISSIONS_POLICY_NAME}`, args.permissionsPolicy),
      },
      // Same inline policy name on the same role: created first, the new one would be deleted with the old one.
      { parent: this, deleteBeforeReplace: true },
    );
    new aws.iam.RolePoliciesExclusive(
      `${name}-inline-policies`,
      { roleName: role.name, policyNames: [this.permissions.name] },
      { parent: this },
    );
    new aws.iam.RolePolicyAttachmentsExclusive(
      `${name}-managed-policies`,
      { roleName: role.name, policyArns: [] },
      { parent: this },
    );
    this.roleArn = role.arn;
    this.roleName = role.name;
    this.registerOutputs({ roleArn: this.roleArn, roleName: this.roleName });
  }
}

/**
 * Serialises `document` after checking every action against the IAM catalog; a failed check fails the resource
 * with a message naming the policy and the action.
 */
export function checkedPolicyJson(policyName: string, document: pulumi.Input<PolicyDocument>): pulumi.Output<string> {
  return pulumi
    .output(document)
    .apply((resolved) => checkedPolicyText(policyName, resolved as unknown as PolicyDocument));
}

/**
 * `JSON.stringify(document)` after the IAM catalog check.
 * @throws PolicyCheckError (UnknownIamActionError, WildcardIamActionError) naming the policy and the action.
 */
export async function checkedPolicyText(policyName: string, document: PolicyDocument): Promise<string> {
  await checkPolicyActions({ name: policyName, document });
  return JSON.stringify(document);
}
