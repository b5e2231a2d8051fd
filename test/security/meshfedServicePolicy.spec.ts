/**
 * MeshfedServicePolicy evaluated with iam-simulate: the Organizations calls of account creation, placement and tags
 * are allowed, with an admin control for each denial; everything else meshStack's principal could misuse is not.
 * The chains it opens are proven in roleChains.spec.ts.
 */
import { expect } from "chai";
import { meshfedServicePolicy } from "../../src/policies/meshfedServicePolicy";
import { type AccessCase, ADMIN_POLICY, accountTrust, identityDecision } from "./iamProof";

const MANAGEMENT = "111122223333";
const MEMBER = "222233334444";
const ORG = "o-exampleorg1";
const POLICY = meshfedServicePolicy({
  partition: "aws",
  managementAccountId: MANAGEMENT,
  organizationId: ORG,
  automationAccountId: "444455556666",
  accessRoleName: "MeshstackAccountAccessRole",
  bootstrapRoleName: "AWSControlTowerExecution",
});
const PRINCIPAL = `arn:aws:iam::${MANAGEMENT}:user/meshfed-service`;
const org = `arn:aws:organizations::${MANAGEMENT}`;
const ACCOUNT = `${org}:account/${ORG}/${MEMBER}`;
const OU = `${org}:ou/${ORG}/ou-ab12-abcdefgh`;
const ROOT = `${org}:root/${ORG}/r-ab12`;
const FOREIGN = `${org}:account/o-otherorg123/999988887777`;
const assume = (account: string, name: string, why?: string): AccessCase => ({
  action: "sts:AssumeRole",
  resource: `arn:aws:iam::${account}:role/${name}`,
  resourcePolicy: accountTrust("aws", MANAGEMENT),
  context: { "aws:ResourceOrgID": ORG },
  ...(why ? { why } : {}),
});

const ALLOWED: AccessCase[] = [
  ...[
    "organizations:CreateAccount",
    "organizations:DescribeCreateAccountStatus",
    "organizations:ListAccounts",
    "organizations:ListRoots",
    "organizations:DescribeOrganization",
  ].map((action) => ({ action, resource: "*" })),
  ...[
    "organizations:DescribeAccount",
    "organizations:TagResource",
    "organizations:UntagResource",
    "organizations:ListTagsForResource",
    "organizations:ListParents",
    "organizations:MoveAccount",
  ].map((action) => ({ action, resource: ACCOUNT })),
  { action: "organizations:MoveAccount", resource: OU },
  { action: "organizations:MoveAccount", resource: ROOT },
  { action: "organizations:ListOrganizationalUnitsForParent", resource: ROOT },
  { action: "organizations:DescribeOrganizationalUnit", resource: OU },
  assume(MEMBER, "MeshstackAccountAccessRole"),
];

const DENIED: [AccessCase, "ImplicitlyDenied" | "ExplicitlyDenied"][] = [
  [assume(MEMBER, "OrganizationAccountAccessRole", "the Organizations admin role"), "ExplicitlyDenied"],
  [assume(MEMBER, "AWSControlTowerExecution", "the configured bootstrap role"), "ExplicitlyDenied"],
  [assume(MANAGEMENT, "OrganizationAccountAccessRole"), "ExplicitlyDenied"],
  [assume(MEMBER, "Admin", "any other role"), "ImplicitlyDenied"],
  [assume(MANAGEMENT, "AVMVendingRole", "the AVM's vending role"), "ImplicitlyDenied"],
  [
    {
      ...assume(MEMBER, "MeshstackAccountAccessRole", "in another organization"),
      context: { "aws:ResourceOrgID": "o-otherorg123" },
    },
    "ImplicitlyDenied",
  ],
  [
    { action: "lambda:InvokeFunction", resource: "arn:aws:lambda:eu-central-1:444455556666:function:AVMEntryPoint" },
    "ExplicitlyDenied",
  ],
  [
    { action: "lambda:InvokeFunction", resource: "arn:aws:lambda:eu-central-1:444455556666:function:AVMEntryPoint:1" },
    "ExplicitlyDenied",
  ],
  [{ action: "organizations:CloseAccount", resource: ACCOUNT }, "ImplicitlyDenied"],
  [{ action: "organizations:RemoveAccountFromOrganization", resource: ACCOUNT }, "ImplicitlyDenied"],
  [{ action: "organizations:AttachPolicy", resource: ACCOUNT }, "ImplicitlyDenied"],
  [{ action: "organizations:DetachPolicy", resource: OU }, "ImplicitlyDenied"],
  [{ action: "organizations:DeleteOrganizationalUnit", resource: OU }, "ImplicitlyDenied"],
  [{ action: "organizations:CreatePolicy", resource: "*" }, "ImplicitlyDenied"],
  [{ action: "organizations:LeaveOrganization", resource: "*" }, "ImplicitlyDenied"],
  [{ action: "organizations:InviteAccountToOrganization", resource: "*" }, "ImplicitlyDenied"],
  [{ action: "organizations:MoveAccount", resource: FOREIGN }, "ImplicitlyDenied"],
  [{ action: "organizations:TagResource", resource: FOREIGN }, "ImplicitlyDenied"],
  [{ action: "organizations:TagResource", resource: OU }, "ImplicitlyDenied"],
  [{ action: "iam:CreateUser", resource: `arn:aws:iam::${MANAGEMENT}:user/backdoor` }, "ImplicitlyDenied"],
  [{ action: "iam:CreateAccessKey", resource: PRINCIPAL }, "ImplicitlyDenied"],
  [{ action: "iam:AttachUserPolicy", resource: PRINCIPAL }, "ImplicitlyDenied"],
  [{ action: "iam:PassRole", resource: `arn:aws:iam::${MANAGEMENT}:role/Admin` }, "ImplicitlyDenied"],
  [{ action: "s3:GetObject", resource: "arn:aws:s3:::billing-reports/2026-11.csv" }, "ImplicitlyDenied"],
];

const title = (c: AccessCase) => `${c.action} on ${c.resource}${c.why ? ` (${c.why})` : ""}`;

describe("MeshfedServicePolicy (iam-simulate)", () => {
  for (const access of ALLOWED) {
    it(`allows ${title(access)}`, async () => {
      expect(await identityDecision(PRINCIPAL, [POLICY], access)).to.equal("Allowed");
    });
  }
  for (const [access, decision] of DENIED) {
    it(`denies ${title(access)}: ${decision}`, async () => {
      expect(await identityDecision(PRINCIPAL, [ADMIN_POLICY], access), "admin control").to.equal("Allowed");
      expect(await identityDecision(PRINCIPAL, [POLICY], access)).to.equal(decision);
    });
  }
});
