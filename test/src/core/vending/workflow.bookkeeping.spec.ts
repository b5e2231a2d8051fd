import { expect } from "chai";
import { createAttempts } from "../../../../src/core/vending/workflow";
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
  });
});
