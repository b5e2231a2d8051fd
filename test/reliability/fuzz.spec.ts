/**
 * Fuzzing of the three entry points with fast-check, in memory (memory ledger, recording queue, a fake
 * Organizations behind aws-sdk-client-mock, instant timing): at least 10,000 generated inputs in total, a mix of
 * valid-shaped payloads with mutated fields and plain garbage.
 * - `AVMEntryPoint`: never throws with healthy dependencies; answers either `{ requestId, state }` or a rejection
 *   whose issues each name a field and the rule.
 * - Worker: never throws; every unreadable message is reported as a batch item failure with a reason that says
 *   what is wrong; readable ones for unknown emails are acknowledged.
 * - Webhook receiver: never throws; every answer is a known status with a message; every 4xx names the header,
 *   the signature, the body or the payload field at fault.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import type { SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import fc from "fast-check";
import { OrganizationsGateway } from "../../src/adapters/aws/organizationsGateway";
import { InProcessCreateSlots } from "../../src/adapters/local/inProcessCreateSlots";
import { MemoryDeliveryStore } from "../../src/adapters/local/memoryDeliveryStore";
import { HOOK_KEYS } from "../../src/core/vending/hookRequest";
import { VEND_KEYS } from "../../src/core/vending/vendRequest";
import { createWorkflow } from "../../src/core/vending/workflow";
import { WebhookReceiver } from "../../src/core/webhooks/receiver";
import { computeSignature } from "../../src/core/webhooks/signature";
import { createEntryPointHandler, type EntryPointResponse } from "../../src/lambda/entryPoint/handler";
import { createWorkerHandler } from "../../src/lambda/worker/handler";
import { FakeOrganizations, InstantTiming, RecordingStackRunner } from "../src/core/vending/workflowFixtures";
import { OPERATOR_GATE } from "../support/entryPointGates";
import { HANG_GUARD_MS } from "../support/hangGuard";
import { MemoryLedger } from "../support/memoryLedger";
import { RecordingQueue } from "../support/recordingQueue";

const RUNS = { entryPoint: 4_000, worker: 2_500, webhook: 4_000 };
let generated = 0;

/** Arbitrary JSON-ish garbage, including exotic scalars. */
const garbage = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 2 }),
  fc.constantFrom(null, undefined, 0, -1, NaN, Infinity, true, "", "{}", "[]", "null", "{", '{"a":'),
);

/** A value for a field: often valid-looking, often wrong. */
const fieldValue = fc.oneof(
  fc.constantFrom(
    "222233334444",
    "team-a@example.com",
    "awsexample+x@example.com",
    "arn:aws:organizations::111122223333:account/o-exampleorg1/222233334444",
    "ou-ab12-abcdefgh",
    "/Workloads/Prod",
    "team-a",
    "x".repeat(300),
    " ",
    "a@b",
    "1234",
  ),
  fc.string({ maxLength: 60 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
);

const validHook = {
  AccountName: "meshcloud.test-aws-integration",
  AccountEmail: "awsexample+meshcloud@example.com",
  AccountId: "222233334444",
  AccountArn: "arn:aws:organizations::111122223333:account/o-exampleorg1/222233334444",
  ProductName: "meshcloud",
  ContactEmail: "owner@example.com",
  Stage: "test-aws-integration",
  tagCostCenter: "1234",
};
const validVend = {
  accountName: "team-a-dev",
  email: "team-a@example.com",
  targetOu: "ou-ab12-abcdefgh",
  tags: { CostCenter: "1234" },
};

/** A valid payload with some fields replaced, removed or added. */
function mutated(base: Record<string, unknown>, keys: readonly string[]) {
  return fc
    .tuple(
      fc.dictionary(fc.constantFrom(...keys, "tagX", "unknownField", "Extra"), fieldValue, { maxKeys: 4 }),
      fc.subarray([...keys]),
    )
    .map(([changes, removed]) => {
      const payload: Record<string, unknown> = { ...base, ...changes };
      for (const key of removed) delete payload[key];
      return payload;
    });
}

const entryPointInput = fc.oneof(
  { weight: 3, arbitrary: mutated(validHook, HOOK_KEYS) },
  { weight: 3, arbitrary: mutated(validVend, VEND_KEYS) },
  { weight: 1, arbitrary: fc.constantFrom(validHook, validVend) },
  { weight: 1, arbitrary: mutated(validVend, VEND_KEYS).map((p) => JSON.stringify(p)) },
  { weight: 2, arbitrary: garbage },
);

function isClearIssue(issue: unknown): boolean {
  const { field, message } = (issue ?? {}) as { field?: unknown; message?: unknown };
  return typeof field === "string" && field.length > 0 && typeof message === "string" && message.trim().length > 3;
}

describe("fuzzing the handlers (fast-check)", function () {
  this.timeout(HANG_GUARD_MS);
  after(() => {
    expect(generated).to.be.at.least(10_000);
  });

  it(`AVMEntryPoint never throws and rejects with issues naming a field (${RUNS.entryPoint} inputs)`, async () => {
    const handler = createEntryPointHandler({
      ledger: new MemoryLedger(),
      queue: new RecordingQueue(),
      now: () => new Date("2026-01-01T00:00:00Z"),
      logger: new Logger({ serviceName: "fuzz", logLevel: "SILENT" }),
      gate: OPERATOR_GATE,
    });
    let accepted = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(entryPointInput, async (input) => {
        generated += 1;
        const response: EntryPointResponse = await handler(input);
        if ("error" in response) {
          rejected += 1;
          expect(response.error.message).to.match(/^invalid (meshStack hook payload|vend request|request): \S/);
          expect(response.error.issues.length).to.be.greaterThan(0);
          for (const issue of response.error.issues) expect(isClearIssue(issue), JSON.stringify(issue)).to.equal(true);
        } else {
          accepted += 1;
          expect(response.requestId).to.be.a("string").and.not.equal("");
          expect(response.state).to.be.oneOf(["RECEIVED", "CREATING", "MOVING", "TAGGING", "BOOTSTRAPPING"]);
        }
      }),
      { numRuns: RUNS.entryPoint, seed: 5_2026 },
    );
    // The mix really reaches both outcomes.
    expect(accepted).to.be.greaterThan(50);
    expect(rejected).to.be.greaterThan(RUNS.entryPoint / 2);
  });

  it('names a blank unknown key as "" (found by this fuzzer: it used to be reported as an empty field name)', async () => {
    const handler = createEntryPointHandler({
      ledger: new MemoryLedger(),
      queue: new RecordingQueue(),
      now: () => new Date("2026-01-01T00:00:00Z"),
      logger: new Logger({ serviceName: "fuzz", logLevel: "SILENT" }),
      gate: OPERATOR_GATE,
    });
    expect(await handler({ ...validVend, "": 1, " ": 2 })).to.deep.equal({
      error: {
        message: 'invalid vend request: "": is not a known field; " ": is not a known field',
        issues: [
          { field: '""', message: "is not a known field" },
          { field: '" "', message: "is not a known field" },
        ],
      },
    });
  });

  it(`the worker never throws and reports every unreadable message with a reason (${RUNS.worker} batches)`, async () => {
    const client = new OrganizationsClient({ region: "us-east-1" });
    const mock = mockClient(client);
    const fake = new FakeOrganizations();
    fake.install(mock);
    const timing = new InstantTiming();
    const ledger = new MemoryLedger();
    await ledger.claim(
      {
        email: "known@example.com",
        requestId: "req-known",
        kind: "vend",
        request: { accountName: "known", email: "known@example.com", tags: {} },
      },
      timing.now(),
    );
    const logger = new Logger({ serviceName: "fuzz-worker", logLevel: "SILENT" });
    const reasons: string[] = [];
    const error = logger.error.bind(logger);
    logger.error = ((message: string, extra?: { reason?: string }) => {
      if (message === "unreadable work message" && extra?.reason) reasons.push(extra.reason);
      return error(message, extra as never);
    }) as typeof logger.error;
    const worker = createWorkerHandler({
      workflowFor: (log) =>
        createWorkflow({
          ledger,
          organizations: new OrganizationsGateway(client, { timing }),
          stackRunner: new RecordingStackRunner(),
          createSlots: new InProcessCreateSlots(),
          timing,
          logger: log,
        }),
      ledger,
      queue: new RecordingQueue(),
      timing,
      logger,
      maxReceiveCount: 3,
    });
    const body = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.json({ maxDepth: 2 }),
      fc.record({ email: fieldValue, requestId: fieldValue }).map((v) => JSON.stringify(v)),
      fc.constantFrom(
        JSON.stringify({ email: "known@example.com", requestId: "req-known" }),
        JSON.stringify({ email: "nobody@example.com", requestId: "req-x" }),
        "",
        "null",
        "[]",
      ),
    );
    const record = fc.record({
      body,
      receiveCount: fc.oneof(fc.constantFrom("1", "2", "3", "4"), fc.string({ maxLength: 4 })),
    });
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 5 }), async (records) => {
          generated += records.length;
          reasons.length = 0;
          const event = {
            Records: records.map((r, i) => ({
              messageId: `m-${i}`,
              body: r.body,
              attributes: { ApproximateReceiveCount: r.receiveCount },
            })),
          } as unknown as SQSEvent;
          const response = await worker(event, { getRemainingTimeInMillis: () => 60_000, awsRequestId: "fuzz" });
          const failed = response.batchItemFailures.map((f) => f.itemIdentifier);
          expect(failed.every((id) => event.Records.some((r) => r.messageId === id))).to.equal(true);
          for (const reason of reasons) {
            expect(reason).to.match(
              /^WorkItemFormatError: work item (body is not valid JSON|body must be a JSON object|field (email|requestId) must be a non-empty string)$/,
            );
          }
          expect(reasons.length).to.be.at.most(failed.length);
        }),
        { numRuns: RUNS.worker, seed: 5_2027 },
      );
    } finally {
      mock.restore();
    }
  });

  it(`the webhook receiver never throws and every 4xx says what is wrong (${RUNS.webhook} deliveries)`, async () => {
    const secret = "whsec-fuzz-0123456789abcdef";
    const receiver = new WebhookReceiver({
      secret,
      recorder: { record: async () => ({ action: "unknown-account" as const }) },
      deliveries: new MemoryDeliveryStore(),
      timing: new InstantTiming(),
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      maxBodyBytes: 4096,
    });
    const eventBody = fc.oneof(
      fc
        .record(
          {
            projectName: fc.oneof(fc.constant("meshstack-avm"), fieldValue),
            stackName: fc.oneof(fc.constantFrom("account-222233334444", "dev", "acme/x/account-1"), fieldValue),
            status: fc.oneof(fc.constantFrom("succeeded", "failed", "running", "skipped"), fieldValue),
            operation: fc.oneof(fc.constantFrom("update", "destroy", "preview"), fieldValue),
            kind: fc.oneof(fc.constantFrom("update", "refresh"), fieldValue),
            result: fc.oneof(fc.constantFrom("succeeded", "failed"), fieldValue),
            version: fc.oneof(fc.integer(), fieldValue),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 300 }),
      fc.json({ maxDepth: 2 }),
      fc.constant("x".repeat(5000)),
    );
    const delivery = fc.record({
      method: fc.oneof(fc.constant("POST"), fc.constantFrom("GET", "PUT", "post", "DELETE", "")),
      kind: fc.option(
        fc.oneof(fc.constantFrom("stack_update", "deployment", "ping", "team"), fc.string({ maxLength: 20 })),
      ),
      id: fc.option(fc.oneof(fc.uuid(), fc.string({ maxLength: 200 }))),
      body: eventBody,
      signing: fc.constantFrom("valid", "valid", "none", "garbage", "other-secret", "uppercase"),
    });
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(delivery, async (d) => {
        generated += 1;
        const body = Buffer.from(d.body, "utf8");
        const signature =
          d.signing === "valid"
            ? computeSignature(secret, body)
            : d.signing === "garbage"
              ? "zz" + d.body.slice(0, 10)
              : d.signing === "other-secret"
                ? computeSignature(`${secret}!`, body)
                : d.signing === "uppercase"
                  ? computeSignature(secret, body).toUpperCase()
                  : undefined;
        const headers: Record<string, string | undefined> = {
          ...(d.kind === null ? {} : { "pulumi-webhook-kind": d.kind }),
          ...(d.id === null ? {} : { "pulumi-webhook-id": d.id }),
          ...(signature === undefined ? {} : { "pulumi-webhook-signature": signature }),
        };
        const response = await receiver.handle({ method: d.method, headers, body });
        seen.add(response.statusCode);
        expect(response.statusCode).to.be.oneOf([200, 400, 401, 405, 413]);
        expect(response.body.ok).to.equal(response.statusCode === 200);
        expect(response.body.message.trim().length).to.be.greaterThan(3);
        if (response.statusCode >= 400) {
          expect(response.body.message).to.match(
            /Pulumi-Webhook-(Signature|Kind|ID)|method .* not allowed|body exceeds \d+ bytes|not valid JSON|invalid (stack_update|deployment) payload: \S/,
          );
        }
        // Upper-case hex is the same MAC (hex decoding is case-insensitive); everything else must be refused.
        if (response.statusCode === 200 && !["valid", "uppercase"].includes(d.signing)) {
          expect.fail(`accepted a delivery signed "${d.signing}"`);
        }
      }),
      { numRuns: RUNS.webhook, seed: 5_2028 },
    );
    expect([...seen].sort()).to.deep.equal([200, 400, 401, 405, 413]);
  });
});
