import { expect } from "chai";
import {
  DEFAULT_MAX_REDRIVES,
  reconcileDeadLetters,
  ReconcileError,
  redriveCount,
  type ReconcileOptions,
} from "../../../../src/core/vending/reconcile";
import { LedgerConflictError, type LedgerPatch, type LedgerRecord } from "../../../../src/core/ledger";
import { type Ledger } from "../../../../src/core/ports";
import { MemoryLedger } from "../../../support/memoryLedger";
import { serializeWorkItem } from "../../../../src/core/workItem";
import { FakeDeadLetterQueue } from "../../../support/fakeDeadLetterQueue";
import { RecordingQueue } from "../../../support/recordingQueue";
import { RecordingTiming } from "../../../support/recordingTiming";
import { rejection } from "../../../support/rejection";

const NOW = new Date("2026-01-01T00:00:00Z");

describe("reconcileDeadLetters", () => {
  let ledger: MemoryLedger;
  let dlq: FakeDeadLetterQueue;
  let queue: RecordingQueue;
  let timing: RecordingTiming;

  beforeEach(() => {
    ledger = new MemoryLedger();
    dlq = new FakeDeadLetterQueue();
    queue = new RecordingQueue();
    timing = new RecordingTiming(new Date("2026-01-02T00:00:00Z"));
  });

  /** Records a vend request and applies `patches` in order; returns the stored record. */
  async function record(name: string, ...patches: LedgerPatch[]): Promise<LedgerRecord> {
    const email = `${name}@example.com`;
    await ledger.claim({ email, requestId: `req-${name}`, kind: "vend", request: { accountName: name, email } }, NOW);
    let current = (await ledger.get(email))!;
    for (const patch of patches) current = await ledger.update(email, current.version, patch, NOW);
    return current;
  }

  function dead(r: LedgerRecord, receiveCount = 5): string {
    return dlq.add(serializeWorkItem({ email: r.email, requestId: r.requestId }), receiveCount);
  }

  function run(extra: Partial<ReconcileOptions> = {}) {
    return reconcileDeadLetters({ ledger, deadLetters: dlq, workQueue: queue, timing, ...extra });
  }

  it("marks a record that cannot have an account FAILED with the dead-letter reason and deletes the message", async () => {
    const r = await record("a");
    const id = dead(r);
    const result = await run();
    expect(result).to.deep.equal({
      examined: 1,
      failed: 1,
      requeued: 0,
      skipped: 0,
      unreadable: 0,
      dryRun: false,
      messages: [
        {
          messageId: id,
          receiveCount: 6,
          email: "a@example.com",
          requestId: "req-a",
          state: "RECEIVED",
          action: "failed",
          reason: "dead-lettered in RECEIVED after 6 deliveries",
          deleted: true,
        },
      ],
    });
    const stored = (await ledger.get("a@example.com"))!;
    expect(stored.state).to.equal("FAILED");
    expect(stored.failureReason).to.equal("dead-lettered in RECEIVED after 6 deliveries");
    expect(stored.version).to.equal(r.version + 1);
    expect(stored.history.at(-1)).to.deep.equal({
      at: "2026-01-02T00:00:00.000Z",
      state: "FAILED",
      note: "dead-lettered in RECEIVED after 6 deliveries; last note: request recorded",
    });
    expect(dlq.ids).to.deep.equal([]);
    expect(queue.items).to.deep.equal([]);
    expect(dlq.calls).to.deep.equal([`receive 10`, `delete ${id}`, `receive 10`]);
  });

  it("fails a CREATING record whose CreateAccount was never issued (waiting for a slot)", async () => {
    const r = await record("a", { state: "CREATING", note: "creating account" });
    dead(r, 4);
    const result = await run();
    expect(result.messages.map((m) => [m.action, m.reason])).to.deep.equal([
      ["failed", "dead-lettered in CREATING after 5 deliveries"],
    ]);
    expect((await ledger.get("a@example.com"))!.history.at(-1)!.note).to.equal(
      "dead-lettered in CREATING after 5 deliveries; last note: creating account",
    );
  });

  it("keeps an earlier failure reason after the new one", async () => {
    const r = await record("a", { state: "RECEIVED", failureReason: "THROTTLED_EARLIER" });
    dead(r);
    await run();
    expect((await ledger.get("a@example.com"))!.failureReason).to.equal(
      "dead-lettered in RECEIVED after 6 deliveries; earlier: THROTTLED_EARLIER",
    );
  });

  it("re-enqueues a CREATING record with a stored CreateAccount request id instead of failing it", async () => {
    const r = await record(
      "a",
      { state: "CREATING", note: "CreateAccount attempt 1 issuing" },
      { state: "CREATING", createAccountRequestId: "car-1", note: "CreateAccount attempt 1 request car-1" },
    );
    const id = dead(r);
    const result = await run();
    const note =
      "re-driven from the dead-letter queue (1 of 3): dead-lettered in CREATING after 6 deliveries; CreateAccount request car-1";
    expect(result).to.deep.include({ examined: 1, failed: 0, requeued: 1, skipped: 0, unreadable: 0 });
    expect(result.messages[0]).to.deep.include({ action: "requeued", reason: note, deleted: true, state: "CREATING" });
    expect(queue.items).to.deep.equal([{ email: "a@example.com", requestId: "req-a" }]);
    const stored = (await ledger.get("a@example.com"))!;
    expect(stored).to.deep.include({ state: "CREATING", createAccountRequestId: "car-1", version: r.version + 1 });
    expect(stored.failureReason).to.equal(undefined);
    expect(stored.history.at(-1)).to.deep.equal({ at: "2026-01-02T00:00:00.000Z", state: "CREATING", note });
    expect(dlq.calls).to.deep.equal([`receive 10`, `delete ${id}`, `receive 10`]);
  });

  it("re-enqueues when a CreateAccount call was issued but its id never stored, and when the account exists", async () => {
    const issuing = await record("a", { state: "CREATING", note: "CreateAccount attempt 1 issuing" });
    const moving = await record("b", { state: "MOVING", accountId: "111122223333", note: "account created" });
    const hook = await record("c", { accountId: "222233334444" });
    dead(issuing);
    dead(moving);
    dead(hook);
    const result = await run();
    expect(result.messages.map((m) => [m.state, m.action, m.reason])).to.deep.equal([
      [
        "CREATING",
        "requeued",
        "re-driven from the dead-letter queue (1 of 3): dead-lettered in CREATING after 6 deliveries; a CreateAccount call was issued",
      ],
      [
        "MOVING",
        "requeued",
        "re-driven from the dead-letter queue (1 of 3): dead-lettered in MOVING after 6 deliveries; account 111122223333 exists",
      ],
      [
        "RECEIVED",
        "requeued",
        "re-driven from the dead-letter queue (1 of 3): dead-lettered in RECEIVED after 6 deliveries; account 222233334444 exists",
      ],
    ]);
    expect(queue.items.map((i) => i.requestId)).to.deep.equal(["req-a", "req-b", "req-c"]);
    expect(dlq.ids).to.deep.equal([]);
  });

  it("counts a CreateAccount attempt AWS rejected outright as no account", async () => {
    const r = await record(
      "a",
      { state: "CREATING", note: "CreateAccount attempt 1 issuing" },
      { state: "CREATING", note: "CreateAccount attempt 1 rejected: TooManyRequestsException" },
    );
    dead(r);
    expect((await run()).messages.map((m) => m.action)).to.deep.equal(["failed"]);
  });

  it("fails a record that was re-driven the maximum number of times (a poison request)", async () => {
    const r = await record("a", { state: "CREATING", createAccountRequestId: "car-1", note: "request car-1" });
    expect(DEFAULT_MAX_REDRIVES).to.equal(3);
    for (let round = 1; round <= 3; round += 1) {
      dead((await ledger.get(r.email))!);
      expect((await run()).requeued, `round ${round}`).to.equal(1);
    }
    const redriven = (await ledger.get(r.email))!;
    expect(redriveCount(redriven)).to.equal(3);
    dead(redriven);
    const result = await run();
    expect(result.messages.map((m) => [m.action, m.reason])).to.deep.equal([
      ["failed", "dead-lettered in CREATING after 6 deliveries"],
    ]);
    const stored = (await ledger.get(r.email))!;
    expect(stored.state).to.equal("FAILED");
    expect(stored.history.at(-1)!.note).to.equal(
      "dead-lettered in CREATING after 6 deliveries; CreateAccount request car-1 but it was re-driven 3 times already; " +
        "last note: re-driven from the dead-letter queue (3 of 3): dead-lettered in CREATING after 6 deliveries; CreateAccount request car-1",
    );
    expect(queue.items).to.have.length(3);
  });

  it("honours maxRedrives 0: never re-drive, always fail", async () => {
    const r = await record("a", { state: "MOVING", accountId: "111122223333" });
    dead(r);
    const result = await run({ maxRedrives: 0 });
    expect(result.failed).to.equal(1);
    expect((await ledger.get(r.email))!.state).to.equal("FAILED");
  });

  it("leaves terminal records untouched and deletes their messages", async () => {
    const succeeded = await record("a", { state: "SUCCEEDED", accountId: "111122223333" });
    const failed = await record("b", { state: "FAILED", failureReason: "EMAIL_ALREADY_EXISTS" });
    const closing = await record("c", { state: "CLOSING", accountId: "222233334444" });
    dead(succeeded);
    dead(failed);
    dead(closing);
    const result = await run();
    expect(result).to.deep.include({ examined: 3, failed: 0, requeued: 0, skipped: 3, unreadable: 0 });
    expect(result.messages.map((m) => [m.reason, m.deleted])).to.deep.equal([
      ["record is already SUCCEEDED", true],
      ["record is already FAILED", true],
      ["record is CLOSING, which the worker does not drive", true],
    ]);
    expect(await ledger.get("a@example.com")).to.deep.equal(succeeded);
    expect(await ledger.get("b@example.com")).to.deep.equal(failed);
    expect(await ledger.get("c@example.com")).to.deep.equal(closing);
    expect(dlq.ids).to.deep.equal([]);
  });

  it("reports unreadable messages, leaves them visible and carries on", async () => {
    const bad = dlq.add("not json");
    const empty = dlq.add(JSON.stringify({ email: "", requestId: "x" }));
    const r = await record("a");
    dead(r);
    const result = await run();
    expect(result).to.deep.include({ examined: 3, failed: 1, requeued: 0, skipped: 0, unreadable: 2 });
    expect(result.messages.slice(0, 2)).to.deep.equal([
      {
        messageId: bad,
        receiveCount: 6,
        action: "unreadable",
        reason: "work item body is not valid JSON",
        deleted: false,
      },
      {
        messageId: empty,
        receiveCount: 6,
        action: "unreadable",
        reason: "work item field email must be a non-empty string",
        deleted: false,
      },
    ]);
    expect(dlq.visibleIds).to.deep.equal([bad, empty]);
  });

  it("leaves messages whose record is missing or has another request id", async () => {
    const other = await record("a");
    const missing = dlq.add(serializeWorkItem({ email: "nobody@example.com", requestId: "req-x" }));
    const foreign = dlq.add(serializeWorkItem({ email: other.email, requestId: "req-other" }));
    const result = await run();
    expect(result.messages.map((m) => [m.messageId, m.action, m.reason, m.deleted])).to.deep.equal([
      [missing, "skipped", "no ledger record for this email; left in the queue", false],
      [foreign, "skipped", "the ledger record for this email has request id req-a; left in the queue", false],
    ]);
    expect(dlq.visibleIds).to.deep.equal([missing, foreign]);
    expect(await ledger.get(other.email)).to.deep.equal(other);
  });

  it("skips and leaves a record that must be re-driven when no work queue is given", async () => {
    const r = await record("a", { state: "CREATING", createAccountRequestId: "car-1" });
    const id = dead(r);
    const result = await run({ workQueue: undefined });
    expect(result.messages.map((m) => [m.action, m.reason])).to.deep.equal([
      [
        "skipped",
        "dead-lettered in CREATING after 6 deliveries; CreateAccount request car-1, so it must be re-driven, but no work queue was given",
      ],
    ]);
    expect(await ledger.get(r.email)).to.deep.equal(r);
    expect(dlq.visibleIds).to.deep.equal([id]);
  });

  it("changes nothing in a dry run but reports what it would do", async () => {
    const a = await record("a");
    const b = await record("b", { state: "CREATING", createAccountRequestId: "car-1" });
    const c = await record("c", { state: "SUCCEEDED", accountId: "111122223333" });
    dead(a);
    dead(b);
    dead(c);
    dlq.add("garbage");
    const before = await ledger.list();
    const result = await run({ dryRun: true });
    expect(result).to.deep.include({ examined: 4, failed: 1, requeued: 1, skipped: 1, unreadable: 1, dryRun: true });
    expect(result.messages.every((m) => m.deleted === false)).to.equal(true);
    expect(await ledger.list()).to.deep.equal(before);
    expect(queue.items).to.deep.equal([]);
    expect(dlq.visibleIds).to.deep.equal(["m-1", "m-2", "m-3", "m-4"]);
    expect(dlq.calls.filter((c) => c.startsWith("delete"))).to.deep.equal([]);
  });

  it("leaves the message when another writer wins the compare-and-set", async () => {
    const r = await record("a");
    const id = dead(r);
    const racing: Ledger = Object.assign(Object.create(ledger) as Ledger, {
      update: async () => {
        throw new LedgerConflictError("ledger record for a@example.com changed concurrently (expected version 1)");
      },
    });
    const result = await run({ ledger: racing });
    expect(result.messages.map((m) => [m.action, m.reason, m.deleted])).to.deep.equal([
      ["skipped", "the record changed while reconciling (another worker is on it); left for the next run", false],
    ]);
    expect(await ledger.get(r.email)).to.deep.equal(r);
    expect(dlq.visibleIds).to.deep.equal([id]);
  });

  it("stops on a ledger error without deleting the message, and releases it", async () => {
    const r = await record("a");
    const id = dead(r);
    const broken: Ledger = Object.assign(Object.create(ledger) as Ledger, {
      get: async () => {
        throw new Error("ledger unreachable");
      },
    });
    const error = await rejection(run({ ledger: broken }));
    expect(error.message).to.equal("ledger unreachable");
    expect(dlq.calls).to.deep.equal(["receive 10", `release ${id}`]);
    expect(dlq.visibleIds).to.deep.equal([id]);
  });

  it("keeps the message when the re-enqueue fails, and counts the re-drive on the rerun", async () => {
    const r = await record("a", { state: "CREATING", createAccountRequestId: "car-1" });
    const id = dead(r);
    queue.failWith = new Error("cannot enqueue request req-a: QueueDoesNotExist");
    const error = await rejection(run());
    expect(error.message).to.equal("cannot enqueue request req-a: QueueDoesNotExist");
    expect(dlq.calls).to.deep.equal(["receive 10", `release ${id}`]);
    queue.failWith = undefined;
    const rerun = await run();
    expect(rerun.messages.map((m) => m.reason)).to.deep.equal([
      "re-driven from the dead-letter queue (2 of 3): dead-lettered in CREATING after 7 deliveries; CreateAccount request car-1",
    ]);
    expect(dlq.ids).to.deep.equal([]);
  });

  it("examines at most maxMessages per run, in batches of at most 10", async () => {
    for (let i = 0; i < 25; i += 1) dead(await record(`u${i}`));
    const result = await run({ maxMessages: 12 });
    expect(result.examined).to.equal(12);
    expect(result.failed).to.equal(12);
    expect(dlq.calls.filter((c) => c.startsWith("receive"))).to.deep.equal(["receive 10", "receive 2"]);
    expect(dlq.ids).to.have.length(13);
    expect(dlq.visibleIds).to.have.length(13);
    const rest = await run();
    expect(rest.examined).to.equal(13);
    expect(dlq.ids).to.deep.equal([]);
  });

  it("logs each message once: a warning for FAILED, an error for unreadable, info otherwise", async () => {
    const lines: [string, string, unknown][] = [];
    const logger = {
      info: (m: string, f?: Record<string, unknown>) => void lines.push(["info", m, f?.["messageId"]]),
      warn: (m: string, f?: Record<string, unknown>) => void lines.push(["warn", m, f?.["messageId"]]),
      error: (m: string, f?: Record<string, unknown>) => void lines.push(["error", m, f?.["messageId"]]),
    };
    const a = dead(await record("a"));
    const b = dead(await record("b", { state: "SUCCEEDED", accountId: "111122223333" }));
    const c = dlq.add("[]");
    await run({ logger });
    expect(lines).to.deep.equal([
      ["warn", "dead-lettered request marked FAILED", a],
      ["info", "dead-letter message skipped", b],
      ["error", "unreadable dead-letter message", c],
    ]);
  });

  it("does nothing on an empty queue", async () => {
    expect(await run()).to.deep.equal({
      examined: 0,
      failed: 0,
      requeued: 0,
      skipped: 0,
      unreadable: 0,
      dryRun: false,
      messages: [],
    });
    expect(dlq.calls).to.deep.equal(["receive 10"]);
  });

  it("rejects a bad maxMessages or maxRedrives", async () => {
    for (const [extra, message] of [
      [{ maxMessages: 0 }, "maxMessages must be a positive integer, got 0"],
      [{ maxRedrives: -1 }, "maxRedrives must be a non-negative integer, got -1"],
    ] as const) {
      const error = await rejection(run(extra));
      expect(error).to.be.instanceOf(ReconcileError);
      expect(error.message).to.equal(message);
    }
    expect(dlq.calls).to.deep.equal([]);
  });
});
