/**
 * Server side of `bench/webhook.ts`, run in its own process so the load generator does not share its event loop:
 * - `avm`: the webhook receiver on `automation/serve.ts` with a secret (every delivery HMAC-verified, de-duplicated
 *   by id in the in-memory store, recorded through the ledger recorder over an in-memory ledger);
 * - `bare`: a plain `node:http` server that reads the body and answers a small JSON document.
 * Prints `listening <url>` and runs until its stdin closes.
 *
 *   node --import tsx bench/support/webhookServer.ts avm|bare <secret>
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { startWebhookServer } from "../../automation/serve";
import { realTiming } from "../../src/shared/timing";
import { InProcessWorkQueue } from "../../src/adapters/local/inProcessWorkQueue";
import { MemoryLedger } from "../../test/support/memoryLedger";
import { MemoryDeliveryStore } from "../../src/adapters/local/memoryDeliveryStore";
import { WebhookReceiver } from "../../src/core/webhooks/receiver";
import { LedgerStackOutcomeRecorder } from "../../src/core/webhooks/stackOutcomeRecorder";

async function main(): Promise<void> {
  const [mode, secret] = process.argv.slice(2);
  let stop: () => Promise<void>;
  if (mode === "avm") {
    if (!secret) throw new Error("usage: webhookServer.ts avm <secret>");
    const receiver = new WebhookReceiver({
      secret,
      recorder: new LedgerStackOutcomeRecorder({
        ledger: new MemoryLedger(),
        queue: new InProcessWorkQueue(),
        timing: realTiming,
      }),
      deliveries: new MemoryDeliveryStore({ maxEntries: 100_000 }),
      timing: realTiming,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    const server = await startWebhookServer({ receiver });
    console.log(`listening ${server.url}`);
    stop = () => server.stop();
  } else if (mode === "bare") {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = JSON.stringify({ ok: true, message: `received ${Buffer.concat(chunks).length} bytes` });
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/pulumi`);
    stop = () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
  } else {
    throw new Error("usage: webhookServer.ts avm|bare [secret]");
  }
  process.stdin.resume();
  process.stdin.on("end", () => void stop().then(() => process.exit(0)));
  process.stdin.on("close", () => void stop().then(() => process.exit(0)));
}

void main();
