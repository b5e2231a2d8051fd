import { expect } from "chai";
import type { Ledger } from "../../../../src/core/ports";
import { acceptRequest, IntakeEnqueueError, type IntakeDeps } from "../../../../src/core/vending/intake";
import { RequestValidationError } from "../../../../src/core/vending/requestRules";
import { MemoryLedger } from "../../../support/memoryLedger";
import { RecordingQueue } from "../../../support/recordingQueue";
import { rejection } from "../../../support/rejection";

const HOOK = {
  AccountName: "meshcloud.test-aws-integration",
  AccountEmail: "AWSexample+meshcloud.test-aws-integration@example.com",
  AccountId: "222233334444",
  AccountArn: "arn:aws:organizations::111122223333:account/o-exampleorg1/222233334444",
  ProductName: "meshcloud",
  ContactEmail: "owner@example.com",
  Stage: "test-aws-integration",
  tagCostCenter: "1234",
};
const VEND = { accountName: "Team A", email: "team-a@example.com", targetOu: "/Workloads", tags: { Team: "a" } };

describe("acceptRequest", () => {
  let ledger: MemoryLedger;
  let queue: RecordingQueue;
  let clock: number;
  let ids: number;
  let deps: IntakeDeps;
  const logs: [string, string, Record<string, unknown>][] = [];
  beforeEach(() => {
    ledger = new MemoryLedger();
    queue = new RecordingQueue();
    clock = Date.parse("2026-03-01T10:00:00Z");
    ids = 0;
    logs.length = 0;
    deps = {
      ledger,
      queue,
      now: () => new Date(clock),
      newRequestId: () => `gen-${++ids}`,
      logger: {
        info: (message, attributes) => void logs.push(["info", message, attributes]),
        warn: (message, attributes) => void logs.push(["warn", message, attributes]),
        error: (message, attributes) => void logs.push(["error", message, attributes]),
      },
    };
  });

  it("records a new vend request and enqueues it once", async () => {
    const result = await acceptRequest(JSON.stringify(VEND), deps);
    expect(result).to.deep.equal({
      requestId: "gen-1",
      state: "RECEIVED",
      created: true,
      enqueued: true,
      retried: false,
      kind: "vend",
      email: "team-a@example.com",
    });
    expect(queue.items).to.deep.equal([{ email: "team-a@example.com", requestId: "gen-1" }]);
    const record = await ledger.get("team-a@example.com");
    expect(record?.request).to.deep.equal({ kind: "vend", ...VEND });
    expect(record?.kind).to.equal("vend");
    expect(logs).to.deep.equal([
      [
        "info",
        "request recorded",
        { requestId: "gen-1", kind: "vend", state: "RECEIVED", created: true, enqueued: true },
      ],
    ]);
  });

  it("uses the caller's request id", async () => {
    const result = await acceptRequest({ ...VEND, requestId: "ticket-7" }, deps);
    expect(result.requestId).to.equal("ticket-7");
    expect((await ledger.getByRequestId("ticket-7"))?.email).to.equal("team-a@example.com");
  });

  it("records a meshStack hook with its account id and the parsed request", async () => {
    const result = await acceptRequest(HOOK, deps);
    expect(result).to.deep.equal({
      requestId: "gen-1",
      state: "RECEIVED",
      created: true,
      enqueued: true,
      retried: false,
      kind: "meshstack-hook",
      email: "awsexample+meshcloud.test-aws-integration@example.com",
      accountId: "222233334444",
    });
    const record = await ledger.getByAccountId("222233334444");
    expect(record?.request).to.deep.equal({
      kind: "meshstack-hook",
      accountName: "meshcloud.test-aws-integration",
      email: "AWSexample+meshcloud.test-aws-integration@example.com",
      accountId: "222233334444",
      accountArn: "arn:aws:organizations::111122223333:account/o-exampleorg1/222233334444",
      partition: "aws",
      managementAccountId: "111122223333",
      organizationId: "o-exampleorg1",
      productName: "meshcloud",
      stage: "test-aws-integration",
      contactEmail: "owner@example.com",
      tags: { CostCenter: "1234" },
    });
  });

  it("changes nothing and enqueues nothing for a repeat while the request is fresh, in flight or done", async () => {
    await acceptRequest(HOOK, deps);
    const first = await ledger.get(HOOK.AccountEmail);
    clock += 1_000;
    const repeat = await acceptRequest({ ...HOOK, AccountEmail: HOOK.AccountEmail.toLowerCase() }, deps);
    expect(repeat).to.deep.include({ requestId: "gen-1", state: "RECEIVED", created: false, enqueued: false });
    expect(await ledger.get(HOOK.AccountEmail)).to.deep.equal(first);

    const inFlight = await ledger.update(HOOK.AccountEmail, 1, { state: "BOOTSTRAPPING" }, new Date(clock));
    clock += 60_000;
    expect(await acceptRequest(HOOK, deps)).to.deep.include({ state: "BOOTSTRAPPING", enqueued: false });
    expect(await ledger.get(HOOK.AccountEmail)).to.deep.equal(inFlight);

    const done = await ledger.update(HOOK.AccountEmail, 2, { state: "SUCCEEDED" }, new Date(clock));
    clock += 24 * 3600_000;
    expect(await acceptRequest(HOOK, deps)).to.deep.include({ state: "SUCCEEDED", created: false, enqueued: false });
    expect(await ledger.get(HOOK.AccountEmail)).to.deep.equal(done);
    expect(queue.items).to.have.length(1);
  });

  it("retries a FAILED request on a corrected resubmission, and only reports it on an identical repeat", async () => {
    await acceptRequest({ ...VEND, targetOu: "/NoSuchOU" }, deps);
    const failed = await ledger.update(
      VEND.email,
      1,
      { state: "FAILED", failureReason: 'cannot resolve OU path "/NoSuchOU"' },
      new Date(clock),
    );
    clock += 1_000;
    const repeat = await acceptRequest({ ...VEND, email: "Team-A@example.com", targetOu: "/NoSuchOU" }, deps);
    expect(repeat).to.deep.include({ state: "FAILED", created: false, enqueued: false, retried: false });
    expect(await ledger.get(VEND.email)).to.deep.equal(failed);

    const corrected = await acceptRequest(VEND, deps);
    expect(corrected).to.deep.include({
      requestId: "gen-1",
      state: "RECEIVED",
      created: false,
      enqueued: true,
      retried: true,
    });
    const record = await ledger.get(VEND.email);
    expect(record?.request["targetOu"]).to.equal("/Workloads");
    expect(record?.failureReason).to.equal(undefined);
    expect(record?.history.at(-1)).to.deep.equal({
      at: new Date(clock).toISOString(),
      state: "RECEIVED",
      note: 'retry requested by a corrected request (was FAILED: cannot resolve OU path "/NoSuchOU")',
    });
    expect(queue.items).to.have.length(2);
  });

  it("retries a FAILED request on an identical repeat when asked to (avm vend run again)", async () => {
    await acceptRequest(VEND, deps);
    await ledger.update(
      VEND.email,
      1,
      { state: "FAILED", failureReason: "account stack update failed" },
      new Date(clock),
    );
    const again = await acceptRequest(VEND, { ...deps, retryFailed: "always" });
    expect(again).to.deep.include({ state: "RECEIVED", created: false, enqueued: true, retried: true });
    expect((await ledger.get(VEND.email))?.history.at(-1)?.note).to.equal(
      "retry requested by a repeated request (was FAILED: account stack update failed)",
    );
  });

  it("nudges a record that has not moved for 5 minutes, without changing it", async () => {
    await acceptRequest(VEND, deps);
    const stored = await ledger.get(VEND.email);
    clock += 5 * 60_000 - 1;
    expect((await acceptRequest(VEND, deps)).enqueued).to.equal(false);
    clock += 1;
    expect((await acceptRequest(VEND, deps)).enqueued).to.equal(true);
    expect(queue.items).to.deep.equal([
      { email: VEND.email, requestId: "gen-1" },
      { email: VEND.email, requestId: "gen-1" },
    ]);
    expect(await ledger.get(VEND.email)).to.deep.equal(stored);
  });

  it("honours a custom nudge interval", async () => {
    await acceptRequest(VEND, { ...deps, nudgeAfterMs: 1_000 });
    clock += 1_000;
    expect((await acceptRequest(VEND, { ...deps, nudgeAfterMs: 1_000 })).enqueued).to.equal(true);
  });

  it("rejects a hook whose email is recorded for another account, recording nothing", async () => {
    await acceptRequest(HOOK, deps);
    const error = await rejection(
      acceptRequest(
        { ...HOOK, AccountId: "999988887777", AccountArn: HOOK.AccountArn.replace("222233334444", "999988887777") },
        deps,
      ),
    );
    expect(error).to.be.instanceOf(RequestValidationError);
    expect((error as RequestValidationError).issues).to.deep.equal([
      {
        field: "AccountEmail",
        message:
          "awsexample+meshcloud.test-aws-integration@example.com is already recorded for account 222233334444 (request gen-1), not 999988887777",
      },
    ]);
    expect(queue.items).to.have.length(1);
  });

  it("rejects a hook whose account id is recorded for another email, naming both and writing nothing", async () => {
    await acceptRequest(HOOK, deps);
    const before = await ledger.list();
    const error = await rejection(
      acceptRequest({ ...HOOK, AccountEmail: "someone-else@example.com", ProductName: "ws-other" }, deps),
    );
    expect(error).to.be.instanceOf(RequestValidationError);
    expect(error.message).to.equal(
      "invalid meshStack hook payload: AccountId: account 222233334444 is already recorded for " +
        "awsexample+meshcloud.test-aws-integration@example.com (request gen-1), not someone-else@example.com",
    );
    expect(await ledger.list()).to.deep.equal(before);
    expect(await ledger.get("someone-else@example.com")).to.equal(undefined);
    expect(queue.items).to.have.length(1);
  });

  it("rejects a request id already used for another email", async () => {
    await acceptRequest({ ...VEND, requestId: "ticket-7" }, deps);
    const error = await rejection(acceptRequest({ ...VEND, email: "other@example.com", requestId: "ticket-7" }, deps));
    expect(error).to.be.instanceOf(RequestValidationError);
    expect(error.message).to.equal("invalid vend request: requestId: is already used by a request for another email");
    expect(await ledger.get("other@example.com")).to.equal(undefined);
  });

  it("throws RequestValidationError for invalid input and records nothing", async () => {
    const error = await rejection(acceptRequest({ ...VEND, email: "nope" }, deps));
    expect(error).to.be.instanceOf(RequestValidationError);
    expect(await ledger.list()).to.deep.equal([]);
    expect(queue.items).to.deep.equal([]);
  });

  it("notes a failed enqueue, throws IntakeEnqueueError, and re-enqueues on the next repeat", async () => {
    queue.failWith = new Error("SQS is down");
    const error = await rejection(acceptRequest(VEND, deps));
    expect(error).to.be.instanceOf(IntakeEnqueueError);
    expect(error.message).to.equal("request gen-1 was recorded but could not be enqueued: SQS is down");
    expect((error as IntakeEnqueueError).requestId).to.equal("gen-1");
    const noted = await ledger.get(VEND.email);
    expect(noted?.history.at(-1)).to.deep.equal({
      at: "2026-03-01T10:00:00.000Z",
      state: "RECEIVED",
      note: "enqueue failed: SQS is down",
    });
    expect(logs.map(([level, message]) => `${level} ${message}`)).to.deep.equal(["error enqueue failed"]);

    queue.failWith = undefined;
    clock += 1_000;
    const retried = await acceptRequest(VEND, deps);
    expect(retried).to.deep.include({ created: false, enqueued: true, requestId: "gen-1" });
    expect(queue.items).to.deep.equal([{ email: VEND.email, requestId: "gen-1" }]);
    expect(await ledger.get(VEND.email)).to.deep.equal(noted);
  });

  it("passes ledger failures through without enqueueing", async () => {
    const broken: Ledger = Object.assign(new MemoryLedger(), {
      claim: async () => {
        throw new Error("DynamoDB unreachable");
      },
    });
    const error = await rejection(acceptRequest(VEND, { ...deps, ledger: broken }));
    expect(error.message).to.equal("DynamoDB unreachable");
    expect(queue.items).to.deep.equal([]);
  });

  it("records exactly one request per email when 20 distinct and 20 duplicate requests race", async () => {
    const requests = Array.from({ length: 20 }, (_, i) => ({ ...VEND, email: `user${i}@example.com` }));
    const results = await Promise.all([...requests, ...requests].map((request) => acceptRequest(request, deps)));
    expect(results.filter((result) => result.created)).to.have.length(20);
    expect(await ledger.list()).to.have.length(20);
    expect(queue.items).to.have.length(20);
    expect(new Set(queue.items.map((item) => item.email)).size).to.equal(20);
  });
});
