import { ConstraintViolationException } from "@aws-sdk/client-organizations";
import { expect } from "chai";
import { OrganizationsRetriesExhaustedError } from "../../../../src/core/organizations";
import { createAttempts } from "../../../../src/core/vending/workflow";
import { type Harness, harness, meta, REFUSED, refused } from "./workflowHarness";

describe("createWorkflow", () => {
  let h: Harness;
  afterEach(() => h.dispose());

  describe("processRequest: CreateAccount failures", () => {
    for (const reason of ["ACCOUNT_LIMIT_EXCEEDED", "INVALID_EMAIL", "INVALID_ADDRESS", "SOME_FUTURE_REASON"]) {
      it(`fails with ${reason} verbatim`, async () => {
        h = harness();
        h.org.scriptedFailures.set("bad@example.com", [reason]);
        await h.vend("bad@example.com");
        const outcome = await h.workflow.processRequest("bad@example.com");
        expect(outcome.status).to.equal("terminal");
        const record = await h.record("bad@example.com");
        expect(record.state).to.equal("FAILED");
        expect(record.failureReason).to.equal(reason);
        expect(record.history.at(-1)!.note).to.equal(`CreateAccount car-0001 failed: ${reason}`);
        expect(h.org.count("CreateAccount")).to.equal(1);
        expect(await h.slots.holders()).to.deep.equal([]);
      });
    }

    it("retries INTERNAL_FAILURE with backoff and then succeeds", async () => {
      h = harness();
      h.org.scriptedFailures.set("retry@example.com", ["INTERNAL_FAILURE"]);
      await h.vend("retry@example.com");
      await h.workflow.processRequest("retry@example.com");
      const record = await h.record("retry@example.com");
      expect(record.state).to.equal("SUCCEEDED");
      expect(record.createAccountRequestId).to.equal("car-0002");
      expect(h.org.count("CreateAccount")).to.equal(2);
      // poll, re-issue backoff (5 s ceiling, equal jitter at 0.5), poll
      expect(h.timing.sleeps).to.deep.equal([1_000, 3_750, 1_000]);
      expect(h.org.accountsWithEmail("retry@example.com")).to.have.length(1);
    });

    it("gives up on CONCURRENT_ACCOUNT_MODIFICATION after the attempt limit", async () => {
      h = harness({ maxCreateAttempts: 3 });
      h.org.scriptedFailures.set("busy@example.com", [
        "CONCURRENT_ACCOUNT_MODIFICATION",
        "CONCURRENT_ACCOUNT_MODIFICATION",
        "CONCURRENT_ACCOUNT_MODIFICATION",
      ]);
      await h.vend("busy@example.com");
      await h.workflow.processRequest("busy@example.com");
      const record = await h.record("busy@example.com");
      expect(record.state).to.equal("FAILED");
      expect(record.failureReason).to.equal("CONCURRENT_ACCOUNT_MODIFICATION");
      expect(record.history.at(-1)!.note).to.equal(
        "CreateAccount failed with CONCURRENT_ACCOUNT_MODIFICATION 3 times; giving up",
      );
      expect(h.org.count("CreateAccount")).to.equal(3);
      expect(h.timing.sleeps).to.deep.equal([1_000, 3_750, 1_000, 7_500, 1_000]);
    });

    it("adopts the account on EMAIL_ALREADY_EXISTS when the email is in the organization", async () => {
      h = harness();
      const existing = h.org.addAccount("taken@example.com", "taken");
      await h.vend("taken@example.com");
      await h.workflow.processRequest("taken@example.com");
      const record = await h.record("taken@example.com");
      expect(record.state).to.equal("SUCCEEDED");
      expect(record.accountId).to.equal(existing.id);
      expect(record.history.map((e) => e.note)).to.include(
        `EMAIL_ALREADY_EXISTS: adopted existing account ${existing.id}`,
      );
      expect(h.org.accountsWithEmail("taken@example.com")).to.have.length(1);
      expect(existing.tags).to.deep.equal({ CostCenter: "1234" });
    });

    it("never adopts an account the ledger records under another email (one record per account id)", async () => {
      h = harness();
      const existing = h.org.addAccount("taken@example.com", "taken");
      await h.hook("other@example.com", existing.id);
      await h.vend("taken@example.com");
      await h.workflow.processRequest("taken@example.com");
      const record = await h.record("taken@example.com");
      expect(record.state).to.equal("FAILED");
      expect(record.accountId).to.equal(undefined);
      expect(record.failureReason).to.equal(
        `IDENTITY_CONFLICT: account ${existing.id} is already recorded for other@example.com (request req-1), not taken@example.com`,
      );
      expect(existing.tags).to.deep.equal({});
    });

    it("fails with EMAIL_ALREADY_EXISTS when the email is outside the organization", async () => {
      h = harness();
      h.org.scriptedFailures.set("elsewhere@example.com", ["EMAIL_ALREADY_EXISTS"]);
      await h.vend("elsewhere@example.com");
      await h.workflow.processRequest("elsewhere@example.com");
      const record = await h.record("elsewhere@example.com");
      expect(record.state).to.equal("FAILED");
      expect(record.failureReason).to.equal("EMAIL_ALREADY_EXISTS");
      expect(record.history.at(-1)!.note).to.equal(
        "EMAIL_ALREADY_EXISTS: no account with this email in the organization",
      );
      expect(h.org.count("ListAccounts")).to.equal(1);
    });

    it("recovers from a throttling sequence on CreateAccount", async () => {
      h = harness();
      h.org.throttleNext = 3;
      await h.vend("throttle@example.com");
      await h.workflow.processRequest("throttle@example.com");
      expect((await h.record("throttle@example.com")).state).to.equal("SUCCEEDED");
      expect(h.org.count("CreateAccount")).to.equal(4);
      expect(h.timing.sleeps.slice(0, 3)).to.deep.equal([75, 150, 300]);
      expect(h.org.accountsWithEmail("throttle@example.com")).to.have.length(1);
    });

    it("rethrows when throttling outlasts the retries, without spending a create attempt", async () => {
      h = harness();
      h.org.throttleNext = 4;
      await h.vend("storm@example.com");
      const error = await h.workflow.processRequest("storm@example.com").catch((e: unknown) => e);
      expect(error).to.be.instanceOf(OrganizationsRetriesExhaustedError);
      const record = await h.record("storm@example.com");
      expect(record.state).to.equal("CREATING");
      expect(record.history.at(-1)!.note).to.equal(
        "CreateAccount attempt 1 rejected: CreateAccount still failing after 4 attempts: TooManyRequestsException: Rate exceeded",
      );
      expect(createAttempts(record)).to.deep.equal({ issued: 0, total: 0, unconfirmed: false });
      expect(await h.slots.holders()).to.deep.equal([]);

      await h.workflow.processRequest("storm@example.com");
      expect((await h.record("storm@example.com")).state).to.equal("SUCCEEDED");
      expect(h.org.count("ListAccounts")).to.equal(0);
    });

    it("defers (never fails) when throttling outlasts the caller's deadline, and never sleeps past it", async () => {
      h = harness();
      h.org.throttleNext = 3;
      await h.vend("deadline@example.com");
      const start = h.timing.now().getTime();
      // Backoffs 75, 150, 300 ms: the third would end at 525 ms, past the 400 ms deadline.
      const outcome = await h.workflow.processRequest("deadline@example.com", { deadline: new Date(start + 400) });
      expect(outcome).to.deep.include({
        status: "deferred",
        reason:
          "CreateAccount still failing after 3 attempt(s) and the next retry would pass the deadline " +
          "2026-01-01T00:00:00.400Z: TooManyRequestsException: Rate exceeded",
      });
      expect(h.timing.sleeps).to.deep.equal([75, 150]);
      expect(h.timing.now().getTime() - start).to.be.at.most(400);
      const record = await h.record("deadline@example.com");
      expect([record.state, record.failureReason, record.lease]).to.deep.equal(["CREATING", undefined, undefined]);
      expect(createAttempts(record)).to.deep.equal({ issued: 0, total: 0, unconfirmed: false });
      expect(h.org.count("CreateAccount")).to.equal(3);

      await h.workflow.processRequest("deadline@example.com");
      expect((await h.record("deadline@example.com")).state).to.equal("SUCCEEDED");
      expect(h.org.count("CreateAccount")).to.equal(4);
      expect(h.org.accountsWithEmail("deadline@example.com")).to.have.length(1);
    });

    it("fails with the AWS message when CreateAccount is rejected outright", async () => {
      h = harness();
      h.org.createErrors.push(
        new ConstraintViolationException({ message: "You have exceeded the allowed number of AWS accounts.", ...meta }),
      );
      await h.vend("limit@example.com");
      await h.workflow.processRequest("limit@example.com");
      const record = await h.record("limit@example.com");
      expect(record.state).to.equal("FAILED");
      expect(record.failureReason).to.equal(
        "CreateAccount failed: ConstraintViolationException: You have exceeded the allowed number of AWS accounts.",
      );
      expect(await h.slots.holders()).to.deep.equal([]);
    });

    it("lets an error that is not an AWS answer propagate and resumes later", async () => {
      h = harness();
      h.org.createErrors.push(refused());
      await h.vend("net@example.com");
      const error = await h.workflow.processRequest("net@example.com").catch((e: unknown) => e);
      expect((error as Error).message).to.equal(REFUSED);
      const attempts = createAttempts(await h.record("net@example.com"));
      expect(attempts).to.deep.equal({ issued: 1, total: 1, unconfirmed: true, unconfirmedAt: attempts.unconfirmedAt });
      expect(attempts.unconfirmedAt).to.be.a("string");
      await h.workflow.processRequest("net@example.com");
      const record = await h.record("net@example.com");
      expect(record.state).to.equal("SUCCEEDED");
      expect(h.org.accountsWithEmail("net@example.com")).to.have.length(1);
    });
  });
});
