/**
 * The REAL program (`avmProgram()`, what `src/index.ts` runs under `pulumi up`) run by the real engine as an inline
 * Automation API program with the project's own `Pulumi.yaml`, for both stack kinds. Config validation must pass and
 * the program must run; the only error allowed is the engine asking for the `aws` provider plugin, which cannot be
 * had in this workplace (automatic plugin download is switched off so the answer comes at once).
 */
import { expect } from "chai";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { avmInlineProgram } from "../../automation/stacks/avmInlineProgram";
import { PROJECT_NAME } from "../../src/shared/naming";
import { requireRealPulumi, tempProject, type TempProject } from "../support/realPulumi";
import { HANG_GUARD_MS } from "../support/hangGuard";

/** The engine's message when the aws plugin is missing, e.g. `no resource plugin 'pulumi-resource-aws' found`. */
const AWS_PLUGIN_MISSING = /no resource plugin 'pulumi-resource-aws' found/;

/** Runs `operation` and returns the engine's full error text (stdout and stderr), failing when it succeeds. */
async function engineFailure(operation: () => Promise<unknown>): Promise<string> {
  try {
    await operation();
  } catch (error) {
    const e = error as { message?: string; commandResult?: { stdout?: string; stderr?: string } };
    return [e.message ?? "", e.commandResult?.stdout ?? "", e.commandResult?.stderr ?? ""].join("\n");
  }
  throw new Error("the engine operation succeeded, but no aws plugin can exist here");
}

/** The `error:` lines of an engine transcript. */
function errorLines(text: string): string[] {
  return [
    ...new Set(
      text
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => /^error:/i.test(l)),
    ),
  ];
}

describe("the real program through the real engine (inline, project Pulumi.yaml)", function () {
  this.timeout(HANG_GUARD_MS);
  let project: TempProject;

  before(function () {
    requireRealPulumi(this);
    project = tempProject("program");
  });

  after(() => project?.dispose());

  async function stack(stackName: string): Promise<Stack> {
    return LocalWorkspace.createOrSelectStack(
      { stackName, projectName: PROJECT_NAME, program: avmInlineProgram },
      {
        workDir: project.workDir,
        pulumiHome: project.pulumiHome,
        secretsProvider: "passphrase",
        envVars: {
          PULUMI_BACKEND_URL: project.backendUrl,
          PULUMI_CONFIG_PASSPHRASE: project.env.PULUMI_CONFIG_PASSPHRASE as string,
          PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
          PULUMI_SKIP_UPDATE_CHECK: "true",
        },
      },
    );
  }

  it("runs an account stack with only its required keys up to the aws plugin", async () => {
    const s = await stack("account-222233334444");
    await s.setAllConfig({
      "aws:region": { value: "eu-central-1" },
      "meshstack-avm:managementAccountId": { value: "111122223333" },
      "meshstack-avm:automationAccountId": { value: "444455556666" },
      "meshstack-avm:accountId": { value: "222233334444" },
    });
    for (const op of [() => s.preview(), () => s.up()]) {
      const text = await engineFailure(op);
      expect(text).to.not.match(/missing configuration values|validating stack config/);
      expect(text).to.match(AWS_PLUGIN_MISSING);
      for (const line of errorLines(text)) expect(line).to.match(/pulumi-resource-aws|aws/);
    }
  });

  it("runs the platform stack of Pulumi.dev.yaml (unchanged) up to the aws plugin", async () => {
    const s = await stack("dev");
    const text = await engineFailure(() => s.preview());
    expect(text).to.not.match(/missing configuration values|validating stack config/);
    expect(text).to.match(AWS_PLUGIN_MISSING);
    for (const line of errorLines(text)) expect(line).to.match(/pulumi-resource-aws|aws/);
  });

  it("stops at the program's own config validation, naming the key, before any provider", async () => {
    const s = await stack("account-333344445555");
    await s.setAllConfig({
      "aws:region": { value: "eu-central-1" },
      "meshstack-avm:managementAccountId": { value: "111122223333" },
      "meshstack-avm:automationAccountId": { value: "444455556666" },
      "meshstack-avm:accountId": { value: "999999999999" },
    });
    const text = await engineFailure(() => s.preview());
    expect(text).to.include(
      'meshstack-avm:accountId must equal the account id in the stack name "account-333344445555" ("333344445555"), got "999999999999"',
    );
    expect(text).to.not.match(AWS_PLUGIN_MISSING);
  });

  it("lets the engine name a missing required key (declared without default in Pulumi.yaml)", async () => {
    const s = await stack("account-444455556666");
    await s.setAllConfig({
      "aws:region": { value: "eu-central-1" },
      "meshstack-avm:automationAccountId": { value: "444455556666" },
      "meshstack-avm:accountId": { value: "444455556666" },
    });
    const text = await engineFailure(() => s.preview());
    expect(text).to.include("Stack 'account-444455556666' is missing configuration value 'managementAccountId'");
  });
});
