import { expect } from "chai";
import { type Harness, harness, states } from "./workflowHarness";

describe("createWorkflow", () => {
  let h: Harness;
  afterEach(() => h.dispose());

  describe("processRequest: move, tags, stack", () => {
    it("treats DuplicateAccountException on MoveAccount as moved", async () => {
      h = harness();
      const ou = h.org.addOu("Workloads");
      h.org.duplicateOnMove = 1;
      await h.vend("move@example.com", { targetOu: ou });
      await h.workflow.processRequest("move@example.com");
      const record = await h.record("move@example.com");
      expect(record.state).to.equal("SUCCEEDED");
      expect(record.history.find((e) => e.state === "TAGGING")!.note).to.equal(`already in ${ou}`);
      expect(h.org.accountsWithEmail("move@example.com")[0]!.parentId).to.equal(ou);
    });

    it("fails naming the OU path when it does not exist", async () => {
      h = harness();
      h.org.addOu("Workloads");
      await h.vend("nowhere@example.com", { targetOu: "/Workloads/Missing" });
      await h.workflow.processRequest("nowhere@example.com");
      const record = await h.record("nowhere@example.com");
      expect(record.state).to.equal("FAILED");
      expect(record.failureReason).to.equal(
        'cannot resolve OU path "/Workloads/Missing": no OU named "Missing" under ou-root-00000001 (/Workloads/Missing)',
      );
      // Checked before any side effect: no account was created.
      expect(h.org.count("CreateAccount")).to.equal(0);
      expect(h.org.accountsWithEmail("nowhere@example.com")).to.deep.equal([]);
      expect(states(record)).to.deep.equal(["RECEIVED", "FAILED"]);
    });

    it("runs a meshStack hook for an existing account without CreateAccount or MoveAccount", async () => {
      h = harness({ defaultTargetOu: "ou-root-00000001" });
      h.org.addOu("Sandbox");
      const account = h.org.addAccount("mesh@example.com", "meshcloud.test");
      await h.hook("mesh@example.com", account.id);
      await h.workflow.processRequest("mesh@example.com");
      const record = await h.record("mesh@example.com");
      expect(states(record)).to.deep.equal(["RECEIVED", "TAGGING", "BOOTSTRAPPING", "COMPLETING", "SUCCEEDED"]);
      expect(h.org.count("CreateAccount")).to.equal(0);
      expect(h.org.count("MoveAccount")).to.equal(0);
      expect(account.parentId).to.equal("r-root");
      expect(account.tags).to.deep.equal({
        Environment: "dev",
        ProductName: "meshcloud",
        Stage: "test-aws-integration",
      });
    });

    it("never moves a hook account, even when its stored request names a target OU", async () => {
      h = harness({ defaultTargetOu: "/Workloads" });
      const ou = h.org.addOu("Workloads");
      const account = h.org.addAccount("there@example.com");
      await h.hook("there@example.com", account.id, { targetOu: "/Workloads" });
      await h.workflow.processRequest("there@example.com");
      const record = await h.record("there@example.com");
      expect(record.state).to.equal("SUCCEEDED");
      expect(record.history.find((e) => e.state === "TAGGING")!.note).to.equal(
        "account " + account.id + " already exists",
      );
      expect(h.org.count("MoveAccount") + h.org.count("ListParents")).to.equal(0);
      expect(account.parentId).to.equal(h.org.rootId).and.not.equal(ou);
    });

    it("waits for the webhook when the account stack is queued, then completes", async () => {
      h = harness();
      h.runner.status = "queued";
      const account = h.org.addAccount("queued@example.com");
      await h.hook("queued@example.com", account.id);
      const first = await h.workflow.processRequest("queued@example.com");
      expect(first.status).to.equal("waiting");
      expect((await h.record("queued@example.com")).history.at(-1)!.note).to.equal(
        `account stack queued: account-${account.id} queued (https://app.pulumi.com/acme/meshstack-avm/account-${account.id}/deployments/1)`,
      );
      // A redelivery while the deployment runs changes nothing.
      expect((await h.workflow.processRequest("queued@example.com")).status).to.equal("waiting");
      expect(h.runner.calls).to.have.length(1);

      // What the webhook receiver does on success: BOOTSTRAPPING -> COMPLETING, then re-enqueue.
      const waiting = await h.record("queued@example.com");
      await h.ledger.update(
        waiting.email,
        waiting.version,
        { state: "COMPLETING", note: "webhook: update succeeded" },
        h.timing.now(),
      );
      await h.workflow.processRequest("queued@example.com");
      expect((await h.record("queued@example.com")).state).to.equal("SUCCEEDED");
    });

    it("deploys again when a queued deployment never reports back", async () => {
      h = harness({ stackQueuedTimeoutMs: 60_000 });
      h.runner.status = "queued";
      const account = h.org.addAccount("lost@example.com");
      await h.hook("lost@example.com", account.id);
      await h.workflow.processRequest("lost@example.com");
      h.timing.advance(60_000);
      h.runner.status = "deployed";
      await h.workflow.processRequest("lost@example.com");
      expect(h.runner.calls).to.have.length(2);
      expect((await h.record("lost@example.com")).state).to.equal("SUCCEEDED");
    });
  });
});
