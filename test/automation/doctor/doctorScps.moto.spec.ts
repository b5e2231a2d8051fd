/**
 * `avm doctor`'s `scps` check against moto: the guardrail SCPs named by the platform stack output `guardrails` are
 * attached to every configured target (pass), a detached or deleted policy, a missing target or SCPs disabled on the
 * root fail with the exact fix, and guardrails that are not enabled (or outputs of an older stack) are `!` with the
 * reason. Organizations calls are counted: one ListRoots, one ListPoliciesForTarget per target.
 * moto differences (5.2.1): AttachPolicy works without EnablePolicyType (AWS: PolicyTypeNotEnabledException), and
 * DisablePolicyType leaves the SCPs attached (AWS detaches them all); the check reads ListRoots' PolicyTypes either way.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  AttachPolicyCommand,
  CreateOrganizationCommand,
  CreateOrganizationalUnitCommand,
  CreatePolicyCommand,
  DeletePolicyCommand,
  DescribeOrganizationCommand,
  DetachPolicyCommand,
  DisablePolicyTypeCommand,
  EnablePolicyTypeCommand,
  ListRootsCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { CheckResult, DoctorReport } from "../../../automation/doctor/doctorCheck";
import { suggestedScps } from "../../../src/policies/guardrailScps";
import { CliHarness } from "../cli/harness";
import { HANG_GUARD_MS } from "../../support/hangGuard";
import { useMoto } from "../../support/moto";

const NAMES = {
  accessRoleName: "MeshstackAccountAccessRole",
  samlProviderName: "meshstack-saml-idp",
  bootstrapRoleName: "OrganizationAccountAccessRole",
  automationAccountId: "123456789012",
};

interface Guardrails {
  rootId: string;
  ouId: string;
  policies: Record<string, string>;
}

describe("avm doctor: the guardrail SCPs against moto", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let dir: string;
  let cli: CliHarness;
  let calls: string[];
  let orgs: OrganizationsClient;
  let g: Guardrails;

  const organizations = (): OrganizationsClient => {
    const client = new OrganizationsClient(moto.clientConfig());
    client.middlewareStack.add(
      (next, context) => async (args) => {
        calls.push(context.commandName ?? "?");
        return next(args);
      },
      { step: "initialize" },
    );
    return client;
  };

  /** An organization with an OU, SCPs enabled on the root and the three guardrail SCPs attached to OU and root. */
  async function deployGuardrails(): Promise<Guardrails> {
    const org = (await orgs.send(new CreateOrganizationCommand({ FeatureSet: "ALL" }))).Organization!;
    const rootId = (await orgs.send(new ListRootsCommand({}))).Roots![0]!.Id!;
    const ouId = (await orgs.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: "workloads" })))
      .OrganizationalUnit!.Id!;
    await orgs.send(new EnablePolicyTypeCommand({ RootId: rootId, PolicyType: "SERVICE_CONTROL_POLICY" }));
    const policies: Record<string, string> = {};
    for (const scp of suggestedScps(NAMES)) {
      const created = await orgs.send(
        new CreatePolicyCommand({
          Name: scp.name,
          Type: "SERVICE_CONTROL_POLICY",
          Description: `meshStack AVM guardrail: ${scp.name}`,
          Content: JSON.stringify(scp.document),
        }),
      );
      const id = created.Policy!.PolicySummary!.Id!;
      policies[scp.name] = id;
      for (const target of [ouId, rootId]) await orgs.send(new AttachPolicyCommand({ PolicyId: id, TargetId: target }));
    }
    cli.env = { AVM_MANAGEMENT_ACCOUNT_ID: org.MasterAccountId! };
    writeOutputs({ targets: [ouId, rootId], policies });
    return { rootId, ouId, policies };
  }

  function writeOutputs(guardrails: unknown): void {
    const outputs: Record<string, unknown> = {
      entryPointArn: "arn:aws:lambda:us-east-1:123456789012:function:AVMEntryPoint",
      ledgerTableName: "avm-ledger",
    };
    if (guardrails !== undefined) outputs["guardrails"] = guardrails;
    writeFileSync(path.join(dir, "outputs.json"), JSON.stringify(outputs));
  }

  async function scps(...args: string[]): Promise<CheckResult> {
    calls = [];
    const r = await cli.run(["doctor", "--json", ...(args.length > 0 ? args : ["--outputs", `${dir}/outputs.json`])]);
    const report = JSON.parse(r.stdout) as DoctorReport;
    const check = report.checks.find((c) => c.id === "scps");
    if (check === undefined) throw new Error("no scps check");
    return check;
  }

  const scpCalls = () => calls.filter((c) => c === "ListRootsCommand" || c === "ListPoliciesForTargetCommand");

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-doctor-scps-"));
    calls = [];
    orgs = new OrganizationsClient(moto.clientConfig());
    cli = new CliHarness({
      organizationsClient: organizations,
      awsClient: (Client) => new (Client as new (config: object) => never)(moto.clientConfig()),
      sqsClient: () => new SQSClient(moto.clientConfig()),
      pulumiVersion: async () => undefined,
    });
    cli.pulumiOnPath = false;
    g = await deployGuardrails();
  });
  afterEach(() => {
    cli.dispose();
    orgs.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("passes when every guardrail SCP is attached to every target, with one ListPoliciesForTarget per target", async () => {
    expect(await scps()).to.deep.equal({
      id: "scps",
      title: "service control policies",
      status: "pass",
      detail:
        "ProtectMeshstackAccessRole, ProtectMeshstackSamlProvider, OnlyMeshstackInvokesAvmEntryPoint attached to " +
        `${g.ouId}, ${g.rootId}`,
      fix: null,
    });
    expect(scpCalls()).to.deep.equal([
      "ListRootsCommand",
      "ListPoliciesForTargetCommand",
      "ListPoliciesForTargetCommand",
    ]);
  });

  it("a policy detached by hand: ✗ naming it and the target, with pulumi up --refresh and the attach-policy command", async () => {
    const id = g.policies["ProtectMeshstackSamlProvider"]!;
    await orgs.send(new DetachPolicyCommand({ PolicyId: id, TargetId: g.ouId }));
    expect(await scps()).to.deep.equal({
      id: "scps",
      title: "service control policies",
      status: "fail",
      detail: `not attached: ProtectMeshstackSamlProvider (${id}) to ${g.ouId}`,
      fix:
        "pulumi up --refresh on the platform stack (re-creates the attachments and policies missing from AWS), or " +
        `aws organizations attach-policy --policy-id ${id} --target-id ${g.ouId}`,
    });
    await orgs.send(new AttachPolicyCommand({ PolicyId: id, TargetId: g.ouId }));
    expect((await scps()).status).to.equal("pass");
  });

  it("a policy deleted by hand: ✗ for every target; with --stack the fix names the stack", async () => {
    const id = g.policies["OnlyMeshstackInvokesAvmEntryPoint"]!;
    for (const target of [g.ouId, g.rootId])
      await orgs.send(new DetachPolicyCommand({ PolicyId: id, TargetId: target }));
    await orgs.send(new DeletePolicyCommand({ PolicyId: id }));
    cli.overrides.platformStackOutputs = async () => ({
      entryPointArn: "arn:aws:lambda:us-east-1:123456789012:function:AVMEntryPoint",
      guardrails: { targets: [g.ouId, g.rootId], policies: g.policies },
    });
    expect(await scps("--stack", "dev")).to.deep.equal({
      id: "scps",
      title: "service control policies",
      status: "fail",
      detail:
        `not attached: OnlyMeshstackInvokesAvmEntryPoint (${id}) to ${g.ouId}, ` +
        `OnlyMeshstackInvokesAvmEntryPoint (${id}) to ${g.rootId}`,
      fix:
        "pulumi up --refresh --stack dev (re-creates the attachments and policies missing from AWS), or " +
        `aws organizations attach-policy --policy-id ${id} --target-id ${g.ouId}; ` +
        `aws organizations attach-policy --policy-id ${id} --target-id ${g.rootId}`,
    });
  });

  it("a target that does not exist: ✗ naming it and the setting", async () => {
    writeOutputs({ targets: ["ou-zzzz-zzzzzzzz"], policies: g.policies });
    const organizationId = (await orgs.send(new DescribeOrganizationCommand({}))).Organization!.Id!;
    const check = await scps();
    expect([check.status, check.detail, check.fix]).to.deep.equal([
      "fail",
      `guardrail target ou-zzzz-zzzzzzzz does not exist in organization ${organizationId}`,
      "pulumi config set --path 'guardrailTargets[<i>]' <an existing ou-... or r-...> on the platform stack, then " +
        "pulumi up --refresh on the platform stack",
    ]);
  });

  it("SCPs disabled on the root: ✗ with enable-policy-type", async () => {
    await orgs.send(new DisablePolicyTypeCommand({ RootId: g.rootId, PolicyType: "SERVICE_CONTROL_POLICY" }));
    expect(await scps()).to.deep.include({
      status: "fail",
      detail: `service control policies are not enabled on root ${g.rootId}, so no SCP takes effect`,
      fix:
        `aws organizations enable-policy-type --root-id ${g.rootId} --policy-type SERVICE_CONTROL_POLICY, then ` +
        "pulumi up --refresh on the platform stack",
    });
    expect(scpCalls()).to.deep.equal(["ListRootsCommand"]);
  });

  it("guardrails not enabled (no guardrailTargets): ! with how to enable them, and no Organizations call", async () => {
    writeOutputs({ targets: [], policies: {} });
    expect(await scps()).to.deep.equal({
      id: "scps",
      title: "service control policies",
      status: "warn",
      detail:
        "not checked: guardrails are not enabled (guardrailTargets is not set on the platform stack, so no SCPs are deployed)",
      fix:
        "to enable them: pulumi config set --path 'guardrailTargets[0]' <ou-... or r-...> on the platform stack, " +
        "then pulumi up on the platform stack (see Guardrails)",
    });
    expect(scpCalls()).to.deep.equal([]);
  });

  it("outputs of an older platform stack (no guardrails), a malformed output, no outputs: ! with the reason", async () => {
    writeOutputs(undefined);
    expect(await scps()).to.deep.include({
      status: "warn",
      detail: "not checked: the platform stack outputs have no guardrails (the stack was deployed by an older version)",
      fix: "pulumi up on the platform stack (this version exports guardrails), then run avm doctor again",
    });
    writeOutputs({ targets: "ou-x", policies: {} });
    expect(await scps()).to.deep.include({
      status: "warn",
      detail: "not checked: the platform stack output guardrails is not {targets: [...], policies: {name: id}}",
    });
    const none = await cli.run(["doctor", "--json"]);
    const check = (JSON.parse(none.stdout) as DoctorReport).checks.find((c) => c.id === "scps");
    expect(check).to.deep.include({
      status: "warn",
      detail: "not checked: the platform stack outputs are not available",
    });
  });

  it("targets configured but no policy deployed: ✗ with pulumi up", async () => {
    writeOutputs({ targets: [g.ouId], policies: {} });
    expect(await scps()).to.deep.include({
      status: "fail",
      detail: `guardrailTargets names ${g.ouId}, but the platform stack deployed no guardrail SCPs`,
      fix: "pulumi up on the platform stack",
    });
  });

  it("no permission to list the policies: ! (not checked), never passed", async () => {
    cli.overrides.organizationsClient = () => {
      const client = organizations();
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === "ListPoliciesForTargetCommand") {
            throw Object.assign(new Error("You don't have permissions to access this resource."), {
              name: "AccessDeniedException",
            });
          }
          return next(args);
        },
        { step: "initialize" },
      );
      return client;
    };
    expect(await scps()).to.deep.equal({
      id: "scps",
      title: "service control policies",
      status: "warn",
      detail: "not checked: AccessDeniedException: You don't have permissions to access this resource.",
      fix:
        "run avm doctor again with credentials of the management account (or of a delegated administrator for " +
        "Organizations policies), allowed organizations:ListRoots and organizations:ListPoliciesForTarget",
    });
  });
});
