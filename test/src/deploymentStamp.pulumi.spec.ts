import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { accountConfigDigest, programVersion, type PlainAccountConfig } from "../../src/shared/deploymentStamp";
import { installPulumiMocks, isSecretOutput, PROGRAM_PATH, runProgram } from "../support/pulumiMocks";

const STACK = "account-222233334444";
const BASE_CONFIG = {
  "aws:region": "eu-central-1",
  "meshstack-avm:managementAccountId": "111122223333",
  "meshstack-avm:automationAccountId": "444455556666",
  "meshstack-avm:accountId": "222233334444",
};

/** The effective config of BASE_CONFIG: every default applied. */
const EFFECTIVE: PlainAccountConfig = {
  accountId: "222233334444",
  region: "eu-central-1",
  managementAccountId: "111122223333",
  automationAccountId: "444455556666",
  meshfedServicePrincipalArn: undefined,
  externalId: undefined,
  accessRoleName: "MeshstackAccountAccessRole",
  samlProviderName: "meshstack-saml-idp",
  bootstrapRoleName: "OrganizationAccountAccessRole",
  accountAlias: undefined,
  alternateContacts: undefined,
  tags: {},
};

describe("account stack output avmDeployment (Pulumi mocks)", () => {
  it("records this program's version and the digest of the effective config, not secret without an external id", async () => {
    await installPulumiMocks({ stack: STACK, config: BASE_CONFIG });
    const outputs = await runProgram(PROGRAM_PATH);
    expect(outputs["avmDeployment"]).to.deep.equal({
      programVersion: programVersion(),
      configDigest: accountConfigDigest(EFFECTIVE),
    });
    const raw = (require(PROGRAM_PATH) as { avmDeployment: pulumi.Output<unknown> }).avmDeployment;
    expect(await isSecretOutput(raw)).to.equal(false);
  });

  it("covers tags and the access role name: another value gives another digest", async () => {
    await installPulumiMocks({
      stack: STACK,
      config: {
        ...BASE_CONFIG,
        "meshstack-avm:tags": JSON.stringify({ CostCenter: "1234" }),
        "meshstack-avm:accessRoleName": "OtherAccessRole",
      },
    });
    const outputs = await runProgram(PROGRAM_PATH);
    const expected = accountConfigDigest({
      ...EFFECTIVE,
      tags: { CostCenter: "1234" },
      accessRoleName: "OtherAccessRole",
    });
    expect(outputs["avmDeployment"]).to.deep.equal({ programVersion: programVersion(), configDigest: expected });
    expect(expected).to.not.equal(accountConfigDigest(EFFECTIVE));
  });

  it("covers the external id and is secret when one is configured", async () => {
    await installPulumiMocks({
      stack: STACK,
      config: { ...BASE_CONFIG, "meshstack-avm:externalId": "ext-id-0123456789" },
      secretKeys: ["meshstack-avm:externalId"],
    });
    const outputs = await runProgram(PROGRAM_PATH);
    expect(outputs["avmDeployment"]).to.deep.equal({
      programVersion: programVersion(),
      configDigest: accountConfigDigest({ ...EFFECTIVE, externalId: "ext-id-0123456789" }),
    });
    const raw = (require(PROGRAM_PATH) as { avmDeployment: pulumi.Output<unknown> }).avmDeployment;
    expect(await isSecretOutput(raw)).to.equal(true);
  });

  it("is absent on the platform stack", async () => {
    await installPulumiMocks({
      stack: "dev",
      config: {
        "aws:region": "eu-central-1",
        "meshstack-avm:managementAccountId": "111122223333",
        "meshstack-avm:automationAccountId": "444455556666",
        "meshstack-avm:organizationId": "o-exampleorg1",
      },
    });
    const outputs = await runProgram(PROGRAM_PATH);
    expect(outputs["stackKind"]).to.equal("platform");
    expect(outputs["avmDeployment"]).to.equal(undefined);
  });
});
