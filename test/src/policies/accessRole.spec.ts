import { expect } from "chai";
import {
  accessRolePermissionsPolicy,
  accessRoleTrustPolicy,
  defaultMeshfedServicePrincipalArn,
} from "../../../src/policies/accessRole";

describe("access role policies", () => {
  describe("accessRoleTrustPolicy", () => {
    it("trusts the default meshfed-service user (with user/, unlike the tutorial)", () => {
      expect(accessRoleTrustPolicy({ partition: "aws", managementAccountId: "111122223333" })).to.deep.equal({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "TrustMeshfedService",
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::111122223333:user/meshfed-service" },
            Action: "sts:AssumeRole",
          },
        ],
      });
    });

    it("trusts a configured role principal and requires the external id", () => {
      expect(
        accessRoleTrustPolicy({
          partition: "aws-us-gov",
          managementAccountId: "111122223333",
          principalArn: "arn:aws-us-gov:iam::111122223333:role/meshfed",
          externalId: "ext-123",
        }),
      ).to.deep.equal({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "TrustMeshfedService",
            Effect: "Allow",
            Principal: { AWS: "arn:aws-us-gov:iam::111122223333:role/meshfed" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "sts:ExternalId": "ext-123" } },
          },
        ],
      });
    });

    it("builds the default principal in the given partition", () => {
      expect(defaultMeshfedServicePrincipalArn("aws-cn", "111122223333")).to.equal(
        "arn:aws-cn:iam::111122223333:user/meshfed-service",
      );
    });
  });

  describe("accessRolePermissionsPolicy", () => {
    it("grants exactly the six corrected Access Stack permissions", () => {
      expect(
        accessRolePermissionsPolicy({
          partition: "aws",
          accountId: "222233334444",
          region: "eu-central-1",
          automationAccountId: "444455556666",
          samlProviderName: "meshstack-saml-idp",
        }),
      ).to.deep.equal({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "ReadRolesAndSamlProviders",
            Effect: "Allow",
            Action: ["iam:GetRole", "iam:ListRoles", "iam:ListSAMLProviders", "iam:GetSAMLProvider"],
            Resource: "*",
          },
          {
            Sid: "UpdateMeshstackSamlProvider",
            Effect: "Allow",
            Action: "iam:UpdateSAMLProvider",
            Resource: "arn:aws:iam::222233334444:saml-provider/meshstack-saml-idp",
          },
          {
            Sid: "InvokeAvmEntryPoint",
            Effect: "Allow",
            Action: "lambda:InvokeFunction",
            Resource: "arn:aws:lambda:eu-central-1:444455556666:function:AVMEntryPoint",
          },
        ],
      });
    });

    it("scopes a custom SAML provider to this account in another partition", () => {
      const document = accessRolePermissionsPolicy({
        partition: "aws-cn",
        accountId: "222233334444",
        region: "cn-north-1",
        automationAccountId: "444455556666",
        samlProviderName: "custom-idp",
      });
      expect(document.Statement.map((s) => s.Resource)).to.deep.equal([
        "*",
        "arn:aws-cn:iam::222233334444:saml-provider/custom-idp",
        "arn:aws-cn:lambda:cn-north-1:444455556666:function:AVMEntryPoint",
      ]);
    });
  });
});
