/**
 * The one contract every {@link Ledger} implementation must keep. Each implementation's spec calls
 * {@link ledgerContract} with a factory that returns a fresh, empty ledger.
 */
import { expect } from "chai";
import {
  LedgerConflictError,
  LedgerIdentityConflictError,
  LedgerNotFoundError,
  type LedgerRecord,
  type NewLedgerRecord,
} from "../../../src/core/ledger";
import { type Ledger } from "../../../src/core/ports";
import {
  encodeListCursor,
  LedgerClosedError,
  LedgerInputError,
  MAX_HISTORY_ENTRIES,
} from "../../../src/core/ledgerRecords";
import { listPage, type PageOptions } from "../../../src/core/ledgerPages";
import { rejection } from "../rejection";

/** Creates a fresh, empty ledger for one test. */
export type LedgerFactory = () => Promise<Ledger>;

const T0 = new Date("2026-01-02T03:04:05.000Z");
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

function vend(email: string, requestId: string, extra: Partial<NewLedgerRecord> = {}): NewLedgerRecord {
  return {
    email,
    requestId,
    kind: "vend",
    request: { kind: "vend", accountName: `acct ${requestId}`, email, tags: { Team: "a" } },
    ...extra,
  };
}

/** Registers the ledger contract tests under `describe(name)`. */
export function ledgerContract(name: string, factory: LedgerFactory): void {
  describe(`${name} (ledger contract)`, () => {
    let ledger: Ledger;
    beforeEach(async () => {
      ledger = await factory();
    });
    afterEach(async () => {
      await ledger.close();
    });

    it("claims a new email and returns the stored record", async () => {
      const result = await ledger.claim(vend(" Alice@Example.COM ", "req-1"), T0);
      const expected: LedgerRecord = {
        email: "alice@example.com",
        requestId: "req-1",
        kind: "vend",
        state: "RECEIVED",
        request: { kind: "vend", accountName: "acct req-1", email: " Alice@Example.COM ", tags: { Team: "a" } },
        attempts: 0,
        history: [{ at: "2026-01-02T03:04:05.000Z", state: "RECEIVED", note: "request recorded" }],
        createdAt: "2026-01-02T03:04:05.000Z",
        updatedAt: "2026-01-02T03:04:05.000Z",
        version: 1,
      };
      expect(result).to.deep.equal({ created: true, record: expected });
      expect(await ledger.get("alice@example.com")).to.deep.equal(expected);
    });

    it("never overwrites: a second claim of the same email returns the first record", async () => {
      await ledger.claim(vend("bob@example.com", "req-1"), T0);
      const second = await ledger.claim(vend("BOB@example.com", "req-2", { kind: "meshstack-hook" }), at(5));
      expect(second.created).to.equal(false);
      expect(second.record.requestId).to.equal("req-1");
      expect(second.record.kind).to.equal("vend");
      expect(second.record.createdAt).to.equal("2026-01-02T03:04:05.000Z");
      expect(await ledger.getByRequestId("req-2")).to.equal(undefined);
    });

    it("stores the account id and initial state of a hook request", async () => {
      const result = await ledger.claim(
        {
          ...vend("hook@example.com", "req-h", { kind: "meshstack-hook" }),
          accountId: "222233334444",
          state: "BOOTSTRAPPING",
        },
        T0,
      );
      expect(result.record.accountId).to.equal("222233334444");
      expect(result.record.state).to.equal("BOOTSTRAPPING");
      expect(result.record.history).to.deep.equal([
        { at: "2026-01-02T03:04:05.000Z", state: "BOOTSTRAPPING", note: "request recorded" },
      ]);
      expect((await ledger.getByAccountId("222233334444"))?.email).to.equal("hook@example.com");
    });

    it("finds records by email (any case), request id and account id", async () => {
      await ledger.claim(vend("c@example.com", "req-c", { accountId: "111111111111" }), T0);
      await ledger.claim(vend("d@example.com", "req-d"), at(1));
      expect((await ledger.get("C@EXAMPLE.com"))?.requestId).to.equal("req-c");
      expect((await ledger.getByRequestId("req-d"))?.email).to.equal("d@example.com");
      expect((await ledger.getByAccountId("111111111111"))?.email).to.equal("c@example.com");
      expect(await ledger.get("nobody@example.com")).to.equal(undefined);
      expect(await ledger.getByRequestId("req-x")).to.equal(undefined);
      expect(await ledger.getByAccountId("999999999999")).to.equal(undefined);
    });

    it("updates with compare-and-set, bumps the version and appends history", async () => {
      await ledger.claim(vend("e@example.com", "req-e"), T0);
      const creating = await ledger.update(
        "e@example.com",
        1,
        { state: "CREATING", createAccountRequestId: "car-123", attempts: 1, note: "CreateAccount sent" },
        at(10),
      );
      expect(creating).to.deep.include({
        state: "CREATING",
        createAccountRequestId: "car-123",
        attempts: 1,
        version: 2,
        updatedAt: "2026-01-02T03:04:15.000Z",
        createdAt: "2026-01-02T03:04:05.000Z",
      });
      const failed = await ledger.update(
        "E@example.com",
        2,
        { state: "FAILED", failureReason: "SOME_NEW_REASON from AWS", accountId: "123412341234" },
        at(20),
      );
      expect(failed.history).to.deep.equal([
        { at: "2026-01-02T03:04:05.000Z", state: "RECEIVED", note: "request recorded" },
        { at: "2026-01-02T03:04:15.000Z", state: "CREATING", note: "CreateAccount sent" },
        { at: "2026-01-02T03:04:25.000Z", state: "FAILED" },
      ]);
      expect(failed.failureReason).to.equal("SOME_NEW_REASON from AWS");
      expect(failed.createAccountRequestId).to.equal("car-123");
      expect(failed.attempts).to.equal(1);
      expect(failed.version).to.equal(3);
      expect(await ledger.get("e@example.com")).to.deep.equal(failed);
      expect(await ledger.getByAccountId("123412341234")).to.deep.equal(failed);
    });

    it("records several steps in one write: one history entry per step, the state of the last", async () => {
      await ledger.claim(vend("s@example.com", "req-s"), T0);
      const steps = [
        { state: "MOVING", note: "account 123412341234 created" },
        { state: "TAGGING", note: "moved from r-root to ou-1" },
      ] as const;
      const withOwn = await ledger.update("s@example.com", 1, { steps, state: "BOOTSTRAPPING", note: "tagged" }, at(1));
      expect(withOwn.history).to.deep.equal([
        { at: "2026-01-02T03:04:05.000Z", state: "RECEIVED", note: "request recorded" },
        { at: "2026-01-02T03:04:06.000Z", state: "MOVING", note: "account 123412341234 created" },
        { at: "2026-01-02T03:04:06.000Z", state: "TAGGING", note: "moved from r-root to ou-1" },
        { at: "2026-01-02T03:04:06.000Z", state: "BOOTSTRAPPING", note: "tagged" },
      ]);
      expect([withOwn.state, withOwn.version]).to.deep.equal(["BOOTSTRAPPING", 2]);
      // Steps alone (a lease renewal that carries them): the state is the last step's, no entry of its own.
      const alone = await ledger.update("s@example.com", 2, { steps: [{ state: "COMPLETING" }] }, at(2));
      expect(alone.history.slice(4)).to.deep.equal([{ at: "2026-01-02T03:04:07.000Z", state: "COMPLETING" }]);
      expect([alone.state, alone.version]).to.deep.equal(["COMPLETING", 3]);
      expect(await ledger.get("s@example.com")).to.deep.equal(alone);
      const bad = await rejection(ledger.update("s@example.com", 3, { steps: [{ state: "NOPE" as never }] }, at(3)));
      expect(bad).to.be.instanceOf(LedgerInputError);
      expect(bad.message).to.match(/^patch\.steps\[\]\.state must be one of RECEIVED, .*, got "NOPE"$/);
    });

    it("persists the lifecycle fields (CreateAccount attempts, awaited deployment, re-drives) as typed data", async () => {
      await ledger.claim(vend("t@example.com", "req-t", { accountId: "123412341234" }), T0);
      const attempts = {
        issued: 2,
        total: 3,
        unconfirmedAt: "2026-01-02T03:04:06.000Z",
        interruptedAt: T0.toISOString(),
      };
      const creating = await ledger.update(
        "t@example.com",
        1,
        { state: "CREATING", createAttempts: attempts, redrives: 1 },
        at(1),
      );
      expect([creating.createAttempts, creating.redrives, creating.awaitedDeployment]).to.deep.equal([
        attempts,
        1,
        undefined,
      ]);
      const awaited = { queuedAt: "2026-01-02T03:04:07.000Z", version: 7, url: "https://app.pulumi.com/d/7" };
      const waiting = await ledger.update(
        "t@example.com",
        2,
        { state: "BOOTSTRAPPING", awaitedDeployment: awaited, createAttempts: { issued: 2, total: 3 } },
        at(2),
      );
      expect(waiting.awaitedDeployment).to.deep.equal(awaited);
      expect(waiting.createAttempts).to.deep.equal({ issued: 2, total: 3 });
      // Read back the same through every lookup.
      expect(await ledger.get("t@example.com")).to.deep.equal(waiting);
      expect(await ledger.getByRequestId("req-t")).to.deep.equal(waiting);
      expect(await ledger.getByAccountId("123412341234")).to.deep.equal(waiting);
      expect(await ledger.list({ states: ["BOOTSTRAPPING"] })).to.deep.equal([waiting]);
      // A write in the same state keeps it; leaving BOOTSTRAPPING drops it; the other fields stay.
      const renewed = await ledger.update("t@example.com", 3, { note: "still waiting" }, at(3));
      expect(renewed.awaitedDeployment).to.deep.equal(awaited);
      const completing = await ledger.update("t@example.com", 4, { state: "COMPLETING" }, at(4));
      expect(completing.awaitedDeployment).to.equal(undefined);
      expect([completing.createAttempts, completing.redrives]).to.deep.equal([{ issued: 2, total: 3 }, 1]);
      expect(await ledger.get("t@example.com")).to.deep.equal(completing);
      const bad = await rejection(ledger.update("t@example.com", 5, { redrives: -1 }, at(5)));
      expect(bad).to.be.instanceOf(LedgerInputError);
      expect(bad.message).to.equal("patch.redrives must be a non-negative integer, got -1");
    });

    it("reads a record written before the lifecycle fields existed: none of them set", async () => {
      const { record } = await ledger.claim(vend("old@example.com", "req-old"), T0);
      expect(["createAttempts", "awaitedDeployment", "redrives"].filter((field) => field in record)).to.deep.equal([]);
      const stored = (await ledger.get("old@example.com"))!;
      expect(["createAttempts", "awaitedDeployment", "redrives"].filter((field) => field in stored)).to.deep.equal([]);
    });

    it("refuses a claim whose account id another email holds, writing nothing (one record per account id)", async () => {
      const { record: holder } = await ledger.claim(
        vend("holder@example.com", "req-h", { kind: "meshstack-hook", accountId: "111122223333" }),
        T0,
      );
      const error = await rejection(
        ledger.claim(vend("Other@Example.com", "req-o", { kind: "meshstack-hook", accountId: "111122223333" }), at(1)),
      );
      expect(error).to.be.instanceOf(LedgerIdentityConflictError);
      expect(error.message).to.equal(
        "account 111122223333 is already recorded for holder@example.com (request req-h), not other@example.com",
      );
      expect(await ledger.get("other@example.com")).to.equal(undefined);
      expect(await ledger.list()).to.deep.equal([holder]);
      // The holder's own repeated claim is no conflict.
      const again = await ledger.claim(
        vend("holder@example.com", "req-h2", { kind: "meshstack-hook", accountId: "111122223333" }),
        at(2),
      );
      expect(again).to.deep.equal({ created: false, record: holder });
    });

    it("lets exactly one of 20 concurrent claims of one account id under different emails succeed", async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          ledger.claim(
            vend(`race-${i}@example.com`, `req-${i}`, { kind: "meshstack-hook", accountId: "444455556666" }),
            T0,
          ),
        ),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      const refused = results.filter((r) => r.status === "rejected");
      expect(won).to.have.length(1);
      expect(refused.map((r) => (r as PromiseRejectedResult).reason)).to.satisfy((reasons: unknown[]) =>
        reasons.every((reason) => reason instanceof LedgerIdentityConflictError),
      );
      const records = await ledger.list();
      expect(records.map((r) => r.accountId)).to.deep.equal(["444455556666"]);
    });

    it("does not append history for a patch without state or note", async () => {
      await ledger.claim(vend("f@example.com", "req-f"), T0);
      const updated = await ledger.update("f@example.com", 1, { attempts: 3 }, at(1));
      expect(updated.history).to.have.length(1);
      expect(updated.attempts).to.equal(3);
      expect(updated.version).to.equal(2);
    });

    it("rejects a stale version with LedgerConflictError and leaves the record as it was", async () => {
      await ledger.claim(vend("g@example.com", "req-g"), T0);
      await ledger.update("g@example.com", 1, { state: "CREATING" }, at(1));
      const error = await rejection(ledger.update("g@example.com", 1, { state: "FAILED" }, at(2)));
      expect(error).to.be.instanceOf(LedgerConflictError);
      expect(error.message).to.equal("ledger record for g@example.com changed concurrently (expected version 1)");
      const stored = await ledger.get("g@example.com");
      expect(stored?.state).to.equal("CREATING");
      expect(stored?.version).to.equal(2);
    });

    it("rejects an update of an unknown email with LedgerNotFoundError", async () => {
      const error = await rejection(ledger.update("nobody@example.com", 1, { state: "FAILED" }, T0));
      expect(error).to.be.instanceOf(LedgerNotFoundError);
      expect(error.message).to.equal("no ledger record for nobody@example.com");
    });

    it("rejects bad input with LedgerInputError", async () => {
      const noAt = await rejection(ledger.claim(vend("#slot#0", "req-z"), T0));
      expect(noAt).to.be.instanceOf(LedgerInputError);
      expect(noAt.message).to.equal('email must be an email address, got "#slot#0"');
      await ledger.claim(vend("h@example.com", "req-h"), T0);
      const badState = await rejection(ledger.update("h@example.com", 1, { state: "DONE" as never }, T0));
      expect(badState).to.be.instanceOf(LedgerInputError);
      expect(badState.message).to.equal(
        'patch.state must be one of RECEIVED, CREATING, MOVING, TAGGING, BOOTSTRAPPING, COMPLETING, PLANNED, SUCCEEDED, FAILED, CLOSING, CLOSED, got "DONE"',
      );
      const badLimit = await rejection(ledger.list({ limit: -1 }));
      expect(badLimit.message).to.equal("limit must be a non-negative integer, got -1");
    });

    it("lists oldest first, filters by state and applies the limit", async () => {
      await ledger.claim(vend("z@example.com", "req-1"), at(3));
      await ledger.claim(vend("y@example.com", "req-2"), at(1));
      await ledger.claim(vend("x@example.com", "req-3"), at(2));
      await ledger.claim(vend("w@example.com", "req-4"), at(2));
      await ledger.update("x@example.com", 1, { state: "SUCCEEDED" }, at(9));
      await ledger.update("z@example.com", 1, { state: "FAILED", failureReason: "r" }, at(9));
      const emails = (records: LedgerRecord[]) => records.map((record) => record.email);
      expect(emails(await ledger.list())).to.deep.equal([
        "y@example.com",
        "w@example.com",
        "x@example.com",
        "z@example.com",
      ]);
      expect(emails(await ledger.list({ states: ["SUCCEEDED", "FAILED"] }))).to.deep.equal([
        "x@example.com",
        "z@example.com",
      ]);
      expect(emails(await ledger.list({ states: ["RECEIVED"], limit: 1 }))).to.deep.equal(["y@example.com"]);
      expect(await ledger.list({ states: [] })).to.deep.equal([]);
      expect(await ledger.list({ limit: 0 })).to.deep.equal([]);
    });

    describe("paging", () => {
      const emails = (records: readonly LedgerRecord[]) => records.map((record) => record.email);

      /** Every page of `options` (each of `limit` records), concatenated, and the page sizes. */
      async function walk(options: Omit<PageOptions, "after">): Promise<{ emails: string[]; sizes: number[] }> {
        const seen: string[] = [];
        const sizes: number[] = [];
        let after: string | undefined;
        for (let guard = 0; guard < 100; guard += 1) {
          const page = await listPage(ledger, { ...options, ...(after !== undefined ? { after } : {}) });
          seen.push(...emails(page.records));
          sizes.push(page.records.length);
          if (page.next === null) return { emails: seen, sizes };
          after = page.next;
        }
        throw new Error("more than 100 pages");
      }

      /** Nine records: three share one createdAt (ties cross a page boundary), states mixed. */
      async function nine(): Promise<void> {
        const plan: [string, number][] = [
          ["e@example.com", 5],
          ["a@example.com", 1],
          ["i@example.com", 9],
          ["d@example.com", 3],
          ["c@example.com", 3],
          ["b@example.com", 3],
          ["h@example.com", 8],
          ["f@example.com", 6],
          ["g@example.com", 7],
        ];
        for (const [email, second] of plan) await ledger.claim(vend(email, `req-${email[0]}`), at(second));
        for (const email of ["b@example.com", "f@example.com", "i@example.com"]) {
          await ledger.update(email, 1, { state: "FAILED", failureReason: "r" }, at(20));
        }
        await ledger.update("c@example.com", 1, { state: "SUCCEEDED" }, at(20));
      }

      it("walks every record once, in list order, page by page, and says when no page follows", async () => {
        await nine();
        const all = emails(await ledger.list());
        expect(all).to.deep.equal([
          "a@example.com",
          "b@example.com",
          "c@example.com",
          "d@example.com",
          "e@example.com",
          "f@example.com",
          "g@example.com",
          "h@example.com",
          "i@example.com",
        ]);
        expect(await walk({ limit: 2 })).to.deep.equal({ emails: all, sizes: [2, 2, 2, 2, 1] });
        expect(await walk({ limit: 3 })).to.deep.equal({ emails: all, sizes: [3, 3, 3] });
        expect(await walk({ limit: 9 })).to.deep.equal({ emails: all, sizes: [9] });
        expect(await walk({ limit: 50 })).to.deep.equal({ emails: all, sizes: [9] });
        const first = await listPage(ledger, { limit: 2 });
        expect(first.next).to.equal(encodeListCursor({ createdAt: at(3).toISOString(), email: "b@example.com" }));
        const second = await listPage(ledger, { limit: 2, after: first.next! });
        expect(emails(second.records)).to.deep.equal(["c@example.com", "d@example.com"]);
        expect(await ledger.list({ after: first.next!, limit: 3 })).to.deep.equal((await ledger.list()).slice(2, 5));
        expect(emails(await ledger.list({ after: first.next! }))).to.deep.equal(all.slice(2));
      });

      it("pages within the states asked for, the cursor being a position whatever the record's state now", async () => {
        await nine();
        expect(await walk({ limit: 1, states: ["FAILED"] })).to.deep.equal({
          emails: ["b@example.com", "f@example.com", "i@example.com"],
          sizes: [1, 1, 1],
        });
        expect(await walk({ limit: 2, states: ["FAILED", "SUCCEEDED"] })).to.deep.equal({
          emails: ["b@example.com", "c@example.com", "f@example.com", "i@example.com"],
          sizes: [2, 2],
        });
        expect(await walk({ limit: 2, states: ["RECEIVED", "RECEIVED"] })).to.deep.equal({
          emails: ["a@example.com", "d@example.com", "e@example.com", "g@example.com", "h@example.com"],
          sizes: [2, 2, 1],
        });
        // After the position of a RECEIVED record (d), the FAILED ones that follow it.
        const afterD = encodeListCursor({ createdAt: at(3).toISOString(), email: "d@example.com" });
        expect(emails(await ledger.list({ states: ["FAILED"], after: afterD, limit: 5 }))).to.deep.equal([
          "f@example.com",
          "i@example.com",
        ]);
        // After a position no record holds (between c and d), and after the last record.
        const between = encodeListCursor({ createdAt: at(3).toISOString(), email: "cc@example.com" });
        expect(emails(await ledger.list({ after: between, limit: 2 }))).to.deep.equal([
          "d@example.com",
          "e@example.com",
        ]);
        const end = encodeListCursor({ createdAt: at(9).toISOString(), email: "i@example.com" });
        expect(await listPage(ledger, { limit: 3, after: end })).to.deep.equal({ records: [], next: null });
        expect(await listPage(ledger, { limit: 3, states: [] })).to.deep.equal({ records: [], next: null });
      });

      it("neither repeats nor skips a record across pages while records are added and updated", async () => {
        for (let i = 0; i < 5; i += 1) await ledger.claim(vend(`r${i}@example.com`, `req-r${i}`), at(i));
        const seen: string[] = [];
        let after: string | undefined;
        let added = 0;
        for (let guard = 0; guard < 100; guard += 1) {
          const page = await listPage(ledger, { limit: 2, ...(after !== undefined ? { after } : {}) });
          seen.push(...emails(page.records));
          // Between pages: two new requests (later, one of them in the same second as the previous) and a state change.
          if (added < 6) {
            await ledger.claim(vend(`n${added}@example.com`, `req-n${added}`), at(100 + added));
            await ledger.claim(vend(`m${added}@example.com`, `req-m${added}`), at(100 + added));
            added += 2;
          }
          const moved = page.records[0];
          if (moved !== undefined) await ledger.update(moved.email, moved.version, { state: "FAILED" }, at(200));
          if (page.next === null) break;
          after = page.next;
        }
        const all = emails(await ledger.list());
        expect(all).to.have.length(11);
        expect(seen).to.deep.equal(all);
      });

      it("rejects a malformed cursor and a page size below 1, naming the option", async () => {
        await ledger.claim(vend("p@example.com", "req-p"), T0);
        for (const cursor of [
          "nope!",
          "",
          "bm9wZQ",
          encodeListCursor({ createdAt: "yesterday", email: "p@example.com" }),
        ]) {
          const error = await rejection(ledger.list({ after: cursor, limit: 1 }));
          expect(error, cursor).to.be.instanceOf(LedgerInputError);
          expect(error.message).to.equal(`after must be a cursor of a previous list page, got "${cursor}"`);
        }
        const zero = await rejection(listPage(ledger, { limit: 0 }));
        expect(zero).to.be.instanceOf(LedgerInputError);
        expect(zero.message).to.equal("limit must be a positive integer, got 0");
      });
    });

    it("keeps the first and the latest history entries when the history grows long", async () => {
      await ledger.claim(vend("i@example.com", "req-i"), T0);
      let version = 1;
      for (let step = 1; step <= MAX_HISTORY_ENTRIES + 5; step += 1) {
        version = (await ledger.update("i@example.com", version, { note: `step ${step}` }, at(step))).version;
      }
      const record = await ledger.get("i@example.com");
      expect(record?.history).to.have.length(MAX_HISTORY_ENTRIES);
      expect(record?.history[0]?.note).to.equal("request recorded");
      expect(record?.history[1]?.note).to.equal("step 7");
      expect(record?.history.at(-1)?.note).to.equal(`step ${MAX_HISTORY_ENTRIES + 5}`);
    });

    it("returns copies: mutating a returned record changes nothing stored", async () => {
      const { record } = await ledger.claim(vend("j@example.com", "req-j"), T0);
      (record.history as unknown as unknown[]).push({ at: "x", state: "FAILED" });
      (record.request as Record<string, unknown>)["accountName"] = "changed";
      const stored = await ledger.get("j@example.com");
      expect(stored?.history).to.have.length(1);
      expect(stored?.request["accountName"]).to.equal("acct req-j");
    });

    it("lets exactly one of 50 concurrent claims of one email create the record", async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => ledger.claim(vend("race@example.com", `req-${i}`), at(i))),
      );
      const winners = results.filter((result) => result.created);
      expect(winners).to.have.length(1);
      const winner = winners[0]!.record.requestId;
      expect(results.every((result) => result.record.requestId === winner)).to.equal(true);
      expect(await ledger.list()).to.have.length(1);
    });

    it("lets exactly one of 20 concurrent updates with the same expected version win", async () => {
      await ledger.claim(vend("cas@example.com", "req-cas"), T0);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => ledger.update("cas@example.com", 1, { note: `writer ${i}` }, at(i))),
      );
      const won = outcomes.filter((outcome) => outcome.status === "fulfilled");
      const lost = outcomes.filter((outcome) => outcome.status === "rejected");
      expect(won).to.have.length(1);
      expect(lost).to.have.length(19);
      expect(lost.every((outcome) => outcome.reason instanceof LedgerConflictError)).to.equal(true);
      const stored = await ledger.get("cas@example.com");
      expect(stored?.version).to.equal(2);
      expect(stored?.history).to.have.length(2);
    });

    it("refuses to work after close", async () => {
      await ledger.close();
      const error = await rejection(ledger.get("a@example.com"));
      expect(error).to.be.instanceOf(LedgerClosedError);
      ledger = await factory(); // for afterEach
    });
  });
}
