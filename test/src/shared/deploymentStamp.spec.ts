import { expect } from "chai";
import {
  accountConfigDigest,
  canonicalJson,
  parseDeploymentStamp,
  programVersion,
  sameStamp,
  type PlainAccountConfig,
} from "../../../src/shared/deploymentStamp";

const CONFIG: PlainAccountConfig = {
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
  tags: { b: "2", a: "1" },
};

describe("deployment stamp", () => {
  it("writes canonical JSON: sorted keys at every level, undefined members dropped", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: undefined }], c: "x" }, e: undefined })).to.equal(
      '{"a":{"c":"x","d":[1,{"z":1}]},"b":1}',
    );
  });

  it("digests the effective config independently of key order", () => {
    const digest = accountConfigDigest(CONFIG);
    expect(digest).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(accountConfigDigest({ ...CONFIG, tags: { a: "1", b: "2" } })).to.equal(digest);
    expect(accountConfigDigest({ ...CONFIG, tags: { a: "1", b: "3" } })).to.not.equal(digest);
    expect(accountConfigDigest({ ...CONFIG, externalId: "ext-0123" })).to.not.equal(digest);
    expect(accountConfigDigest({ ...CONFIG, bootstrapRoleName: "Other" })).to.not.equal(digest);
  });

  it("names the program by package version and git revision; the environment wins over git", () => {
    expect(programVersion({ packageVersion: "1.2.3", env: {}, gitRevision: () => "0123456789abcdef0123" })).to.equal(
      "1.2.3+0123456789ab",
    );
    expect(programVersion({ packageVersion: "1.2.3", env: {}, gitRevision: () => undefined })).to.equal("1.2.3");
    expect(
      programVersion({ packageVersion: "1.2.3", env: { AVM_PROGRAM_REVISION: "feedbeef" }, gitRevision: () => "aa" }),
    ).to.equal("1.2.3+feedbeef");
  });

  it("parses a stamp from an output value and compares stamps", () => {
    const stamp = parseDeploymentStamp({ programVersion: "1+a", configDigest: "sha256:00" });
    expect(stamp).to.deep.equal({ programVersion: "1+a", configDigest: "sha256:00" });
    expect(parseDeploymentStamp("x")).to.equal(undefined);
    expect(parseDeploymentStamp({ programVersion: 1, configDigest: "x" })).to.equal(undefined);
    expect(sameStamp(stamp!, { programVersion: "1+a", configDigest: "sha256:00" })).to.equal(true);
    expect(sameStamp(stamp!, { programVersion: "1+b", configDigest: "sha256:00" })).to.equal(false);
  });
});
