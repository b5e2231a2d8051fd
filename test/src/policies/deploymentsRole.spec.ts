import { expect } from "chai";
import {
  accountStackSubjectPattern,
  deploymentsRolePermissionsPolicy,
  deploymentsRoleTrustPolicy,
  pulumiOidcProviderArn,
} from "../../../src/policies/deploymentsRole";
import { checkPolicyActions } from "../../../src/policies/iamCatalog";

describe("Pulumi Deployments deploy role policies", () => {
  it("names Pulumi Cloud's OIDC provider by partition and account", () => {
    expect([
      pulumiOidcProviderArn("aws", "111122223333"),
      pulumiOidcProviderArn("aws-cn", "111122223333"),
    ]).to.deep.equal([
      "arn:aws:iam::111122223333:oidc-provider/api.pulumi.com/oidc",
      "arn:aws-cn:iam::111122223333:oidc-provider/api.pulumi.com/oidc",
    ]);
  });

  it("matches Deployments runs of the project's account-<12 characters> stacks only", () => {
    expect(accountStackSubjectPattern("acme", "meshstack-avm")).to.equal(
      "pulumi:deploy:org:acme:project:meshstack-avm:stack:account-????????????:operation:*:scope:write",
    );
  });

  it("trusts only web identities of the organization's account-stack deployments", () => {
    expect(
      deploymentsRoleTrustPolicy({
        providerArn: "arn:aws:iam::111122223333:oidc-provider/api.pulumi.com/oidc",
        pulumiOrganization: "acme",
        project: "meshstack-avm",
      }),
    ).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "PulumiDeploymentsOfAccountStacks",
          Effect: "Allow",
          Principal: { Federated: "arn:aws:iam::111122223333:oidc-provider/api.pulumi.com/oidc" },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: { "api.pulumi.com/oidc:aud": "acme" },
            StringLike: {
              "api.pulumi.com/oidc:sub":
                "pulumi:deploy:org:acme:project:meshstack-avm:stack:account-????????????:operation:*:scope:write",
            },
          },
        },
      ],
    });
  });

  it("allows only sts:AssumeRole into bootstrap roles of the organization, never in the management account", async () => {
    const document = deploymentsRolePermissionsPolicy({
      partition: "aws",
      managementAccountId: "111122223333",
      organizationId: "o-exampleorg1",
      bootstrapRoleName: "OrganizationAccountAccessRole",
    });
    expect(document).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AssumeBootstrapRoleInMemberAccounts",
          Effect: "Allow",
          Action: "sts:AssumeRole",
          Resource: "arn:aws:iam::*:role/OrganizationAccountAccessRole",
          Condition: { StringEquals: { "aws:ResourceOrgID": "o-exampleorg1" } },
        },
        {
          Sid: "DenyManagementAccountRoles",
          Effect: "Deny",
          Action: "sts:AssumeRole",
          Resource: "arn:aws:iam::111122223333:role/*",
        },
      ],
    });
    await checkPolicyActions({ name: "AVMDeploymentsRole/permissions", document });
  });
});
