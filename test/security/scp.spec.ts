/**
 * The guardrail service control policies of docs/security.md, proven with iam-simulate: an administrator of a managed account
 * (allowed everything by its identity policy) can no longer change the access role or meshStack's SAML provider,
 * nor invoke `AVMEntryPoint` (which the organization-wide Lambda permission would otherwise let any principal of the
 * organization do); the bootstrap role and meshStack's own role keep exactly what they need.
 */
import { expect } from "chai";
import { accessRolePermissionsPolicy } from "../../src/policies/accessRole";
import type { PolicyDocument } from "../../src/policies/document";
import { checkPolicies } from "../../src/policies/iamCatalog";
import { ADMIN_POLICY, fullDecision, type Decision } from "./iamProof";
import { ROLE_CHANGING_ACTIONS, SAML_PROVIDER_CHANGING_ACTIONS, suggestedScps } from "./suggestedScps";

const MEMBER = "222233334444";
const AUTOMATION = "444455556666";
const ORG = "o-exampleorg1";
const SCPS = suggestedScps({
  accessRoleName: "MeshstackAccountAccessRole",
  samlProviderName: "meshstack-saml-idp",
  bootstrapRoleName: "OrganizationAccountAccessRole",
  automationAccountId: AUTOMATION,
}).map((p) => p.document);

interface Caller {
  readonly session: string;
  readonly roleArn: string;
  readonly policies: PolicyDocument[];
}

const role = (name: string) => `arn:aws:iam::${MEMBER}:role/${name}`;
const caller = (name: string, policies: PolicyDocument[]): Caller => ({
  session: `arn:aws:sts::${MEMBER}:assumed-role/${name}/session`,
  roleArn: role(name),
  policies,
});
const ADMIN = caller("AdminRole", [ADMIN_POLICY]);
const BOOTSTRAP = caller("OrganizationAccountAccessRole", [ADMIN_POLICY]);
const MESHSTACK = caller("MeshstackAccountAccessRole", [
  accessRolePermissionsPolicy({
    partition: "aws",
    accountId: MEMBER,
    region: "eu-central-1",
    automationAccountId: AUTOMATION,
    samlProviderName: "meshstack-saml-idp",
  }),
]);
const ENTRY_POINT = `arn:aws:lambda:eu-central-1:${AUTOMATION}:function:AVMEntryPoint`;
const ORG_INVOKE: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: "lambda:InvokeFunction",
      Resource: ENTRY_POINT,
      Condition: { StringEquals: { "aws:PrincipalOrgID": ORG } },
    },
  ],
};

function decide(who: Caller, action: string, resource: string, withScps: boolean): Promise<Decision> {
  const crossAccount = resource === ENTRY_POINT;
  return fullDecision({
    principal: who.session,
    identityPolicies: who.policies,
    access: {
      action,
      resource,
      resourceAccount: crossAccount ? AUTOMATION : MEMBER,
      context: { "aws:PrincipalArn": who.roleArn, "aws:PrincipalOrgID": ORG },
    },
    ...(crossAccount ? { resourcePolicy: ORG_INVOKE } : {}),
    ...(withScps ? { serviceControlPolicies: SCPS } : {}),
  });
}

describe("suggested SCPs (iam-simulate)", () => {
  describe("ProtectMeshstackAccessRole", () => {
    for (const action of ROLE_CHANGING_ACTIONS) {
      it(`stops an account admin from ${action} on the access role; the bootstrap role still may`, async () => {
        const target = role("MeshstackAccountAccessRole");
        expect([
          await decide(ADMIN, action, target, false),
          await decide(ADMIN, action, target, true),
          await decide(BOOTSTRAP, action, target, true),
          await decide(ADMIN, action, role("AppRole"), true),
        ]).to.deep.equal(["Allowed", "ExplicitlyDenied", "Allowed", "Allowed"]);
      });
    }
  });

  describe("ProtectMeshstackSamlProvider", () => {
    const provider = `arn:aws:iam::${MEMBER}:saml-provider/meshstack-saml-idp`;
    for (const action of SAML_PROVIDER_CHANGING_ACTIONS) {
      it(`stops an account admin from ${action} on meshStack's SAML provider; the bootstrap role still may`, async () => {
        expect([
          await decide(ADMIN, action, provider, false),
          await decide(ADMIN, action, provider, true),
          await decide(BOOTSTRAP, action, provider, true),
          await decide(ADMIN, action, `arn:aws:iam::${MEMBER}:saml-provider/corporate-idp`, true),
        ]).to.deep.equal(["Allowed", "ExplicitlyDenied", "Allowed", "Allowed"]);
      });
    }
    it("leaves meshStack's own UpdateSAMLProvider allowed", async () => {
      expect(await decide(MESHSTACK, "iam:UpdateSAMLProvider", provider, true)).to.equal("Allowed");
    });
  });

  describe("OnlyMeshstackInvokesAvmEntryPoint", () => {
    it("closes the organization-wide Lambda permission to everyone but the access role", async () => {
      expect([
        await decide(ADMIN, "lambda:InvokeFunction", ENTRY_POINT, false),
        await decide(ADMIN, "lambda:InvokeFunction", ENTRY_POINT, true),
        await decide(MESHSTACK, "lambda:InvokeFunction", ENTRY_POINT, false),
        await decide(MESHSTACK, "lambda:InvokeFunction", ENTRY_POINT, true),
      ]).to.deep.equal(["Allowed", "ExplicitlyDenied", "Allowed", "Allowed"]);
    });
  });

  it("names only actions of the IAM catalog", async () => {
    await checkPolicies(SCPS.map((document, i) => ({ name: `scp-${i}`, document })));
  });

  it("keeps all six of meshStack's permissions", async () => {
    const iam = `arn:aws:iam::${MEMBER}`;
    const cases: [string, string][] = [
      ["iam:GetRole", `${iam}:role/MeshstackAccountAccessRole`],
      ["iam:ListRoles", "*"],
      ["iam:ListSAMLProviders", "*"],
      ["iam:GetSAMLProvider", `${iam}:saml-provider/meshstack-saml-idp`],
      ["iam:UpdateSAMLProvider", `${iam}:saml-provider/meshstack-saml-idp`],
      ["lambda:InvokeFunction", ENTRY_POINT],
    ];
    const decisions = await Promise.all(cases.map(([action, resource]) => decide(MESHSTACK, action, resource, true)));
    expect(decisions).to.deep.equal(cases.map(() => "Allowed"));
  });
});
