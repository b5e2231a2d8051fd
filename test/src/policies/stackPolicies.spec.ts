import { expect } from "chai";
import { parseConfig } from "../../../src/config/parseConfig";
import { accessRolePermissionsPolicy, accessRoleTrustPolicy } from "../../../src/policies/accessRole";
import { workerPolicy } from "../../../src/policies/avmRoles";
import { vendingRoleTrustPolicy } from "../../../src/policies/managementVendingRole";
import { meshfedServicePolicy } from "../../../src/policies/meshfedServicePolicy";
import { partitionOfRegion } from "../../../src/policies/partition";
import { buildAccountStackPolicies, buildPlatformPolicies, roleArn } from "../../../src/policies/stackPolicies";

const common = { managementAccountId: "111122223333", automationAccountId: "444455556666" };

describe("stack policies", () => {
  it("collects the access role's documents of an account stack", () => {
    const cfg = parseConfig({
      stackName: "account-222233334444",
      region: "eu-west-1",
      values: { ...common, accountId: "222233334444", accessRoleName: "CustomAccess", samlProviderName: "idp" },
    });
    if (cfg.kind !== "account") throw new Error("expected an account stack");
    expect(buildAccountStackPolicies(cfg, { partition: "aws", externalId: "ext" })).to.deep.equal([
      {
        name: "CustomAccess/trust",
        document: accessRoleTrustPolicy({ partition: "aws", managementAccountId: "111122223333", externalId: "ext" }),
      },
      {
        name: "CustomAccess/permissions",
        document: accessRolePermissionsPolicy({
          partition: "aws",
          accountId: "222233334444",
          region: "eu-west-1",
          automationAccountId: "444455556666",
          samlProviderName: "idp",
        }),
      },
    ]);
  });

  it("collects the platform stack's documents, the vending role trusting the worker and entry point roles", () => {
    const cfg = parseConfig({
      stackName: "dev",
      region: "eu-central-1",
      values: { ...common, organizationId: "o-exampleorg1", vendingRoleName: "Vending" },
    });
    if (cfg.kind !== "platform") throw new Error("expected the platform stack");
    const policies = buildPlatformPolicies(cfg, { partition: "aws" });
    expect(policies.map((p) => p.name)).to.deep.equal([
      "AVMEntryPointRole/trust",
      "AVMEntryPointRole/permissions",
      "AVMWorkerRole/trust",
      "AVMWorkerRole/permissions",
      "AVMWebhookRole/trust",
      "AVMWebhookRole/permissions",
      "Vending/trust",
      "Vending/permissions",
    ]);
    expect(policies[3]!.document).to.deep.equal(
      workerPolicy({
        partition: "aws",
        region: "eu-central-1",
        accountId: "444455556666",
        vendingRoleArn: "arn:aws:iam::111122223333:role/Vending",
        pulumiTokenSecret: false,
      }),
    );
    expect(policies[6]!.document).to.deep.equal(
      vendingRoleTrustPolicy({
        trustedRoleArns: [
          "arn:aws:iam::444455556666:role/AVMWorkerRole",
          "arn:aws:iam::444455556666:role/AVMEntryPointRole",
        ],
      }),
    );
  });

  it("adds meshStack's principal policy when meshfedServicePolicy is create or attach", () => {
    const cfg = parseConfig({
      stackName: "dev",
      region: "eu-central-1",
      values: { ...common, organizationId: "o-exampleorg1", meshfedServicePolicy: "create", bootstrapRoleName: "Boot" },
    });
    if (cfg.kind !== "platform") throw new Error("expected the platform stack");
    const policies = buildPlatformPolicies(cfg, { partition: "aws" });
    expect([policies.length, policies[8]]).to.deep.equal([
      9,
      {
        name: "MeshfedServicePolicy",
        document: meshfedServicePolicy({
          partition: "aws",
          ...common,
          organizationId: "o-exampleorg1",
          accessRoleName: "MeshstackAccountAccessRole",
          bootstrapRoleName: "Boot",
        }),
      },
    ]);
  });

  it("builds role ARNs and maps regions to partitions", () => {
    expect(roleArn("aws-cn", "111122223333", "R")).to.equal("arn:aws-cn:iam::111122223333:role/R");
    expect(
      ["eu-central-1", "cn-north-1", "us-gov-west-1", "us-iso-east-1", "us-isob-east-1", "eusc-de-east-1"].map(
        partitionOfRegion,
      ),
    ).to.deep.equal(["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-eusc"]);
  });
});
