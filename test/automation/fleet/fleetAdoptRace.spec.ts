/**
 * `avm fleet adopt` under the request lease: two adopt runs of one account (separate ledger connections on one SQLite
 * file, one shared fake engine) deploy its stack once, and the second run waits for the first run's outcome instead
 * of failing or acting; a run finding a crashed holder's lease takes over only after it expires; an account a vend
 * recorded between the plan and the claim is refused, never driven by adopt.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { CliDeps } from "../../../automation/cli/main";
import { LEASE_POLL_MS } from "../../../automation/cli/commands/vend";
import { AccountStacks } from "../../../automation/stacks/accountStacks";
import { LocalAccountStackRunner } from "../../../automation/stacks/localAccountStackRunner";
import type { Timing } from "../../../src/shared/timing";
import type { LedgerRecord } from "../../../src/core/ledger";
import type { Ledger } from "../../../src/core/ports";
import { SqliteLedger } from "../../../src/adapters/local/sqliteLedger";
import { HANG_GUARD_MS } from "../../support/hangGuard";
import { RecordingEngine } from "../../support/recordingEngine";
import { RecordingTiming } from "../../support/recordingTiming";
import { STACK_FLAGS, accountIds, fakeOrganizations, runAvm, type FleetRun } from "./fleetFixture";

const [ACCOUNT] = accountIds(1) as [string];
const EMAIL = `aws+${ACCOUNT}@example.com`;
const ADOPTED_STATES = ["RECEIVED", "TAGGING", "BOOTSTRAPPING", "COMPLETING", "SUCCEEDED"];

/** Wall-clock timing whose sleeps are short real waits (the lease's 2 minutes never pass) and are reported. */
class PollTiming implements Timing {
  polls = 0;
  private onPoll: (() => void) | undefined;
  /** Resolves at the first lease poll (a sleep of {@link LEASE_POLL_MS}). */
  readonly firstPoll = new Promise<void>((resolve) => (this.onPoll = resolve));
  now(): Date {
    return new Date();
  }
  async sleep(ms: number): Promise<void> {
    if (ms === LEASE_POLL_MS) {
      this.polls += 1;
      this.onPoll?.();
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  random(): number {
    return 0.5;
  }
}

/** Waits (in real 5 ms steps) until `condition` holds; the suite's hang guard bounds it. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe("avm fleet adopt under the request lease", function () {
  this.timeout(HANG_GUARD_MS);
  let dir: string;
  let ledgerPath: string;
  let engine: RecordingEngine;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-adopt-race-"));
    ledgerPath = path.join(dir, "ledger.sqlite");
    engine = new RecordingEngine();
    engine.outputLines = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function deps(timing: Timing, extra: Partial<CliDeps> = {}): Partial<CliDeps> {
    return {
      organizationsClient: () => fakeOrganizations([ACCOUNT]),
      hasPulumiCli: () => true,
      timing,
      localStackRunner: async (settings) =>
        new LocalAccountStackRunner(new AccountStacks({ engine, settings, timing: new RecordingTiming() })),
      ...extra,
    };
  }

  const adopt = (d: Partial<CliDeps>): Promise<FleetRun> =>
    runAvm(
      ["--ledger", ledgerPath, "--json", "fleet", "adopt", "--accounts", ACCOUNT, "--runner", "local", ...STACK_FLAGS],
      d,
      { cwd: dir },
    );

  async function stored(): Promise<LedgerRecord> {
    const ledger = new SqliteLedger({ path: ledgerPath });
    try {
      return (await ledger.get(EMAIL))!;
    } finally {
      await ledger.close();
    }
  }

  const ups = () => engine.calls.filter((c) => c.method === "up").map((c) => c.stackName);
  const only = (run: FleetRun) => {
    expect(run.code, run.stderr).to.equal(0);
    return JSON.parse(run.stdout) as { counts: Record<string, number>; accounts: Record<string, unknown>[] };
  };

  it("a second adopt of the account while the first deploys waits for its outcome: one up, both SUCCEEDED", async () => {
    let open: () => void = () => undefined;
    engine.gate = new Promise<void>((resolve) => (open = resolve));
    engine.gatedMethods = new Set(["up"]);
    const first = adopt(deps(new PollTiming()));
    await until(() => ups().length === 1);
    const waiting = new PollTiming();
    const second = adopt(deps(waiting));
    try {
      // The second run finds the first one's lease and polls the ledger (it must not end before the first does).
      await Promise.race([
        waiting.firstPoll,
        second.then((r) =>
          expect.fail(`the second adopt ended while the first held the lease: ${r.stdout}${r.stderr}`),
        ),
      ]);
      expect((await stored()).lease?.owner).to.be.a("string");
    } finally {
      open();
    }
    const [a, b] = await Promise.all([first, second]);
    expect(only(a).accounts).to.deep.equal([
      {
        accountId: ACCOUNT,
        action: "adopt",
        reason: "adopt: ledger record, account stack",
        requestId: `adopt-${ACCOUNT}`,
        state: "SUCCEEDED",
        failureReason: null,
      },
    ]);
    expect(only(b).accounts).to.deep.equal([
      {
        accountId: ACCOUNT,
        action: "resume",
        reason: `adoption adopt-${ACCOUNT} is BOOTSTRAPPING`,
        requestId: `adopt-${ACCOUNT}`,
        state: "SUCCEEDED",
        failureReason: null,
      },
    ]);
    expect(ups()).to.deep.equal([`account-${ACCOUNT}`]);
    const record = await stored();
    expect([record.state, record.lease, record.attempts]).to.deep.equal(["SUCCEEDED", undefined, 1]);
    expect(record.history.map((h) => h.state)).to.deep.equal(ADOPTED_STATES);
  });

  it("a crashed adopt's lease: a new adopt waits until it expires, then takes over and deploys once", async () => {
    const clock = new RecordingTiming(new Date());
    const seed = new SqliteLedger({ path: ledgerPath });
    const claimed = await seed.claim(
      {
        email: EMAIL,
        requestId: `adopt-${ACCOUNT}`,
        kind: "adopted",
        accountId: ACCOUNT,
        request: { accountName: `acct-${ACCOUNT}`, email: EMAIL, tags: {} },
      },
      clock.now(),
    );
    const expiresAt = new Date(clock.now().getTime() + 5_000).toISOString();
    await seed.update(
      EMAIL,
      claimed.record.version,
      { state: "BOOTSTRAPPING", lease: { owner: "crashed adopt", expiresAt, heartbeatAt: clock.now().toISOString() } },
      clock.now(),
    );
    await seed.close();
    const run = only(await adopt(deps(clock)));
    expect(run.accounts[0]).to.deep.include({ action: "resume", state: "SUCCEEDED" });
    // It polled the ledger until the lease expired (5 s on the injected clock), never acting before.
    expect(clock.sleeps).to.deep.equal([1_000, 1_000, 1_000, 1_000, 1_000]);
    expect(ups()).to.deep.equal([`account-${ACCOUNT}`]);
    const record = await stored();
    expect([record.state, record.lease]).to.deep.equal(["SUCCEEDED", undefined]);
  });

  it("an account a vend recorded after the plan was made is refused, never driven by adopt", async () => {
    const timing = new PollTiming();
    const ledgers: Ledger[] = [];
    const openLedger: CliDeps["openLedger"] = async () => {
      const inner = new SqliteLedger({ path: ledgerPath });
      ledgers.push(inner);
      const raced: Ledger = {
        claim: async (record, now) => {
          // A concurrent vend that adopted the account with this email claims it first.
          await inner.claim(
            {
              email: record.email,
              requestId: "vend-raced",
              kind: "vend",
              accountId: ACCOUNT,
              request: { accountName: "raced", email: record.email, tags: {} },
            },
            now,
          );
          return inner.claim(record, now);
        },
        get: (e) => inner.get(e),
        getByRequestId: (id) => inner.getByRequestId(id),
        getByAccountId: (id) => inner.getByAccountId(id),
        list: (o) => inner.list(o),
        update: (e, v, p, now) => inner.update(e, v, p, now),
        close: () => inner.close(),
      };
      return raced;
    };
    const run = await adopt(deps(timing, { openLedger }));
    expect(run.code).to.equal(1);
    const json = JSON.parse(run.stdout) as { counts: Record<string, number>; accounts: Record<string, unknown>[] };
    expect(json.counts).to.deep.equal({ adopted: 0, resumed: 0, skipped: 0, refused: 0, failed: 1 });
    expect(json.accounts[0]).to.deep.include({
      action: "adopt",
      state: "ERROR",
      failureReason: "already managed by the AVM (vend request vend-raced, RECEIVED)",
    });
    expect(ups()).to.deep.equal([]);
    const record = await stored();
    expect([record.kind, record.requestId, record.state, record.attempts]).to.deep.equal([
      "vend",
      "vend-raced",
      "RECEIVED",
      0,
    ]);
  });
});
