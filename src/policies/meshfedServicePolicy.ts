/**
 * The least-privilege policy of meshStack's own principal (`meshfed-service`) in the management account: what
 * meshStack needs for account vending and nothing that leads into workloads. One document serves as a managed policy
 * (attached to the principal) and as a permissions boundary (capping whatever else is attached to it).
 */
import { DEFAULT_MESHFED_SERVICE_USER, ENTRY_POINT_FUNCTION_NAME } from "../shared/naming";
import { type PolicyDocument, policyDocument } from "./document";
import { PLACEMENT_ACTIONS, organizationArns } from "./managementVendingRole";

/** Default name of the managed policy in the management account. */
export const MESHFED_SERVICE_POLICY_NAME = "MeshfedServicePolicy";

/** Inputs of {@link meshfedServicePolicy}. */
export interface MeshfedServicePolicyArgs {
  /** AWS partition (`aws`, `aws-cn`, ...). */
  readonly partition: string;
  /** 12-digit id of the management account (the Organizations ARNs carry it). */
  readonly managementAccountId: string;
  /** Organization id (`o-...`): scopes account, OU and root ARNs and, via `aws:ResourceOrgID`, the assumable roles. */
  readonly organizationId: string;
  /** 12-digit id of the automation account hosting `AVMEntryPoint`. */
  readonly automationAccountId: string;
  /** Name of meshStack's access role in member accounts (default `MeshstackAccountAccessRole`). */
  readonly accessRoleName: string;
  /** The Organizations bootstrap role (default `OrganizationAccountAccessRole`), denied besides that default. */
  readonly bootstrapRoleName: string;
}

/** The admin role AWS Organizations creates in every new member account. */
const ORGANIZATIONS_BOOTSTRAP_ROLE = "OrganizationAccountAccessRole";

/**
 * The policy document:
 * - `sts:AssumeRole` into the access role of accounts of this organization only (`aws:ResourceOrgID`);
 * - the Organizations calls of account creation (wildcard-only in IAM), placement (move between the organization's
 *   root and OUs) and tags, scoped to the organization where IAM allows;
 * - explicit denies: `sts:AssumeRole` into `OrganizationAccountAccessRole` and the configured bootstrap role in
 *   every account, and `lambda:InvokeFunction` on `AVMEntryPoint` (meshStack invokes it only through the access
 *   role). A deny holds against any other policy attached to the principal.
 * No IAM, data or compute action, and no `sts:AssumeRole` into any other role.
 */
export function meshfedServicePolicy(args: MeshfedServicePolicyArgs): PolicyDocument {
  const { partition, organizationId, automationAccountId } = args;
  const { accounts, ous, roots } = organizationArns(args);
  const bootstrapRoles = [...new Set([ORGANIZATIONS_BOOTSTRAP_ROLE, args.bootstrapRoleName])];
  const entryPoint = `arn:${partition}:lambda:*:${automationAccountId}:function:${ENTRY_POINT_FUNCTION_NAME}`;
  return policyDocument(
    {
      Sid: "AssumeMeshstackAccessRole",
      Effect: "Allow",
      Action: "sts:AssumeRole",
      Resource: `arn:${partition}:iam::*:role/${args.accessRoleName}`,
      Condition: { StringEquals: { "aws:ResourceOrgID": organizationId } },
    },
    {
      Sid: "CreateAccounts",
      Effect: "Allow",
      Action: [
        "organizations:CreateAccount",
        "organizations:DescribeCreateAccountStatus",
        "organizations:ListAccounts",
        "organizations:ListRoots",
        "organizations:DescribeOrganization",
      ],
      Resource: "*",
    },
    {
      Sid: "DescribeAndTagAccounts",
      Effect: "Allow",
      Action: [
        "organizations:DescribeAccount",
        "organizations:TagResource",
        "organizations:UntagResource",
        "organizations:ListTagsForResource",
      ],
      Resource: accounts,
    },
    {
      Sid: "PlaceAccounts",
      Effect: "Allow",
      Action: [...PLACEMENT_ACTIONS],
      Resource: [accounts, ous, roots],
    },
    {
      Sid: "DenyBootstrapRoles",
      Effect: "Deny",
      Action: "sts:AssumeRole",
      Resource: bootstrapRoles.map((name) => `arn:${partition}:iam::*:role/${name}`),
    },
    {
      Sid: "DenyDirectAvmInvoke",
      Effect: "Deny",
      Action: "lambda:InvokeFunction",
      Resource: [entryPoint, `${entryPoint}:*`],
    },
  );
}

/** The IAM user or role the policy is attached to (by name, in the management account). */
export interface MeshfedServicePrincipal {
  readonly kind: "user" | "role";
  /** The user or role name (the last segment of its ARN, without path). */
  readonly name: string;
}

/**
 * The user or role named by `principalArn` (`meshfedServicePrincipalArn`); the default user `meshfed-service` when
 * it is undefined.
 * @throws Error naming the value when it is not an IAM user or role ARN.
 */
export function meshfedServicePrincipal(principalArn: string | undefined): MeshfedServicePrincipal {
  if (principalArn === undefined) return { kind: "user", name: DEFAULT_MESHFED_SERVICE_USER };
  const match = /^arn:[\w-]+:iam::\d{12}:(user|role)\/(?:[^/]+\/)*([^/]+)$/.exec(principalArn);
  if (match === null) {
    throw new Error(`meshfedServicePrincipalArn must be an IAM user or role ARN, got "${principalArn}"`);
  }
  return { kind: match[1] as "user" | "role", name: match[2]! };
}
