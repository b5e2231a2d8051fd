import { ConstraintViolationException } from "@aws-sdk/client-organizations";
import { expect } from "chai";
import type { LedgerRecord } from "../../../../src/core/ledger";
import { OrganizationsRequestError } from "../../../../src/core/organizations";
import { CloseQuotaExceededError, CloseRefusedError } from "../../../../src/core/vending/workflow";
import { type Harness, harness, meta, states } from "./workflowHarness";

describe("createWorkflow", () => {
  let h: Harness;
  afterEach(() => h.dispose());

  describe("closeAccount", () => {
    async function vended(email: string): Promise<LedgerRecord> {
      await h.vend(email);
      await h.workflow.processRequest(email);
      return h.record(email);
    }

    it("closes a vended account, records CLOSING then CLOSED, and never removes it", async () => {
      h = harness();
      const record = await vended("close@example.com");
      const outcome = await h.workflow.closeAccount({ accountId: record.accountId!, reason: "project deleted" });
      expect(outcome.status).to.equal("close-requested");
      expect(outcome.quota).to.deep.equal({ memberAccounts: 1, allowed: 10, used: 0, remaining: 10 });
      expect(states(outcome.record!).slice(-2)).to.deep.equal(["CLOSING", "CLOSED"]);
      expect(outcome.record!.history.at(-2)!.note).to.equal("close requested: project deleted");
      expect(h.org.accounts.get(record.accountId!)!.status).to.equal("PENDING_CLOSURE");
      expect(h.org.count("CloseAccount")).to.equal(1);

      const again = await h.workflow.closeAccount({ accountId: record.accountId! });
      expect(again.status).to.equal("already-closed");
      expect(h.org.count("CloseAccount")).to.equal(1);
    });

    it("refuses when the rolling 30-day quota is used up, with the numbers", async () => {
      h = harness();
      for (let i = 0; i < 10; i += 1) h.org.addAccount(`gone${i}@example.com`, `gone${i}`, "SUSPENDED");
      for (let i = 0; i < 30; i += 1) h.org.addAccount(`live${i}@example.com`);
      const target = h.org.addAccount("target@example.com");
      const error = await h.workflow.closeAccount({ accountId: target.id }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(CloseQuotaExceededError);
      expect((error as Error).message).to.equal(
        `refusing to close account ${target.id}: the close quota is used up (10 of 10 closures in the last 30 days; ` +
          "allowed = max(10, 10% of 31 active member accounts))",
      );
      expect(h.org.count("CloseAccount")).to.equal(0);
      expect(target.status).to.equal("ACTIVE");
    });

    it("scales the quota to 10% of active members and counts recent ledger closures", async () => {
      h = harness();
      for (let i = 0; i < 148; i += 1) h.org.addAccount(`m${i}@example.com`);
      const a = await vended("a@example.com");
      const b = await vended("b@example.com");
      await h.workflow.closeAccount({ accountId: a.accountId! });
      // The fake's SUSPENDED step is AWS's later transition; the ledger alone proves the recent closure.
      h.org.accounts.get(a.accountId!)!.status = "ACTIVE";
      expect(await h.workflow.closeQuota()).to.deep.equal({ memberAccounts: 150, allowed: 15, used: 1, remaining: 14 });
      h.timing.advance(31 * 24 * 60 * 60 * 1000);
      expect(await h.workflow.closeQuota()).to.deep.equal({ memberAccounts: 150, allowed: 15, used: 0, remaining: 15 });
      const outcome = await h.workflow.closeAccount({ accountId: b.accountId! });
      expect(outcome.status).to.equal("close-requested");
    });

    it("refuses the management account, a request still in flight, and a malformed id", async () => {
      h = harness();
      h.runner.status = "queued";
      const account = h.org.addAccount("busy@example.com");
      await h.hook("busy@example.com", account.id);
      await h.workflow.processRequest("busy@example.com");
      const busy = await h.workflow.closeAccount({ accountId: account.id }).catch((e: unknown) => e);
      expect(busy).to.be.instanceOf(CloseRefusedError);
      expect((busy as Error).message).to.equal(
        `refusing to close account ${account.id}: its request req-1 is still BOOTSTRAPPING; wait until it ends`,
      );
      const management = await h.workflow
        .closeAccount({ accountId: h.org.managementAccountId })
        .catch((e: unknown) => e);
      expect((management as Error).message).to.equal(
        "refusing to close account 999999999999: it is the organization's management account",
      );
      const malformed = await h.workflow.closeAccount({ accountId: "12" }).catch((e: unknown) => e);
      expect((malformed as Error).message).to.equal('accountId must be a 12-digit AWS account id, got "12"');
      expect(h.org.count("CloseAccount")).to.equal(0);
    });

    it("puts the record back when AWS refuses the close", async () => {
      h = harness();
      const record = await vended("refused@example.com");
      h.org.closeErrors.push(
        new ConstraintViolationException({
          message: "quota exceeded",
          Reason: "CLOSE_ACCOUNT_QUOTA_EXCEEDED",
          ...meta,
        }),
      );
      const error = await h.workflow.closeAccount({ accountId: record.accountId! }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(OrganizationsRequestError);
      expect((error as Error).message).to.equal("CloseAccount failed: ConstraintViolationException: quota exceeded");
      const after = await h.record("refused@example.com");
      expect(states(after).slice(-3)).to.deep.equal(["SUCCEEDED", "CLOSING", "SUCCEEDED"]);
      expect(after.history.at(-1)!.note).to.equal(
        "CloseAccount refused: OrganizationsRequestError: CloseAccount failed: ConstraintViolationException: quota exceeded",
      );
      expect(h.org.accounts.get(record.accountId!)!.status).to.equal("ACTIVE");
    });
  });
});
