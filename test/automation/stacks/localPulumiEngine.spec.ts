/**
 * Drives the REAL LocalWorkspace (the `pulumi` CLI) through LocalPulumiEngine and AccountStacks, with a
 * temporary file backend and a tiny local program that only echoes its config (no cloud resources).
 * Runs only where a `pulumi` binary is on PATH; elsewhere the whole suite is skipped, visibly, with the reason.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { AccountStackNotFoundError } from "../../../automation/errors";
import { AccountStacks } from "../../../automation/stacks/accountStacks";
import { LocalPulumiEngine } from "../../../automation/stacks/localPulumiEngine";
import { defaultRepoRoot, resolveWorkspaceSettings } from "../../../automation/stacks/workspaceSettings";

function pulumiOnPath(): boolean {
  return spawnSync("pulumi", ["version"], { stdio: "ignore" }).status === 0;
}

describe("LocalPulumiEngine against the real pulumi CLI", function () {
  this.timeout(180_000);
  let root: string;
  let stacks: AccountStacks;
  let savedPassphrase: string | undefined;

  before(function () {
    if (!pulumiOnPath()) {
      console.log("      (skipped: pulumi CLI not on PATH; this suite needs a pulumi binary)");
      this.skip();
    }
    root = mkdtempSync(path.join(tmpdir(), "avm-real-lw-"));
    const project = path.join(root, "project");
    mkdirSync(project);
    writeFileSync(
      path.join(project, "Pulumi.yaml"),
      "name: meshstack-avm\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n",
    );
    writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "echo", main: "index.js" }));
    writeFileSync(
      path.join(project, "index.js"),
      'const pulumi = require("@pulumi/pulumi");\n' +
        'const c = new pulumi.Config("meshstack-avm");\n' +
        'exports.accountId = c.require("accountId");\n' +
        'exports.tags = c.requireObject("tags");\n' +
        'exports.externalId = c.getSecret("externalId");\n',
    );
    symlinkSync(path.join(defaultRepoRoot(), "node_modules"), path.join(project, "node_modules"));
    const settings = resolveWorkspaceSettings(
      { PULUMI_CONFIG_PASSPHRASE: "test-passphrase", PULUMI_HOME: path.join(root, "home") },
      project,
    );
    savedPassphrase = process.env.PULUMI_CONFIG_PASSPHRASE;
    process.env.PULUMI_CONFIG_PASSPHRASE = "test-passphrase";
    stacks = new AccountStacks({
      engine: new LocalPulumiEngine(settings),
      settings: {
        managementAccountId: "111122223333",
        automationAccountId: "444455556666",
        region: "eu-central-1",
        externalId: "ext-1",
      },
    });
  });

  after(() => {
    if (root) rmSync(root, { recursive: true, force: true });
    if (savedPassphrase === undefined) delete process.env.PULUMI_CONFIG_PASSPHRASE;
    else process.env.PULUMI_CONFIG_PASSPHRASE = savedPassphrase;
  });

  it("deploys three account stacks in parallel and reads their outputs back", async () => {
    const ids = ["100000000001", "100000000002", "100000000003"];
    const outcomes = await stacks.deployMany(
      ids.map((accountId) => ({ accountId, tags: { CostCenter: accountId.slice(-1) } })),
      { concurrency: 3 },
    );
    expect(outcomes.map((o) => o.ok)).to.deep.equal([true, true, true]);
    const outputs = await stacks.outputs("100000000002");
    expect(outputs.accountId).to.deep.equal({ value: "100000000002", secret: false });
    expect(outputs.tags).to.deep.equal({ value: { CostCenter: "2" }, secret: false });
    expect(outputs.externalId?.secret).to.equal(true);
    expect((await stacks.list()).map((s) => s.stackName)).to.deep.equal(ids.map((id) => `account-${id}`));
  });

  it("previews no changes on a second run", async () => {
    const result = await stacks.preview({ accountId: "100000000001", tags: { CostCenter: "1" } });
    expect(result.changeSummary).to.deep.equal({ same: 1 });
  });

  it("destroys a stack and removes it from the backend", async () => {
    await stacks.destroy("100000000003");
    expect((await stacks.list()).map((s) => s.accountId)).to.deep.equal(["100000000001", "100000000002"]);
    let error: unknown;
    try {
      await stacks.outputs("100000000003");
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(AccountStackNotFoundError);
  });
});
