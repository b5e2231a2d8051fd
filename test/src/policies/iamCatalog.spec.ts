import { expect } from "chai";
import { parseConfig } from "../../../src/config/parseConfig";
import type { NamedPolicy, PolicyDocument } from "../../../src/policies/document";
import {
  checkPolicies,
  checkPolicyActions,
  PolicyCheckError,
  UnknownIamActionError,
  WildcardIamActionError,
} from "../../../src/policies/iamCatalog";
import { buildAccountStackPolicies, buildPlatformPolicies } from "../../../src/policies/stackPolicies";

/** The permission policy of the tutorial's CloudFormation snippet, as written there (misspelled SAML actions). */
const TUTORIAL_POLICY: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "IamReadOnly",
      Effect: "Allow",
      Action: ["iam:GetRole", "iam:ListRoles", "iam:ListSAMProviders"],
      Resource: "*",
    },
    {
      Sid: "UpdateSamlProvider",
      Effect: "Allow",
      Action: ["iam:UpdateSAMProvider"],
      Resource: "arn:aws:iam::*:saml-provider/meshstack-saml-idp",
    },
  ],
};

async function failureOf(policy: NamedPolicy): Promise<Error> {
  try {
    await checkPolicyActions(policy);
  } catch (error) {
    return error as Error;
  }
  throw new Error("checkPolicyActions did not throw");
}

describe("IAM catalog check", () => {
  it("catches the tutorial's iam:ListSAMProviders, naming the policy and the action", async () => {
    const error = await failureOf({ name: "MeshstackAccountAccessRole/permissions", document: TUTORIAL_POLICY });
    expect(error).to.be.instanceOf(UnknownIamActionError).and.instanceOf(PolicyCheckError);
    expect(error.message).to.equal(
      'policy "MeshstackAccountAccessRole/permissions": unknown IAM action "iam:ListSAMProviders"',
    );
    expect([(error as PolicyCheckError).policyName, (error as PolicyCheckError).action]).to.deep.equal([
      "MeshstackAccountAccessRole/permissions",
      "iam:ListSAMProviders",
    ]);
  });

  it("catches the tutorial's iam:UpdateSAMProvider", async () => {
    const document: PolicyDocument = { ...TUTORIAL_POLICY, Statement: [TUTORIAL_POLICY.Statement[1]!] };
    const error = await failureOf({ name: "tutorial", document });
    expect(error).to.be.instanceOf(UnknownIamActionError);
    expect(error.message).to.equal('policy "tutorial": unknown IAM action "iam:UpdateSAMProvider"');
  });

  for (const action of ["*", "iam:*", "iam:Get*", "s3:?etObject"]) {
    it(`rejects the wildcard action ${action}`, async () => {
      const error = await failureOf({
        name: "p",
        document: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: action, Resource: "*" }] },
      });
      expect(error).to.be.instanceOf(WildcardIamActionError);
      expect(error.message).to.equal(`policy "p": wildcard IAM action "${action}" is not allowed`);
    });
  }

  for (const action of ["GetRole", "iam:", "nosuchservice:GetThing", "iam:Get Role"]) {
    it(`rejects the malformed or unknown action "${action}"`, async () => {
      const error = await failureOf({
        name: "p",
        document: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: [action], Resource: "*" }] },
      });
      expect(error).to.be.instanceOf(UnknownIamActionError);
      expect(error.message).to.equal(`policy "p": unknown IAM action "${action}"`);
    });
  }

  it("accepts the corrected SAML actions and trust-policy actions", async () => {
    await checkPolicyActions({
      name: "ok",
      document: {
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: ["iam:ListSAMLProviders", "iam:UpdateSAMLProvider"], Resource: "*" },
          { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
        ],
      },
    });
  });

  it("passes every policy the product writes, for both stack kinds (with all optional secrets)", async () => {
    const account = parseConfig({
      stackName: "account-222233334444",
      region: "eu-central-1",
      values: {
        managementAccountId: "111122223333",
        automationAccountId: "444455556666",
        accountId: "222233334444",
        externalId: "ext-123",
      },
    });
    const platform = parseConfig({
      stackName: "dev",
      region: "eu-central-1",
      values: {
        managementAccountId: "111122223333",
        automationAccountId: "444455556666",
        organizationId: "o-exampleorg1",
        webhookSecret: "0123456789abcdef",
        pulumiAccessToken: "pul-123",
        externalId: "ext-123",
        meshfedServicePolicy: "create",
        pulumiOrganization: "acme",
        deploymentsOidc: "true",
      },
    });
    if (account.kind !== "account" || platform.kind !== "platform") throw new Error("unexpected stack kinds");
    const policies = [
      ...buildAccountStackPolicies(account, { partition: "aws", externalId: "ext-123" }),
      ...buildPlatformPolicies(platform, { partition: "aws" }),
    ];
    expect(policies.map((p) => p.name)).to.deep.equal([
      "MeshstackAccountAccessRole/trust",
      "MeshstackAccountAccessRole/permissions",
      "AVMEntryPointRole/trust",
      "AVMEntryPointRole/permissions",
      "AVMWorkerRole/trust",
      "AVMWorkerRole/permissions",
      "AVMWebhookRole/trust",
      "AVMWebhookRole/permissions",
      "AVMVendingRole/trust",
      "AVMVendingRole/permissions",
      "MeshfedServicePolicy",
      "AVMDeploymentsRole/trust",
      "AVMDeploymentsRole/permissions",
    ]);
    await checkPolicies(policies);
  });

  it("reports the first failing policy of a list", async () => {
    const good: NamedPolicy = {
      name: "good",
      document: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "iam:GetRole", Resource: "*" }] },
    };
    try {
      await checkPolicies([good, { name: "bad", document: TUTORIAL_POLICY }]);
      expect.fail("checkPolicies did not throw");
    } catch (error) {
      expect((error as Error).message).to.equal('policy "bad": unknown IAM action "iam:ListSAMProviders"');
    }
  });
});
