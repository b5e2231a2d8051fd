import { expect } from "chai";
import * as fc from "fast-check";
import { mockClient } from "aws-sdk-client-mock";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { MemoryLedger } from "../../../src/vending/memoryLedger";
import { InProcessCreateSlots } from "../../../src/vending/createSlots";
import { TERMINAL_STATES } from "../../../src/vending/ledger";
import { OrganizationsGateway } from "../../../src/vending/organizations";
import { createWorkflow, type Workflow } from "../../../src/vending/workflow";
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

/** Whether creates nobody polls (their worker crashed) become visible in ListAccounts yet. */
class Settling implements Cmd {
  constructor(readonly on: boolean) {}
  check = () => true;
  async run(_model: Model, real: Real) {
    real.org.settleOnList = this.on;
  }
  toString = () => `Settling(${this.on})`;
}

/** One delivery as the worker makes it: errors and unfinished work put the item back on the queue. */
async function deliver(real: Real, email: string, deadlineMs: number): Promise<void> {
  try {
    const outcome = await real.workflow.processRequest(email, {
      deadline: new Date(real.timing.now().getTime() + deadlineMs),
    });
    if (outcome.status === "deferred") real.queue.push(email);
  } catch {
    real.queue.push(email); // the worker died or the call failed: the queue redelivers
  }
}

const email = fc.constantFrom(...EMAILS);
const commands = [
  email.map((e) => new Submit(e)),
  fc.tuple(fc.nat(20), fc.boolean(), fc.constantFrom(500, 5_000, 60_000)).map(([i, k, d]) => new Deliver(i, k, d)),
  fc.nat(20).map((i) => new DeliverTwice(i)),
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
];

describe("account workflow (model-based)", () => {
  it("leaves one account per email and every request terminal after any interleaving", async function () {
    this.timeout(120_000);
    await fc.assert(
      fc.asyncProperty(
        fc.commands(commands, { maxCommands: 40 }),
        fc.integer({ min: 0, max: 3 }),
        async (cmds, polls) => {
          const client = new OrganizationsClient({ region: "us-east-1" });
          const mock = mockClient(client);
          try {
            const org = new FakeOrganizations();
            org.install(mock);
            org.inProgressPolls = polls;
            const timing = new InstantTiming();
            const ledger = new CrashingLedger(new MemoryLedger());
            const organizations = new OrganizationsGateway(client, {
              timing,
              retry: { baseDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 4 },
            });
            const workflow = createWorkflow({
              ledger,
              organizations,
              stackRunner: new RecordingStackRunner(),
              createSlots: new InProcessCreateSlots({ now: () => timing.now() }),
              timing,
            });
            const real: Real = { org, timing, ledger, workflow, queue: [], nextRequest: 0 };
            const model: Model = { submitted: new Set() };
            await fc.asyncModelRun(() => ({ model, real }), cmds);

            // Drain: stop injecting faults and redeliver until the queue is empty (bounded).
            ledger.crashes.length = 0;
            org.throttleNext = 0;
            org.createErrors.length = 0;
            org.settleOnList = true;
            for (let round = 0; real.queue.length > 0 && round < 200; round += 1) {
              await deliver(real, real.queue.shift()!, 24 * 60 * 60_000);
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
                expect(record.failureReason, `${submitted} failed without a reason`)
                  .to.be.a("string")
                  .and.not.equal("");
              }
            }
            expect(real.queue).to.deep.equal([]);
            expect(org.secondCreates, "CreateAccount calls that would have made a second account").to.equal(0);
          } finally {
            mock.restore();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
