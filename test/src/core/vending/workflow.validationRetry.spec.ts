import { expect } from "chai";
import { accountMayExist, reopenFailedRequest, RetryRefusedError } from "../../../../src/core/vending/retryRequest";
import { createAttempts } from "../../../../src/core/vending/workflow";
import { Harness, harness } from "./workflowHarness";

describe("createWorkflow", () => {
  let h: Harness;
  afterEach(() => h.dispose());

  describe("validation before side effects, and retrying FAILED requests", () => {
    it("fails an OU id that does not exist before CreateAccount; the corrected request then succeeds", async () => {
      h = harness();
      const workloads = h.org.addOu("Workloads");
      await h.vend("typo@example.com", { targetOu: "ou-zzzz-zzzzzzzz" });
      await h.workflow.processRequest("typo@example.com");
      const failed = await h.record("typo@example.com");
      expect(failed.state).to.equal("FAILED");
      expect(failed.failureReason).to.equal(
        'target OU "ou-zzzz-zzzzzzzz": DescribeOrganizationalUnit failed: OrganizationalUnitNotFoundException: no such OU',
      );
      expect(h.org.count("CreateAccount")).to.equal(0);
      expect(accountMayExist(failed)).to.equal(false);

      const corrected = { ...failed.request, targetOu: workloads };
      await reopenFailedRequest(h.ledger, failed, h.timing.now(), { request: corrected, by: "a corrected request" });
      await h.workflow.processRequest("typo@example.com");
      const record = await h.record("typo@example.com");
      expect(record.state).to.equal("SUCCEEDED");
      expect(record.failureReason).to.equal(undefined);
      expect(record.request["targetOu"]).to.equal(workloads);
      expect(h.org.count("CreateAccount")).to.equal(1);
      expect(h.org.accountsWithEmail("typo@example.com").map((a) => a.parentId)).to.deep.equal([workloads]);
      expect(record.history.map((e) => e.note)).to.include(
        'retry requested by a corrected request (was FAILED: target OU "ou-zzzz-zzzzzzzz": DescribeOrganizationalUnit failed: OrganizationalUnitNotFoundException: no such OU)',
      );
    });

    it("fails a root id that is not the organization's root before CreateAccount", async () => {
      h = harness();
      await h.vend("root@example.com", { targetOu: "r-zzzz" });
      await h.workflow.processRequest("root@example.com");
      const record = await h.record("root@example.com");
      expect(record.failureReason).to.equal(
        'cannot resolve OU path "r-zzzz": the organization\'s root is r-root, not r-zzzz',
      );
      expect(h.org.count("CreateAccount")).to.equal(0);
    });

    it("resumes a request that FAILED after its account exists, without a second CreateAccount", async () => {
      h = harness();
      h.runner.failWith = new Error("engine crashed");
      await h.vend("resume@example.com");
      const error = await h.workflow.processRequest("resume@example.com").catch((e: unknown) => e);
      expect((error as Error).message).to.equal("engine crashed");
      // E.g. the worker's last delivery or a failed deployment's webhook marked it FAILED.
      const stuck = await h.record("resume@example.com");
      expect(stuck.state).to.equal("BOOTSTRAPPING");
      const failed = await h.ledger.update(
        stuck.email,
        stuck.version,
        { state: "FAILED", failureReason: "account stack update failed" },
        h.timing.now(),
      );
      expect(accountMayExist(failed)).to.equal(true);

      h.runner.failWith = undefined;
      await reopenFailedRequest(h.ledger, failed, h.timing.now(), { by: "avm retry" });
      await h.workflow.processRequest("resume@example.com");
      const record = await h.record("resume@example.com");
      expect(record.state).to.equal("SUCCEEDED");
      expect(record.accountId).to.equal(failed.accountId);
      expect(h.org.count("CreateAccount")).to.equal(1);
      expect(h.runner.calls.length).to.equal(2);
      expect(h.org.accountsWithEmail("resume@example.com").length).to.equal(1);
    });

    it("retries a CreateAccount that FAILED with a new attempt budget", async () => {
      h = harness({ maxCreateAttempts: 1 });
      h.org.scriptedFailures.set("limit@example.com", ["ACCOUNT_LIMIT_EXCEEDED"]);
      await h.vend("limit@example.com");
      await h.workflow.processRequest("limit@example.com");
      const failed = await h.record("limit@example.com");
      expect(failed.failureReason).to.equal("ACCOUNT_LIMIT_EXCEEDED");

      await reopenFailedRequest(h.ledger, failed, h.timing.now(), { by: "avm retry" });
      await h.workflow.processRequest("limit@example.com");
      const record = await h.record("limit@example.com");
      expect(record.state).to.equal("SUCCEEDED");
      expect(h.org.count("CreateAccount")).to.equal(2);
      expect(h.org.accountsWithEmail("limit@example.com").length).to.equal(1);
      expect(createAttempts(record)).to.deep.equal({ issued: 1, total: 2, unconfirmed: false });
    });

    it("adopts on retry the account an interrupted CreateAccount created before the request FAILED", async () => {
      h = harness();
      await h.vend("orphan@example.com");
      h.ledger.crashes.push({ when: "before", match: (patch) => patch.createAccountRequestId !== undefined });
      await h.workflow.processRequest("orphan@example.com").catch(() => undefined);
      const stuck = await h.record("orphan@example.com");
      const failed = await h.ledger.update(
        stuck.email,
        stuck.version,
        { state: "FAILED", failureReason: "gave up after 5 deliveries" },
        h.timing.now(),
      );
      await reopenFailedRequest(h.ledger, failed, h.timing.now(), { by: "avm retry" });
      await h.workflow.processRequest("orphan@example.com");
      const record = await h.record("orphan@example.com");
      const [account] = h.org.accountsWithEmail("orphan@example.com");
      expect(record.state).to.equal("SUCCEEDED");
      expect(record.accountId).to.equal(account!.id);
      expect(h.org.count("CreateAccount")).to.equal(1);
      expect(record.history.map((e) => e.note)).to.include(`found account ${account!.id} of an earlier attempt`);
    });

    it("refuses to reopen a request that is not FAILED", async () => {
      h = harness();
      const record = await h.vend("fresh@example.com");
      const error = await reopenFailedRequest(h.ledger, record, h.timing.now(), { by: "avm retry" }).catch(
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(RetryRefusedError);
      expect((error as Error).message).to.equal("request req-1 is RECEIVED, not FAILED: nothing to retry");
    });
  });
});
