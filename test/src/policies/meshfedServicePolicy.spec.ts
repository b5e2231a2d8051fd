import { expect } from "chai";
import { checkPolicyActions } from "../../../src/policies/iamCatalog";
import { meshfedServicePolicy, meshfedServicePrincipal } from "../../../src/policies/meshfedServicePolicy";

const ARGS = {
  partition: "aws",
  managementAccountId: "111122223333",
  organizationId: "o-exampleorg1",
  automationAccountId: "444455556666",
  accessRoleName: "MeshstackAccountAccessRole",
  bootstrapRoleName: "OrganizationAccountAccessRole",
};

const org = "arn:aws:organizations::111122223333";

describe("meshStack's principal policy (management account)", () => {
  it("grants account creation, placement, tags and the access role; denies the bootstrap role and direct invokes", () => {
    expect(meshfedServicePolicy(ARGS)).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AssumeMeshstackAccessRole",
          Effect: "Allow",
          Action: "sts:AssumeRole",
          Resource: "arn:aws:iam::*:role/MeshstackAccountAccessRole",
          Condition: { StringEquals: { "aws:ResourceOrgID": "o-exampleorg1" } },
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
          Resource: `${org}:account/o-exampleorg1/*`,
        },
        {
          Sid: "PlaceAccounts",
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
          Sid: "DenyBootstrapRoles",
          Effect: "Deny",
          Action: "sts:AssumeRole",
          Resource: ["arn:aws:iam::*:role/OrganizationAccountAccessRole"],
        },
        {
          Sid: "DenyDirectAvmInvoke",
          Effect: "Deny",
          Action: "lambda:InvokeFunction",
          Resource: [
            "arn:aws:lambda:*:444455556666:function:AVMEntryPoint",
            "arn:aws:lambda:*:444455556666:function:AVMEntryPoint:*",
          ],
        },
      ],
    });
  });

  it("denies a configured bootstrap role besides OrganizationAccountAccessRole, in the stack's partition", () => {
    const document = meshfedServicePolicy({
      ...ARGS,
      partition: "aws-us-gov",
      accessRoleName: "MeshAccess",
      bootstrapRoleName: "AWSControlTowerExecution",
    });
    expect([document.Statement[0]!.Resource, document.Statement[4]!.Resource]).to.deep.equal([
      "arn:aws-us-gov:iam::*:role/MeshAccess",
      [
        "arn:aws-us-gov:iam::*:role/OrganizationAccountAccessRole",
        "arn:aws-us-gov:iam::*:role/AWSControlTowerExecution",
      ],
    ]);
  });

  it("passes the IAM catalog check", async () => {
    await checkPolicyActions({ name: "MeshfedServicePolicy", document: meshfedServicePolicy(ARGS) });
  });

  it("names the principal to attach it to from meshfedServicePrincipalArn", () => {
    expect([
      meshfedServicePrincipal(undefined),
      meshfedServicePrincipal("arn:aws:iam::111122223333:user/meshfed-service"),
      meshfedServicePrincipal("arn:aws:iam::111122223333:role/meshstack/replicator"),
    ]).to.deep.equal([
      { kind: "user", name: "meshfed-service" },
      { kind: "user", name: "meshfed-service" },
      { kind: "role", name: "replicator" },
    ]);
    expect(() => meshfedServicePrincipal("arn:aws:iam::111122223333:group/meshstack")).to.throw(
      Error,
      'meshfedServicePrincipalArn must be an IAM user or role ARN, got "arn:aws:iam::111122223333:group/meshstack"',
    );
  });
});
