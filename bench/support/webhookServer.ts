/**
 * Server side of `bench/webhook.ts`, run in its own process so the load generator does not share its event loop:
 * - `avm <secret> <ledger> <accounts>`: the webhook receiver on `automation/serve.ts` (what `avm serve` runs) with a
 *   secret: every delivery HMAC-verified, de-duplicated by id in the in-memory store and applied through the
 *   ledger recorder to a populated ledger. The ledger holds `<accounts>` records in `BOOTSTRAPPING` for the account
 *   ids `benchAccountId(0..accounts-1)` (each waits for its stack outcome, so every delivery for a fresh account is
 *   applied: the record moves to `COMPLETING` and a work item is enqueued) and as many `SUCCEEDED` records besides.
 *   The receiver logs what `avm serve` logs (a line per delivery), to /dev/null with a synchronous write each.
 *   `<ledger>` is `memory` (the in-memory ledger with its indexes), `sqlite-memory` (the SQLite ledger, `:memory:`)
 *   or `sqlite` (the SQLite ledger in a file, as `avm serve` uses by default: every write is committed to disk), or
 *   `sqlite-worker` (an experiment: the same file ledger run by a worker thread, `./workerSqliteLedger.ts`), or
 *   `none` (an experiment, the receiver's ceiling: no ledger; the recorder answers `completing` at once and writes
 *   nothing, counted as `not-applied`).
 * - `bare`: a plain `node:http` server that reads the body and answers a small JSON document.
 * Prints `serving-since <µs on the CPU profile clock>` and `listening <url>` once ready; when its stdin closes it prints `actions <json>` (what the recorder did, by
 * action) and exits.
 *
 *   node --import tsx bench/support/webhookServer.ts avm <secret> none|memory|sqlite-memory|sqlite|sqlite-worker <accounts>
 *   node --import tsx bench/support/webhookServer.ts bare
 */
import { createServer } from "node:http";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { lineLogger } from "../../automation/logger";
import { startWebhookServer } from "../../automation/serve";
import { realTiming } from "../../src/shared/timing";
import { InProcessWorkQueue } from "../../src/adapters/local/inProcessWorkQueue";
import { MemoryLedger } from "../../test/support/memoryLedger";
import { SqliteLedger } from "../../src/adapters/local/sqliteLedger";
import { MemoryDeliveryStore } from "../../src/adapters/local/memoryDeliveryStore";
import { WebhookReceiver } from "../../src/core/webhooks/receiver";
import { LedgerStackOutcomeRecorder } from "../../src/core/webhooks/stackOutcomeRecorder";
import type { Ledger } from "../../src/core/ports";
import { benchAccountId } from "./webhookAccounts";
import { WorkerSqliteLedger } from "./workerSqliteLedger";

async function populate(ledger: Ledger, accounts: number): Promise<void> {
  const now = new Date();
  const claim = (state: "BOOTSTRAPPING" | "SUCCEEDED", accountId: string) => {
    const email = `bench+${accountId}@example.com`;
    return ledger.claim(
      {
        email,
        requestId: `req-${accountId}`,
        kind: "vend",
        request: { accountName: `bench ${accountId}`, email, tags: { CostCenter: "1" } },
        accountId,
        state,
      },
      now,
    );
  };
  // 200 accounts at a time: the SQLite ledger commits each such group at once.
  for (let from = 0; from < accounts; from += 200) {
    const group = Array.from({ length: Math.min(200, accounts - from) }, (_, k) => from + k);
    await Promise.all(
      group.flatMap((i) => [
        claim("BOOTSTRAPPING", benchAccountId(i)),
        claim("SUCCEEDED", String(300_000_000_000 + i)),
      ]),
    );
  }
}

async function main(): Promise<void> {
  const [mode, secret, ledgerKind, accountsArg] = process.argv.slice(2);
  let stop: () => Promise<void>;
  if (mode === "avm") {
    const accounts = Number(accountsArg);
    if (
      !secret ||
      !["none", "memory", "sqlite-memory", "sqlite", "sqlite-worker"].includes(ledgerKind ?? "") ||
      !(accounts >= 0)
    ) {
      throw new Error("usage: webhookServer.ts avm <secret> none|memory|sqlite-memory|sqlite|sqlite-worker <accounts>");
    }
    const dir =
      ledgerKind === "sqlite" || ledgerKind === "sqlite-worker"
        ? mkdtempSync(path.join(tmpdir(), "avm-webhook-bench-"))
        : undefined;
    const ledger: Ledger =
      ledgerKind === "memory" || ledgerKind === "none"
        ? new MemoryLedger()
        : ledgerKind === "sqlite-worker"
          ? new WorkerSqliteLedger(path.join(dir!, "ledger.sqlite"))
          : new SqliteLedger({ path: dir === undefined ? ":memory:" : path.join(dir, "ledger.sqlite") });
    if (ledgerKind !== "none") await populate(ledger, accounts);
    const actions: Record<string, number> = {};
    const log = openSync("/dev/null", "w");
    const recorder = new LedgerStackOutcomeRecorder({ ledger, queue: new InProcessWorkQueue(), timing: realTiming });
    const receiver = new WebhookReceiver({
      secret,
      recorder: {
        record: async (accountId, outcome) => {
          if (ledgerKind === "none") {
            actions["not-applied"] = (actions["not-applied"] ?? 0) + 1;
            return { action: "completing", requestId: `req-${accountId}`, state: "COMPLETING" };
          }
          const result = await recorder.record(accountId, outcome);
          actions[result.action] = (actions[result.action] ?? 0) + 1;
          return result;
        },
      },
      deliveries: new MemoryDeliveryStore({ maxEntries: 1_000_000 }),
      timing: realTiming,
      // `avm serve`'s log lines (one per delivery), written synchronously like stderr to a file or a pipe.
      logger: lineLogger("webhook", (line) => writeSync(log, line)),
    });
    const server = await startWebhookServer({ receiver });
    // When serving started, on the clock of V8's CPU profiles (microseconds), so a profile can leave out the set-up.
    console.log(`serving-since ${process.hrtime.bigint() / 1000n}`);
    console.log(`listening ${server.url}`);
    stop = async () => {
      await server.stop();
      console.log(`actions ${JSON.stringify(actions)}`);
      await ledger.close();
      closeSync(log);
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    };
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
    throw new Error("usage: webhookServer.ts avm|bare ...");
  }
  let stopping: Promise<void> | undefined;
  const end = () => (stopping ??= stop().then(() => process.exit(0)));
  process.stdin.resume();
  process.stdin.on("end", () => void end());
  process.stdin.on("close", () => void end());
}

void main();
