import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { AccountAccessRole } from "../../../src/components/accountAccessRole";
import { AccountBaseline } from "../../../src/components/accountBaseline";
import { LeastPrivilegeRole } from "../../../src/components/leastPrivilegeRole";
import { ManagementVendingRole } from "../../../src/components/managementVendingRole";
import { accessRolePermissionsPolicy } from "../../../src/policies/accessRole";
import { vendingRolePermissionsPolicy } from "../../../src/policies/managementVendingRole";
import { installPulumiMocks, outputValue, type PulumiRecorder, settle } from "../../support/pulumiMocks";

const ROLE = "aws:iam/role:Role";
const POLICY = "aws:iam/rolePolicy:RolePolicy";

describe("access-side components (Pulumi mocks)", () => {
  let recorder: PulumiRecorder;
  before(async () => {
    recorder = await installPulumiMocks({ stack: "account-222233334444" });
  });
  beforeEach(() => recorder.reset());

  describe("AccountAccessRole", () => {
    it("registers the role, its single inline policy and exclusive policy management", async () => {
      const provider = new aws.Provider("acct", { region: "eu-central-1", allowedAccountIds: ["222233334444"] });
      const component = new AccountAccessRole(
        "access",
        {
          partition: "aws",
          accountId: "222233334444",
          region: "eu-central-1",
          managementAccountId: "111122223333",
          automationAccountId: "444455556666",
          principalArn: "arn:aws:iam::111122223333:role/meshfed-service",
          externalId: pulumi.secret("ext-123"),
          roleName: "CustomAccessRole",
          samlProviderName: "custom-idp",
          tags: { Owner: "platform" },
        },
        { provider },
      );
      const [arn, name] = await Promise.all([outputValue(component.roleArn), outputValue(component.roleName)]);
      await settle();
      expect(recorder.inventory()).to.deep.equal([
        ["avm:access:AccountAccessRole", "access"],
        ["avm:iam:LeastPrivilegeRole", "access"],
        ["aws:iam/role:Role", "access-role"],
        ["aws:iam/rolePoliciesExclusive:RolePoliciesExclusive", "access-inline-policies"],
        ["aws:iam/rolePolicy:RolePolicy", "access-permissions"],
        ["aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", "access-managed-policies"],
        ["pulumi:providers:aws", "acct"],
      ]);
      expect([arn, name]).to.deep.equal(["arn:aws:iam::222233334444:role/CustomAccessRole", "CustomAccessRole"]);
      const role = recorder.one(ROLE, "access-role");
      expect(role.provider).to.equal("acct");
      expect([role.inputs["name"], role.inputs["maxSessionDuration"], role.inputs["tags"]]).to.deep.equal([
        "CustomAccessRole",
        3600,
        { Owner: "platform" },
      ]);
      expect(recorder.json(ROLE, "access-role", "assumeRolePolicy")).to.deep.equal({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "TrustMeshfedService",
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::111122223333:role/meshfed-service" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "sts:ExternalId": "ext-123" } },
          },
        ],
      });
      expect(role.secretInputs, "the trust policy holds the secret external id").to.deep.equal(["assumeRolePolicy"]);
      expect(recorder.one(POLICY, "access-permissions").inputs["name"]).to.equal("permissions");
      expect(recorder.json(POLICY, "access-permissions", "policy")).to.deep.equal(
        accessRolePermissionsPolicy({
          partition: "aws",
          accountId: "222233334444",
          region: "eu-central-1",
          automationAccountId: "444455556666",
          samlProviderName: "custom-idp",
        }),
      );
      expect(
        recorder.one("aws:iam/rolePoliciesExclusive:RolePoliciesExclusive", "access-inline-policies").inputs,
      ).to.deep.equal({ roleName: "CustomAccessRole", policyNames: ["permissions"] });
      expect(
        recorder.one("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", "access-managed-policies")
          .inputs,
      ).to.deep.equal({ roleName: "CustomAccessRole", policyArns: [] });
    });

    it("rejects the Organizations bootstrap role name before registering anything", () => {
      expect(
        () =>
          new AccountAccessRole("bad", {
            partition: "aws",
            accountId: "222233334444",
            region: "eu-central-1",
            managementAccountId: "111122223333",
            automationAccountId: "444455556666",
            roleName: "OrganizationAccountAccessRole",
          }),
      ).to.throw(/roleName must not be OrganizationAccountAccessRole/);
    });
  });

  describe("AccountBaseline", () => {
    it("sets the alias and each configured alternate contact", async () => {
      new AccountBaseline("baseline", {
        accountAlias: "acme-dev",
        alternateContacts: {
          billing: { name: "Bill", title: "CFO", emailAddress: "bill@example.com", phoneNumber: "+1 555" },
          security: { name: "Sec", title: "CISO", emailAddress: "sec@example.com", phoneNumber: "+1 556" },
        },
      });
      await settle();
      expect(recorder.inventory()).to.deep.equal([
        ["avm:access:AccountBaseline", "baseline"],
        ["aws:account/alternativeContact:AlternativeContact", "baseline-contact-billing"],
        ["aws:account/alternativeContact:AlternativeContact", "baseline-contact-security"],
        ["aws:iam/accountAlias:AccountAlias", "baseline-alias"],
      ]);
      expect(recorder.one("aws:iam/accountAlias:AccountAlias", "baseline-alias").inputs).to.deep.equal({
        accountAlias: "acme-dev",
      });
      expect(
        recorder.one("aws:account/alternativeContact:AlternativeContact", "baseline-contact-security").inputs,
      ).to.deep.equal({
        alternateContactType: "SECURITY",
        name: "Sec",
        title: "CISO",
        emailAddress: "sec@example.com",
        phoneNumber: "+1 556",
      });
    });

    it("registers no children when nothing is configured", async () => {
      new AccountBaseline("empty", {});
      await settle();
      expect(recorder.inventory()).to.deep.equal([["avm:access:AccountBaseline", "empty"]]);
    });
  });

  describe("ManagementVendingRole", () => {
    it("trusts only the given worker role and grants the scoped Organizations policy", async () => {
      const provider = new aws.Provider("mgmt", { region: "eu-central-1", allowedAccountIds: ["111122223333"] });
      const component = new ManagementVendingRole(
        "vending",
        {
          roleName: "AVMVendingRole",
          partition: "aws",
          managementAccountId: "111122223333",
          organizationId: "o-exampleorg1",
          trustedRoleArns: [pulumi.output("arn:aws:iam::444455556666:role/AVMWorkerRole")],
        },
        { providers: [provider] },
      );
      expect(await outputValue(component.roleArn)).to.equal("arn:aws:iam::111122223333:role/AVMVendingRole");
      await settle();
      expect(recorder.inventory()).to.deep.equal([
        ["avm:iam:LeastPrivilegeRole", "vending"],
        ["avm:vending:ManagementVendingRole", "vending"],
        ["aws:iam/role:Role", "vending-role"],
        ["aws:iam/rolePoliciesExclusive:RolePoliciesExclusive", "vending-inline-policies"],
        ["aws:iam/rolePolicy:RolePolicy", "vending-permissions"],
        ["aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", "vending-managed-policies"],
        ["pulumi:providers:aws", "mgmt"],
      ]);
      expect(recorder.one(ROLE, "vending-role").provider).to.equal("mgmt");
      expect(recorder.json(ROLE, "vending-role", "assumeRolePolicy")).to.deep.equal({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "TrustAvmRoles",
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::444455556666:role/AVMWorkerRole" },
            Action: "sts:AssumeRole",
          },
        ],
      });
      expect(recorder.json(POLICY, "vending-permissions", "policy")).to.deep.equal(
        vendingRolePermissionsPolicy({
          partition: "aws",
          managementAccountId: "111122223333",
          organizationId: "o-exampleorg1",
        }),
      );
    });
  });

  describe("LeastPrivilegeRole", () => {
    it("fails the deployment with the catalog error instead of writing an unknown action", async () => {
      const failures: string[] = [];
      const collect = (reason: unknown) => failures.push((reason as Error).message);
      process.on("unhandledRejection", collect);
      try {
        new LeastPrivilegeRole("typo", {
          roleName: "Typo",
          description: "role with the tutorial's misspelled action",
          trustPolicy: {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
          },
          permissionsPolicy: {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "iam:ListSAMProviders", Resource: "*" }],
          },
        });
        await settle();
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off("unhandledRejection", collect);
      }
      expect(failures.length).to.be.greaterThan(0);
      expect(
        failures.every((m) => m.endsWith('policy "Typo/permissions": unknown IAM action "iam:ListSAMProviders"')),
      ).to.equal(true);
      expect(recorder.byType(POLICY)).to.deep.equal([]);
    });
  });
});
