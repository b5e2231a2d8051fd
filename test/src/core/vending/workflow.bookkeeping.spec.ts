import { expect } from "chai";
import { createAttempts } from "../../../../src/core/vending/workflow";
import { redriveCount } from "../../../../src/core/vending/reconcile";
import { awaitedDeploymentVersion } from "../../../../src/core/webhooks/stackOutcomeRecorder";
import type { LedgerRecord } from "../../../../src/core/ledger";
import { Harness, harness } from "./workflowHarness";

describe("createWorkflow", () => {
  let h: Harness;
  afterEach(() => h.dispose());

  describe("processRequest: bookkeeping", () => {
    it("skips an unknown email and leaves terminal records untouched", async () => {
      h = harness();
      expect(await h.workflow.processRequest("nobody@example.com")).to.deep.equal({
        status: "skipped",
        reason: "no ledger record for this email",
      });
      const account = h.org.addAccount("done@example.com");
      await h.hook("done@example.com", account.id);
      await h.workflow.processRequest("done@example.com");
      const done = await h.record("done@example.com");
      const again = await h.workflow.processRequest("done@example.com");
      expect(again).to.deep.equal({ status: "terminal", record: done });
      expect((await h.record("done@example.com")).version).to.equal(done.version);
    });

    it("counts CreateAccount attempts from the history", () => {
      const history = (notes: string[]) =>
        ({ history: notes.map((note) => ({ at: "2026-01-01T00:00:00.000Z", state: "CREATING", note })) }) as never;
      expect(createAttempts(history([]))).to.deep.equal({ issued: 0, total: 0, unconfirmed: false });
      expect(
        createAttempts(
          history([
            "CreateAccount attempt 1 issuing",
            "CreateAccount attempt 1 request car-1",
            "CreateAccount attempt 2 issuing",
          ]),
        ),
      ).to.deep.equal({ issued: 2, total: 2, unconfirmed: true, unconfirmedAt: "2026-01-01T00:00:00.000Z" });
      expect(
        createAttempts(history(["CreateAccount attempt 1 issuing", "CreateAccount attempt 1 rejected: throttled"])),
      ).to.deep.equal({ issued: 0, total: 0, unconfirmed: false });
      expect(
        createAttempts(
          history([
            "CreateAccount attempt 1 issuing",
            "CreateAccount attempt 1 request car-1",
            "retry requested by avm retry (was FAILED: ACCOUNT_LIMIT_EXCEEDED)",
          ]),
        ),
      ).to.deep.equal({ issued: 0, total: 1, unconfirmed: false });
    });

    it("reads the typed lifecycle fields, and the history notes only for records written before them", () => {
      const notes = (...texts: string[]) =>
        texts.map((note) => ({ at: "2026-01-01T00:00:00.000Z", state: "CREATING" as const, note }));
      const old = {
        history: notes("CreateAccount attempt 1 issuing", "re-driven from the dead-letter queue (1 of 3)"),
      };
      expect(createAttempts(old)).to.deep.equal({
        issued: 1,
        total: 1,
        unconfirmed: true,
        unconfirmedAt: "2026-01-01T00:00:00.000Z",
      });
      expect(redriveCount(old)).to.equal(1);
      // The typed field wins over whatever the (possibly capped) history says.
      const typed = { ...old, createAttempts: { issued: 0, total: 2 }, redrives: 2 };
      expect(createAttempts(typed)).to.deep.equal({ issued: 0, total: 2, unconfirmed: false });
      expect(redriveCount(typed)).to.equal(2);
      const queued = {
        state: "BOOTSTRAPPING",
        history: [
          {
            at: "2026-01-01T00:00:00.000Z",
            state: "BOOTSTRAPPING",
            note: "account stack queued: deployment #3 queued",
          },
        ],
      } as unknown as LedgerRecord;
      expect(awaitedDeploymentVersion(queued)).to.equal(3);
      expect(
        awaitedDeploymentVersion({
          ...queued,
          awaitedDeployment: { queuedAt: "2026-01-01T00:00:00.000Z", version: 4 },
        }),
      ).to.equal(4);
    });

    it("resumes a record written before the typed fields: an interrupted CreateAccount in its notes is looked for, never repeated", async () => {
      h = harness();
      const recorded = await h.vend("legacy@example.com");
      // As an older version wrote it: the attempt marker as a note only, then the worker died.
      await h.ledger.update(
        "legacy@example.com",
        recorded.version,
        { state: "CREATING", note: "CreateAccount attempt 1 issuing" },
        h.timing.now(),
      );
      const account = h.org.addAccount("legacy@example.com");
      await h.workflow.processRequest("legacy@example.com");
      const record = await h.record("legacy@example.com");
      expect([record.state, record.accountId]).to.deep.equal(["SUCCEEDED", account.id]);
      expect(h.org.count("CreateAccount")).to.equal(0);
      expect(record.history.map((e) => e.note)).to.include(
        `found account ${account.id} after an interrupted CreateAccount`,
      );
    });

    it("keeps waiting for a deployment a record written before the typed fields queued (its last note)", async () => {
      h = harness();
      const account = h.org.addAccount("queued@example.com");
      const recorded = await h.hook("queued@example.com", account.id);
      await h.ledger.update(
        "queued@example.com",
        recorded.version,
        { state: "BOOTSTRAPPING", note: "account stack queued: deployment #3 queued" },
        h.timing.now(),
      );
      const outcome = await h.workflow.processRequest("queued@example.com");
      expect(outcome).to.deep.include({
        status: "waiting",
        reason: "account stack deployment queued; waiting for its webhook",
      });
      expect(h.runner.calls).to.deep.equal([]);
    });
  });
});
