/**
 * The fleet progress display in a real pseudo-terminal: `avm fleet rollout` runs in a child process under
 * `script(1)`, so its stderr is a TTY; the live block (totals line with done/failed/running/pending/ETA and one line
 * per stack in flight, redrawn in place with ANSI cursor movement) is checked in the captured terminal output.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { AccountStacks } from "../../../automation/stacks/accountStacks";
import { JournalEngine } from "../../support/journalEngine";
import { RecordingTiming } from "../../support/recordingTiming";
import { AUTOMATION, MANAGEMENT, STACK_FLAGS, accountIds } from "./fleetFixture";

describe("fleet progress in a pseudo-terminal (script -q)", function () {
  this.timeout(120_000);
  let dir: string;
  const ids = accountIds(6);

  before(function () {
    if (spawnSync("script", ["--version"]).status !== 0) this.skip();
  });
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-fleet-tty-"));
    const engine = new JournalEngine(path.join(dir, "engine.jsonl"), { stampVersion: "0.0.1+0123456789ab" });
    const stacks = new AccountStacks({
      engine,
      settings: { managementAccountId: MANAGEMENT, automationAccountId: AUTOMATION, region: "us-east-1" },
      timing: new RecordingTiming(),
    });
    for (const id of ids) await stacks.deploy({ accountId: id });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("draws the totals line and the stacks in flight in place, and leaves the final totals", () => {
    const child = path.join(__dirname, "rolloutChild.ts");
    const command = [
      process.execPath,
      "--import",
      "tsx",
      child,
      dir,
      "--ledger",
      ":memory:",
      "fleet",
      "rollout",
      ...STACK_FLAGS,
    ]
      .map((a) => `'${a}'`)
      .join(" ");
    const result = spawnSync("script", ["-qfec", command, "/dev/null"], {
      env: { ...process.env, FLEET_N: String(ids.length), UP_DELAY_MS: "30", NODE_NO_WARNINGS: "1", COLUMNS: "120" },
      encoding: "utf8",
      timeout: 110_000,
    });
    expect(result.status, result.stderr + result.stdout).to.equal(0);
    const out = result.stdout;
    // Redrawn in place: erase-line and cursor-up sequences, never the plain-line format.
    expect(out).to.include("\x1b[2K");
    expect(out).to.match(/\x1b\[\d+A/);
    expect(out).to.not.include(": up started");
    // A stack in flight with its verb, the totals with running and pending counts, and the final totals.
    expect(out).to.match(/ {2}… account-2000000000\d\d up/);
    expect(out).to.match(/rollout: \d\/6 done, 0 failed, [1-4] running, \d pending/);
    expect(out).to.include("rollout: 6/6 done, 0 failed, 0 running, 0 pending");
    expect(out).to.match(/ETA \d+s/);
  });
});
