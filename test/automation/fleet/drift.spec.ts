/**
 * `avm fleet drift` with the recording fake engine: exit codes 0/3/1, the per-resource summary, `--remediate` as a
 * rollout of exactly the drifted stacks; and the event-to-drift mapping of a refresh preview.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import type { CliDeps } from "../../../automation/cli/main";
import { AccountStacks } from "../../../automation/stacks/accountStacks";
import { driftedResources, type ResourceDrift } from "../../../automation/stacks/resourceDrift";
import { RecordingEngine } from "../../support/recordingEngine";
import { RecordingTiming } from "../../support/recordingTiming";
import { AUTOMATION, MANAGEMENT, STACK_FLAGS, accountIds, fakeOrganizations, runAvm } from "./fleetFixture";
import { HANG_GUARD_MS } from "../../support/hangGuard";

const EXTRA_POLICY: ResourceDrift = {
  urn: "urn:pulumi:account::meshstack-avm::avm:access:AccountAccessRole$aws:iam/rolePoliciesExclusive:RolePoliciesExclusive::access-role-inline-policies",
  type: "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive",
  name: "access-role-inline-policies",
  change: "update",
  properties: ["policyNames"],
};

describe("avm fleet drift (recording engine)", function () {
  this.timeout(HANG_GUARD_MS);
  let dir: string;
  let engine: RecordingEngine;
  let deps: Partial<CliDeps>;
  const ids = accountIds(10);

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-drift-"));
    engine = new RecordingEngine();
    engine.stampUp = true;
    engine.outputLines = [];
    const stacks = new AccountStacks({
      engine,
      settings: { managementAccountId: MANAGEMENT, automationAccountId: AUTOMATION, region: "us-east-1" },
      timing: new RecordingTiming(),
    });
    for (const id of ids) await stacks.deploy({ accountId: id });
    engine.calls.length = 0;
    deps = {
      organizationsClient: () => fakeOrganizations(ids),
      pulumiEngine: async () => engine,
      hasPulumiCli: () => true,
      timing: new RecordingTiming(),
    };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const drift = (...args: string[]) =>
    runAvm(["--ledger", ":memory:", "fleet", "drift", ...STACK_FLAGS, ...args], deps, { cwd: dir });
  const ups = () => engine.calls.filter((c) => c.method === "up").map((c) => c.stackName);

  it("exits 0 when no stack drifted, after one refresh preview per stack and no update", async () => {
    const result = await drift("--json");
    expect(result.code, result.stderr).to.equal(0);
    expect(JSON.parse(result.stdout).counts).to.deep.equal({ checked: 10, drifted: 0, errors: 0 });
    expect(engine.calls.filter((c) => c.method === "previewRefresh")).to.have.length(10);
    expect(ups()).to.deep.equal([]);
  });

  it("exits 3 and names each drifted resource and property", async () => {
    engine.drift.set(`account-${ids[2]}`, [EXTRA_POLICY]);
    engine.drift.set(`account-${ids[6]}`, [
      {
        ...EXTRA_POLICY,
        urn: `${EXTRA_POLICY.urn}-x`,
        type: "aws:iam/role:Role",
        name: "access-role-role",
        change: "delete",
        properties: [],
      },
    ]);
    const result = await drift();
    expect(result.code, result.stderr).to.equal(3);
    expect(result.stdout).to.equal(
      [
        `account-${ids[2]}: drift in 1 resource(s)`,
        "  ~ changed aws:iam/rolePoliciesExclusive:RolePoliciesExclusive access-role-inline-policies: policyNames",
        `account-${ids[6]}: drift in 1 resource(s)`,
        "  - deleted aws:iam/role:Role access-role-role",
        "10 stack(s) checked: 2 drifted, 0 not checked",
        "",
      ].join("\n"),
    );
    const json = JSON.parse((await drift("--json")).stdout);
    expect(json.accounts.find((a: { accountId: string }) => a.accountId === ids[2])).to.deep.equal({
      accountId: ids[2],
      stackName: `account-${ids[2]}`,
      drift: "drift",
      resources: [EXTRA_POLICY],
      detail: null,
      error: null,
    });
    expect(ups()).to.deep.equal([]);
  });

  it("exits 1 when a stack cannot be checked", async () => {
    engine.drift.set(`account-${ids[2]}`, [EXTRA_POLICY]);
    engine.failNext("previewRefresh", () => new Error("AccessDenied: sts:AssumeRole"), 1, `account-${ids[4]}`);
    const result = await drift("--json");
    expect(result.code).to.equal(1);
    const json = JSON.parse(result.stdout);
    expect(json.counts).to.deep.equal({ checked: 10, drifted: 1, errors: 1 });
    expect(json.accounts.find((a: { accountId: string }) => a.accountId === ids[4]).drift).to.equal("error");
  });

  it("remediates exactly the drifted stacks as a rollout, after which no drift is left", async () => {
    engine.drift.set(`account-${ids[2]}`, [EXTRA_POLICY]);
    engine.drift.set(`account-${ids[6]}`, [EXTRA_POLICY]);
    const dry = await drift("--remediate", "--dry-run", "--json");
    expect(dry.code).to.equal(3);
    expect(ups()).to.deep.equal([]);
    const result = await drift("--remediate", "--json");
    expect(result.code, result.stderr).to.equal(0);
    const json = JSON.parse(result.stdout);
    expect(json.remediation).to.deep.include({ status: "completed", counts: { done: 2, failed: 0, pending: 0 } });
    expect(json.remediation.policy).to.deep.equal({
      canary: 1,
      concurrency: 4,
      maxFailurePercent: 10,
      mode: "local",
      refresh: true,
    });
    expect(ups().sort()).to.deep.equal([`account-${ids[2]}`, `account-${ids[6]}`]);
    expect((await drift()).code).to.equal(0);
  });

  it("halts the remediation on a canary failure (exit 1)", async () => {
    engine.drift.set(`account-${ids[2]}`, [EXTRA_POLICY]);
    engine.drift.set(`account-${ids[6]}`, [EXTRA_POLICY]);
    engine.failNext("up", () => new Error("SCP denies iam:PutRolePolicy"), 1, `account-${ids[2]}`);
    const result = await drift("--remediate", "--json");
    expect(result.code).to.equal(1);
    const json = JSON.parse(result.stdout);
    expect(json.remediation.status).to.equal("halted");
    expect(json.remediation.haltReason).to.equal(`canary failed (${ids[2]}): no wave account was started`);
    expect(ups()).to.deep.equal([`account-${ids[2]}`]);
  });
});

describe("driftedResources", () => {
  const meta = (op: string, extra: Record<string, unknown>) =>
    ({
      sequence: 1,
      timestamp: 1,
      resOutputsEvent: {
        metadata: { op, urn: "urn:pulumi:s::p::t:m:R::name", type: "t:m:R", provider: "", ...extra },
      },
    }) as unknown as EngineEvent;

  it("keeps changed and deleted resources with their top-level properties, drops same, providers and the stack", () => {
    expect(
      driftedResources([
        meta("same", {}),
        meta("refresh", { old: { outputs: { a: 1, b: [1] } }, new: { outputs: { a: 1, b: [1, 2] } } }),
        {
          sequence: 2,
          timestamp: 2,
          resOutputsEvent: {
            metadata: {
              op: "update",
              urn: "urn:pulumi:s::p::pulumi:providers:aws::default",
              type: "pulumi:providers:aws",
              provider: "",
              diffs: ["region"],
            },
          },
        } as unknown as EngineEvent,
      ]),
    ).to.deep.equal([
      { urn: "urn:pulumi:s::p::t:m:R::name", type: "t:m:R", name: "name", change: "update", properties: ["b"] },
    ]);
    expect(driftedResources([meta("update", { diffs: ["tags.Owner", "policy"] })])[0]?.properties).to.deep.equal([
      "policy",
      "tags",
    ]);
    expect(driftedResources([meta("refresh", { old: { outputs: { a: 1 } } })])[0]?.change).to.equal("delete");
  });
});
