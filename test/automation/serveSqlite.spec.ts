import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { startWebhookServer } from "../../automation/serve";
import { InProcessWorkQueue } from "../../src/adapters/local/inProcessWorkQueue";
import { MemoryDeliveryStore } from "../../src/adapters/local/memoryDeliveryStore";
import { SqliteLedger } from "../../src/adapters/local/sqliteLedger";
import { WebhookReceiver } from "../../src/core/webhooks/receiver";
import { computeSignature } from "../../src/core/webhooks/signature";
import { LedgerStackOutcomeRecorder } from "../../src/core/webhooks/stackOutcomeRecorder";
import { RecordingTiming } from "../support/recordingTiming";

const SECRET = "serve-sqlite-secret-0123456789abcdef";
const DELIVERIES = 40;
const accountId = (i: number) => String(111_100_000_000 + i);

function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("avm serve on the SQLite ledger file (group commit)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-serve-sqlite-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers concurrent deliveries 200 only once each is committed: another connection then reads every one", async () => {
    const file = path.join(dir, "ledger.sqlite");
    const ledger = new SqliteLedger({ path: file });
    const timing = new RecordingTiming();
    await Promise.all(
      Array.from({ length: DELIVERIES }, (_, i) =>
        ledger.claim(
          {
            email: `team-${i}@example.com`,
            requestId: `req-${i}`,
            kind: "vend",
            request: {},
            accountId: accountId(i),
            state: "BOOTSTRAPPING",
          },
          timing.now(),
        ),
      ),
    );
    const queue = new InProcessWorkQueue();
    const server = await startWebhookServer({
      receiver: new WebhookReceiver({
        secret: SECRET,
        recorder: new LedgerStackOutcomeRecorder({ ledger, queue, timing }),
        deliveries: new MemoryDeliveryStore(),
        timing,
        logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      }),
    });
    const reader = new SqliteLedger({ path: file });
    try {
      // All at once, each answered as soon as its write is committed; the reader (another connection, as another
      // process would be) must then find the record moved.
      const seen = await Promise.all(
        Array.from({ length: DELIVERIES }, async (_, i) => {
          const body = JSON.stringify({
            projectName: "meshstack-avm",
            stackName: `account-${accountId(i)}`,
            operation: "update",
            status: "succeeded",
            version: 3,
          });
          const response = await post(server.url, body, {
            "content-type": "application/json",
            "pulumi-webhook-id": `delivery-${i}`,
            "pulumi-webhook-kind": "deployment",
            "pulumi-webhook-signature": computeSignature(SECRET, body),
          });
          const record = await reader.get(`team-${i}@example.com`);
          return [response, record?.state, record?.version, record?.history.at(-1)?.note];
        }),
      );
      expect(seen).to.deep.equal(
        Array.from({ length: DELIVERIES }, (_, i) => [
          {
            status: 200,
            json: {
              ok: true,
              message: "deployment update succeeded (#3): completing (COMPLETING)",
              action: "completing",
              requestId: `req-${i}`,
            },
          },
          "COMPLETING",
          2,
          `webhook delivery-${i}: deployment update succeeded (#3)`,
        ]),
      );
      expect(
        queue
          .pending()
          .map((item) => item.requestId)
          .sort(),
      ).to.deep.equal(Array.from({ length: DELIVERIES }, (_, i) => `req-${i}`).sort());
    } finally {
      await server.stop();
      await reader.close();
      await ledger.close();
    }
  });
});
