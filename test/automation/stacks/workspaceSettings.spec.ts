import { expect } from "chai";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { AutomationConfigError } from "../../../automation/errors";
import { defaultRepoRoot, resolveWorkspaceSettings } from "../../../automation/stacks/workspaceSettings";

describe("resolveWorkspaceSettings", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), "avm-ws-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function resolveError(env: NodeJS.ProcessEnv): AutomationConfigError {
    try {
      resolveWorkspaceSettings(env, root);
    } catch (error) {
      expect(error).to.be.instanceOf(AutomationConfigError);
      return error as AutomationConfigError;
    }
    throw new Error("expected an AutomationConfigError");
  }

  it("defaults to a file backend under .avm/state (created) with the passphrase provider", () => {
    const settings = resolveWorkspaceSettings({ PULUMI_CONFIG_PASSPHRASE: "p", HOME: "/home/op" }, root);
    expect(settings).to.deep.equal({
      repoRoot: root,
      backendUrl: `file://${root}/.avm/state`,
      secretsProvider: "passphrase",
      sharedPulumiHome: settings.sharedPulumiHome,
      stackHomesDir: path.join(root, ".avm", "pulumi-home"),
    });
    expect(existsSync(path.join(root, ".avm", "state"))).to.equal(true);
    expect(Object.isFrozen(settings)).to.equal(true);
  });

  it("fails clearly without PULUMI_CONFIG_PASSPHRASE, naming the alternatives", () => {
    expect(resolveError({}).message).to.equal(
      "PULUMI_CONFIG_PASSPHRASE is not set: the passphrase secrets provider needs it to encrypt account stack secrets " +
        "(set it, or PULUMI_CONFIG_PASSPHRASE_FILE, or choose AVM_SECRETS_PROVIDER=awskms://<key>)",
    );
  });

  it("accepts PULUMI_CONFIG_PASSPHRASE_FILE instead of the passphrase", () => {
    expect(resolveWorkspaceSettings({ PULUMI_CONFIG_PASSPHRASE_FILE: "/run/secret" }, root).secretsProvider).to.equal(
      "passphrase",
    );
  });

  it("honours PULUMI_BACKEND_URL and PULUMI_HOME", () => {
    const settings = resolveWorkspaceSettings(
      { PULUMI_BACKEND_URL: "s3://state-bucket/avm", PULUMI_CONFIG_PASSPHRASE: "p", PULUMI_HOME: "/opt/pulumi" },
      root,
    );
    expect(settings.backendUrl).to.equal("s3://state-bucket/avm");
    expect(settings.sharedPulumiHome).to.equal("/opt/pulumi");
    expect(existsSync(path.join(root, ".avm", "state"))).to.equal(false);
  });

  it("uses the backend's own secrets provider on Pulumi Cloud without needing a passphrase", () => {
    const settings = resolveWorkspaceSettings({ PULUMI_BACKEND_URL: "https://api.pulumi.com" }, root);
    expect(settings.secretsProvider).to.equal(undefined);
  });

  it("accepts an awskms:// secrets provider without a passphrase", () => {
    const settings = resolveWorkspaceSettings(
      { AVM_SECRETS_PROVIDER: "awskms://alias/avm-stacks?region=eu-central-1" },
      root,
    );
    expect(settings.secretsProvider).to.equal("awskms://alias/avm-stacks?region=eu-central-1");
  });

  it("rejects an unknown secrets provider and a malformed backend URL", () => {
    expect(resolveError({ AVM_SECRETS_PROVIDER: "vault" }).message).to.equal(
      'AVM_SECRETS_PROVIDER must be "passphrase", "default" or "awskms://<key id or alias>", got "vault"',
    );
    expect(resolveError({ PULUMI_BACKEND_URL: "/tmp/state" }).message).to.equal(
      'PULUMI_BACKEND_URL must start with file://, s3://, azblob://, gs:// or https://, got "/tmp/state"',
    );
    expect(resolveError({ AVM_SECRETS_PROVIDER: "default", PULUMI_CONFIG_PASSPHRASE: "p" }).message).to.equal(
      `AVM_SECRETS_PROVIDER=default needs a Pulumi Cloud backend, but PULUMI_BACKEND_URL is "file://${root}/.avm/state"`,
    );
  });

  it("never puts the passphrase into the settings", () => {
    const settings = resolveWorkspaceSettings({ PULUMI_CONFIG_PASSPHRASE: "hunter2-passphrase" }, root);
    expect(JSON.stringify(settings)).to.not.include("hunter2-passphrase");
  });

  it("locates the repo root (the directory holding package.json and src/index.ts)", () => {
    expect(existsSync(path.join(defaultRepoRoot(), "package.json"))).to.equal(true);
    expect(existsSync(path.join(defaultRepoRoot(), "automation", "stacks"))).to.equal(true);
  });
});
