import { expect } from "chai";
import { request } from "node:http";
import { startWebhookServer, type WebhookServer } from "../../automation/serve";
import { MemoryDeliveryStore } from "../../src/adapters/local/memoryDeliveryStore";
import { WebhookReceiver } from "../../src/core/webhooks/receiver";
import { computeSignature } from "../../src/core/webhooks/signature";
import { RecordingTiming } from "../support/recordingTiming";

const SECRET = "serve-secret-0123456789abcdef";

function post(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  chunked = false,
): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", headers: chunked ? headers : { ...headers, "content-length": String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) }),
        );
      },
    );
    req.on("error", reject);
    if (chunked) {
      // Stream in pieces without a content-length so the server must stop reading on its own.
      for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
      req.end();
    } else {
      req.end(body);
    }
  });
}

describe("avm serve (webhook HTTP host)", () => {
  let server: WebhookServer;
  const recorded: string[] = [];

  before(async () => {
    const receiver = new WebhookReceiver({
      secret: SECRET,
      recorder: {
        record: async (accountId) => {
          recorded.push(accountId);
          return { action: "completing", requestId: "req-1", state: "COMPLETING" };
        },
      },
      deliveries: new MemoryDeliveryStore(),
      timing: new RecordingTiming(),
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    server = await startWebhookServer({ receiver });
  });
  after(async () => {
    await server.stop();
  });

  it("binds 127.0.0.1 on a free port", () => {
    expect(server.url).to.equal(`http://127.0.0.1:${server.port}/webhooks/pulumi`);
  });

  it("applies a signed delivery", async () => {
    const body = Buffer.from(
      JSON.stringify({
        projectName: "meshstack-avm",
        stackName: "account-222233334444",
        kind: "update",
        result: "succeeded",
      }),
    );
    const response = await post(server.url, body, {
      "Pulumi-Webhook-ID": "serve-1",
      "Pulumi-Webhook-Kind": "stack_update",
      "Pulumi-Webhook-Signature": computeSignature(SECRET, body),
    });
    expect(response).to.deep.equal({
      status: 200,
      json: {
        ok: true,
        message: "stack_update update succeeded: completing (COMPLETING)",
        action: "completing",
        requestId: "req-1",
      },
    });
    expect(recorded).to.deep.equal(["222233334444"]);
  });

  it("rejects a forged delivery with 401", async () => {
    const body = Buffer.from("{}");
    const response = await post(server.url, body, {
      "Pulumi-Webhook-Kind": "ping",
      "Pulumi-Webhook-Signature": "0".repeat(64),
    });
    expect(response).to.deep.equal({ status: 401, json: { ok: false, message: "invalid Pulumi-Webhook-Signature" } });
  });

  it("answers 413 to an oversized body, by declared length and while streaming", async () => {
    const big = Buffer.alloc(300 * 1024, 0x20);
    const expected = { status: 413, json: { ok: false, message: "body exceeds 262144 bytes" } };
    expect(await post(server.url, big, { "Pulumi-Webhook-Kind": "ping" })).to.deep.equal(expected);
    expect(await post(server.url, big, { "Pulumi-Webhook-Kind": "ping" }, true)).to.deep.equal(expected);
  });

  it("answers 404 on other paths", async () => {
    const response = await post(server.url.replace("/webhooks/pulumi", "/other"), Buffer.from("{}"), {});
    expect(response).to.deep.equal({
      status: 404,
      json: { ok: false, message: "not found; deliveries go to /webhooks/pulumi" },
    });
  });

  it("stops gracefully and idempotently", async () => {
    const extra = await startWebhookServer({
      receiver: new WebhookReceiver({
        recorder: { record: async () => ({ action: "stale" }) },
        deliveries: new MemoryDeliveryStore(),
        timing: new RecordingTiming(),
        logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      }),
    });
    await Promise.all([extra.stop(), extra.stop()]);
    let error: unknown;
    try {
      await post(extra.url, Buffer.from("{}"), { "Pulumi-Webhook-Kind": "ping" });
    } catch (e) {
      error = e;
    }
    expect((error as NodeJS.ErrnoException).code).to.equal("ECONNREFUSED");
  });
});
