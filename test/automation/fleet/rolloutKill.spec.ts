/**
 * A rollout process SIGKILLed mid-wave, then `--resume`: every account ends updated exactly once. The rollout runs
 * in a child process on a file-backed fake engine (`test/support/journalEngine.ts`), so the engine's record of
 * every `up` survives the kill. Two kills: one that lands exactly between an `up`'s success and the rollout's own
 * record of it (the child kills itself after its 20th up), and one from the parent at an arbitrary moment.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { replayRollout } from "../../../automation/fleet/rolloutJournal";
import { AccountStacks } from "../../../automation/stacks/accountStacks";
import { programVersion } from "../../../src/shared/deploymentStamp";
import { JournalEngine, recordedUps } from "../../support/journalEngine";
import { RecordingTiming } from "../../support/recordingTiming";
import { AUTOMATION, MANAGEMENT, STACK_FLAGS, accountIds, fakeOrganizations, runAvm } from "./fleetFixture";
import { HANG_GUARD_MS } from "../../support/hangGuard";

const N = 60;
const CHILD = path.join(__dirname, "rolloutChild.ts");

describe("avm fleet rollout killed mid-wave, then resumed (child process, file-backed engine)", function () {
  this.timeout(HANG_GUARD_MS);
  let dir: string;
  let engineFile: string;
  const ids = accountIds(N);
  const current = programVersion();

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-rollout-kill-"));
    engineFile = path.join(dir, "engine.jsonl");
    const engine = new JournalEngine(engineFile, { stampVersion: "0.0.1+0123456789ab" });
    const stacks = new AccountStacks({
      engine,
      settings: { managementAccountId: MANAGEMENT, automationAccountId: AUTOMATION, region: "us-east-1" },
      timing: new RecordingTiming(),
    });
    for (const id of ids) await stacks.deploy({ accountId: id });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function child(env: Record<string, string>) {
    const proc = spawn(
      process.execPath,
      ["--import", "tsx", CHILD, dir, "--ledger", ":memory:", "--json", "-q", "fleet", "rollout", ...STACK_FLAGS],
      { env: { ...process.env, FLEET_N: String(N), NODE_NO_WARNINGS: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
      proc.on("close", (code, signal) => resolve({ code, signal, stderr })),
    );
    return { proc, exited };
  }

  function journalState() {
    const dirOf = path.join(dir, ".avm", "rollouts");
    const files = readdirSync(dirOf).filter((f) => f.endsWith(".jsonl"));
    expect(files).to.have.length(1);
    return replayRollout(readFileSync(path.join(dirOf, files[0]!), "utf8"));
  }

  async function resumeAndCheck(): Promise<{ recovered: string[] }> {
    const result = await runAvm(
      ["--ledger", ":memory:", "--json", "fleet", "rollout", ...STACK_FLAGS, "--resume"],
      {
        organizationsClient: () => fakeOrganizations(ids),
        pulumiEngine: async () => new JournalEngine(engineFile),
        hasPulumiCli: () => true,
        timing: new RecordingTiming(),
      },
      { cwd: dir },
    );
    expect(result.code, result.stderr).to.equal(0);
    const json = JSON.parse(result.stdout);
    expect(json.status).to.equal("completed");
    expect(json.counts).to.deep.equal({ done: N, failed: 0, pending: 0 });
    // Exactly once: one up with this checkout's stamp per account stack, none twice.
    const ups = recordedUps(engineFile, current);
    expect(ups.length).to.equal(N);
    expect([...new Set(ups)].sort()).to.deep.equal(ids.map((id) => `account-${id}`));
    return { recovered: json.recovered };
  }

  it("recovers the account whose up finished just before the kill without updating it again", async () => {
    const { exited } = child({ UP_DELAY_MS: "20", KILL_AFTER_UPS: "20" });
    const end = await exited;
    expect(end.signal, end.stderr).to.equal("SIGKILL");
    const ups = recordedUps(engineFile, current);
    expect(ups).to.have.length(20);
    const state = journalState();
    const running = state.accounts.filter((a) => a.state === "running").map((a) => `account-${a.accountId}`);
    // The 20th up is recorded by the engine but not by the rollout; up to 3 others were in flight.
    expect(running).to.include(ups[19]);
    expect(running.length).to.be.within(1, 4);
    expect(state.accounts.filter((a) => a.state === "done")).to.have.length(19);
    const { recovered } = await resumeAndCheck();
    expect(recovered.map((id) => `account-${id}`)).to.deep.equal([ups[19]]);
  });

  it("finishes after a SIGKILL from outside at an arbitrary moment mid-wave", async () => {
    const { proc, exited } = child({ UP_DELAY_MS: "25" });
    // Bounded by progress: kill once 10 ups are recorded; the guard only catches a child that stopped moving (no
    // new up for 5 minutes, however slow the machine).
    let seen = 0;
    let lastMove = Date.now();
    let exitedEarly = false;
    void exited.then(() => (exitedEarly = true));
    for (let ups = 0; (ups = recordedUps(engineFile, current).length) < 10;) {
      if (ups > seen) [seen, lastMove] = [ups, Date.now()];
      expect(exitedEarly, "the child ended before it was killed").to.equal(false);
      expect(Date.now() - lastMove < 5 * 60_000, `the child made no progress for 5 minutes (${seen} ups)`).to.equal(
        true,
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    proc.kill("SIGKILL");
    const end = await exited;
    expect(end.signal).to.equal("SIGKILL");
    const before = recordedUps(engineFile, current).length;
    expect(before).to.be.within(10, N - 1);
    expect(journalState().status).to.equal("running");
    await resumeAndCheck();
  });
});
