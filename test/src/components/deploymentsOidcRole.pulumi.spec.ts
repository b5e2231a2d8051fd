/**
 * `deploymentsOidc`: the platform stack creates, through the management provider, the IAM OIDC provider for Pulumi
 * Cloud and the deploy role `AVMDeploymentsRole` with exactly the documents `roleChains.spec.ts` and
 * `deploymentsRole.spec.ts` prove, and tells the worker the role's ARN. With an existing provider, none is created.
 */
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { DeploymentsOidcRole } from "../../../src/components/deploymentsOidcRole";
import { installPulumiMocks, PROGRAM_PATH, runProgram, settle, type PulumiRecorder } from "../../support/pulumiMocks";

const CONFIG = {
  "aws:region": "eu-central-1",
  "meshstack-avm:managementAccountId": "111122223333",
  "meshstack-avm:automationAccountId": "444455556666",
  "meshstack-avm:organizationId": "o-exampleorg1",
  "meshstack-avm:pulumiOrganization": "acme",
  "meshstack-avm:deploymentsOidc": "true",
};

const TRUST = (providerArn: string) => ({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "PulumiDeploymentsOfAccountStacks",
      Effect: "Allow",
      Principal: { Federated: providerArn },
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

const PERMISSIONS = {
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
};

const ARGS = {
  partition: "aws",
  managementAccountId: "111122223333",
  organizationId: "o-exampleorg1",
  bootstrapRoleName: "OrganizationAccountAccessRole",
  pulumiOrganization: "acme",
  project: "meshstack-avm",
};

describe("DeploymentsOidcRole (Pulumi mocks)", () => {
  let recorder: PulumiRecorder;
  let outputs: Record<string, unknown>;

  before(async () => {
    recorder = await installPulumiMocks({ stack: "dev", config: CONFIG });
    outputs = await runProgram(PROGRAM_PATH);
  });

  it("creates the OIDC provider and the deploy role in the management account", () => {
    const deployments = recorder.resources
      .filter((r) => r.name.startsWith("deployments-role"))
      .map((r) => [r.type, r.name, r.provider ?? null, r.accountId])
      .sort((a, b) => `${a[0]} ${a[1]}`.localeCompare(`${b[0]} ${b[1]}`));
    expect(deployments).to.deep.equal([
      ["avm:deployments:DeploymentsOidcRole", "deployments-role", null, "123456789012"],
      ["avm:iam:LeastPrivilegeRole", "deployments-role", null, "123456789012"],
      [
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "deployments-role-provider",
        "management",
        "111122223333",
      ],
      ["aws:iam/role:Role", "deployments-role-role", "management", "111122223333"],
      [
        "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive",
        "deployments-role-inline-policies",
        "management",
        "111122223333",
      ],
      ["aws:iam/rolePolicy:RolePolicy", "deployments-role-permissions", "management", "111122223333"],
      [
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        "deployments-role-managed-policies",
        "management",
        "111122223333",
      ],
    ]);
    expect(outputs["deploymentsRoleArn"]).to.equal("arn:aws:iam::111122223333:role/AVMDeploymentsRole");
  });

  it("registers Pulumi Cloud's issuer with the organization as the only audience and no thumbprint", () => {
    const provider = recorder.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "deployments-role-provider");
    expect(provider.inputs).to.deep.equal({ url: "https://api.pulumi.com/oidc", clientIdLists: ["acme"] });
  });

  it("writes exactly the proven trust and permission documents", () => {
    const role = recorder.one("aws:iam/role:Role", "deployments-role-role").inputs;
    expect([role["name"], role["maxSessionDuration"]]).to.deep.equal(["AVMDeploymentsRole", 3600]);
    expect(recorder.json("aws:iam/role:Role", "deployments-role-role", "assumeRolePolicy")).to.deep.equal(
      TRUST("arn:aws:iam::111122223333:oidc-provider/api.pulumi.com/oidc"),
    );
    expect(recorder.json("aws:iam/rolePolicy:RolePolicy", "deployments-role-permissions", "policy")).to.deep.equal(
      PERMISSIONS,
    );
  });

  it("gives the worker the deploy role's ARN, and no other Lambda", () => {
    const env = (name: string) =>
      (
        recorder.one("aws:lambda/function:Function", name).inputs["environment"] as {
          variables: Record<string, string>;
        }
      ).variables["AVM_DEPLOYMENTS_ROLE_ARN"];
    expect([env("avm-worker"), env("avm-entry-point"), env("avm-webhook")]).to.deep.equal([
      "arn:aws:iam::111122223333:role/AVMDeploymentsRole",
      undefined,
      undefined,
    ]);
  });

  it("replaces the provider and the role delete-first (one provider per URL and account, a fixed role name)", async () => {
    const options = new Map<string, boolean | undefined>();
    const capture: pulumi.ResourceTransformation = (args) => {
      options.set(`${args.type} ${args.name}`, (args.opts as pulumi.CustomResourceOptions).deleteBeforeReplace);
      return undefined;
    };
    new DeploymentsOidcRole("direct", { ...ARGS }, { transformations: [capture] });
    await settle();
    expect([
      options.get("aws:iam/openIdConnectProvider:OpenIdConnectProvider direct-provider"),
      options.get("aws:iam/role:Role direct-role"),
    ]).to.deep.equal([true, true]);
  });

  it("creates no provider when one exists already, and trusts that one", async () => {
    recorder.reset();
    const existing = "arn:aws:iam::111122223333:oidc-provider/api.pulumi.com/oidc";
    const component = new DeploymentsOidcRole("reuse", { ...ARGS, existingProviderArn: existing });
    await settle();
    expect(recorder.byType("aws:iam/openIdConnectProvider:OpenIdConnectProvider")).to.deep.equal([]);
    expect(recorder.json("aws:iam/role:Role", "reuse-role", "assumeRolePolicy")).to.deep.equal(TRUST(existing));
    const providerArn = await new Promise((resolve) => component.providerArn.apply(resolve));
    expect(providerArn).to.equal(existing);
  });
});
