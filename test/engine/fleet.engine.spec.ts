/**
 * Fleet verbs against the REAL pulumi CLI (inline programs, temporary file backend): `avm fleet status`, `rollout`
 * and `drift` driven through the CLI in-process on a {@link LocalPulumiEngine}. The account program needs the aws
 * provider plugin, which cannot be had here, so an inline stand-in takes its place: it reads the stack config with
 * the product's `loadConfig()`, exports the product's own `avmDeployment` stamp (`deploymentStamp` of
 * src/program.ts) and declares the access role as a dynamic-provider resource whose real state is a file (its
 * `read` reads the file), so a change made to the file out of band is drift the real engine finds on refresh.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import type { CliDeps } from "../../automation/cli/main";
import { LocalPulumiEngine } from "../../automation/stacks/localPulumiEngine";
import { resolveWorkspaceSettings } from "../../automation/stacks/workspaceSettings";
import { loadConfig } from "../../src/config";
import { deploymentStamp } from "../../src/program";
import { HANG_GUARD_MS } from "../support/hangGuard";
import { REPO_ROOT, TEST_PASSPHRASE, requireRealPulumi, tempProject, type TempProject } from "../support/realPulumi";
import { RecordingTiming } from "../support/recordingTiming";
import {
  AUTOMATION,
  MANAGEMENT,
  STACK_FLAGS,
  accountIds,
  fakeOrganizations,
  runAvm,
} from "../automation/fleet/fleetFixture";
import { AccountStacks } from "../../automation/stacks/accountStacks";

/** Where the stand-in's "access roles" live: one JSON file per account (set by the suite). */
const ROLE_DIR_ENV = "AVM_TEST_ROLE_DIR";

/** The access role as a file: create writes it, read reads it back (the cloud's truth), delete removes it. */
const fileRoleProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    const fs = await import("node:fs");
    fs.writeFileSync(inputs.file, JSON.stringify({ roleName: inputs.roleName, policies: ["permissions"] }));
    return { id: inputs.file, outs: { ...inputs, policies: ["permissions"] } };
  },
  async read(id, props) {
    const fs = await import("node:fs");
    const state = JSON.parse(fs.readFileSync(id, "utf8")) as { roleName: string; policies: string[] };
    return { id, props: { ...props, roleName: state.roleName, policies: state.policies } };
  },
  async diff(_id, olds, news) {
    const changes =
      olds.roleName !== news.roleName || JSON.stringify(olds.policies) !== JSON.stringify(["permissions"]);
    return { changes };
  },
  async update(_id, _olds, news) {
    const fs = await import("node:fs");
    fs.writeFileSync(news.file, JSON.stringify({ roleName: news.roleName, policies: ["permissions"] }));
    return { outs: { ...news, policies: ["permissions"] } };
  },
  async delete(id) {
    const fs = await import("node:fs");
    fs.rmSync(id, { force: true });
  },
};

class FileRole extends pulumi.dynamic.Resource {
  constructor(name: string, args: { file: string; roleName: string }, opts?: pulumi.CustomResourceOptions) {
    super(fileRoleProvider, name, { ...args, policies: undefined }, opts);
  }
}

const standIn: PulumiFn = async () => {
  const cfg = loadConfig();
  if (cfg.kind !== "account") throw new Error(`stand-in expects an account stack, got ${cfg.kind}`);
  const dir = process.env[ROLE_DIR_ENV] as string;
  const role = new FileRole("access-role", {
    file: path.join(dir, `${cfg.accountId}.json`),
    roleName: cfg.accessRoleName,
  });
  return {
    stackKind: cfg.kind,
    accessRoleName: role.id.apply(() => cfg.accessRoleName),
    avmDeployment: deploymentStamp(cfg),
  };
};

describe("avm fleet status, rollout and drift against the real pulumi CLI", function () {
  this.timeout(HANG_GUARD_MS);
  let project: TempProject;
  let engine: LocalPulumiEngine;
  let deps: Partial<CliDeps>;
  let roles: string;
  const saved: Record<string, string | undefined> = {};
  const ids = accountIds(20);

  before(function () {
    requireRealPulumi(this);
    project = tempProject("fleet");
    roles = path.join(project.workDir, "roles");
    mkdirSync(roles);
    // The dynamic-provider shim resolves @pulumi/pulumi from the project directory (`node -e require.resolve(...)`).
    symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(project.workDir, "node_modules"));
    for (const [key, value] of Object.entries({ PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE, [ROLE_DIR_ENV]: roles })) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
    engine = new LocalPulumiEngine(
      resolveWorkspaceSettings(
        {
          PULUMI_BACKEND_URL: project.backendUrl,
          PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE,
          PULUMI_HOME: project.pulumiHome,
        },
        project.workDir,
      ),
      { program: standIn, plugins: [] },
    );
    deps = {
      organizationsClient: () => fakeOrganizations(ids),
      pulumiEngine: async () => engine,
      hasPulumiCli: () => true,
      timing: new RecordingTiming(),
    };
  });

  after(() => {
    project?.dispose();
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  const avm = (verb: string, ...args: string[]) =>
    runAvm(["--ledger", ":memory:", "--json", "fleet", verb, ...STACK_FLAGS, ...args], deps, {
      cwd: project.workDir,
    });

  it("rolls 20 stacks out (canary, then 4 at a time), after which status shows all 20 current", async () => {
    // The stacks exist, deployed with an older access role name: outdated by their config digest.
    const old = new AccountStacks({
      engine,
      settings: {
        managementAccountId: MANAGEMENT,
        automationAccountId: AUTOMATION,
        region: "us-east-1",
        accessRoleName: "OldAccessRole",
      },
    });
    const created = await old.deployMany(
      ids.map((accountId) => ({ accountId })),
      { concurrency: 10 },
    );
    expect(created.filter((o) => !o.ok).map((o) => (o.ok ? "" : o.error.message))).to.deep.equal([]);
    const before = JSON.parse((await avm("status")).stdout);
    expect(before.totals).to.deep.equal({
      "managed-current": 0,
      "managed-outdated": 20,
      "no-stack": 0,
      "stack-without-account": 0,
      failed: 0,
    });
    expect(before.accounts[0].detail).to.equal("config changed");
    expect(
      JSON.parse((await avm("status", "--access-role", "OldAccessRole")).stdout).totals["managed-current"],
    ).to.equal(20);

    // (The new role name is given explicitly; a setting dropped from the command line is removed from the stacks'
    // config instead, so the program's default would apply: test/engine/accountStacks.engine.spec.ts.)
    const rollout = await avm("rollout", "--outdated-only", "--access-role", "NewAccessRole");
    expect(rollout.code, rollout.stderr).to.equal(0);
    const json = JSON.parse(rollout.stdout);
    expect(json).to.deep.include({ status: "completed", counts: { done: 20, failed: 0, pending: 0 } });
    expect(json.accounts.map((a: { summary: string }) => a.summary)).to.deep.equal(
      ids.map(() => "up: 1 same, 1 update"),
    );
    const after = JSON.parse((await avm("status", "--access-role", "NewAccessRole")).stdout);
    expect(after.totals["managed-current"]).to.equal(20);
    expect(JSON.parse(readFileSync(path.join(roles, `${ids[0]}.json`), "utf8")).roleName).to.equal("NewAccessRole");
  });

  it("finds a change made out of band to one stack's resource (exit 3), and --remediate reverts it", async () => {
    // Four of the stacks (each check starts the dynamic provider's Node process): enough to single out the one.
    const some = ["--accounts", ids.slice(5, 9).join(","), "--access-role", "NewAccessRole"];
    expect((await avm("drift", ...some)).code).to.equal(0);
    const file = path.join(roles, `${ids[7]}.json`);
    writeFileSync(file, JSON.stringify({ roleName: "NewAccessRole", policies: ["permissions", "extra"] }));
    const drift = await avm("drift", ...some);
    expect(drift.code, drift.stderr).to.equal(3);
    const json = JSON.parse(drift.stdout);
    expect(json.counts).to.deep.equal({ checked: 4, drifted: 1, errors: 0 });
    const drifted = json.accounts.filter((a: { drift: string }) => a.drift === "drift");
    expect(drifted.map((a: { accountId: string; resources: unknown }) => [a.accountId, a.resources])).to.deep.equal([
      [
        ids[7],
        [
          {
            urn: `urn:pulumi:account-${ids[7]}::meshstack-avm::pulumi-nodejs:dynamic:Resource::access-role`,
            type: "pulumi-nodejs:dynamic:Resource",
            name: "access-role",
            change: "update",
            properties: ["policies"],
          },
        ],
      ],
    ]);
    const fixed = await avm("drift", ...some, "--remediate");
    expect(fixed.code, fixed.stderr).to.equal(0);
    expect(JSON.parse(readFileSync(file, "utf8")).policies).to.deep.equal(["permissions"]);
    expect((await avm("drift", ...some)).code).to.equal(0);
  });
});
