/**
 * Bad input through `avm` (a subprocess, as users run it) against the REAL pulumi CLI and a temporary file backend:
 * the real program up to the missing aws plugin, a wrong passphrase, a locked stack, an unknown stack and a missing
 * required setting. Each ends with ONE `avm: error:` line naming the problem, the README's exit code, and no state
 * file lost or truncated.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { avm, cliEnv } from "../automation/cli/subprocess";
import { REPO_ROOT, TEST_PASSPHRASE, requireRealPulumi, tempProject, type TempProject } from "../support/realPulumi";
import { HANG_GUARD_MS } from "../support/hangGuard";

const ACCOUNT = "777788889999";
const STACK = `account-${ACCOUNT}`;
const MANAGEMENT = ["--management-account-id", "111122223333"];

describe("avm against the real pulumi CLI: bad input gives one line and keeps the state", function () {
  this.timeout(HANG_GUARD_MS);
  let project: TempProject;
  let env: NodeJS.ProcessEnv;

  /** Files `avm` writes for a stack in the repo (the stack file and the stack's Pulumi home). */
  const cleanRepo = (): void => {
    rmSync(path.join(REPO_ROOT, `Pulumi.${STACK}.yaml`), { force: true });
    rmSync(path.join(REPO_ROOT, ".avm", "pulumi-home", STACK), { recursive: true, force: true });
  };
  const digest = (file: string): string => createHash("sha256").update(readFileSync(file)).digest("hex");

  before(function () {
    requireRealPulumi(this);
    project = tempProject("cli");
    cleanRepo();
    env = cliEnv({
      PULUMI_BACKEND_URL: project.backendUrl,
      PULUMI_HOME: project.pulumiHome,
      PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE,
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_SKIP_UPDATE_CHECK: "true",
    });
  });

  after(() => {
    project?.dispose();
    cleanRepo();
  });

  /** The single `avm: error:` line of a run's stderr (asserting there is exactly one line). */
  const errorLine = (stderr: string): string => {
    const lines = stderr.split("\n").filter((l) => l.startsWith("avm: error:"));
    expect(lines, stderr).to.have.length(1);
    expect(stderr, "no stack trace").to.not.match(/\n\s+at /);
    return lines[0] as string;
  };

  it("stops at the aws plugin install (no registry here) in one line, exit 1, before creating the stack", async () => {
    const { PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: _disabled, ...acquiring } = env;
    const result = await avm(["bootstrap", ACCOUNT, ...MANAGEMENT], { env: acquiring });
    expect(result.code, result.stderr).to.equal(1);
    expect(errorLine(result.stderr)).to.match(
      /^avm: error: plugin install \(workspace\) failed: .*failed to download plugin: aws-\d+\.\d+\.\d+/,
    );
    expect(existsSync(project.statePath(STACK))).to.equal(false);
  });

  it("runs the real program through `avm bootstrap` up to the missing aws plugin: exit 1, one line", async () => {
    const result = await avm(["bootstrap", ACCOUNT, ...MANAGEMENT], { env });
    expect(result.code, result.stderr).to.equal(1);
    expect(errorLine(result.stderr)).to.match(
      new RegExp(`^avm: error: up ${STACK} failed: .*no resource plugin 'pulumi-resource-aws' found`),
    );
    expect(existsSync(project.statePath(STACK))).to.equal(true);
  });

  it("reports a wrong passphrase in one line (exit 1) and leaves the state file as it was", async () => {
    const before = digest(project.statePath(STACK));
    const result = await avm(["bootstrap", ACCOUNT, ...MANAGEMENT], {
      env: { ...env, PULUMI_CONFIG_PASSPHRASE: "not-the-passphrase", AVM_EXTERNAL_ID: "ext-needs-encryption" },
    });
    expect(result.code, result.stderr).to.equal(1);
    expect(errorLine(result.stderr)).to.match(/incorrect passphrase/);
    expect(result.stderr).to.not.include("not-the-passphrase");
    expect(result.stderr).to.not.include("ext-needs-encryption");
    expect(digest(project.statePath(STACK))).to.equal(before);
  });

  it("reports a locked stack in one line (exit 1) after waiting, and leaves state and lock alone", async () => {
    const lockDir = path.join(project.backendDir, ".pulumi", "locks", "organization", "meshstack-avm", STACK);
    mkdirSync(lockDir, { recursive: true });
    const lock = path.join(lockDir, "00000000-0000-4000-8000-000000000000.json");
    writeFileSync(
      lock,
      JSON.stringify({ pid: 4242, username: "operator", hostname: "elsewhere", timestamp: new Date().toISOString() }),
    );
    const before = digest(project.statePath(STACK));
    try {
      const result = await avm(["bootstrap", ACCOUNT, ...MANAGEMENT], { env });
      expect(result.code, result.stderr).to.equal(1);
      expect(errorLine(result.stderr)).to.match(
        new RegExp(
          `^avm: error: up ${STACK}: stack still busy after 5 attempts: .*the stack is currently locked by 1 lock\\(s\\)`,
        ),
      );
      expect(digest(project.statePath(STACK))).to.equal(before);
      expect(existsSync(lock)).to.equal(true);
    } finally {
      rmSync(lock, { force: true });
    }
  });

  it("reports an unknown stack in one line (exit 1, not-found in --json)", async () => {
    const result = await avm(["outputs", "999988887777", ...MANAGEMENT, "--json"], { env });
    expect(result.code, result.stderr).to.equal(1);
    expect(errorLine(result.stderr)).to.equal(
      "avm: error: outputs account-999988887777: stack not found in the backend",
    );
    expect(JSON.parse(result.stdout)).to.deep.equal({
      error: {
        code: "not-found",
        message: "outputs account-999988887777: stack not found in the backend",
        exitCode: 1,
      },
    });
  });

  it("reports a missing required setting in one line (exit 2) before touching any stack", async () => {
    const fresh = "888899990000";
    const result = await avm(["bootstrap", fresh], { env });
    expect(result.code, result.stderr).to.equal(2);
    expect(errorLine(result.stderr)).to.equal(
      "avm: error: --management-account-id (or AVM_MANAGEMENT_ACCOUNT_ID) is required: the account stack's access role trusts that account's meshfed-service user",
    );
    expect(existsSync(project.statePath(`account-${fresh}`))).to.equal(false);
    expect(existsSync(path.join(REPO_ROOT, `Pulumi.account-${fresh}.yaml`))).to.equal(false);
  });
});
