/**
 * Reliability under load against moto: 200 vend requests (150 distinct emails, 50 duplicates) go through the
 * `AVMEntryPoint` handler (DynamoDB ledger, SQS work queue with a dead-letter queue, both in moto) while worker
 * pollers feed SQS batches to the worker Lambda handler, with faults injected by SDK middleware:
 * - Organizations answers TooManyRequestsException to a fraction of calls (before the call: nothing happens);
 * - DynamoDB answers ProvisionedThroughputExceededException to a fraction of calls, inside the SDK's retries
 *   (as deployed: the SDK retries throttling);
 * - SendMessage fails for a fraction of the entry point's enqueues (meshStack retries the invocation);
 * - the worker "crashes" (the whole invocation dies, nothing is deleted from the queue) at random ledger writes,
 *   before or after the write, and right after CreateAccount returned (account created, id not yet stored);
 * - a few "poison" requests whose account stack step always throws must end in the dead-letter queue with the
 *   reason recorded in the ledger.
 * The run is bounded by progress, not by speed: it ends when every request is terminal and the queue is empty, and
 * fails when {@link STALLED_ROUNDS} rounds in a row (in each, every poller finished at least one receive) moved no
 * record, or when the hang guard ({@link GUARD_MS}, minutes) fires; either failure names what was still moving.
 * Afterwards: every request is terminal, each email has exactly one account in the organization, and the DLQ
 * holds exactly the poison requests, each FAILED with its reason. Every AWS call each role made (recorded by an
 * SDK middleware) is allowed by the policy that role is deployed with (iam-simulate): least privilege is also
 * sufficient. Fault rates come from a seeded generator.
 */
import { expect } from "chai";
import { AsyncLocalStorage } from "node:async_hooks";
import {
  ListAccountsCommand,
  OrganizationsClient,
  TooManyRequestsException,
  type Account,
} from "@aws-sdk/client-organizations";
import { DynamoDBClient, ProvisionedThroughputExceededException } from "@aws-sdk/client-dynamodb";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";
import { Logger } from "@aws-lambda-powertools/logger";
import type { SQSEvent } from "aws-lambda";
import { createEntryPointHandler, type EntryPointResponse } from "../../src/lambda/entryPoint/handler";
import { createWorkerHandler } from "../../src/lambda/worker/handler";
import type { Timing } from "../../src/shared/timing";
import type { AccountStackRunner } from "../../src/core/ports";
import { DynamoCreateSlots } from "../../src/adapters/aws/dynamoCreateSlots";
import { DynamoLedger, createLedgerTable } from "../../src/adapters/aws/dynamoLedger";
import type { Ledger } from "../../src/core/ports";
import type { LedgerPatch, LedgerRecord } from "../../src/core/ledger";
import { OrganizationsGateway } from "../../src/adapters/aws/organizationsGateway";
import { parseWorkItem } from "../../src/core/workItem";
import { SqsWorkQueue } from "../../src/adapters/aws/sqsWorkQueue";
import { createWorkflow } from "../../src/core/vending/workflow";
import { entryPointPolicy, workerPolicy } from "../../src/policies/avmRoles";
import { vendingRolePermissionsPolicy } from "../../src/policies/managementVendingRole";
import { MOTO_DEFAULT_ACCOUNT_ID } from "../../automation/localAws";
import { identityDecision } from "../security/iamProof";
import { HANG_GUARD_MS } from "../support/hangGuard";
import { useMoto, type LocalOrganization } from "../support/moto";
import { CallRecorder } from "./observedCalls";
import { startFaultProxy } from "../support/faultProxy";
import { createEntryPointGate } from "../../src/core/vending/entryPointGate";

const TABLE = "avm-ledger";
const UNIQUE = 150;
const DUPLICATES = 50;
const POISON = 4;
const MAX_RECEIVE_COUNT = 6;
const POLLERS = 6;
const LEASE_TTL_MS = 1_500;
/**
 * Rounds in a row that move no ledger record and no queued message before the run counts as stalled. Every pickup
 * of a non-terminal record writes it (attempts + 1), so a live system moves something in every round.
 */
const STALLED_ROUNDS = 20;
/** Guard against a hang only: the run takes about 45 s on an idle 2-core machine. */
const GUARD_MS = 20 * 60_000;

/** What a progress round keeps of a record (the whole record when there is one). */
interface ObservedRecord {
  readonly state: string;
  readonly version: number;
  readonly attempts: number;
  readonly history?: readonly { readonly state: string; readonly note?: string }[];
}

/** Deterministic generator (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class SimulatedCrash extends Error {
  override name = "SimulatedCrash";
}

/** Per worker invocation: set when the invocation "crashed". */
const invocation = new AsyncLocalStorage<{ crashed: boolean; poison: boolean }>();

type Middleware = (
  next: (args: unknown) => Promise<unknown>,
  context: { commandName?: string },
) => (args: unknown) => Promise<unknown>;

interface ClientWithStack {
  middlewareStack: {
    add(mw: Middleware, options: { step: string; name: string; priority?: string }): void;
    addRelativeTo(mw: Middleware, options: { relation: "before" | "after"; toMiddleware: string; name: string }): void;
  };
}

/** Real time, but sleeps are capped at 100 ms so backoffs (seconds in production) stay short. */
const fastTiming: Timing = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 100))),
  random: Math.random,
};

/** A ledger that crashes the current worker invocation at random writes (before or after applying them). */
class CrashingLedger implements Ledger {
  crashes = 0;
  constructor(
    private readonly inner: Ledger,
    private readonly random: () => number,
    private readonly rate: number,
  ) {}
  claim: Ledger["claim"] = (record, now) => this.inner.claim(record, now);
  get: Ledger["get"] = (email) => this.inner.get(email);
  getByRequestId: Ledger["getByRequestId"] = (id) => this.inner.getByRequestId(id);
  getByAccountId: Ledger["getByAccountId"] = (id) => this.inner.getByAccountId(id);
  list: Ledger["list"] = (options) => this.inner.list(options);
  close: Ledger["close"] = () => this.inner.close();
  /** Crashes that left the invocation's lease on its record (it expires; the next delivery takes over). */
  leasesLeft = 0;
  async update(email: string, version: number, patch: LedgerPatch, now: Date): Promise<LedgerRecord> {
    const scope = invocation.getStore();
    // A crashed invocation writes nothing more (not even the release of its lease).
    if (scope?.crashed) throw new SimulatedCrash("the invocation has crashed");
    const roll = scope && !scope.poison ? this.random() : 1;
    if (roll < this.rate / 2) this.crash(scope!, "before a ledger write");
    const updated = await this.inner.update(email, version, patch, now);
    if (roll < this.rate) {
      if (updated.lease !== undefined) this.leasesLeft += 1;
      this.crash(scope!, "after a ledger write");
    }
    return updated;
  }
  private crash(scope: { crashed: boolean }, where: string): never {
    this.crashes += 1;
    scope.crashed = true;
    throw new SimulatedCrash(`simulated crash ${where}`);
  }
}

describe("reliability: 200 vend requests with crashes and throttling (moto)", function () {
  this.timeout(GUARD_MS + HANG_GUARD_MS);
  const moto = useMoto();
  let org: LocalOrganization;

  it("ends every request terminal, one account per email, only recorded failures in the DLQ, every call allowed by IAM", async () => {
    const random = seeded(20261125);
    org = await moto.createOrganization("Workloads");
    // Production SDK clients retry (standard mode, 3 attempts); the local config sets 1 for unimplemented calls.
    const config = { ...moto.clientConfig(), maxAttempts: 3 };
    const tally = {
      orgThrottles: 0,
      dynamoThrottles: 0,
      orgLostReplies: 0,
      createLostReplies: 0,
      dynamoLostReplies: 0,
      dynamoLostWrites: 0,
      sendFailures: 0,
      createCrashes: 0,
      invocations: 0,
      busy: 0,
    };
    // Every call each role makes, to prove afterwards that the deployed policies allow all of them.
    const observed = new CallRecorder({
      partition: "aws",
      region: "us-east-1",
      accountId: MOTO_DEFAULT_ACCOUNT_ID,
      managementAccountId: org.managementAccountId,
      organizationId: org.organizationId,
    });
    const inWorker = () => invocation.getStore() !== undefined;

    // --- Lost replies: a loopback proxy in front of moto forwards the call (moto carries it out) and then loses the
    // reply, for a fraction of the worker's Organizations calls (cut connection or bare 500, alternately) and of
    // both roles' DynamoDB calls (cut connection). The clients retry as deployed (standard mode, 3 attempts), so an
    // idempotent call or a conditional ledger write is sent again; CreateAccount never is.
    let lostRepliesOn = true;
    const lostProxy = await startFaultProxy(moto.endpoint, (call) => {
      if (!lostRepliesOn) return "pass";
      if (call.operation.startsWith("AWSOrganizationsV20161128.") && random() < 0.04) {
        tally.orgLostReplies += 1;
        if (call.operation.endsWith(".CreateAccount")) tally.createLostReplies += 1;
        return tally.orgLostReplies % 2 === 0 ? "500" : "drop";
      }
      if (call.operation.startsWith("DynamoDB_20120810.") && random() < 0.02) {
        tally.dynamoLostReplies += 1;
        if (/\.(PutItem|UpdateItem|DeleteItem)$/.test(call.operation)) tally.dynamoLostWrites += 1;
        return "drop";
      }
      return "pass";
    });
    const viaProxy = { ...config, endpoint: lostProxy.endpoint };

    // --- Organizations (worker side): throttling before the call, crash right after CreateAccount returned.
    const organizations = new OrganizationsClient(viaProxy);
    observed.observe(organizations, "organizations", "AVMVendingRole", inWorker);
    (organizations as unknown as ClientWithStack).middlewareStack.add(
      (next, context) => async (args) => {
        if (invocation.getStore() && random() < 0.15) {
          tally.orgThrottles += 1;
          throw new TooManyRequestsException({ $metadata: {}, message: "Rate exceeded (injected)" });
        }
        const result = await next(args);
        const scope = invocation.getStore();
        if (context.commandName === "CreateAccountCommand" && scope && !scope.poison && random() < 0.1) {
          tally.createCrashes += 1;
          scope.crashed = true;
          throw new SimulatedCrash("simulated crash after CreateAccount returned");
        }
        return result;
      },
      { step: "initialize", name: "injectOrganizationsFaults", priority: "high" },
    );

    // --- DynamoDB: throttling inside the SDK's retry loop.
    const dynamo = new DynamoDBClient(viaProxy);
    observed.observe(dynamo, "dynamodb", "AVMWorkerRole", inWorker);
    (dynamo as unknown as ClientWithStack).middlewareStack.addRelativeTo(
      (next) => async (args) => {
        if (random() < 0.03) {
          tally.dynamoThrottles += 1;
          throw new ProvisionedThroughputExceededException({
            $metadata: {},
            message: "Throughput exceeded (injected)",
          });
        }
        return next(args);
      },
      { relation: "after", toMiddleware: "retryMiddleware", name: "injectDynamoThrottling" },
    );
    await createLedgerTable(new DynamoDBClient(moto.clientConfig()), TABLE);

    // --- SQS: work queue with a dead-letter queue; the entry point's sends fail now and then.
    const setupSqs = new SQSClient(moto.clientConfig());
    const dlq = await setupSqs.send(new CreateQueueCommand({ QueueName: "avm-work-dlq" }));
    const dlqArn = (
      await setupSqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ["QueueArn"] }))
    ).Attributes!["QueueArn"]!;
    const queueUrl = (
      await setupSqs.send(
        new CreateQueueCommand({
          QueueName: "avm-work",
          Attributes: {
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: String(MAX_RECEIVE_COUNT) }),
          },
        }),
      )
    ).QueueUrl!;
    // The worker's own sends and the event source mapping's polling both run under the worker role.
    const sqs = new SQSClient(moto.clientConfig());
    observed.observe(sqs, "sqs", "AVMWorkerRole");
    const intakeSqs = new SQSClient(moto.clientConfig());
    observed.observe(intakeSqs, "sqs", "AVMEntryPointRole");
    (intakeSqs as unknown as ClientWithStack).middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "SendMessageCommand" && random() < 0.05) {
          tally.sendFailures += 1;
          throw Object.assign(new Error("Service unavailable (injected)"), { name: "ServiceUnavailable" });
        }
        return next(args);
      },
      { step: "initialize", name: "injectSendFailures", priority: "high" },
    );

    // --- The two handlers, wired as the platform stack wires them (DynamoDB ledger and slots, SQS queue).
    const ledger = new DynamoLedger({ client: dynamo, tableName: TABLE });
    // What the test itself reads to follow progress and check the end state goes straight to moto, without the
    // injected faults: a reply lost to the observer is not a failure of the product.
    const observer = new DynamoLedger({ client: new DynamoDBClient(config), tableName: TABLE });
    const crashingLedger = new CrashingLedger(ledger, random, 0.01);
    const silent = new Logger({ serviceName: "avm-load-test", logLevel: "SILENT" });
    const intakeDynamo = new DynamoDBClient(viaProxy);
    observed.observe(intakeDynamo, "dynamodb", "AVMEntryPointRole");
    const entryPoint = createEntryPointHandler({
      ledger: new DynamoLedger({ client: intakeDynamo, tableName: TABLE }),
      queue: new SqsWorkQueue({ client: intakeSqs, queueUrl }),
      now: () => new Date(),
      logger: silent,
      // The operator enabled vending through the entry point, moving accounts only to the default OU.
      gate: createEntryPointGate({
        authority: { vend: true, adopt: false, moveTargets: [org.ouId] },
        directory: {
          describeAccount: () => Promise.reject(new Error("vend requests look no account up")),
        },
        defaultTargetOu: org.ouId,
        managementAccountId: org.managementAccountId,
      }),
    });
    const poisonEmails = new Set(Array.from({ length: POISON }, (_, i) => `poison-${i}@example.com`));
    const stackRunner: AccountStackRunner = {
      async deploy(request) {
        if (poisonEmails.has(request.email)) throw new Error("account stack runner unavailable (injected)");
        return { status: "deployed", stackName: `account-${request.accountId}`, summary: "deployed (no-op)" };
      },
    };
    const gateway = new OrganizationsGateway(organizations, { timing: fastTiming });
    const slots = new DynamoCreateSlots({ client: dynamo, tableName: TABLE });
    const worker = createWorkerHandler({
      workflowFor: (logger) => {
        const workflow = createWorkflow({
          ledger: crashingLedger,
          organizations: gateway,
          stackRunner,
          createSlots: slots,
          timing: fastTiming,
          logger,
          // A short lease, so the leases crashed invocations leave behind expire within the run.
          options: {
            defaultTargetOu: org.ouId,
            slotWait: { baseDelayMs: 20, maxDelayMs: 100 },
            leaseTtlMs: LEASE_TTL_MS,
            // Compressed like the lease: how long an interrupted CreateAccount is looked for before a new one.
            unknownOutcomeGraceMs: 2_000,
          },
        });
        return {
          processRequest: async (email, options) => {
            const outcome = await workflow.processRequest(email, options);
            if (outcome.status === "busy") tally.busy += 1;
            return outcome;
          },
        };
      },
      ledger: crashingLedger,
      queue: new SqsWorkQueue({ client: sqs, queueUrl }),
      timing: fastTiming,
      logger: silent,
      maxReceiveCount: MAX_RECEIVE_COUNT,
      safetyMarginMs: 2_000,
      requeueDelaySeconds: 0,
    });

    // --- 200 requests: 150 distinct, 50 duplicates (half of them repeat the request id), shuffled.
    const emails = [...Array.from({ length: UNIQUE - POISON }, (_, i) => `load-${i}@example.com`), ...poisonEmails];
    const request = (email: string, i: number) => ({
      accountName: email.split("@")[0]!,
      email,
      requestId: `req-${email.split("@")[0]!}`,
      tags: { Load: "yes", Index: String(i) },
    });
    const requests = emails.map(request);
    for (let i = 0; i < DUPLICATES; i++) {
      const original = requests[Math.floor(random() * (UNIQUE - POISON))]!;
      const { requestId, ...withoutId } = original;
      requests.push(i % 2 === 0 ? { ...original } : ({ ...withoutId } as typeof original));
    }
    for (let i = requests.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [requests[i], requests[j]] = [requests[j]!, requests[i]!];
    }
    expect(requests).to.have.length(UNIQUE + DUPLICATES);

    const started = Date.now();
    const responses: EntryPointResponse[] = [];
    let intakeRetries = 0;

    async function intake(): Promise<void> {
      let next = 0;
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          while (next < requests.length) {
            const payload = requests[next++]!;
            // meshStack retries a failed invocation (here: right away, a bounded number of times).
            for (let attempt = 1; ; attempt++) {
              try {
                responses.push(await entryPoint(payload));
                break;
              } catch (error) {
                intakeRetries += 1;
                if (attempt >= 5) throw error;
              }
            }
          }
        }),
      );
    }

    const crashes = { invocations: 0 };
    let intakeDone = false;
    let stop = false;
    /** Receives each poller finished (a round ends when every poller finished at least one more). */
    const cycles: number[] = Array.from({ length: POLLERS }, () => 0);
    let pollerFailure: unknown;

    async function poller(id: number): Promise<void> {
      for (; !stop; cycles[id]! += 1) {
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 1,
            // As deployed, the visibility timeout far exceeds one invocation (6x the worker timeout).
            VisibilityTimeout: 60,
            MessageSystemAttributeNames: ["ApproximateReceiveCount"],
          }),
        );
        const messages: Message[] = received.Messages ?? [];
        if (messages.length === 0) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        const event: SQSEvent = {
          Records: messages.map((m) => ({
            messageId: m.MessageId!,
            receiptHandle: m.ReceiptHandle!,
            body: m.Body!,
            attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? "1" },
          })) as unknown as SQSEvent["Records"],
        };
        const poison = messages.some((m) => poisonEmails.has(parseWorkItem(m.Body!).email));
        const scope = { crashed: false, poison };
        tally.invocations += 1;
        let failed = new Set<string>();
        try {
          const response = await invocation.run(scope, () =>
            worker(event, { getRemainingTimeInMillis: () => 10_000, awsRequestId: `inv-${id}-${tally.invocations}` }),
          );
          failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        } catch {
          scope.crashed = true;
        }
        if (scope.crashed) crashes.invocations += 1;
        for (const m of messages) {
          // A crashed invocation deletes nothing; its messages and the failed ones come back once the visibility
          // timeout expires (compressed here to "now").
          const handle = { QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! };
          if (scope.crashed || failed.has(m.MessageId!)) {
            await sqs.send(new ChangeMessageVisibilityCommand({ ...handle, VisibilityTimeout: 0 }));
          } else {
            await sqs.send(new DeleteMessageCommand(handle));
          }
        }
      }
    }

    /** Messages in a queue: waiting, in flight and delayed. */
    async function queued(url: string): Promise<number> {
      const names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ] as const;
      const attributes = await setupSqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [...names] }),
      );
      return names.reduce((sum, name) => sum + Number(attributes.Attributes?.[name] ?? 0), 0);
    }

    /** What the progress rule compares between rounds: each record's state and version, and both queue sizes. */
    interface Observation {
      readonly records: ReadonlyMap<string, ObservedRecord>;
      readonly work: number;
      readonly dead: number;
    }
    async function observe(): Promise<Observation> {
      const records = new Map<string, ObservedRecord>();
      for (const email of emails) {
        const record = await observer.get(email);
        records.set(email, record ?? { state: "MISSING", version: 0, attempts: 0 });
      }
      return { records, work: await queued(queueUrl), dead: await queued(dlq.QueueUrl!) };
    }
    const terminal = (state: string) => state === "SUCCEEDED" || state === "FAILED";
    const finished = (o: Observation) => o.work === 0 && [...o.records.values()].every((r) => terminal(r.state));
    const moves = (before: Observation | undefined, after: Observation): string[] => [
      ...[...after.records].flatMap(([email, r]) => {
        const was = before?.records.get(email);
        return was && was.version === r.version ? [] : [`${email} ${was?.state ?? "?"} -> ${r.state} v${r.version}`];
      }),
      ...(before?.work !== after.work ? [`work queue ${before?.work ?? "?"} -> ${after.work}`] : []),
      ...(before?.dead !== after.dead ? [`DLQ ${before?.dead ?? "?"} -> ${after.dead}`] : []),
    ];
    /** The failure message: counts by state, every record still moving, the queues, the pollers, the last moves. */
    const stillMoving = (o: Observation, lastMoves: readonly string[]): string => {
      const byState = new Map<string, number>();
      for (const r of o.records.values()) byState.set(r.state, (byState.get(r.state) ?? 0) + 1);
      const open = [...o.records].filter(([, r]) => !terminal(r.state));
      // The last history notes of a record that stopped moving say why (the reasons of its failed deliveries).
      const lastNotes = (r: ObservedRecord) =>
        (r.history ?? [])
          .slice(-4)
          .map((h) => `${h.state}: ${h.note ?? ""}`)
          .join(" | ");
      return (
        `states ${JSON.stringify(Object.fromEntries(byState))}; ${open.length} not terminal: ` +
        `${open.map(([email, r]) => `${email} ${r.state} v${r.version} (${r.attempts} pickups; last notes: ${lastNotes(r)})`).join(", ") || "none"}; ` +
        `work queue ${o.work} messages, DLQ ${o.dead}; receives per poller ${JSON.stringify(cycles)}; ` +
        `last moves (${lastMoves.length}): ${lastMoves.slice(0, 20).join(", ") || "none"}`
      );
    };

    const pollers = Array.from({ length: POLLERS }, (_, i) =>
      poller(i).catch((error: unknown) => {
        pollerFailure ??= error;
      }),
    );
    await intake().finally(() => (intakeDone = true));
    // Rounds: at least 250 ms, and each ends only once every poller finished one more receive, so a slow machine
    // makes rounds longer, never fewer moves per round. Stop when done, stalled, or at the hang guard.
    let last: Observation | undefined;
    let lastMoves: string[] = [];
    let stalled = 0;
    let verdict: string | undefined;
    const guardFired = () => Date.now() - started > GUARD_MS;
    for (;;) {
      const roundStart = [...cycles];
      await new Promise((resolve) => setTimeout(resolve, 250));
      while (pollerFailure === undefined && !guardFired() && cycles.some((c, i) => c <= roundStart[i]!)) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (pollerFailure !== undefined) break;
      const now = await observe();
      const moved = moves(last, now);
      if (intakeDone && finished(now)) break;
      if (moved.length > 0) [stalled, lastMoves] = [0, moved];
      else stalled += 1;
      last = now;
      if (stalled >= STALLED_ROUNDS) {
        verdict = `stalled: no record or message moved in ${STALLED_ROUNDS} rounds in a row (every poller received in each)`;
      } else if (guardFired()) {
        verdict = `hang guard: not finished after ${GUARD_MS / 60_000} minutes`;
      }
      if (verdict !== undefined) {
        verdict += `: ${stillMoving(now, lastMoves)}`;
        break;
      }
    }
    stop = true;
    // The end-state checks below read through the same clients: no more lost replies.
    lostRepliesOn = false;
    await Promise.all(pollers);
    if (pollerFailure !== undefined) throw pollerFailure;
    if (verdict !== undefined) throw new Error(verdict);
    const elapsedMs = Date.now() - started;
    const summary = new Map<string, number>();
    for (const email of emails) {
      const state = (await observer.get(email))?.state ?? "MISSING";
      summary.set(state, (summary.get(state) ?? 0) + 1);
    }
    console.log(
      `      [${UNIQUE + DUPLICATES} requests in ${(elapsedMs / 1000).toFixed(1)} s: ${tally.invocations} worker ` +
        `invocations, ${crashes.invocations} crashed (${tally.createCrashes} right after CreateAccount), ` +
        `${tally.orgThrottles} Organizations throttles, ${tally.dynamoThrottles} DynamoDB throttles, ` +
        `${tally.orgLostReplies} Organizations replies lost (${tally.createLostReplies} of CreateAccount), ` +
        `${tally.dynamoLostReplies} DynamoDB replies lost (${tally.dynamoLostWrites} of writes), ` +
        `${tally.sendFailures} failed enqueues, ${crashingLedger.leasesLeft + tally.createCrashes} leases left by ` +
        `crashes, ${tally.busy} deliveries found a lease held; states ${JSON.stringify(Object.fromEntries(summary))}]`,
    );

    // --- Every request was accepted (after retries) with the request id of its email's record.
    expect(responses).to.have.length(UNIQUE + DUPLICATES);
    expect(responses.filter((r) => "error" in r)).to.deep.equal([]);

    // --- Every request is terminal; the poison ones FAILED with the recorded reason, the rest SUCCEEDED.
    const records = new Map<string, LedgerRecord>();
    for (const email of emails) records.set(email, (await observer.get(email))!);
    const states = [...records.values()].map((r) => [r.email, r.state, r.failureReason ?? ""]);
    expect(
      states.filter(([, state]) => !["SUCCEEDED", "FAILED"].includes(state!)),
      "non-terminal",
    ).to.deep.equal([]);
    const failed = [...records.values()].filter((r) => r.state === "FAILED");
    expect(failed.map((r) => r.email).sort()).to.deep.equal([...poisonEmails].sort());
    for (const record of failed) {
      expect(record.failureReason).to.match(
        new RegExp(
          `^gave up after ${MAX_RECEIVE_COUNT} deliveries in BOOTSTRAPPING: .*account stack runner unavailable \\(injected\\)`,
        ),
      );
    }

    // --- Exactly one account per email in the organization, and it is the recorded one.
    const accounts: Account[] = [];
    let token: string | undefined;
    do {
      const page = await organizations.send(new ListAccountsCommand({ NextToken: token }));
      accounts.push(...(page.Accounts ?? []));
      token = page.NextToken;
    } while (token);
    const byEmail = new Map<string, Account[]>();
    for (const account of accounts.filter((a) => a.Id !== org.managementAccountId)) {
      byEmail.set(account.Email!, [...(byEmail.get(account.Email!) ?? []), account]);
    }
    expect([...byEmail.entries()].filter(([, list]) => list.length !== 1).map(([email]) => email)).to.deep.equal([]);
    expect([...byEmail.keys()].sort()).to.deep.equal([...emails].sort());
    for (const [email, [account]] of byEmail) expect(records.get(email)!.accountId, email).to.equal(account!.Id);

    // --- The DLQ holds exactly the poison requests (each with its FAILED record and reason above).
    const dead: string[] = [];
    for (;;) {
      const page = await setupSqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl!, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
      );
      if (!page.Messages?.length) break;
      dead.push(...page.Messages.map((m) => parseWorkItem(m.Body!).email));
    }
    expect(dead.sort()).to.deep.equal([...poisonEmails].sort());

    // The faults really happened.
    expect(tally.orgThrottles, "Organizations throttles").to.be.greaterThan(0);
    expect(tally.dynamoThrottles, "DynamoDB throttles").to.be.greaterThan(0);
    expect(tally.createLostReplies, "CreateAccount replies lost").to.be.greaterThan(0);
    expect(tally.orgLostReplies - tally.createLostReplies, "other Organizations replies lost").to.be.greaterThan(0);
    expect(tally.dynamoLostWrites, "DynamoDB write replies lost").to.be.greaterThan(0);
    expect(tally.sendFailures + intakeRetries, "enqueue failures").to.be.greaterThan(0);
    expect(crashingLedger.crashes + tally.createCrashes, "crashes").to.be.greaterThan(0);
    expect(crashes.invocations).to.equal(crashingLedger.crashes + tally.createCrashes);
    // Crashed holders left leases (a crash right after CreateAccount always does); they expired and the next
    // delivery took over. No record keeps a lease at the end.
    expect(crashingLedger.leasesLeft + tally.createCrashes, "leases left by crashes").to.be.greaterThan(0);
    const leased = [];
    for (const email of emails) if ((await observer.get(email))?.lease !== undefined) leased.push(email);
    expect(leased, "records still leased").to.deep.equal([]);

    // --- Least privilege is also sufficient: every call each role made is allowed by the policy it is deployed
    // with (moto does not enforce IAM; a missing grant would otherwise surface as AccessDenied in AWS only).
    const location = { partition: "aws", region: "us-east-1", accountId: MOTO_DEFAULT_ACCOUNT_ID };
    const policies: Record<string, { account: string; policy: ReturnType<typeof entryPointPolicy> }> = {
      AVMEntryPointRole: {
        account: MOTO_DEFAULT_ACCOUNT_ID,
        policy: entryPointPolicy({
          ...location,
          vendingRoleArn: `arn:aws:iam::${org.managementAccountId}:role/AVMVendingRole`,
        }),
      },
      AVMWorkerRole: {
        account: MOTO_DEFAULT_ACCOUNT_ID,
        policy: workerPolicy({
          ...location,
          vendingRoleArn: `arn:aws:iam::${org.managementAccountId}:role/AVMVendingRole`,
          pulumiTokenSecret: false,
        }),
      },
      AVMVendingRole: {
        account: org.managementAccountId,
        policy: vendingRolePermissionsPolicy({
          partition: "aws",
          managementAccountId: org.managementAccountId,
          organizationId: org.organizationId,
        }),
      },
    };
    expect(observed.unmapped).to.deep.equal([]);
    const calls = observed.calls();
    const denied: string[] = [];
    for (const call of calls) {
      const { account, policy } = policies[call.role]!;
      const session = `arn:aws:sts::${account}:assumed-role/${call.role}/load-test`;
      const decision = await identityDecision(session, [policy], { action: call.action, resource: call.resource });
      if (decision !== "Allowed") denied.push(`${call.role} ${call.action} ${call.resource}: ${decision}`);
    }
    expect(denied).to.deep.equal([]);
    const actionsOf = (role: string) => [...new Set(calls.filter((c) => c.role === role).map((c) => c.action))].sort();
    expect(actionsOf("AVMEntryPointRole")).to.include.members(["dynamodb:PutItem", "sqs:SendMessage"]);
    expect(actionsOf("AVMWorkerRole")).to.include.members(["dynamodb:DeleteItem", "sqs:ReceiveMessage"]);
    expect(actionsOf("AVMVendingRole")).to.include.members([
      "organizations:CreateAccount",
      "organizations:MoveAccount",
      "organizations:TagResource",
    ]);
    console.log(
      `      [observed and allowed: ${["AVMEntryPointRole", "AVMWorkerRole", "AVMVendingRole"]
        .map((role) => `${role} ${actionsOf(role).join(" ")}`)
        .join("; ")}]`,
    );

    organizations.destroy();
    await lostProxy.stop();
    dynamo.destroy();
    intakeDynamo.destroy();
    sqs.destroy();
    setupSqs.destroy();
    intakeSqs.destroy();
  });
});
