/**
 * The opt-in guardrails: with `guardrailTargets` the platform stack creates the three SCPs in the management account
 * (exactly the documents `test/security/scp.spec.ts` proves) and attaches each to every target; without it, none.
 */
import { expect } from "chai";
import { GuardrailPolicies } from "../../../src/components/guardrailPolicies";
import { suggestedScps } from "../../../src/policies/guardrailScps";
import { installPulumiMocks, settle, type PulumiRecorder } from "../../support/pulumiMocks";

const NAMES = {
  accessRoleName: "MeshstackAccountAccessRole",
  samlProviderName: "meshstack-saml-idp",
  bootstrapRoleName: "OrganizationAccountAccessRole",
  automationAccountId: "444455556666",
};

describe("GuardrailPolicies (Pulumi mocks)", () => {
  let recorder: PulumiRecorder;
  before(async () => {
    recorder = await installPulumiMocks({ stack: "dev" });
    new GuardrailPolicies("guardrails", { ...NAMES, targets: ["ou-ab12-cd34ef56", "r-ab12"] });
    await settle();
  });

  it("creates the three SCPs with exactly the proven documents", () => {
    const policies = recorder.byType("aws:organizations/policy:Policy").map((r) => ({
      name: r.inputs["name"],
      type: r.inputs["type"],
      content: JSON.parse(r.inputs["content"] as string) as unknown,
    }));
    expect(policies).to.deep.equal(
      suggestedScps(NAMES).map((scp) => ({ name: scp.name, type: "SERVICE_CONTROL_POLICY", content: scp.document })),
    );
  });

  it("attaches each policy to every target", () => {
    const attachments = recorder
      .byType("aws:organizations/policyAttachment:PolicyAttachment")
      .map((r) => [r.name, r.inputs["targetId"]]);
    expect(attachments).to.deep.equal([
      ["guardrails-ProtectMeshstackAccessRole-ou-ab12-cd34ef56", "ou-ab12-cd34ef56"],
      ["guardrails-ProtectMeshstackAccessRole-r-ab12", "r-ab12"],
      ["guardrails-ProtectMeshstackSamlProvider-ou-ab12-cd34ef56", "ou-ab12-cd34ef56"],
      ["guardrails-ProtectMeshstackSamlProvider-r-ab12", "r-ab12"],
      ["guardrails-OnlyMeshstackInvokesAvmEntryPoint-ou-ab12-cd34ef56", "ou-ab12-cd34ef56"],
      ["guardrails-OnlyMeshstackInvokesAvmEntryPoint-r-ab12", "r-ab12"],
    ]);
    for (const r of recorder.byType("aws:organizations/policyAttachment:PolicyAttachment")) {
      expect(r.inputs["policyId"], r.name).to.equal(`${r.name.replace(/-(ou-ab12-cd34ef56|r-ab12)$/, "")}-id`);
    }
  });

  it("refuses an empty target list", () => {
    expect(() => new GuardrailPolicies("none", { ...NAMES, targets: [] })).to.throw(
      "targets must name at least one OU or root",
    );
  });
});
