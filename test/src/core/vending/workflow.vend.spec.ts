import { expect } from "chai";
import { createAttempts, DEFAULT_LEASE_TTL_MS } from "../../../../src/core/vending/workflow";
import { SimulatedCrash } from "./workflowFixtures";
import { type Harness, harness, REFUSED, refused, states } from "./workflowHarness";

describe("createWorkflow", () => {
  let h: Harness;
  afterEach(() => h.dispose());

  describe("processRequest: vend", () => {
    it("creates, moves, tags, bootstraps and completes an account", async () => {
      h = harness();
      const workloads = h.org.addOu("Workloads");
      const prod = h.org.addOu("Prod", workloads);
      await h.vend("new@example.com", { targetOu: "/Workloads/Prod", productName: "ws", stage: "proj" });

      const outcome = await h.workflow.processRequest("new@example.com");

      expect(outcome.status).to.equal("terminal");
      const record = await h.record("new@example.com");
      expect(record.state).to.equal("SUCCEEDED");
      expect(states(record)).to.deep.equal([
        "RECEIVED",
        "CREATING",
        "CREATING",
        "CREATING",
        "MOVING",
        "TAGGING",
        "BOOTSTRAPPING",
        "COMPLETING",
        "SUCCEEDED",
      ]);
      expect(record.history.map((e) => e.note)).to.deep.equal([
        "request recorded",
        "creating account",
        "CreateAccount attempt 1 issuing",
        "CreateAccount attempt 1 request car-0001",
        `account ${record.accountId} created`,
        `moved from r-root to ${prod}`,
        "tagged with 1 tag(s)",
        `account stack deployed: account-${record.accountId} deployed`,
        "completion tags ProductName and Stage written",
      ]);
      expect(record.createAccountRequestId).to.equal("car-0001");
      expect(record.attempts).to.equal(1);
      const [account] = h.org.accountsWithEmail("new@example.com");
      expect(account).to.deep.equal({
        id: record.accountId,
        email: "new@example.com",
        name: "acct new@example.com",
        status: "ACTIVE",
        parentId: prod,
        tags: { CostCenter: "1234", ProductName: "ws", Stage: "proj" },
      });
      expect(h.runner.calls).to.deep.equal([
        {
          accountId: record.accountId,
          accountName: "acct new@example.com",
          email: "new@example.com",
          requestId: "req-1",
          tags: { CostCenter: "1234" },
        },
      ]);
      expect(await h.slots.holders()).to.deep.equal([]);
    });

    it("polls DescribeCreateAccountStatus with a 1 s first interval doubling up to 10 s", async () => {
      h = harness();
      h.org.inProgressPolls = 7;
      await h.vend("slow@example.com");
      await h.workflow.processRequest("slow@example.com");
      expect(h.timing.sleeps).to.deep.equal([1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
      expect(h.org.count("DescribeCreateAccountStatus")).to.equal(7);
      expect((await h.record("slow@example.com")).state).to.equal("SUCCEEDED");
    });

    it("uses the configured poll policy and the default target OU", async () => {
      const sandbox = "ou-root-00000001";
      h = harness({ poll: { firstIntervalMs: 500, maxIntervalMs: 1_500 }, defaultTargetOu: sandbox });
      h.org.addOu("Sandbox");
      h.org.inProgressPolls = 4;
      await h.vend("cfg@example.com");
      await h.workflow.processRequest("cfg@example.com");
      expect(h.timing.sleeps).to.deep.equal([500, 1_000, 1_500, 1_500]);
      expect(h.org.accountsWithEmail("cfg@example.com")[0]!.parentId).to.equal(sandbox);
    });

    it("stores the CreateAccount request id before polling and defers at the deadline", async () => {
      h = harness();
      h.org.inProgressPolls = 3;
      await h.vend("deadline@example.com");
      const outcome = await h.workflow.processRequest("deadline@example.com", {
        deadline: new Date(h.timing.now().getTime() + 2_500),
      });
      expect(outcome).to.deep.include({ status: "deferred", reason: "CreateAccount car-0001 still in progress" });
      const record = await h.record("deadline@example.com");
      expect(record.state).to.equal("CREATING");
      expect(record.createAccountRequestId).to.equal("car-0001");
      expect(h.timing.sleeps).to.deep.equal([1_000]);
      expect(await h.slots.holders()).to.deep.equal(["req-1"]);

      // The next pick-up resumes polling at once (no sleep first) and never calls CreateAccount again.
      await h.workflow.processRequest("deadline@example.com");
      expect(h.org.count("CreateAccount")).to.equal(1);
      expect(h.timing.sleeps).to.deep.equal([1_000, 1_000]);
      expect((await h.record("deadline@example.com")).state).to.equal("SUCCEEDED");
      expect(await h.slots.holders()).to.deep.equal([]);
    });

    it("resumes from the stored id after a crash that followed persisting it", async () => {
      h = harness();
      await h.vend("crash@example.com");
      h.ledger.crashes.push({ when: "after", match: (patch) => patch.createAccountRequestId !== undefined });
      const error = await h.workflow.processRequest("crash@example.com").catch((e: unknown) => e);
      expect(error).to.be.instanceOf(SimulatedCrash);
      const crashed = await h.record("crash@example.com");
      expect(crashed.createAccountRequestId).to.equal("car-0001");

      // The crashed runner's lease holds until it expires; then the next run takes over.
      const busy = await h.workflow.processRequest("crash@example.com");
      expect(busy).to.deep.equal({
        status: "busy",
        record: crashed,
        lease: crashed.lease,
        reason: `request req-1 is being processed by ${crashed.lease!.owner} (lease until 2026-01-01T00:02:00.000Z)`,
      });
      h.timing.advance(DEFAULT_LEASE_TTL_MS);
      const outcome = await h.workflow.processRequest("crash@example.com");
      expect(outcome.status).to.equal("terminal");
      expect((await h.record("crash@example.com")).state).to.equal("SUCCEEDED");
      expect(h.org.count("CreateAccount")).to.equal(1);
      expect(h.org.accountsWithEmail("crash@example.com")).to.have.length(1);
    });

    it("adopts the account after a crash between CreateAccount and persisting its id", async () => {
      h = harness();
      await h.vend("gap@example.com");
      h.ledger.crashes.push({ when: "before", match: (patch) => patch.createAccountRequestId !== undefined });
      expect(await h.workflow.processRequest("gap@example.com").catch((e: unknown) => e)).to.be.instanceOf(
        SimulatedCrash,
      );
      expect(createAttempts(await h.record("gap@example.com"))).to.deep.equal({
        issued: 1,
        total: 1,
        unconfirmed: true,
        unconfirmedAt: "2026-01-01T00:00:00.000Z",
      });

      await h.workflow.processRequest("gap@example.com");
      const record = await h.record("gap@example.com");
      expect(record.state).to.equal("SUCCEEDED");
      expect(h.org.count("CreateAccount")).to.equal(1);
      const [account] = h.org.accountsWithEmail("gap@example.com");
      expect(record.accountId).to.equal(account!.id);
      expect(record.history.map((e) => e.note)).to.include(
        `found account ${account!.id} after an interrupted CreateAccount`,
      );
    });

    it("waits for an interrupted CreateAccount still in progress instead of issuing another", async () => {
      // The regression the model-based test found (seed -499706152): a crash between CreateAccount and
      // persisting its id while AWS is still creating the account. ListAccounts cannot show it yet; the
      // workflow used to issue attempt 2 (answered EMAIL_ALREADY_EXISTS) instead of waiting for attempt 1.
      h = harness();
      h.org.settleOnList = false;
      await h.vend("late@example.com");
      h.ledger.crashes.push({ when: "before", match: (patch) => patch.createAccountRequestId !== undefined });
      expect(await h.workflow.processRequest("late@example.com").catch((e: unknown) => e)).to.be.instanceOf(
        SimulatedCrash,
      );

      const outcome = await h.workflow.processRequest("late@example.com", {
        deadline: new Date(h.timing.now().getTime() + 5_000),
      });
      expect(outcome).to.deep.include({
        status: "deferred",
        reason: "an interrupted CreateAccount may still be creating the account (car-0001 in progress)",
      });
      expect(h.timing.sleeps).to.deep.equal([1_000, 2_000]);
      expect(h.org.count("CreateAccount")).to.equal(1);
      expect(h.org.count("ListCreateAccountStatus")).to.equal(3);
      expect(createAttempts(await h.record("late@example.com"))).to.deep.equal({
        issued: 1,
        total: 1,
        unconfirmed: true,
        unconfirmedAt: "2026-01-01T00:00:00.000Z",
      });
      expect(await h.slots.holders()).to.deep.equal(["req-1"]);

      h.org.settleOnList = true; // time passes; AWS finishes creating the first account
      await h.workflow.processRequest("late@example.com");
      const record = await h.record("late@example.com");
      expect(record.state).to.equal("SUCCEEDED");
      expect(h.org.count("CreateAccount")).to.equal(1);
      expect(h.org.secondCreates).to.equal(0);
      expect(h.org.accountsWithEmail("late@example.com").map((a) => a.id)).to.deep.equal([record.accountId]);
      expect(record.history.map((e) => e.note)).to.include(
        `found account ${record.accountId} after an interrupted CreateAccount`,
      );
      expect(await h.slots.holders()).to.deep.equal([]);
    });

    it("issues CreateAccount again after an interrupted attempt that AWS never received, once the grace period is over", async () => {
      h = harness();
      await h.vend("lost@example.com");
      h.org.createErrors.push(refused());
      const error = await h.workflow.processRequest("lost@example.com").catch((e: unknown) => e);
      expect((error as Error).message).to.equal(REFUSED);

      await h.workflow.processRequest("lost@example.com");
      const record = await h.record("lost@example.com");
      expect(record.state).to.equal("SUCCEEDED");
      expect(h.org.count("CreateAccount")).to.equal(2);
      expect(record.createAccountRequestId).to.equal("car-0001");
      expect(h.org.accountsWithEmail("lost@example.com").map((a) => a.id)).to.deep.equal([record.accountId]);
    });

    it("keeps looking for the account after an interrupted attempt until the grace period is over", async () => {
      // Attempt 1 never reaches AWS; attempt 2 is answered EMAIL_ALREADY_EXISTS although no account of the
      // organization has this email (it belongs to an account elsewhere). Attempt 1 might have created it, so
      // the workflow looks again for 30 minutes from attempt 1 before it fails.
      h = harness();
      await h.vend("elsewhere@example.com");
      h.org.createErrors.push(refused());
      h.org.scriptedFailures.set("elsewhere@example.com", ["EMAIL_ALREADY_EXISTS"]);
      await h.workflow.processRequest("elsewhere@example.com").catch(() => undefined);
      const interruptedAt = Date.parse(
        (await h.record("elsewhere@example.com")).history.find((e) => e.note === "CreateAccount attempt 1 issuing")!.at,
      );

      // Within the unknown-outcome grace period (2 minutes) no second CreateAccount goes out.
      const early = await h.workflow.processRequest("elsewhere@example.com", {
        deadline: new Date(h.timing.now().getTime() + 60_000),
      });
      expect(early).to.deep.include({
        status: "deferred",
        reason: `an interrupted CreateAccount may still be creating the account (looking until ${new Date(interruptedAt + 2 * 60_000).toISOString()})`,
      });
      expect(h.org.count("CreateAccount")).to.equal(1);

      const outcome = await h.workflow.processRequest("elsewhere@example.com", {
        deadline: new Date(h.timing.now().getTime() + 5 * 60_000),
      });
      expect(outcome).to.deep.include({
        status: "deferred",
        reason: "EMAIL_ALREADY_EXISTS: an interrupted CreateAccount may still be creating the account",
      });

      await h.workflow.processRequest("elsewhere@example.com", {
        deadline: new Date(h.timing.now().getTime() + 24 * 60 * 60_000),
      });
      const record = await h.record("elsewhere@example.com");
      expect([record.state, record.failureReason]).to.deep.equal(["FAILED", "EMAIL_ALREADY_EXISTS"]);
      expect(Date.parse(record.updatedAt) - interruptedAt).to.be.within(30 * 60_000, 30 * 60_000 + 10_000);
      expect(h.org.count("CreateAccount")).to.equal(2);
    });

    it("fails with EMAIL_ALREADY_EXISTS at once when the grace period is 0", async () => {
      h = harness({ interruptedCreateGraceMs: 0, unknownOutcomeGraceMs: 0 });
      await h.vend("gone@example.com");
      h.org.createErrors.push(refused());
      h.org.scriptedFailures.set("gone@example.com", ["EMAIL_ALREADY_EXISTS"]);
      await h.workflow.processRequest("gone@example.com").catch(() => undefined);
      await h.workflow.processRequest("gone@example.com");
      const record = await h.record("gone@example.com");
      expect([record.state, record.failureReason]).to.deep.equal(["FAILED", "EMAIL_ALREADY_EXISTS"]);
      // Only the one poll of attempt 2; no waiting for an account.
      expect(h.timing.sleeps).to.deep.equal([1_000]);
    });

    it("lets only one of several concurrent deliveries work", async () => {
      h = harness();
      h.org.inProgressPolls = 2;
      await h.vend("dup@example.com");
      const outcomes = await Promise.all([1, 2, 3, 4, 5].map(() => h.workflow.processRequest("dup@example.com")));
      expect(outcomes.map((o) => o.status).sort()).to.deep.equal(["busy", "busy", "busy", "busy", "terminal"]);
      expect(h.org.count("CreateAccount")).to.equal(1);
      expect((await h.record("dup@example.com")).state).to.equal("SUCCEEDED");
    });

    it("keeps at most 5 CreateAccount requests in flight", async () => {
      h = harness();
      h.org.inProgressPolls = 3;
      let peak = 0;
      const acquire = h.slots.acquire.bind(h.slots);
      h.slots.acquire = async (owner) => {
        const got = await acquire(owner);
        peak = Math.max(peak, (await h.slots.holders()).length);
        return got;
      };
      const emails = Array.from({ length: 12 }, (_, i) => `many${i}@example.com`);
      for (const email of emails) await h.vend(email);
      await Promise.all(emails.map((email) => h.workflow.processRequest(email)));
      expect(peak).to.equal(5);
      expect(h.org.count("CreateAccount")).to.equal(12);
      for (const email of emails) expect((await h.record(email)).state, email).to.equal("SUCCEEDED");
    });

    it("defers when no CreateAccount slot frees up before the deadline", async () => {
      h = harness();
      for (let i = 0; i < 5; i += 1) await h.slots.acquire(`other-${i}`);
      await h.vend("wait@example.com");
      const outcome = await h.workflow.processRequest("wait@example.com", {
        deadline: new Date(h.timing.now().getTime() + 3_000),
      });
      expect(outcome).to.deep.include({ status: "deferred", reason: "every CreateAccount slot is taken" });
      expect(h.timing.sleeps).to.deep.equal([750, 1_500]);
      expect(h.org.count("CreateAccount")).to.equal(0);
    });
  });
});
