import { expect } from "chai";
import { MemoryDeliveryStore } from "../../../../src/adapters/local/memoryDeliveryStore";
import { DEFAULT_MAX_BODY_BYTES, WebhookReceiver, type WebhookRequest } from "../../../../src/core/webhooks/receiver";
import { computeSignature } from "../../../../src/core/webhooks/signature";
import { LedgerStackOutcomeRecorder } from "../../../../src/core/webhooks/stackOutcomeRecorder";
import { LedgerConflictError, type LedgerRecord, type RequestState } from "../../../../src/core/ledger";
import { type Ledger } from "../../../../src/core/ports";
import { MemoryLedger } from "../../../support/memoryLedger";
import type { WorkItem, WorkQueue } from "../../../../src/core/ports";
import { RecordingTiming } from "../../../support/recordingTiming";

const SECRET = "whsec-0123456789abcdef-do-not-log";
const ACCOUNT = "222233334444";
const EMAIL = "team-a@example.com";

class RecordingQueue implements WorkQueue {
  readonly items: WorkItem[] = [];
  failures = 0;
  async enqueue(item: WorkItem): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error("SQS unavailable");
    }
    this.items.push(item);
  }
}

interface Captured {
  readonly level: string;
  readonly message: string;
  readonly extra?: Record<string, unknown>;
}

function setup(options: { secret?: string | undefined; ledger?: Ledger } = { secret: SECRET }) {
  const timing = new RecordingTiming();
  const ledger = options.ledger ?? new MemoryLedger();
  const queue = new RecordingQueue();
  const logs: Captured[] = [];
  const at =
    (level: string) =>
    (message: string, extra?: Record<string, unknown>): void => {
      logs.push({ level, message, ...(extra ? { extra } : {}) });
    };
  const deliveries = new MemoryDeliveryStore();
  const receiver = new WebhookReceiver({
    ...(options.secret === undefined ? {} : { secret: options.secret }),
    recorder: new LedgerStackOutcomeRecorder({ ledger, queue, timing }),
    deliveries,
    timing,
    logger: { info: at("info"), warn: at("warn"), error: at("error") },
  });
  return { timing, ledger, queue, logs, receiver, deliveries };
}

async function seed(ledger: Ledger, state: RequestState, note?: string): Promise<LedgerRecord> {
  const now = new Date("2026-01-01T00:00:00Z");
  const { record } = await ledger.claim(
    { email: EMAIL, requestId: "req-1", kind: "meshstack-hook", request: {}, accountId: ACCOUNT },
    now,
  );
  return ledger.update(record.email, record.version, { state, ...(note ? { note } : {}) }, now);
}

function delivery(
  kind: string,
  payload: unknown,
  options: { id?: string; secret?: string | null; signature?: string; raw?: Buffer } = {},
): WebhookRequest {
  const body = options.raw ?? Buffer.from(JSON.stringify(payload));
  const headers: Record<string, string> = { "pulumi-webhook-kind": kind, "pulumi-webhook-id": options.id ?? "d-1" };
  if (options.signature !== undefined) headers["pulumi-webhook-signature"] = options.signature;
  else if (options.secret !== null)
    headers["pulumi-webhook-signature"] = computeSignature(options.secret ?? SECRET, body);
  return { method: "POST", headers, body };
}

const deployment = (status: string, extra: Record<string, unknown> = {}) => ({
  user: { name: "Deploy Bot", githubLogin: "bot", avatarUrl: "https://example.com/a.png" },
  organization: { name: "Acme", githubLogin: "acme", avatarUrl: "https://example.com/o.png" },
  projectName: "meshstack-avm",
  stackName: `account-${ACCOUNT}`,
  deploymentUrl: "https://app.pulumi.com/acme/meshstack-avm/account-222233334444/deployments/12",
  version: 12,
  operation: "update",
  status,
  ...extra,
});

const stackUpdate = (result: string, extra: Record<string, unknown> = {}) => ({
  projectName: "meshstack-avm",
  stackName: `account-${ACCOUNT}`,
  updateUrl: "https://app.pulumi.com/acme/meshstack-avm/account-222233334444/updates/7",
  kind: "update",
  result,
  resourceChanges: { create: 3 },
  isPreview: false,
  ...extra,
});

describe("WebhookReceiver", () => {
  describe("authentication", () => {
    it("accepts a delivery signed with the secret", async () => {
      const { receiver } = setup();
      const response = await receiver.handle(delivery("ping", { hello: "world" }));
      expect(response).to.deep.equal({ statusCode: 200, body: { ok: true, message: "pong", action: "pong" } });
    });

    it("rejects a forged signature with 401", async () => {
      const { receiver, ledger, queue } = setup();
      await seed(ledger, "BOOTSTRAPPING");
      const forged = delivery("deployment", deployment("succeeded"), { secret: "not-the-secret-at-all" });
      expect(await receiver.handle(forged)).to.deep.equal({
        statusCode: 401,
        body: { ok: false, message: "invalid Pulumi-Webhook-Signature" },
      });
      expect((await ledger.get(EMAIL))?.state).to.equal("BOOTSTRAPPING");
      expect(queue.items).to.deep.equal([]);
    });

    it("rejects an unsigned delivery with 401 when a secret is configured", async () => {
      const { receiver } = setup();
      expect(await receiver.handle(delivery("ping", {}, { secret: null }))).to.deep.equal({
        statusCode: 401,
        body: { ok: false, message: "missing Pulumi-Webhook-Signature header" },
      });
    });

    it("rejects a truncated body (signature computed over the whole body) with 401", async () => {
      const { receiver } = setup();
      const full = Buffer.from(JSON.stringify(deployment("succeeded")));
      const request = delivery("deployment", undefined, {
        raw: full.subarray(0, full.length - 10),
        signature: computeSignature(SECRET, full),
      });
      expect((await receiver.handle(request)).statusCode).to.equal(401);
    });

    it("rejects malformed signatures (wrong length, non-hex, sha256= prefix) with 401", async () => {
      const { receiver } = setup();
      const body = Buffer.from("{}");
      const good = computeSignature(SECRET, body);
      for (const signature of [
        good.slice(0, 63),
        `${good.slice(0, 63)}z`,
        `sha256=${good}`,
        good.toUpperCase() + "00",
      ]) {
        const response = await receiver.handle(delivery("ping", undefined, { raw: body, signature }));
        expect(response.statusCode, signature).to.equal(401);
      }
    });

    it("accepts unsigned deliveries when no secret is configured, with a warning", async () => {
      const { receiver, logs } = setup({ secret: undefined });
      expect((await receiver.handle(delivery("ping", {}, { secret: null }))).statusCode).to.equal(200);
      expect(logs[0]).to.deep.equal({
        level: "warn",
        message: "webhook accepted without signature check: no webhook secret configured",
      });
    });
  });

  describe("request checks", () => {
    it("answers 413 for a body over the limit, before checking the signature", async () => {
      const { receiver } = setup();
      const raw = Buffer.alloc(DEFAULT_MAX_BODY_BYTES + 1, 0x20);
      expect(await receiver.handle(delivery("deployment", undefined, { raw, secret: null }))).to.deep.equal({
        statusCode: 413,
        body: { ok: false, message: "body exceeds 262144 bytes" },
      });
    });

    it("answers 405 to anything but POST", async () => {
      const { receiver } = setup();
      const response = await receiver.handle({ ...delivery("ping", {}), method: "GET" });
      expect(response).to.deep.equal({
        statusCode: 405,
        body: { ok: false, message: "method GET not allowed; Pulumi Cloud webhooks POST" },
      });
    });

    it("answers 400 with a clear message for malformed JSON", async () => {
      const { receiver } = setup();
      const response = await receiver.handle(
        delivery("deployment", undefined, { raw: Buffer.from('{"status": "succ') }),
      );
      expect(response.statusCode).to.equal(400);
      expect(response.body.message).to.match(/^body is not valid JSON: SyntaxError: /);
    });

    it("answers 400 naming the fields of a payload with the wrong shape", async () => {
      const { receiver } = setup();
      const response = await receiver.handle(delivery("deployment", { projectName: "meshstack-avm", status: 3 }));
      expect(response).to.deep.equal({
        statusCode: 400,
        body: {
          ok: false,
          message:
            "invalid deployment payload: stackName: Invalid input: expected string, received undefined; " +
            "operation: Invalid input: expected string, received undefined; status: Invalid input: expected string, received number",
        },
      });
    });

    it("answers 400 without Pulumi-Webhook-Kind or with a malformed Pulumi-Webhook-ID", async () => {
      const { receiver } = setup();
      const body = Buffer.from("{}");
      const signature = computeSignature(SECRET, body);
      expect(
        await receiver.handle({ method: "POST", headers: { "pulumi-webhook-signature": signature }, body }),
      ).to.deep.equal({ statusCode: 400, body: { ok: false, message: "missing Pulumi-Webhook-Kind header" } });
      expect((await receiver.handle(delivery("deployment", {}, { id: "a b\nc" }))).body.message).to.equal(
        "missing or malformed Pulumi-Webhook-ID header",
      );
    });

    it("acknowledges kinds it does not act on", async () => {
      const { receiver } = setup();
      expect((await receiver.handle(delivery("stack_preview", { projectName: "x" }))).body).to.deep.equal({
        ok: true,
        message: "kind stack_preview ignored",
        action: "ignored",
      });
    });
  });

  describe("ledger transitions", () => {
    it("moves BOOTSTRAPPING to COMPLETING on a succeeded deployment and enqueues the work item", async () => {
      const { receiver, ledger, queue } = setup();
      await seed(ledger, "BOOTSTRAPPING", "account stack queued: deployment #12 queued");
      const response = await receiver.handle(delivery("deployment", deployment("succeeded")));
      expect(response).to.deep.equal({
        statusCode: 200,
        body: {
          ok: true,
          message: "deployment update succeeded (#12): completing (COMPLETING)",
          action: "completing",
          requestId: "req-1",
        },
      });
      const record = await ledger.get(EMAIL);
      expect(record?.state).to.equal("COMPLETING");
      expect(record?.history.at(-1)?.note).to.equal(
        "webhook d-1: deployment update succeeded (#12) https://app.pulumi.com/acme/meshstack-avm/account-222233334444/deployments/12",
      );
      expect(queue.items).to.deep.equal([{ email: EMAIL, requestId: "req-1" }]);
    });

    it("moves BOOTSTRAPPING to FAILED with the reason on a failed stack_update", async () => {
      const { receiver, ledger, queue } = setup();
      await seed(ledger, "BOOTSTRAPPING");
      const response = await receiver.handle(delivery("stack_update", stackUpdate("failed")));
      expect(response.body.action).to.equal("failed");
      const record = await ledger.get(EMAIL);
      expect(record?.state).to.equal("FAILED");
      expect(record?.failureReason).to.equal(
        "account stack failed: stack_update update failed https://app.pulumi.com/acme/meshstack-avm/account-222233334444/updates/7",
      );
      expect(queue.items).to.deep.equal([]);
    });

    it("ignores running deployments, previews, refreshes and skipped deployments", async () => {
      const { receiver, ledger } = setup();
      await seed(ledger, "BOOTSTRAPPING");
      const events: Array<[string, unknown]> = [
        ["deployment", deployment("running")],
        ["deployment", deployment("skipped")],
        ["deployment", deployment("succeeded", { operation: "preview" })],
        ["stack_update", stackUpdate("succeeded", { isPreview: true })],
        ["stack_update", stackUpdate("failed", { kind: "refresh" })],
      ];
      let n = 0;
      for (const [kind, payload] of events) {
        const response = await receiver.handle(delivery(kind, payload, { id: `d-${++n}` }));
        expect(response.body.action).to.equal("ignored");
      }
      expect((await ledger.get(EMAIL))?.state).to.equal("BOOTSTRAPPING");
    });

    it("does not regress state on out-of-order events (running or failed after succeeded)", async () => {
      const { receiver, ledger, queue } = setup();
      await seed(ledger, "BOOTSTRAPPING");
      expect(
        (await receiver.handle(delivery("deployment", deployment("succeeded"), { id: "d-3" }))).body.action,
      ).to.equal("completing");
      expect(
        (await receiver.handle(delivery("deployment", deployment("running"), { id: "d-2" }))).body.action,
      ).to.equal("ignored");
      const lateFailure = await receiver.handle(delivery("stack_update", stackUpdate("failed"), { id: "d-1" }));
      expect(lateFailure.body).to.deep.equal({
        ok: true,
        message: "stack_update update failed: stale (COMPLETING)",
        action: "stale",
        requestId: "req-1",
      });
      expect((await ledger.get(EMAIL))?.state).to.equal("COMPLETING");
      expect(queue.items).to.have.length(1);
    });

    it("treats a deployment older than the one the record waits for as stale", async () => {
      const { receiver, ledger } = setup();
      await seed(ledger, "BOOTSTRAPPING", "account stack queued: deployment #13 not-started");
      const response = await receiver.handle(delivery("deployment", deployment("failed")));
      expect(response.body.action).to.equal("stale");
      expect((await ledger.get(EMAIL))?.state).to.equal("BOOTSTRAPPING");
    });

    it("re-enqueues when a success arrives for a record already COMPLETING (e.g. stack_update after deployment)", async () => {
      const { receiver, ledger, queue } = setup();
      await seed(ledger, "COMPLETING");
      expect((await receiver.handle(delivery("stack_update", stackUpdate("succeeded")))).body.action).to.equal(
        "re-enqueued",
      );
      expect(queue.items).to.deep.equal([{ email: EMAIL, requestId: "req-1" }]);
    });

    it("leaves terminal records alone", async () => {
      const { receiver, ledger } = setup();
      // The record waited for deployment #12 and SUCCEEDED; a late failure event of #12 changes nothing.
      await seed(ledger, "SUCCEEDED", "account stack queued: deployment #12 running");
      const before = (await ledger.get(EMAIL))!.version;
      expect((await receiver.handle(delivery("deployment", deployment("failed")))).body.action).to.equal("stale");
      expect((await ledger.get(EMAIL))?.state).to.equal("SUCCEEDED");
      expect((await ledger.get(EMAIL))?.version).to.equal(before);
    });

    it("notes a newer deployment of a SUCCEEDED record's stack (a fleet rollout), once, without a state change", async () => {
      const { receiver, ledger, queue } = setup();
      await seed(ledger, "SUCCEEDED", "account stack queued: deployment #12 running");
      const url = "https://app.pulumi.com/acme/meshstack-avm/account-222233334444/deployments/13";
      const newer = deployment("succeeded", { version: 13, deploymentUrl: url });
      expect((await receiver.handle(delivery("deployment", newer, { id: "d-13" }))).body).to.deep.equal({
        ok: true,
        message: "deployment update succeeded (#13): deployment-recorded (SUCCEEDED)",
        action: "deployment-recorded",
        requestId: "req-1",
      });
      // A redelivery under another id, and an older deployment's late event, change nothing.
      expect((await receiver.handle(delivery("deployment", newer, { id: "d-13b" }))).body.action).to.equal("stale");
      const older = deployment("failed", { version: 11 });
      expect((await receiver.handle(delivery("deployment", older, { id: "d-11" }))).body.action).to.equal("stale");
      const record = (await ledger.get(EMAIL))!;
      expect([record.state, record.history.at(-1)?.note, queue.items]).to.deep.equal([
        "SUCCEEDED",
        `deployment: deployment update succeeded (#13) ${url} (webhook d-13)`,
        [],
      ]);
    });

    it("acknowledges events for unknown accounts and for stacks that are not account stacks", async () => {
      const { receiver, logs } = setup();
      expect((await receiver.handle(delivery("deployment", deployment("succeeded")))).body).to.deep.equal({
        ok: true,
        message: "no ledger record for account 222233334444",
        action: "unknown-account",
      });
      expect(logs.at(-1)?.message).to.equal("webhook for an account the ledger does not know");
      const platform = await receiver.handle(
        delivery("deployment", deployment("succeeded", { stackName: "dev" }), { id: "d-2" }),
      );
      expect(platform.body).to.deep.equal({
        ok: true,
        message: "meshstack-avm/dev is not an account stack",
        action: "ignored",
      });
      const other = await receiver.handle(
        delivery("deployment", deployment("succeeded", { projectName: "website" }), { id: "d-3" }),
      );
      expect(other.body.action).to.equal("ignored");
    });

    it("retries the compare-and-set when a concurrent writer wins once", async () => {
      const inner = new MemoryLedger();
      let conflicts = 1;
      const ledger: Ledger = Object.assign(Object.create(inner) as Ledger, {
        update: async (...args: Parameters<Ledger["update"]>) => {
          if (conflicts-- > 0) throw new LedgerConflictError("lost the race");
          return inner.update(...args);
        },
      });
      const { receiver, queue } = setup({ secret: SECRET, ledger });
      await seed(inner, "BOOTSTRAPPING");
      expect((await receiver.handle(delivery("deployment", deployment("succeeded")))).body.action).to.equal(
        "completing",
      );
      expect(queue.items).to.have.length(1);
    });
  });

  describe("de-duplication", () => {
    it("processes a replayed delivery id once and acknowledges the replay", async () => {
      const { receiver, ledger, queue } = setup();
      await seed(ledger, "BOOTSTRAPPING");
      const first = delivery("deployment", deployment("succeeded"), { id: "same-id" });
      expect((await receiver.handle(first)).body.action).to.equal("completing");
      expect(await receiver.handle(first)).to.deep.equal({
        statusCode: 200,
        body: { ok: true, message: "delivery same-id already processed", action: "duplicate" },
      });
      expect(queue.items).to.have.length(1);
    });

    it("answers 503 while a handler that died mid-delivery still holds the claim, and processes the redelivery after it expired", async () => {
      const { receiver, ledger, queue, deliveries, timing } = setup();
      await seed(ledger, "BOOTSTRAPPING");
      // A handler claimed the delivery and died (Lambda timeout): no completion, no release.
      expect(await deliveries.claim("died-1", timing.now())).to.equal("claimed");
      const request = delivery("deployment", deployment("succeeded"), { id: "died-1" });
      timing.advance(10_000);
      expect(await receiver.handle(request)).to.deep.equal({
        statusCode: 503,
        body: {
          ok: false,
          message: "delivery died-1 is being processed; Pulumi Cloud will redeliver",
          action: "in-progress",
        },
      });
      expect([(await ledger.get(EMAIL))?.state, queue.items]).to.deep.equal(["BOOTSTRAPPING", []]);
      timing.advance(50_000); // the claim (60 s) expired
      expect((await receiver.handle(request)).body.action).to.equal("completing");
      expect(queue.items).to.have.length(1);
    });

    it("releases the delivery id when processing fails, so the redelivery is processed", async () => {
      const { receiver, ledger, queue } = setup();
      await seed(ledger, "BOOTSTRAPPING");
      queue.failures = 1;
      const request = delivery("deployment", deployment("succeeded"), { id: "retry-me" });
      expect(await receiver.handle(request)).to.deep.equal({
        statusCode: 500,
        body: { ok: false, message: "internal error; Pulumi Cloud will redeliver" },
      });
      // The record moved to COMPLETING before the enqueue failed; the redelivery re-enqueues.
      const again = await receiver.handle(request);
      expect(again.body.action).to.equal("re-enqueued");
      expect(queue.items).to.deep.equal([{ email: EMAIL, requestId: "req-1" }]);
    });

    it("releases the delivery id of a rejected (400) delivery", async () => {
      const { receiver, deliveries } = setup();
      await receiver.handle(delivery("deployment", undefined, { raw: Buffer.from("nope"), id: "bad-1" }));
      expect(deliveries.size).to.equal(0);
    });
  });

  describe("secrecy", () => {
    it("never writes the secret or a signature into any log line or response", async () => {
      const { receiver, ledger, logs } = setup();
      await seed(ledger, "BOOTSTRAPPING");
      const responses = [];
      const good = delivery("deployment", deployment("succeeded"), { id: "s-1" });
      responses.push(await receiver.handle(good));
      responses.push(
        await receiver.handle(
          delivery("deployment", deployment("failed"), { id: "s-2", secret: "forged-secret-value" }),
        ),
      );
      responses.push(await receiver.handle(delivery("ping", {}, { id: "s-3" })));
      responses.push(
        await receiver.handle(delivery("deployment", undefined, { raw: Buffer.from("{oops"), id: "s-4" })),
      );
      const text = JSON.stringify({ logs, responses });
      expect(logs.length).to.be.greaterThan(3);
      expect(text).to.not.include(SECRET);
      expect(text).to.not.include("forged-secret-value");
      expect(text).to.not.include(good.headers["pulumi-webhook-signature"] as string);
    });
  });
});

describe("WebhookReceiver under generated deliveries", () => {
  it("never throws and answers every delivery with a known status and a message", async () => {
    const fc = await import("fast-check");
    const { receiver, ledger } = setup();
    await seed(ledger, "BOOTSTRAPPING");
    const payload = fc.oneof(
      fc.json(),
      fc.string(),
      fc.record({
        projectName: fc.oneof(fc.constant("meshstack-avm"), fc.string()),
        stackName: fc.oneof(fc.constant(`account-${ACCOUNT}`), fc.string()),
        operation: fc.oneof(fc.constantFrom("update", "destroy", "preview"), fc.integer()),
        status: fc.constantFrom("running", "succeeded", "failed", "skipped", "not-started"),
        kind: fc.constantFrom("update", "refresh"),
        result: fc.constantFrom("succeeded", "failed", "in-progress"),
        version: fc.oneof(fc.integer(), fc.string()),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        payload,
        fc.constantFrom("stack_update", "deployment", "ping", "stack", "", "DEPLOYMENT"),
        fc.oneof(fc.uuid(), fc.string()),
        fc.boolean(),
        async (body, kind, id, sign) => {
          const raw = Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
          const headers: Record<string, string> = { "pulumi-webhook-kind": kind, "pulumi-webhook-id": id };
          if (sign) headers["pulumi-webhook-signature"] = computeSignature(SECRET, raw);
          const response = await receiver.handle({ method: "POST", headers, body: raw });
          expect([200, 400, 401, 500]).to.include(response.statusCode);
          expect(response.body.message).to.be.a("string").and.not.equal("");
          if (!sign) expect(response.statusCode).to.equal(401);
        },
      ),
      { numRuns: 500, seed: 4242 },
    );
  });

  describe("drift events (kinds drift_detection and drift_remediation)", () => {
    const URL = "https://app.pulumi.com/acme/meshstack-avm/account-222233334444/deployments/31";
    const drift = (extra: Record<string, unknown>) => ({
      projectName: "meshstack-avm",
      stackName: `account-${ACCOUNT}`,
      driftRunId: "11bf162b-d9d5-4715-8f88-20dcd0e0b167",
      status: "succeeded",
      referenceUrl: URL,
      ...extra,
    });
    const notes = async (ledger: Ledger) => (await ledger.get(EMAIL))!.history.map((h) => [h.state, h.note]).slice(1);

    it("records a detection run on the SUCCEEDED record as a history note, once per run, state unchanged", async () => {
      const { receiver, ledger, queue } = setup();
      const before = await seed(ledger, "SUCCEEDED");
      const detected = drift({ driftDetected: true, resourceChanges: { update: 1, same: 2 } });
      const first = await receiver.handle(delivery("drift_detection", detected, { id: "drift-1" }));
      expect(first).to.deep.equal({
        statusCode: 200,
        body: {
          ok: true,
          message: `drift: detected (update 1, same 2), run 11bf162b-d9d5-4715-8f88-20dcd0e0b167, ${URL}: drift-recorded (SUCCEEDED)`,
          action: "drift-recorded",
          requestId: "req-1",
        },
      });
      // The drift_detection_succeeded delivery of the same run says the same: nothing more is written.
      const again = await receiver.handle(delivery("drift_detection", detected, { id: "drift-2" }));
      expect(again.body.action).to.equal("duplicate");
      const none = drift({ driftDetected: false, driftRunId: "run-2", resourceChanges: { same: 3 } });
      await receiver.handle(delivery("drift_detection", none, { id: "drift-3" }));
      await receiver.handle(
        delivery("drift_detection", drift({ status: "failed", driftRunId: "run-3" }), { id: "drift-4" }),
      );
      await receiver.handle(
        delivery("drift_remediation", drift({ driftRunId: undefined, resourceChanges: { update: 1 } }), {
          id: "drift-5",
        }),
      );
      expect((await notes(ledger)).slice(1)).to.deep.equal([
        [
          "SUCCEEDED",
          `drift: detected (update 1, same 2), run 11bf162b-d9d5-4715-8f88-20dcd0e0b167, ${URL} (webhook drift-1)`,
        ],
        ["SUCCEEDED", `drift: none, run run-2, ${URL} (webhook drift-3)`],
        ["SUCCEEDED", `drift: detection failed, run run-3, ${URL} (webhook drift-4)`],
        ["SUCCEEDED", `drift: remediation succeeded (update 1), ${URL} (webhook drift-5)`],
      ]);
      const after = (await ledger.get(EMAIL))!;
      expect([after.state, after.version - before.version, queue.items]).to.deep.equal(["SUCCEEDED", 4, []]);
    });

    it("leaves a record in flight alone (its runner holds the compare-and-set), and rejects a malformed payload", async () => {
      const { receiver, ledger } = setup();
      const before = await seed(ledger, "BOOTSTRAPPING");
      const response = await receiver.handle(delivery("drift_detection", drift({ driftDetected: true })));
      expect(response.body).to.deep.include({ action: "stale" });
      expect((await ledger.get(EMAIL))!.version).to.equal(before.version);
      const bad = await receiver.handle(delivery("drift_detection", { projectName: "meshstack-avm" }, { id: "d-2" }));
      expect(bad.statusCode).to.equal(400);
      expect(bad.body.message).to.match(/^invalid drift_detection payload: stackName: /);
    });

    it("without recordDrift (an older recorder) acknowledges drift events and ignores them", async () => {
      const receiver = new WebhookReceiver({
        secret: SECRET,
        recorder: { record: async () => ({ action: "stale" }) },
        deliveries: new MemoryDeliveryStore(),
        timing: new RecordingTiming(),
        logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      });
      expect(await receiver.handle(delivery("drift_detection", drift({ driftDetected: true })))).to.deep.equal({
        statusCode: 200,
        body: { ok: true, message: "kind drift_detection ignored", action: "ignored" },
      });
    });
  });
});
