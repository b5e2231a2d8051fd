/**
 * The role in the management account that the AVM's worker assumes for AWS Organizations calls. Only the actions the
 * account workflow needs; resource-scoped to the organization wherever the IAM catalog lists resource types.
 */
import { type PolicyDocument, policyDocument } from "./document";

/** Inputs of {@link vendingRoleTrustPolicy}. */
export interface VendingRoleTrustArgs {
  /** ARNs of the roles allowed to assume the vending role (the AVM worker's execution role). */
  readonly trustedRoleArns: readonly string[];
}

/** Inputs of {@link vendingRolePermissionsPolicy}. */
export interface VendingRolePermissionsArgs {
  readonly partition: string;
  /** 12-digit id of the management account. */
  readonly managementAccountId: string;
  /** Organization id (`o-...`). */
  readonly organizationId: string;
}

/**
 * Session policy `AVMEntryPoint` passes when it assumes the vending role: its sessions can only look an
 * account up (DescribeAccount, which the role itself scopes to the organization's accounts) to check a
 * meshStack hook's account id and email. Whatever else the role may do stays with the worker.
 */
export function entryPointSessionPolicy(): PolicyDocument {
  return policyDocument({
    Sid: "DescribeAccountOnly",
    Effect: "Allow",
    Action: "organizations:DescribeAccount",
    Resource: "*",
  });
}

/** Trust policy: only the given AVM roles may assume the vending role. */
export function vendingRoleTrustPolicy(args: VendingRoleTrustArgs): PolicyDocument {
  if (args.trustedRoleArns.length === 0) {
    throw new Error("trustedRoleArns must name at least one role");
  }
  return policyDocument({
    Sid: "TrustAvmRoles",
    Effect: "Allow",
    Principal: { AWS: args.trustedRoleArns.length === 1 ? args.trustedRoleArns[0]! : [...args.trustedRoleArns] },
    Action: "sts:AssumeRole",
  });
}

/**
 * Permissions of the vending role.
 * - Actions the IAM catalog marks wildcard-only (CreateAccount, DescribeCreateAccountStatus, ListCreateAccountStatus,
 *   ListAccounts, ListRoots, DescribeOrganization) must use `*`.
 * - Account actions are scoped to `account/<orgId>/*`, the OU tree to `ou/<orgId>/ou-*` and `root/<orgId>/r-*`.
 * - `iam:CreateServiceLinkedRole` only for `organizations.amazonaws.com`: CreateAccount fails with
 *   AccessDeniedForDependencyException without it when Organizations must create its service-linked role.
 */
export function vendingRolePermissionsPolicy(args: VendingRolePermissionsArgs): PolicyDocument {
  const { accounts, ous, roots } = organizationArns(args);
  return policyDocument(
    {
      Sid: "CreateAndListAccounts",
      Effect: "Allow",
      Action: [
        "organizations:CreateAccount",
        "organizations:DescribeCreateAccountStatus",
        "organizations:ListCreateAccountStatus",
        "organizations:ListAccounts",
        "organizations:ListRoots",
        "organizations:DescribeOrganization",
      ],
      Resource: "*",
    },
    {
      Sid: "ManageOrganizationAccounts",
      Effect: "Allow",
      Action: [
        "organizations:DescribeAccount",
        "organizations:TagResource",
        "organizations:UntagResource",
        "organizations:ListTagsForResource",
        "organizations:CloseAccount",
      ],
      Resource: accounts,
    },
    {
      Sid: "NavigateAndMoveInOrganization",
      Effect: "Allow",
      Action: [...PLACEMENT_ACTIONS],
      Resource: [accounts, ous, roots],
    },
    {
      Sid: "OrganizationsServiceLinkedRole",
      Effect: "Allow",
      Action: "iam:CreateServiceLinkedRole",
      Resource: `arn:${args.partition}:iam::${args.managementAccountId}:role/aws-service-role/organizations.amazonaws.com/*`,
      Condition: { StringEquals: { "iam:AWSServiceName": "organizations.amazonaws.com" } },
    },
  );
}

/** ARN patterns of the organization's accounts, OUs and roots (Organizations ARNs carry the management account). */
export function organizationArns(args: VendingRolePermissionsArgs): { accounts: string; ous: string; roots: string } {
  const org = `arn:${args.partition}:organizations::${args.managementAccountId}`;
  return {
    accounts: `${org}:account/${args.organizationId}/*`,
    ous: `${org}:ou/${args.organizationId}/ou-*`,
    roots: `${org}:root/${args.organizationId}/r-*`,
  };
}

/** The Organizations actions that find an account's place in the OU tree and move it (placement). */
export const PLACEMENT_ACTIONS = [
  "organizations:ListParents",
  "organizations:ListOrganizationalUnitsForParent",
  "organizations:DescribeOrganizationalUnit",
  "organizations:MoveAccount",
] as const;
