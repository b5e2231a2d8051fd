/**
 * The product's own engine code (AccountStacks + LocalPulumiEngine) against the REAL pulumi CLI with a temporary
 * file backend. The account program would need the aws provider plugin, which cannot be had here, so an inline
 * stand-in program takes its place: it reads the stack config through the product's own `loadConfig()` (so the
 * config the engine writes is validated exactly as `pulumi up` would) and registers one component resource.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { expect } from "chai";
import { readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { AccountStackNotFoundError } from "../../automation/errors";
import { AccountStacks } from "../../automation/stacks/accountStacks";
import { LocalPulumiEngine } from "../../automation/stacks/localPulumiEngine";
import { resolveWorkspaceSettings } from "../../automation/stacks/workspaceSettings";
import { loadConfig } from "../../src/config";
import { HANG_GUARD_MS } from "../support/hangGuard";
import { TEST_PASSPHRASE, requireRealPulumi, tempProject, type TempProject } from "../support/realPulumi";

/** Stands in for the account program: the product's config reader plus one resource and the product's outputs. */
export const accountStandIn: PulumiFn = async () => {
  const cfg = loadConfig();
  if (cfg.kind !== "account") throw new Error(`stand-in expects an account stack, got ${cfg.kind}`);
  const role = new pulumi.ComponentResource("avm:test:AccessRoleStandIn", "access-role", {});
  const arn = `arn:aws:iam::${cfg.accountId}:role/${cfg.accessRoleName}`;
  return {
    stackKind: cfg.kind,
    accessRoleArn: pulumi.output(role.urn).apply(() => arn),
    accessRoleName: cfg.accessRoleName,
    tags: cfg.tags,
    externalId: cfg.externalId,
  };
};

const SETTINGS = {
  managementAccountId: "111122223333",
  automationAccountId: "444455556666",
  region: "eu-central-1",
  externalId: "-ext-id-that-starts-with-a-dash",
};

describe("AccountStacks + LocalPulumiEngine against the real pulumi CLI", function () {
  this.timeout(HANG_GUARD_MS);
  let project: TempProject;
  let stacks: AccountStacks;
  let engine: LocalPulumiEngine;
  let homes: string;
  let savedPassphrase: string | undefined;

  before(function () {
    requireRealPulumi(this);
    project = tempProject("stacks");
    savedPassphrase = process.env.PULUMI_CONFIG_PASSPHRASE;
    process.env.PULUMI_CONFIG_PASSPHRASE = TEST_PASSPHRASE;
    const settings = resolveWorkspaceSettings(
      {
        PULUMI_BACKEND_URL: project.backendUrl,
        PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE,
        PULUMI_HOME: project.pulumiHome,
      },
      project.workDir,
    );
    homes = settings.stackHomesDir;
    engine = new LocalPulumiEngine(settings, { program: accountStandIn, plugins: [] });
    stacks = new AccountStacks({
      engine,
      settings: SETTINGS,
      busyBaseDelayMs: 250,
      busyMaxDelayMs: 2000,
      busyAttempts: 40,
    });
  });

  after(() => {
    project?.dispose();
    if (savedPassphrase === undefined) delete process.env.PULUMI_CONFIG_PASSPHRASE;
    else process.env.PULUMI_CONFIG_PASSPHRASE = savedPassphrase;
  });

  const ids = Array.from({ length: 10 }, (_, i) => `1000000000${String(i).padStart(2, "0")}`);

  it("deploys 10 account stacks in parallel from one process, each with its own outputs", async () => {
    const outcomes = await stacks.deployMany(
      ids.map((accountId) => ({ accountId, tags: { CostCenter: accountId.slice(-2), Critical: "true" } })),
      { concurrency: 10 },
    );
    expect(outcomes.map((o) => [o.accountId, o.ok, o.ok ? o.result.summary : o.error.message])).to.deep.equal(
      ids.map((id) => [id, true, "up: 2 create"]),
    );
    for (const id of ids) {
      const outputs = await stacks.outputs(id);
      expect(outputs.accessRoleArn).to.deep.equal({
        value: `arn:aws:iam::${id}:role/MeshstackAccountAccessRole`,
        secret: false,
      });
      // Tag values that look like numbers or booleans stay strings through the real engine.
      expect(outputs.tags).to.deep.equal({ value: { CostCenter: id.slice(-2), Critical: "true" }, secret: false });
      expect(outputs.externalId).to.deep.equal({ value: SETTINGS.externalId, secret: true });
    }
  });

  it("keeps every stack's workspace and current-stack file intact after the parallel run", () => {
    for (const id of ids) {
      const dir = path.join(homes, `account-${id}`, "workspaces");
      const files = readdirSync(dir);
      expect(files.length, dir).to.equal(1);
      // The CLI keeps the selected stack per backend URL (`stacks`); older CLIs wrote one `stack`.
      const workspace = JSON.parse(readFileSync(path.join(dir, files[0] as string), "utf8")) as {
        stack?: string;
        stacks?: Record<string, string>;
      };
      const selected = (workspace.stacks === undefined ? [workspace.stack] : Object.values(workspace.stacks)).map(
        (name) => name?.split("/").pop(), // DIY backends qualify it: organization/meshstack-avm/account-<id>
      );
      expect(selected, JSON.stringify(workspace)).to.deep.equal([`account-${id}`]);
    }
  });

  it("lists exactly the account stacks", async () => {
    expect((await stacks.list()).map((s) => [s.stackName, s.updateInProgress])).to.deep.equal(
      ids.map((id) => [`account-${id}`, false]),
    );
  });

  it("runs two concurrent updates of ONE stack: one retries on the ConcurrentUpdateError path, neither fails", async () => {
    const target = { accountId: ids[0] as string, tags: { CostCenter: "changed" } };
    const [a, b] = await Promise.all([stacks.deploy(target), stacks.deploy(target)]);
    expect([a.stackName, b.stackName]).to.deep.equal([`account-${ids[0]}`, `account-${ids[0]}`]);
    const outputs = await stacks.outputs(ids[0] as string);
    expect(outputs.tags).to.deep.equal({ value: { CostCenter: "changed" }, secret: false });
  });

  it("refreshes an unchanged stack: nothing changes", async () => {
    const refresh = await stacks.refresh(ids[1] as string);
    expect(refresh.summary).to.equal("refresh: 2 same");
    expect(refresh.outputs.accessRoleName).to.deep.equal({ value: "MeshstackAccountAccessRole", secret: false });
  });

  it("removes config keys dropped from the settings: the next up reads the defaults, not stale values", async () => {
    const target = { accountId: ids[2] as string, tags: { CostCenter: "02" } };
    const custom = new AccountStacks({ engine, settings: { ...SETTINGS, accessRoleName: "CustomAccessRole" } });
    await custom.deploy(target);
    expect((await stacks.outputs(ids[2] as string)).accessRoleName?.value).to.equal("CustomAccessRole");
    const { externalId: _dropped, ...withoutExternalId } = SETTINGS;
    await new AccountStacks({ engine, settings: withoutExternalId }).deploy({ accountId: ids[2] as string });
    const outputs = await stacks.outputs(ids[2] as string);
    expect([outputs.accessRoleName, outputs.externalId, outputs.tags]).to.deep.equal([
      { value: "MeshstackAccountAccessRole", secret: false },
      undefined,
      { value: {}, secret: false },
    ]);
  });

  it("reports a stack that is not in the backend as AccountStackNotFoundError", async () => {
    const missing = "999999999999";
    expect((await stacks.list()).map((s) => s.accountId)).not.to.include(missing);
    let error: unknown;
    try {
      await stacks.outputs(missing);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(AccountStackNotFoundError);
    expect((error as Error).message).to.equal(`outputs account-${missing}: stack not found in the backend`);
  });
});
