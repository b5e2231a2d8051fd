/**
 * Config round trip through the REAL engine: every writer of stack config (the README's `pulumi config set` lines,
 * LocalPulumiEngine, the exact pre-run commands the Pulumi Deployments runner sends) writes into a temporary file
 * backend, and the product's own `loadConfig()` reads it back inside an inline program. Types must survive (tag
 * values that look like numbers or booleans stay strings, numbers stay numbers, objects stay objects) and secrets stay
 * secret: neither the state file nor `Pulumi.<stack>.yaml` holds them in plain text.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, type PulumiFn } from "@pulumi/pulumi/automation";
import { DeploymentsAccountStackRunner } from "../../src/stacks/deploymentsRunner";
import type { PulumiCloudClient } from "../../src/stacks/pulumiCloudClient";
import { buildAccountStackConfig } from "../../automation/stacks/stackConfig";
import { LocalPulumiEngine } from "../../automation/stacks/localPulumiEngine";
import { resolveWorkspaceSettings } from "../../automation/stacks/workspaceSettings";
import { loadConfig } from "../../src/config";
import { PROJECT_NAME } from "../../src/shared/naming";
import {
  REPO_ROOT,
  TEST_PASSPHRASE,
  requireRealPulumi,
  shell,
  tempProject,
  type TempProject,
} from "../support/realPulumi";
import { HANG_GUARD_MS } from "../support/hangGuard";

const EXTERNAL_ID = "ext-Id-7f3a9c-round-trip";

/** Reads the stack config with the product's loadConfig and returns it as outputs (secrets stay secret outputs). */
const readBack: PulumiFn = async () => {
  const cfg = loadConfig();
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(cfg)) {
    if (value === undefined || pulumi.Output.isInstance(value)) continue;
    plain[key] = value;
  }
  return {
    config: plain,
    externalId: cfg.externalId ?? null,
    webhookSecret: cfg.kind === "platform" ? (cfg.webhookSecret ?? null) : null,
  };
};

/** The entries of `value` (an object) whose keys `expected` has: other settings added later keep their defaults. */
function picked(value: unknown, expected: Record<string, unknown>): Record<string, unknown> {
  const all = value as Record<string, unknown>;
  return Object.fromEntries(Object.keys(expected).map((key) => [key, all[key]]));
}

/** Runs `up` of the read-back program on `stackName` and returns its outputs. */
async function upReadBack(project: TempProject, stackName: string) {
  const stack = await LocalWorkspace.selectStack(
    { stackName, projectName: PROJECT_NAME, program: readBack },
    {
      workDir: project.workDir,
      pulumiHome: project.pulumiHome,
      envVars: { PULUMI_BACKEND_URL: project.backendUrl, PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE },
    },
  );
  return (await stack.up()).outputs;
}

/** Asserts that neither the stack's state nor its stack file holds `secret` in plain text. */
function expectNoPlainText(project: TempProject, stackName: string, secret: string): void {
  const files = [project.statePath(stackName), path.join(project.workDir, `Pulumi.${stackName}.yaml`)];
  for (const file of files) expect(readFileSync(file, "utf8"), file).to.not.include(secret);
}

/** The shell lines of the README's "Using it for real" code blocks that set up the stack `stackName`. */
function readmeLines(stackName: string): string[] {
  const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  const block = blocks.find((b) => b.includes(`pulumi stack init ${stackName}`));
  if (block === undefined) throw new Error(`README has no bash block with "pulumi stack init ${stackName}"`);
  return block
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => /^pulumi (stack init|config set)/.test(line));
}

describe("stack config round trip through the real engine", function () {
  this.timeout(HANG_GUARD_MS);
  let project: TempProject;

  before(function () {
    requireRealPulumi(this);
    project = tempProject("config");
  });

  after(() => project?.dispose());

  it("reads the README's platform stack lines back with their types (numbers stay numbers)", async () => {
    const lines = readmeLines("dev");
    expect(lines[0]).to.equal("pulumi stack init dev");
    // The stack file of the example platform stack is Pulumi.dev.yaml: start this one from an empty file.
    const result = shell(project, ["rm -f Pulumi.dev.yaml", ...lines].join(" && "), {
      WEBHOOK_SECRET: "a-webhook-secret-of-32-characters!",
    });
    expect(result.status, result.stderr).to.equal(0);
    const outputs = await upReadBack(project, "dev");
    const expected = {
      stackName: "dev",
      kind: "platform",
      region: "eu-central-1",
      managementAccountId: "111122223333",
      automationAccountId: "444455556666",
      accessRoleName: "MeshstackAccountAccessRole",
      samlProviderName: "meshstack-saml-idp",
      bootstrapRoleName: "OrganizationAccountAccessRole",
      organizationId: "o-exampleorg1",
      vendingRoleName: "AVMVendingRole",
      defaultOuId: "ou-ab12-cd34ef56",
      logRetentionDays: 30,
      maxConcurrentCreates: 3,
      pulumiOrganization: "example-org",
    };
    expect(picked(outputs.config?.value, expected)).to.deep.equal(expected);
    expect(outputs.webhookSecret).to.deep.equal({ value: "a-webhook-secret-of-32-characters!", secret: true });
    expectNoPlainText(project, "dev", "a-webhook-secret-of-32-characters!");
  });

  it("reads the README's account stack lines back: tag values stay strings, objects stay objects", async () => {
    const lines = readmeLines("account-222233334444");
    const result = shell(project, lines.join(" && "), { EXTERNAL_ID });
    expect(result.status, result.stderr).to.equal(0);
    const outputs = await upReadBack(project, "account-222233334444");
    const expected = {
      stackName: "account-222233334444",
      kind: "account",
      region: "eu-central-1",
      managementAccountId: "111122223333",
      automationAccountId: "444455556666",
      accessRoleName: "MeshstackAccountAccessRole",
      samlProviderName: "meshstack-saml-idp",
      bootstrapRoleName: "OrganizationAccountAccessRole",
      accountId: "222233334444",
      accountAlias: "acme-dev",
      tags: { CostCenter: "1234", Critical: "true", Owner: "team-a" },
    };
    expect(picked(outputs.config?.value, expected)).to.deep.equal(expected);
    expect(outputs.externalId).to.deep.equal({ value: EXTERNAL_ID, secret: true });
    expectNoPlainText(project, "account-222233334444", EXTERNAL_ID);
  });

  it("reads LocalPulumiEngine's config back: tag values that look like numbers or booleans stay strings", async () => {
    const settings = resolveWorkspaceSettings(
      {
        PULUMI_BACKEND_URL: project.backendUrl,
        PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE,
        PULUMI_HOME: project.pulumiHome,
      },
      project.workDir,
    );
    const engine = new LocalPulumiEngine(settings, { program: readBack, plugins: [] });
    const config = buildAccountStackConfig(
      { accountId: "555566667777", tags: { CostCenter: "2", Critical: "false", Ratio: "1.50", Code: "007" } },
      {
        managementAccountId: "111122223333",
        automationAccountId: "444455556666",
        region: "eu-central-1",
        externalId: EXTERNAL_ID,
      },
    );
    const saved = process.env.PULUMI_CONFIG_PASSPHRASE;
    process.env.PULUMI_CONFIG_PASSPHRASE = TEST_PASSPHRASE;
    try {
      await engine.ensureStack("account-555566667777");
      await engine.setConfig("account-555566667777", config);
      const result = await engine.up("account-555566667777");
      expect((result.outputs.config?.value as { tags: unknown }).tags).to.deep.equal({
        CostCenter: "2",
        Critical: "false",
        Ratio: "1.50",
        Code: "007",
      });
      expect(result.outputs.externalId).to.deep.equal({ value: EXTERNAL_ID, secret: true });
    } finally {
      if (saved === undefined) delete process.env.PULUMI_CONFIG_PASSPHRASE;
      else process.env.PULUMI_CONFIG_PASSPHRASE = saved;
    }
    expectNoPlainText(project, "account-555566667777", EXTERNAL_ID);
  });

  it("reads back what the Deployments runner's exact pre-run commands write", async () => {
    const runner = new DeploymentsAccountStackRunner({
      client: {} as PulumiCloudClient,
      // DIY backends know one organization, "organization"; the commands qualify the stack with it.
      organization: "organization",
      source: { repoUrl: "https://example.com/avm.git", branch: "main" },
      settings: {
        managementAccountId: "111122223333",
        automationAccountId: "444455556666",
        region: "eu-central-1",
        externalId: `-${EXTERNAL_ID}`,
      },
    });
    const stackName = "account-666677778888";
    const patch = runner.settingsPatch(
      stackName,
      buildAccountStackConfig(
        { accountId: "666677778888", tags: { CostCenter: "42", Enabled: "true" } },
        {
          managementAccountId: "111122223333",
          automationAccountId: "444455556666",
          region: "eu-central-1",
          externalId: `-${EXTERNAL_ID}`,
        },
      ),
    ) as {
      operationContext: { preRunCommands: string[]; environmentVariables: Record<string, { secret: string }> };
    };
    const env = Object.fromEntries(
      Object.entries(patch.operationContext.environmentVariables).map(([k, v]) => [k, v.secret]),
    );
    const init = shell(project, `pulumi stack init organization/${PROJECT_NAME}/${stackName}`);
    expect(init.status, init.stderr).to.equal(0);
    for (const command of patch.operationContext.preRunCommands) {
      const result = shell(project, command, env);
      expect(result.status, `${command}\n${result.stderr}`).to.equal(0);
    }
    const outputs = await upReadBack(project, stackName);
    expect((outputs.config?.value as { tags: unknown }).tags).to.deep.equal({ CostCenter: "42", Enabled: "true" });
    expect(outputs.externalId).to.deep.equal({ value: `-${EXTERNAL_ID}`, secret: true });
    expectNoPlainText(project, stackName, EXTERNAL_ID);
  });
});
