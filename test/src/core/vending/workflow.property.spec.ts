/**
 * Model-based test of the account workflow: random interleavings of requests, (duplicate, concurrent and
 * stalled) deliveries, worker crashes, AWS faults (throttling, CreateAccount accepted with its reply lost and the
 * listing lagging behind), conflicting hooks, and remote deployments whose Pulumi Cloud webhooks are delivered,
 * or whose handler times out mid-delivery (claim held, no answer) and is redelivered after the claim expired;
 * then a drain and checks of the end state.
 *
 * Deterministic by construction, so a failure reproduces from its seed: the seed is fixed (see SEED); the
 * clock is instant and moves only by the workflow's sleeps and the modelled redelivery delay; ids, clock,
 * slots, ledger and fake AWS are created per run; concurrency is microtask interleaving only (the fake
 * answers at once or on an explicit release). "replays ... identically" below checks this.
 */
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import * as fc from "fast-check";
import { OrganizationsGateway } from "../../../../src/adapters/aws/organizationsGateway";
import { InProcessCreateSlots } from "../../../../src/adapters/local/inProcessCreateSlots";
import { TERMINAL_STATES } from "../../../../src/core/ledger";
import { MAX_HISTORY_ENTRIES } from "../../../../src/core/ledgerRecords";
import { createAttempts } from "../../../../src/core/vending/createAttempts";
import { acceptRequest } from "../../../../src/core/vending/intake";
import { RequestValidationError } from "../../../../src/core/vending/requestRules";
import { createWorkflow, DEFAULT_LEASE_TTL_MS, type Workflow } from "../../../../src/core/vending/workflow";
import { busyRequeueDelaySeconds } from "../../../../src/lambda/worker/handler";
import { DEFAULT_PROCESSING_MS, silentLogger, type AccountStackRunner } from "../../../../src/core/ports";
import { MemoryDeliveryStore } from "../../../../src/adapters/local/memoryDeliveryStore";
import { WebhookReceiver } from "../../../../src/core/webhooks/receiver";
import { LedgerStackOutcomeRecorder } from "../../../../src/core/webhooks/stackOutcomeRecorder";
import { WEBHOOK_HEADERS } from "../../../../src/core/webhooks/signature";
import { HANG_GUARD_MS } from "../../../support/hangGuard";
import { MemoryLedger } from "../../../support/memoryLedger";
import { CrashingLedger, FakeOrganizations, InstantTiming, RecordingStackRunner } from "./workflowFixtures";

const EMAILS = ["a@example.com", "b@example.com", "c@example.com", "d@example.com"] as const;
const REASONS = [
  "INTERNAL_FAILURE",
  "CONCURRENT_ACCOUNT_MODIFICATION",
  "EMAIL_ALREADY_EXISTS",
  "INVALID_EMAIL",
  "SOME_FUTURE_REASON",
] as const;

/** What the model tracks: which emails were submitted. */
interface Model {
  submitted: Set<string>;
}

/** The system under test plus its delivery queue (at-least-once: items can be delivered again). */
interface Real {
  org: FakeOrganizations;
  timing: InstantTiming;
  ledger: CrashingLedger;
  workflow: Workflow;
  queue: string[];
  nextRequest: number;
  /** Deliveries whose CreateAccount is stalled on its way to AWS (see {@link DeliverStalled}). */
  background: Promise<void>[];
  /** Pulumi Cloud: remote deployments and the webhook deliveries it still has to make. */
  cloud: PulumiCloudModel;
  /** The webhook handler (receiver over the ledger, a delivery store and the work queue). */
  receiver: WebhookReceiver;
}

/** One webhook delivery Pulumi Cloud has yet to make successfully (it redelivers until it gets a 2xx). */
interface PendingWebhook {
  readonly id: string;
  readonly accountId: string;
  readonly version: number;
}

/**
 * Pulumi Deployments and its webhooks: while `remote` is on, an account stack deploy is queued (`deployment #N`)
 * and its outcome (success) goes to the outbox as a webhook delivery; otherwise the stack deploys at once.
 */
class PulumiCloudModel implements AccountStackRunner {
  remote = false;
  /** Kills the next webhook handler mid-delivery: before or after its ledger write, always before completing. */
  killNextHandler: "before-write" | "after-write" | undefined;
  /** Told when a handler was killed (the delivery gets no answer). */
  onKilled: (() => void) | undefined;
  /** Handlers killed mid-delivery so far. */
  timeouts = 0;
  readonly outbox: PendingWebhook[] = [];
  private version = 0;
  private readonly local = new RecordingStackRunner();

  async deploy(request: Parameters<AccountStackRunner["deploy"]>[0]) {
    if (!this.remote) return this.local.deploy(request);
    this.version += 1;
    this.outbox.push({ id: `wh-${this.version}`, accountId: request.accountId, version: this.version });
    const stackName = `account-${request.accountId}`;
    return { status: "queued" as const, stackName, summary: `deployment #${this.version} queued` };
  }
}

type Cmd = fc.AsyncCommand<Model, Real>;

/** An accepted request: claim the record (a no-op for a known email) and enqueue a delivery. */
class Submit implements Cmd {
  constructor(readonly email: string) {}
  check = () => true;
  async run(model: Model, real: Real) {
    model.submitted.add(this.email);
    real.nextRequest += 1;
    await real.ledger.claim(
      {
        email: this.email,
        requestId: `req-${real.nextRequest}`,
        kind: "vend",
        request: {
          kind: "vend",
          accountName: this.email,
          email: this.email,
          tags: { Team: "x" },
          productName: "p",
          stage: "s",
        },
      },
      real.timing.now(),
    );
    real.queue.push(this.email);
  }
  toString = () => `Submit(${this.email})`;
}

/** Delivers the queued item at `index` (optionally keeping it: a duplicate delivery later). */
class Deliver implements Cmd {
  constructor(
    readonly index: number,
    readonly keep: boolean,
    readonly deadlineMs: number,
  ) {}
  check = (model: Model) => model.submitted.size > 0;
  async run(_model: Model, real: Real) {
    if (real.queue.length === 0) return;
    const at = this.index % real.queue.length;
    const email = real.queue[at]!;
    if (!this.keep) real.queue.splice(at, 1);
    await deliver(real, email, this.deadlineMs);
  }
  toString = () => `Deliver(${this.index}, keep=${this.keep}, deadline=${this.deadlineMs})`;
}

/** Two deliveries of the same item at the same time. */
class DeliverTwice implements Cmd {
  constructor(readonly index: number) {}
  check = (model: Model) => model.submitted.size > 0;
  async run(_model: Model, real: Real) {
    if (real.queue.length === 0) return;
    const email = real.queue[this.index % real.queue.length]!;
    await Promise.all([deliver(real, email, 60_000), deliver(real, email, 60_000)]);
  }
  toString = () => `DeliverTwice(${this.index})`;
}

/**
 * A delivery whose CreateAccount stalls on its way to AWS (a slow network, a paused worker) and reaches AWS
 * only at {@link ReleaseStalled}; other deliveries run meanwhile (SQS redelivers a message whose visibility
 * timeout ran out, or delivers it twice). One stalled worker at a time.
 */
class DeliverStalled implements Cmd {
  constructor(readonly index: number) {}
  check = (model: Model) => model.submitted.size > 0;
  async run(_model: Model, real: Real) {
    if (real.queue.length === 0 || real.background.length > 0) return;
    const email = real.queue[this.index % real.queue.length]!;
    let stalled = false;
    const entered = new Promise<void>((resolve) => {
      real.org.onStall = () => {
        stalled = true;
        resolve();
      };
    });
    real.org.stallNextCreate = 1;
    const delivery = deliver(real, email, 60_000);
    // Runs until the delivery ends or its CreateAccount stalls (no real time involved either way).
    await Promise.race([delivery, entered]);
    real.org.stallNextCreate = 0;
    real.org.onStall = undefined;
    if (stalled) real.background.push(delivery);
  }
  toString = () => `DeliverStalled(${this.index})`;
}

/** The stalled CreateAccount reaches AWS; its worker carries on until it stops. */
class ReleaseStalled implements Cmd {
  check = () => true;
  async run(_model: Model, real: Real) {
    real.org.releaseStalledCreates();
    await Promise.all(real.background.splice(0));
  }
  toString = () => "ReleaseStalled";
}

/** Arms a worker crash at the n-th ledger update from now, before or after the write. */
class Crash implements Cmd {
  constructor(
    readonly when: "before" | "after",
    readonly nth: number,
  ) {}
  check = () => true;
  async run(_model: Model, real: Real) {
    let remaining = this.nth;
    real.ledger.crashes.push({ when: this.when, match: () => remaining-- === 0 });
  }
  toString = () => `Crash(${this.when}, ${this.nth})`;
}

/**
 * Arms a worker crash at the next write of a CreateAccount request id, before or after it: the window the
 * exactly-once rule is about (the n-th-update crashes above hit it only rarely).
 */
class CrashAtRequestId implements Cmd {
  constructor(readonly when: "before" | "after") {}
  check = () => true;
  async run(_model: Model, real: Real) {
    real.ledger.crashes.push({ when: this.when, match: (patch) => patch.createAccountRequestId !== undefined });
  }
  toString = () => `CrashAtRequestId(${this.when})`;
}

/** Injects AWS faults: throttling, a network error on CreateAccount, or an async failure reason. */
class Fault implements Cmd {
  constructor(
    readonly kind: "throttle" | "network" | "reason",
    readonly email: string,
    readonly reason: string,
    readonly count: number,
  ) {}
  check = () => true;
  async run(_model: Model, real: Real) {
    if (this.kind === "throttle") real.org.throttleNext += this.count;
    else if (this.kind === "network") real.org.createErrors.push(new Error("socket hang up"));
    else real.org.scriptedFailures.set(this.email, [...(real.org.scriptedFailures.get(this.email) ?? []), this.reason]);
  }
  toString = () => `Fault(${this.kind}, ${this.email}, ${this.reason}, ${this.count})`;
}

/** An account with this email already exists in the organization (adoption path). */
class Preexisting implements Cmd {
  constructor(readonly email: string) {}
  check = (model: Model) => !model.submitted.has(this.email);
  async run(_model: Model, real: Real) {
    if (real.org.accountsWithEmail(this.email).length === 0) real.org.addAccount(this.email);
  }
  toString = () => `Preexisting(${this.email})`;
}

/**
 * A meshStack hook with a conflicting identity: the account id of `email`'s record under another email. The
 * intake refuses it (one record per account id) and writes nothing.
 */
class ConflictingHook implements Cmd {
  constructor(
    readonly email: string,
    readonly otherEmail: string,
  ) {}
  check = (model: Model) => model.submitted.size > 0 && this.email !== this.otherEmail;
  async run(_model: Model, real: Real) {
    const record = await real.ledger.get(this.email);
    if (record?.accountId === undefined) return;
    const before = await real.ledger.list();
    const hook = {
      AccountName: "conflict",
      AccountEmail: this.otherEmail,
      AccountId: record.accountId,
      AccountArn: `arn:aws:organizations::111122223333:account/o-exampleorg1/${record.accountId}`,
      ProductName: "ws-other",
      ContactEmail: "owner@example.com",
      Stage: "other",
    };
    const error = await acceptRequest(hook, {
      ledger: real.ledger,
      queue: { enqueue: async () => undefined },
      now: () => real.timing.now(),
    }).catch((e: unknown) => e);
    expect(error, "conflicting hook").to.be.instanceOf(RequestValidationError);
    expect(await real.ledger.list(), "ledger after a conflicting hook").to.deep.equal(before);
  }
  toString = () => `ConflictingHook(${this.email}, ${this.otherEmail})`;
}

/**
 * CreateAccount is accepted by AWS but its reply is lost (the connection breaks after the request went out), and
 * for `lagMs` from then on neither ListAccounts nor ListCreateAccountStatus shows the new request yet (AWS's listing
 * lag, seconds in practice). The workflow must look, not send CreateAccount again.
 */
class LoseCreateReply implements Cmd {
  constructor(readonly lagMs: number) {}
  check = () => true;
  async run(_model: Model, real: Real) {
    real.org.lostCreateReplies.push(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    real.org.onLostReply = () => (real.org.listingLagUntil = real.timing.now().getTime() + this.lagMs);
  }
  toString = () => `LoseCreateReply(lag=${this.lagMs} ms)`;
}

/** Account stacks deploy remotely (Pulumi Deployments, outcome by webhook) or locally from now on. */
class RemoteStacks implements Cmd {
  constructor(readonly on: boolean) {}
  check = () => true;
  async run(_model: Model, real: Real) {
    real.cloud.remote = this.on;
  }
  toString = () => `RemoteStacks(${this.on})`;
}

/** Pulumi Cloud delivers the pending webhook at `index`; a 2xx answer ends it, anything else is retried later. */
class DeliverWebhook implements Cmd {
  constructor(readonly index: number) {}
  check = () => true;
  async run(_model: Model, real: Real) {
    if (real.cloud.outbox.length === 0) return;
    await deliverWebhook(real, this.index % real.cloud.outbox.length);
  }
  toString = () => `DeliverWebhook(${this.index})`;
}

/**
 * The webhook handler times out mid-delivery: the next handler invocation claims its delivery id, then dies (before
 * or after its ledger write, never completing the claim). Pulumi Cloud gets no answer and redelivers after the claim
 * has expired. Armed until a delivery uses it (also during the final drain), so it always hits one if any comes.
 */
class WebhookTimesOut implements Cmd {
  constructor(readonly when: "before-write" | "after-write") {}
  check = () => true;
  async run(_model: Model, real: Real) {
    real.cloud.killNextHandler = this.when;
  }
  toString = () => `WebhookTimesOut(${this.when})`;
}

/**
 * Time passes beyond a lease (the lease of a stalled or crashed runner expires), so the next delivery takes
 * the request over instead of finding it busy.
 */
class LeaseExpires implements Cmd {
  check = () => true;
  async run(_model: Model, real: Real) {
    real.timing.advance(DEFAULT_LEASE_TTL_MS + 1);
  }
  toString = () => "LeaseExpires";
}

/** Whether creates nobody polls (their worker crashed) become visible in ListAccounts yet. */
class Settling implements Cmd {
  constructor(readonly on: boolean) {}
  check = () => true;
  async run(_model: Model, real: Real) {
    real.org.settleOnList = this.on;
  }
  toString = () => `Settling(${this.on})`;
}

/**
 * Time a requeued item stays invisible: the worker re-enqueues deferred work with a 10 s delay
 * (`DEFAULT_REQUEUE_DELAY_SECONDS`) and SQS redelivers a failed message only after its visibility timeout.
 */
const REDELIVERY_DELAY_MS = 10_000;

/** One delivery as the worker makes it: errors and unfinished work put the item back on the queue. */
async function deliver(real: Real, email: string, deadlineMs: number): Promise<void> {
  try {
    const outcome = await real.workflow.processRequest(email, {
      deadline: new Date(real.timing.now().getTime() + deadlineMs),
    });
    if (outcome.status === "busy") {
      // The worker re-enqueues the item to come back when the lease has expired (busyRequeueDelaySeconds).
      real.queue.push(email);
      real.timing.advance(
        busyRequeueDelaySeconds(outcome.lease.expiresAt, real.timing.now(), REDELIVERY_DELAY_MS / 1000) * 1000,
      );
      return;
    }
    if (outcome.status !== "deferred") return;
  } catch {
    // The worker died or the call failed: the queue redelivers.
  }
  real.queue.push(email);
  real.timing.advance(REDELIVERY_DELAY_MS);
}

/**
 * Pulumi Cloud makes one delivery of the outbox entry at `at`: the handler's answer decides whether it is done (2xx)
 * or stays for a redelivery. A handler killed mid-delivery never answers (its promise is abandoned, as a Lambda
 * timeout abandons the invocation).
 */
async function deliverWebhook(real: Real, at: number): Promise<void> {
  const pending = real.cloud.outbox[at]!;
  const body = JSON.stringify({
    projectName: "meshstack-avm",
    stackName: `acme/meshstack-avm/account-${pending.accountId}`,
    operation: "update",
    status: "succeeded",
    version: pending.version,
  });
  const answer = real.receiver.handle({
    method: "POST",
    headers: { [WEBHOOK_HEADERS.id]: pending.id, [WEBHOOK_HEADERS.kind]: "deployment" },
    body: Buffer.from(body, "utf8"),
  });
  const killed = new Promise<"killed">((resolve) => (real.cloud.onKilled = () => resolve("killed")));
  const result = await Promise.race([answer, killed]);
  real.cloud.onKilled = undefined;
  if (result === "killed") {
    // No answer: Pulumi Cloud redelivers later, once the claim of the dead handler has expired.
    real.cloud.timeouts += 1;
    real.timing.advance(DEFAULT_PROCESSING_MS + 1);
  } else if (result.statusCode < 300) {
    real.cloud.outbox.splice(at, 1);
  }
}

const email = fc.constantFrom(...EMAILS);
const commands = [
  // Listed twice, so most runs have requests for the other commands to act on.
  email.map((e) => new Submit(e)),
  email.map((e) => new Submit(e)),
  fc.tuple(fc.nat(20), fc.boolean(), fc.constantFrom(500, 5_000, 60_000)).map(([i, k, d]) => new Deliver(i, k, d)),
  fc.nat(20).map((i) => new DeliverTwice(i)),
  fc.nat(20).map((i) => new DeliverStalled(i)),
  fc.constant(new ReleaseStalled()),
  fc.constantFrom("before" as const, "after" as const).map((w) => new CrashAtRequestId(w)),
  fc.tuple(fc.constantFrom("before" as const, "after" as const), fc.nat(6)).map(([w, n]) => new Crash(w, n)),
  fc
    .tuple(
      fc.constantFrom("throttle" as const, "network" as const, "reason" as const),
      email,
      fc.constantFrom(...REASONS),
      fc.integer({ min: 1, max: 6 }),
    )
    .map(([k, e, r, c]) => new Fault(k, e, r, c)),
  email.map((e) => new Preexisting(e)),
  fc.boolean().map((on) => new Settling(on)),
  fc.constant(new LeaseExpires()),
  fc.tuple(email, email).map(([e, o]) => new ConflictingHook(e, o)),
  fc.constantFrom(0, 1_500, 5_000, 30_000).map((lag) => new LoseCreateReply(lag)),
  fc.boolean().map((on) => new RemoteStacks(on)),
  // Listed several times: webhook traffic is as frequent as queue traffic once stacks deploy remotely.
  ...[1, 2, 3].map(() => fc.nat(5).map((i) => new DeliverWebhook(i))),
  ...[1, 2, 3].map(() =>
    fc.constantFrom("before-write" as const, "after-write" as const).map((w) => new WebhookTimesOut(w)),
  ),
];

/**
 * Fixed by default so every run explores the same cases (a failure in CI reproduces with the same command);
 * explore other cases with `AVM_PROPERTY_SEED=<int> [AVM_PROPERTY_RUNS=<n>] npx mocha ... this file`.
 * A reported counterexample replays exactly with its seed alone; replaying by `path` also needs the
 * counterexample's `replayPath` passed to `fc.commands`.
 */
const SEED = envInt("AVM_PROPERTY_SEED") ?? 20261125;
const RUNS = envInt("AVM_PROPERTY_RUNS") ?? 150;

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got "${raw}"`);
  return value;
}

/** A fresh system under test: everything it depends on (clock, ids, slots, AWS) lives in this object. */
function newReal(polls: number, remote: boolean): Real & { dispose(): void } {
  const client = new OrganizationsClient({ region: "us-east-1" });
  const mock = mockClient(client);
  const org = new FakeOrganizations();
  org.install(mock);
  org.inProgressPolls = polls;
  const timing = new InstantTiming();
  org.clock = () => timing.now().getTime();
  const ledger = new CrashingLedger(new MemoryLedger());
  const organizations = new OrganizationsGateway(client, {
    timing,
    retry: { baseDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 4 },
  });
  const cloud = new PulumiCloudModel();
  cloud.remote = remote;
  const workflow = createWorkflow({
    ledger,
    organizations,
    stackRunner: cloud,
    createSlots: new InProcessCreateSlots({ now: () => timing.now() }),
    timing,
  });
  const queue: string[] = [];
  const recorder = new LedgerStackOutcomeRecorder({
    ledger,
    queue: { enqueue: async (item) => void queue.push(item.email) },
    timing,
  });
  const receiver = new WebhookReceiver({
    recorder: {
      // The handler dies where the model says: before or after its ledger write; either way it never answers.
      record: async (accountId, outcome) => {
        const kill = cloud.killNextHandler;
        cloud.killNextHandler = undefined;
        if (kill === "after-write") await recorder.record(accountId, outcome);
        if (kill !== undefined) {
          cloud.onKilled?.();
          return new Promise<never>(() => undefined);
        }
        return recorder.record(accountId, outcome);
      },
    },
    deliveries: new MemoryDeliveryStore(),
    timing,
    logger: silentLogger,
  });
  return {
    org,
    timing,
    ledger,
    workflow,
    queue,
    nextRequest: 0,
    background: [],
    cloud,
    receiver,
    dispose: () => mock.restore(),
  };
}

/**
 * Stops injecting faults, lets time pass for every create (as it would), redelivers until the queue is
 * empty, and checks the end state: every request terminal, at most one account per email, the account
 * of a SUCCEEDED request tagged, a reason on every FAILED one, and no CreateAccount while an earlier one for
 * the same email had created or was creating an account.
 */
async function drainAndCheck(real: Real, model: Model): Promise<void> {
  const { ledger, org } = real;
  ledger.crashes.length = 0;
  org.throttleNext = 0;
  org.createErrors.length = 0;
  org.settleOnList = true;
  org.lostCreateReplies.length = 0;
  org.listingLagUntil = undefined;
  org.releaseStalledCreates();
  await Promise.all(real.background.splice(0));
  // Work items and webhook deliveries until both are done (Pulumi Cloud redelivers every unanswered webhook).
  for (let round = 0; (real.queue.length > 0 || real.cloud.outbox.length > 0) && round < 400; round += 1) {
    if (real.queue.length > 0) await deliver(real, real.queue.shift()!, 24 * 60 * 60_000);
    else await deliverWebhook(real, 0);
  }
  // Records whose deliveries were all lost to crashes get a final redelivery from the DLQ path.
  for (const submitted of model.submitted) {
    for (let round = 0; round < 5; round += 1) {
      const record = await ledger.get(submitted);
      if (record && TERMINAL_STATES.has(record.state)) break;
      await deliver(real, submitted, 24 * 60 * 60_000);
    }
  }

  for (const submitted of model.submitted) {
    const record = (await ledger.get(submitted))!;
    expect(TERMINAL_STATES.has(record.state), `${submitted} is ${record.state}`).to.equal(true);
    const accounts = org.accountsWithEmail(submitted);
    expect(accounts.length, `accounts for ${submitted}`).to.be.at.most(1);
    if (record.state === "SUCCEEDED") {
      expect(accounts.map((a) => a.id)).to.deep.equal([record.accountId]);
      expect(accounts[0]!.tags).to.deep.equal({ Team: "x", ProductName: "p", Stage: "s" });
    } else {
      expect(record.failureReason, `${submitted} failed without a reason`).to.be.a("string").and.not.equal("");
    }
  }
  expect(real.queue).to.deep.equal([]);
  // The typed CreateAccount attempts say exactly what the history notes say (the notes are for people now).
  for (const record of await ledger.list()) {
    if (record.history.length >= MAX_HISTORY_ENTRIES) continue;
    expect(createAttempts(record), `typed attempts of ${record.email}`).to.deep.equal(
      createAttempts({ history: record.history }),
    );
  }
  expect(real.cloud.outbox, "webhook deliveries never answered with a 2xx").to.deep.equal([]);
  // The fake is strongly consistent and a worker that stops between CreateAccount and storing its id never
  // resumes, so here the workflow can always know better than to issue CreateAccount again.
  expect(org.secondCreates, "CreateAccount calls that would have made a second account").to.equal(0);
}

/** Runs `cmds` against a fresh system and returns everything observable, for comparing two runs. */
async function runScenario(cmds: Iterable<Cmd>, polls: number, remote = false) {
  const real = newReal(polls, remote);
  try {
    const model: Model = { submitted: new Set() };
    await fc.asyncModelRun(() => ({ model, real }), cmds);
    await drainAndCheck(real, model);
    return {
      calls: [...real.org.calls.entries()],
      accounts: [...real.org.accounts.values()],
      creates: [...real.org.creates.values()].map((c) => ({
        id: c.id,
        state: c.outcome.state,
        ...(c.outcome.state === "FAILED" ? { reason: c.outcome.reason } : {}),
      })),
      records: await real.ledger.list(),
      now: real.timing.now().toISOString(),
      sleeps: real.timing.sleeps,
      webhookTimeouts: real.cloud.timeouts,
    };
  } finally {
    real.dispose();
  }
}

/** What {@link runScenario} observed. */
type Trace = Awaited<ReturnType<typeof runScenario>>;

/** The ids of the accounts with `email` in the organization at the end of `trace`. */
function accountIdsWith(trace: Trace, email: string): string[] {
  return trace.accounts.filter((account) => account.email === email).map((account) => account.id);
}

/** The first history notes of every vend here: recorded, creating, attempt 1 about to be sent. */
const NOTES_UNTIL_ATTEMPT_1 = ["request recorded", "creating account", "CreateAccount attempt 1 issuing"];

/** The last history notes of a vend once its account `accountId` is known: tags, local account stack, completion tags. */
function notesAfterAccount(accountId: string | undefined): string[] {
  return [
    "tagged with 1 tag(s)",
    `account stack deployed: account-${accountId} deployed`,
    "completion tags ProductName and Stage written",
  ];
}

describe("account workflow (model-based)", () => {
  it("leaves one account per email and every request terminal after any interleaving", async function () {
    this.timeout(HANG_GUARD_MS);
    await fc.assert(
      fc.asyncProperty(
        fc.commands(commands, { maxCommands: 40 }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        async (cmds, polls, remote) => {
          await runScenario(cmds, polls, remote);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it("replays a generated command sequence identically (no real time, randomness or shared state)", async () => {
    const samples = fc.sample(
      fc.tuple(fc.commands(commands, { maxCommands: 40 }), fc.integer({ min: 0, max: 3 }), fc.boolean()),
      {
        numRuns: 25,
        seed: SEED,
      },
    );
    for (const [cmds, polls, remote] of samples) {
      const first = await runScenario(cmds, polls, remote);
      const second = await runScenario(cmds, polls, remote);
      expect(second, String(cmds)).to.deep.equal(first);
    }
  });

  it("lets a stalled CreateAccount land after another worker's: AWS answers EMAIL_ALREADY_EXISTS, one account", async () => {
    // The one interleaving that legitimately sends CreateAccount again: worker A writes its attempt marker
    // and sends CreateAccount, which stalls before AWS receives it for longer than A's lease; worker B takes
    // the record over after the lease expired, finds
    // nothing in flight and no account, and sends attempt 2. A's call then reaches AWS, which rejects it
    // (email uniqueness); A's id write loses the compare-and-set and A stops. Nobody could have known better
    // when B decided, so `secondCreates` stays 0; the organization never holds a second account.
    const a = "a@example.com";
    const trace = await runScenario(
      [new Submit(a), new DeliverStalled(0), new LeaseExpires(), new Deliver(0, false, 60_000), new ReleaseStalled()],
      0,
    );
    expect(trace.calls.find(([name]) => name === "CreateAccount")).to.deep.equal(["CreateAccount", 2]);
    expect(trace.creates).to.deep.equal([
      { id: "car-0001", state: "SUCCEEDED" },
      { id: "car-0002", state: "FAILED", reason: "EMAIL_ALREADY_EXISTS" },
    ]);
    const [record] = trace.records;
    expect(accountIdsWith(trace, a)).to.deep.equal([record!.accountId]);
    expect(record!.history.map((e) => e.note)).to.deep.equal([
      ...NOTES_UNTIL_ATTEMPT_1,
      "CreateAccount attempt 2 issuing",
      "CreateAccount attempt 2 request car-0001",
      `account ${record!.accountId} created`,
      ...notesAfterAccount(record!.accountId),
    ]);
  });

  it("keeps a second runner off while the first holds the lease, even when its CreateAccount stalls", async () => {
    // Worker A's CreateAccount stalls; a second delivery finds the lease held ("busy") and is re-enqueued
    // until the lease expires; A's call lands and A finishes. One CreateAccount, nothing left to AWS's
    // email uniqueness.
    const a = "a@example.com";
    const trace = await runScenario(
      [new Submit(a), new DeliverStalled(0), new Deliver(0, false, 60_000), new ReleaseStalled()],
      0,
    );
    expect(trace.calls.find(([name]) => name === "CreateAccount")).to.deep.equal(["CreateAccount", 1]);
    expect(trace.creates).to.deep.equal([{ id: "car-0001", state: "SUCCEEDED" }]);
    const [record] = trace.records;
    expect(record!.state).to.equal("SUCCEEDED");
    expect(record!.lease).to.equal(undefined);
    expect(record!.attempts).to.equal(1);
  });

  it("CreateAccount accepted, reply lost: looks through the listing lag, one CreateAccount, one account", async () => {
    const a = "a@example.com";
    const trace = await runScenario([new Submit(a), new LoseCreateReply(2_500), new Deliver(0, false, 60_000)], 0);
    expect(trace.calls.find(([name]) => name === "CreateAccount")).to.deep.equal(["CreateAccount", 1]);
    const [record] = trace.records;
    expect(record!.state).to.equal("SUCCEEDED");
    expect(accountIdsWith(trace, a)).to.deep.equal([record!.accountId]);
    expect(record!.history.map((e) => e.note)).to.deep.equal([
      ...NOTES_UNTIL_ATTEMPT_1,
      "CreateAccount attempt 1 CreateAccount outcome unknown: Error: socket hang up",
      `found account ${record!.accountId} after an interrupted CreateAccount`,
      ...notesAfterAccount(record!.accountId),
    ]);
    // Two rounds of looking saw nothing (the lag), the third found the account.
    expect(trace.sleeps).to.deep.equal([1_000, 2_000]);
  });

  for (const when of ["before-write", "after-write"] as const) {
    it(`webhook handler times out mid-delivery (${when}): the redelivery after the claim expired completes the request`, async () => {
      const a = "a@example.com";
      const trace = await runScenario(
        [new Submit(a), new Deliver(0, false, 60_000), new WebhookTimesOut(when), new DeliverWebhook(0)],
        0,
        true,
      );
      expect(trace.webhookTimeouts).to.equal(1);
      const [record] = trace.records;
      expect(record!.state).to.equal("SUCCEEDED");
      // One webhook note: the dead handler wrote it (after-write) or nothing (before-write); the redelivery then
      // re-enqueued the COMPLETING record, or moved it from BOOTSTRAPPING itself.
      expect(record!.history.map((e) => e.note)).to.deep.equal([
        ...NOTES_UNTIL_ATTEMPT_1,
        "CreateAccount attempt 1 request car-0001",
        `account ${record!.accountId} created`,
        "tagged with 1 tag(s)",
        "account stack queued: deployment #1 queued",
        "webhook wh-1: deployment update succeeded (#1)",
        "completion tags ProductName and Stage written",
      ]);
    });
  }

  describe("regressions (counterexamples found by the property)", () => {
    it("never issues CreateAccount while an interrupted one is still creating the account (seed -499706152)", async () => {
      // Crash before storing attempt 1's request id while AWS keeps creating the account; the redelivery must
      // wait for that create instead of issuing attempt 2.
      const a = "a@example.com";
      const trace = await runScenario(
        [
          new Submit(a),
          new Settling(false),
          new CrashAtRequestId("before"),
          new DeliverTwice(0),
          new Deliver(0, false, 500),
          new Submit(a),
        ],
        1,
      );
      expect(trace.calls.find(([name]) => name === "CreateAccount")).to.deep.equal(["CreateAccount", 1]);
      const [record] = trace.records;
      expect([record!.state, trace.records.length]).to.deep.equal(["SUCCEEDED", 1]);
      expect(record!.history.map((e) => e.note)).to.deep.equal([
        ...NOTES_UNTIL_ATTEMPT_1,
        `found account ${record!.accountId} after an interrupted CreateAccount`,
        ...notesAfterAccount(record!.accountId),
      ]);
    });

    it("looks for the account of a superseded attempt before retrying a failed one (seed 20261125, 2000 runs)", async () => {
      // Worker A's attempt 1 stalls on its way to AWS; worker B takes over, and its attempt 2 fails with
      // INTERNAL_FAILURE. A's call then reaches AWS and creates the account (A loses the compare-and-set and
      // stops). The retry used to issue attempt 3 without looking (answered EMAIL_ALREADY_EXISTS); an attempt
      // that was interrupted before its id was stored now makes every later attempt look first.
      const a = "a@example.com";
      const trace = await runScenario(
        [
          new Submit(a),
          new Fault("reason", a, "INTERNAL_FAILURE", 1),
          new DeliverStalled(0),
          new LeaseExpires(),
          new Deliver(0, false, 500),
        ],
        0,
      );
      expect(trace.creates).to.deep.equal([
        { id: "car-0001", state: "FAILED", reason: "INTERNAL_FAILURE" },
        { id: "car-0002", state: "SUCCEEDED" },
      ]);
      const [record] = trace.records;
      expect(record!.state).to.equal("SUCCEEDED");
      expect(accountIdsWith(trace, a)).to.deep.equal([record!.accountId]);
      expect(record!.history.map((e) => e.note)).to.deep.equal([
        ...NOTES_UNTIL_ATTEMPT_1,
        "CreateAccount attempt 2 issuing",
        "CreateAccount attempt 2 request car-0001",
        `found account ${record!.accountId} after an interrupted CreateAccount`,
        ...notesAfterAccount(record!.accountId),
      ]);
    });

    it("ends a request whose interrupted attempt never reached AWS (seed 17)", async () => {
      // Attempt 1 dies on the network before AWS sees it; attempt 2 is answered EMAIL_ALREADY_EXISTS with no
      // such account in the organization, so the workflow looks for the account for the grace period. The
      // harness used to redeliver deferred work with no time passing (the worker requeues it with a delay),
      // and the workflow deferred without waiting, so the grace period never ended and the record stayed
      // CREATING. Either fix ends it; this pins the outcome.
      const a = "a@example.com";
      const trace = await runScenario(
        [
          new Fault("reason", a, "EMAIL_ALREADY_EXISTS", 1),
          new Fault("network", a, "INTERNAL_FAILURE", 1),
          new Submit(a),
          new DeliverTwice(0),
        ],
        0,
      );
      const [record] = trace.records;
      expect([record!.state, record!.failureReason]).to.deep.equal(["FAILED", "EMAIL_ALREADY_EXISTS"]);
      expect(trace.calls.find(([name]) => name === "CreateAccount")).to.deep.equal(["CreateAccount", 2]);
    });
  });
});
