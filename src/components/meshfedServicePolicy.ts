import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type MeshfedServicePrincipal, meshfedServicePolicy } from "../policies/meshfedServicePolicy";
import { checkedPolicyJson } from "./leastPrivilegeRole";

/** Arguments of {@link MeshfedServicePolicy}. */
export interface MeshfedServicePolicyArgs {
  /** Name of the managed policy (default `MeshfedServicePolicy`, see src/policies/meshfedServicePolicy.ts). */
  readonly policyName: string;
  /** AWS partition (from `aws.getPartitionOutput`). */
  readonly partition: pulumi.Input<string>;
  readonly managementAccountId: string;
  readonly organizationId: string;
  readonly automationAccountId: string;
  /** The access role meshStack may assume in member accounts. */
  readonly accessRoleName: string;
  /** The bootstrap role meshStack must never assume (besides `OrganizationAccountAccessRole`). */
  readonly bootstrapRoleName: string;
  /** When set, the policy is attached to this principal; otherwise only created. */
  readonly attachTo?: MeshfedServicePrincipal | undefined;
}

/**
 * meshStack's least-privilege principal policy in the **management account** (deploy it with the management
 * provider): a customer managed policy, checked against the IAM catalog, optionally attached to meshStack's user or
 * role. Use the same policy as that principal's permissions boundary where other tools attach its policies.
 *
 * Children: `<name>-policy` (aws.iam.Policy); with `attachTo`, `<name>-attachment` (aws.iam.UserPolicyAttachment or
 * aws.iam.RolePolicyAttachment).
 */
export class MeshfedServicePolicy extends pulumi.ComponentResource {
  /** Pulumi type token. */
  static readonly TYPE = "avm:access:MeshfedServicePolicy";
  /** ARN of the managed policy. */
  readonly policyArn: pulumi.Output<string>;

  constructor(name: string, args: MeshfedServicePolicyArgs, opts?: pulumi.ComponentResourceOptions) {
    super(MeshfedServicePolicy.TYPE, name, {}, opts);
    const document = pulumi.output(args.partition).apply((partition) =>
      meshfedServicePolicy({
        partition,
        managementAccountId: args.managementAccountId,
        organizationId: args.organizationId,
        automationAccountId: args.automationAccountId,
        accessRoleName: args.accessRoleName,
        bootstrapRoleName: args.bootstrapRoleName,
      }),
    );
    const policy = new aws.iam.Policy(
      `${name}-policy`,
      {
        name: args.policyName,
        description: "meshStack service principal: account vending and the access role only, never workloads",
        policy: checkedPolicyJson(args.policyName, document),
      },
      // A fixed policy name: a replacement must delete the old policy first.
      { parent: this, deleteBeforeReplace: true },
    );
    const target = args.attachTo;
    if (target?.kind === "user") {
      new aws.iam.UserPolicyAttachment(
        `${name}-attachment`,
        { user: target.name, policyArn: policy.arn },
        { parent: this },
      );
    } else if (target?.kind === "role") {
      new aws.iam.RolePolicyAttachment(
        `${name}-attachment`,
        { role: target.name, policyArn: policy.arn },
        { parent: this },
      );
    }
    this.policyArn = policy.arn;
    this.registerOutputs({ policyArn: this.policyArn });
  }
}
