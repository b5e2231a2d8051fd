/**
 * The account stack config the CLI checks before every account stack (with the program's own `parseConfig`) costs
 * no Pulumi SDK load unless a secret value (the external id) is set. In a child process, whose module cache is its own.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { REPO } from "../cli/subprocess";
import { HANG_GUARD_MS } from "../../support/hangGuard";

function check(settings: Record<string, string>): { config: Record<string, unknown>; sdkLoaded: boolean } {
  const script =
    `const { buildAccountStackConfig } = require("./automation/stacks/stackConfig");` +
    `const { classifyEngineError } = require("./automation/errors");` +
    `const config = buildAccountStackConfig({ accountId: "222233334444", tags: { CostCenter: "1" } }, ${JSON.stringify(settings)});` +
    `classifyEngineError(new Error("boom"), "account-222233334444", "up");` +
    `const sdkLoaded = Object.keys(require.cache).some((f) => f.includes("/@pulumi/pulumi/index.js"));` +
    `process.stdout.write(JSON.stringify({ config, sdkLoaded }));`;
  const child = spawnSync(process.execPath, ["--import", "tsx", "-e", script], {
    cwd: REPO,
    encoding: "utf8",
    timeout: HANG_GUARD_MS / 2,
  });
  if (child.status !== 0) throw new Error(child.stderr);
  return JSON.parse(child.stdout) as { config: Record<string, unknown>; sdkLoaded: boolean };
}

describe("account stack config check (automation/stacks/stackConfig.ts)", function () {
  this.timeout(HANG_GUARD_MS);
  const settings = { managementAccountId: "111122223333", automationAccountId: "444455556666", region: "eu-central-1" };

  it("validates without loading the Pulumi SDK when no secret value is set", () => {
    const { config, sdkLoaded } = check(settings);
    expect(sdkLoaded).to.equal(false);
    expect(config).to.deep.equal({
      "aws:region": { value: "eu-central-1" },
      "meshstack-avm:stackKind": { value: "account" },
      "meshstack-avm:accountId": { value: "222233334444" },
      "meshstack-avm:managementAccountId": { value: "111122223333" },
      "meshstack-avm:automationAccountId": { value: "444455556666" },
      "meshstack-avm:tags": { value: { CostCenter: "1" } },
    });
  });

  it("loads the SDK to wrap the external id as a secret", () => {
    expect(check({ ...settings, externalId: "ext-123" }).sdkLoaded).to.equal(true);
  });
});
