import { expect } from "chai";
import { mockClient } from "aws-sdk-client-mock";
import { ConstraintViolationException, OrganizationsClient } from "@aws-sdk/client-organizations";
import { MemoryLedger } from "../../../support/memoryLedger";
import { InProcessCreateSlots } from "../../../../src/adapters/local/inProcessCreateSlots";
import { OrganizationsGateway } from "../../../../src/adapters/aws/organizationsGateway";
import { OrganizationsRequestError, OrganizationsRetriesExhaustedError } from "../../../../src/core/organizations";
import {
  CloseQuotaExceededError,
  CloseRefusedError,
  createAttempts,
  createWorkflow,
  DEFAULT_LEASE_TTL_MS,
  type Workflow,
  type WorkflowOptions,
} from "../../../../src/core/vending/workflow";
import type { LedgerRecord, RequestKind } from "../../../../src/core/ledger";
import { accountMayExist, reopenFailedRequest, RetryRefusedError } from "../../../../src/core/vending/retryRequest";
import {
  CrashingLedger,
  FakeOrganizations,
  InstantTiming,
  RecordingStackRunner,
  SimulatedCrash,
} from "./workflowFixtures";

const meta = { $metadata: {} };
/** A connection that was refused: the request never left, so its outcome is known (nothing happened). */
const REFUSED = "connect ECONNREFUSED 127.0.0.1:443";
const refused = () => Object.assign(new Error(REFUSED), { code: "ECONNREFUSED" });

interface Harness {
  org: FakeOrganizations;
  timing: InstantTiming;
  ledger: CrashingLedger;
  runner: RecordingStackRunner;
  slots: InProcessCreateSlots;
  workflow: Workflow;
  /** Records a vend request for `email`. */
  vend(email: string, extra?: Record<string, unknown>): Promise<LedgerRecord>;
  /** Records a meshStack hook request for an existing account. */
  hook(email: string, accountId: string, extra?: Record<string, unknown>): Promise<LedgerRecord>;
  record(email: string): Promise<LedgerRecord>;
  dispose(): void;
}

function harness(options: WorkflowOptions = {}): Harness {
  const client = new OrganizationsClient({ region: "us-east-1" });
  const mock = mockClient(client);
  const org = new FakeOrganizations();
  org.install(mock);
  const timing = new InstantTiming();
  const ledger = new CrashingLedger(new MemoryLedger());
  const runner = new RecordingStackRunner();
  const slots = new InProcessCreateSlots({ now: () => timing.now() });
  const organizations = new OrganizationsGateway(client, {
    timing,
    retry: { baseDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 4 },
  });
  const workflow = createWorkflow({
    ledger,
    organizations,
    stackRunner: runner,
    createSlots: slots,
    timing,
    options,
  });
  let n = 0;
  const claim = async (email: string, kind: RequestKind, request: Record<string, unknown>, accountId?: string) => {
    n += 1;
    const { record } = await ledger.claim(
      { email, requestId: `req-${n}`, kind, request, ...(accountId ? { accountId } : {}) },
      timing.now(),
    );
    return record;
  };
  return {
    org,
    timing,
    ledger,
    runner,
    slots,
    workflow,
    vend: (email, extra = {}) =>
      claim(email, "vend", {
        kind: "vend",
        accountName: `acct ${email}`,
        email,
        tags: { CostCenter: "1234" },
        ...extra,
      }),
    hook: (email, accountId, extra = {}) =>
      claim(
        email,
        "meshstack-hook",
        {
          kind: "meshstack-hook",
          accountName: "meshcloud.test",
          email,
          accountId,
          productName: "meshcloud",
          stage: "test-aws-integration",
          tags: { Environment: "dev" },
          ...extra,
        },
        accountId,
      ),
    record: async (email) => (await ledger.get(email))!,
    dispose: () => mock.restore(),
  };
}

const states = (record: LedgerRecord) => record.history.map((h) => h.state);

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
