import { expect } from "chai";
import { Harness, harness } from "./workflowHarness";

describe("createWorkflow", () => {
  let h: Harness;
  afterEach(() => h.dispose());

  describe("processRequest: CreateAccount reply lost", () => {
    it("never resends CreateAccount after a lost reply: looks within the grace period and adopts the account", async () => {
      // AWS accepted attempt 1 and creates the account; the reply was lost (socket hang up) and for a while
      // neither ListCreateAccountStatus nor ListAccounts shows the request yet (AWS's listing lag).
      h = harness();
      await h.vend("hangup@example.com");
      h.org.lostCreateReplies.push(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
      h.org.listingLag = 3;
      const outcome = await h.workflow.processRequest("hangup@example.com");
      expect(outcome.status).to.equal("terminal");
      const record = await h.record("hangup@example.com");
      expect(record.state).to.equal("SUCCEEDED");
      expect(h.org.count("CreateAccount")).to.equal(1);
      expect(h.org.accountsWithEmail("hangup@example.com").map((a) => a.id)).to.deep.equal([record.accountId]);
      expect(h.timing.sleeps).to.deep.equal([1_000, 2_000, 4_000]);
      expect(record.history.map((e) => e.note)).to.include.members([
        "CreateAccount attempt 1 CreateAccount outcome unknown: Error: socket hang up",
        `found account ${record.accountId} after an interrupted CreateAccount`,
      ]);
    });
  });
});
