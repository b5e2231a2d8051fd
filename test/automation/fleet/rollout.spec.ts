/**
 * `avm fleet rollout` with the recording fake engine: 200 accounts, canary and wave halts at the configured
 * thresholds with failures injected at chosen accounts, resume with --retry-failed (finished accounts never run
 * again), selection, dry run and the journal.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { AccountStacks } from "../../../automation/stacks/accountStacks";
import { replayRollout } from "../../../automation/fleet/rolloutJournal";
import { waveFailureBudget } from "../../../automation/fleet/rollout";
import type { CliDeps } from "../../../automation/cli/main";
import { programVersion } from "../../../src/shared/deploymentStamp";
import { RecordingEngine } from "../../support/recordingEngine";
import { RecordingTiming } from "../../support/recordingTiming";
import { AUTOMATION, MANAGEMENT, STACK_FLAGS, accountIds, fakeOrganizations, runAvm } from "./fleetFixture";
import { HANG_GUARD_MS } from "../../support/hangGuard";

const SETTINGS = { managementAccountId: MANAGEMENT, automationAccountId: AUTOMATION, region: "us-east-1" };

describe("avm fleet rollout (recording engine)", function () {
  this.timeout(HANG_GUARD_MS);
  let dir: string;
  let engine: RecordingEngine;
  let ids: string[];
  let deps: Partial<CliDeps>;

  /** `n` accounts whose stacks were deployed by an older program. */
  async function fleet(n: number): Promise<void> {
    ids = accountIds(n);
    engine = new RecordingEngine();
    engine.stampUp = true;
    engine.outputLines = [];
    engine.stampVersion = "0.0.1+0123456789ab";
    const stacks = new AccountStacks({ engine, settings: SETTINGS, timing: new RecordingTiming() });
    for (const id of ids) await stacks.deploy({ accountId: id });
    engine.stampVersion = programVersion();
    engine.calls.length = 0;
    deps = {
      organizationsClient: () => fakeOrganizations(ids),
      pulumiEngine: async () => engine,
      hasPulumiCli: () => true,
      timing: new RecordingTiming(),
    };
  }

  const rollout = (...args: string[]) =>
    runAvm(["--ledger", ":memory:", "--json", "fleet", "rollout", ...STACK_FLAGS, ...args], deps, { cwd: dir });
  const ups = () => engine.calls.filter((c) => c.method === "up").map((c) => c.stackName as string);
  const journalFiles = () => readdirSync(path.join(dir, ".avm", "rollouts")).filter((f) => f.endsWith(".jsonl"));

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-rollout-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("halts a 200-account rollout once more than 10% of the wave accounts failed, then resumes without re-running finished accounts", async () => {
    await fleet(200);
    // Canary: ids[0]. Wave position p is ids[p + 1]; failures at wave positions 2, 5, 8, ... (25 injected).
    const failing = Array.from({ length: 25 }, (_, k) => ids[1 + 2 + 3 * k] as string);
    for (const id of failing) engine.failNext("up", () => new Error(`AccessDenied in ${id}`), 1, `account-${id}`);
    expect(waveFailureBudget(199, 10)).to.equal(19);

    const first = await rollout();
    expect(first.code, first.stderr).to.equal(1);
    const json = JSON.parse(first.stdout);
    expect(json.status).to.equal("halted");
    expect(json.haltReason).to.equal("20 of 199 accounts after the canary failed (more than 10% = 19 tolerated)");
    expect(json.counts.failed).to.equal(20);
    const failed = json.accounts
      .filter((a: { state: string }) => a.state === "failed")
      .map((a: { accountId: string }) => a.accountId);
    expect(failed).to.deep.equal(failing.slice(0, 20));
    // The 20th failure is wave position 59 (ids[60]); with 4 in flight at most 3 more had started.
    const started = new Set(ups());
    expect(started.size).to.equal(ups().length, "no account updated twice");
    for (let i = 0; i <= 60; i++) expect(started.has(`account-${ids[i]}`), `ids[${i}] started`).to.equal(true);
    for (let i = 64; i < 200; i++) expect(started.has(`account-${ids[i]}`), `ids[${i}] not started`).to.equal(false);
    expect(json.counts.done + json.counts.failed).to.equal(started.size);
    expect(json.counts.pending).to.equal(200 - started.size);
    const firstStarted = started.size;

    // The cause is fixed: the 5 injected failures never reached are withdrawn; resume retrying the failed ones.
    engine.failures.length = 0;
    engine.calls.length = 0;
    const second = await rollout("--resume", "--retry-failed");
    expect(second.code, second.stderr).to.equal(0);
    const resumed = JSON.parse(second.stdout);
    expect(resumed.status).to.equal("completed");
    expect(resumed.counts).to.deep.equal({ done: 200, failed: 0, pending: 0 });
    const again = ups();
    expect(new Set(again).size).to.equal(again.length);
    expect(again.length).to.equal(200 - firstStarted + 20);
    for (const id of failing.slice(0, 20)) expect(again).to.include(`account-${id}`);
    for (let i = 0; i <= 60; i++) {
      if (!failing.slice(0, 20).includes(ids[i]!))
        expect(again, `ids[${i}] ran once`).to.not.include(`account-${ids[i]}`);
    }
    // Every stack now carries this checkout's stamp; the journal replays to the same state.
    expect(journalFiles()).to.have.length(1);
    const state = replayRollout(readFileSync(path.join(dir, ".avm", "rollouts", journalFiles()[0]!), "utf8"));
    expect(state.status).to.equal("completed");
    expect(state.accounts.filter((a) => a.attempts === 2).map((a) => a.accountId)).to.deep.equal(failing.slice(0, 20));
    expect(state.accounts.every((a) => a.state === "done")).to.equal(true);
  });

  it("halts after the canary when a canary account fails: no wave account starts", async () => {
    await fleet(200);
    engine.failNext("up", () => new Error("the new role name collides"), 1, `account-${ids[1]}`);
    const result = await rollout("--canary", "3");
    expect(result.code).to.equal(1);
    const json = JSON.parse(result.stdout);
    expect(json.status).to.equal("halted");
    expect(json.haltReason).to.equal(`canary failed (${ids[1]}): no wave account was started`);
    expect(ups().sort()).to.deep.equal(ids.slice(0, 3).map((id) => `account-${id}`));
    expect(json.counts).to.deep.equal({ done: 2, failed: 1, pending: 197 });
    // Resuming without --retry-failed keeps it halted and starts nothing.
    engine.calls.length = 0;
    const again = await rollout("--resume");
    expect(again.code).to.equal(1);
    expect(JSON.parse(again.stdout).haltReason).to.equal(`canary failed (${ids[1]}): no wave account was started`);
    expect(ups()).to.deep.equal([]);
  });

  it("selects with --accounts and --outdated-only, and plans without changing anything on --dry-run", async () => {
    await fleet(10);
    // Two stacks are current already.
    const stacks = new AccountStacks({ engine, settings: SETTINGS, timing: new RecordingTiming() });
    await stacks.deploy({ accountId: ids[3]! });
    await stacks.deploy({ accountId: ids[7]! });
    engine.calls.length = 0;
    const dry = await rollout("--outdated-only", "--dry-run", "--canary", "2");
    expect(dry.code, dry.stderr).to.equal(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan).to.deep.include({ rolloutId: null, dryRun: true, status: "planned" });
    expect(plan.policy).to.deep.equal({ canary: 2, concurrency: 4, maxFailurePercent: 10, mode: "local" });
    expect(plan.accounts.map((a: { accountId: string; phase: string }) => [a.accountId, a.phase])).to.deep.equal(
      ids.filter((_, i) => i !== 3 && i !== 7).map((id, i) => [id, i < 2 ? "canary" : "wave"]),
    );
    expect(ups()).to.deep.equal([]);
    expect(existsSync(path.join(dir, ".avm", "rollouts"))).to.equal(false);

    const some = await rollout("--accounts", `${ids[1]},${ids[2]}`);
    expect(some.code, some.stderr).to.equal(0);
    expect(ups().sort()).to.deep.equal([`account-${ids[1]}`, `account-${ids[2]}`]);

    const refused = await rollout("--accounts", `${ids[1]},999999999999`);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.equal(
      "avm: error: --accounts: cannot roll out 999999999999 (not a member account in scope)\n",
    );
    const bad = await rollout("--accounts", "12");
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.equal('avm: error: --accounts must list 12-digit AWS account ids, got "12"\n');
  });

  it("prints plain progress lines off a terminal and a totals table", async () => {
    await fleet(3);
    const result = await runAvm(["--ledger", ":memory:", "fleet", "rollout", ...STACK_FLAGS], deps, { cwd: dir });
    expect(result.code, result.stderr).to.equal(0);
    const lines = result.stderr.split("\n").filter((l) => l.startsWith("account-"));
    expect(lines).to.deep.equal([
      `account-${ids[0]}: up started`,
      `account-${ids[0]}: up: 3 same [rollout: 1/3 done, 0 failed, 0 running, 2 pending, ETA 0s]`,
      `account-${ids[1]}: up started`,
      `account-${ids[2]}: up started`,
      `account-${ids[1]}: up: 3 same [rollout: 2/3 done, 0 failed, 1 running, 0 pending, ETA 0s]`,
      `account-${ids[2]}: up: 3 same [rollout: 3/3 done, 0 failed, 0 running, 0 pending, ETA 0s]`,
    ]);
    expect(result.stdout).to.match(
      /^rollout rollout-\d{8}T\d{6}-[0-9a-f]{6}: completed; 3 done, 0 failed, 0 pending\n/,
    );
  });
});
