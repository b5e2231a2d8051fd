/**
 * `avm serve`: the Pulumi Cloud webhook receiver on a local HTTP server (default 127.0.0.1:8787). Verified
 * `stack_update` / `deployment` events for account stacks move the matching ledger records. The secret
 * comes from `AVM_WEBHOOK_SECRET` only (never a flag, so it stays out of shell history and `ps`), and is
 * never printed. Runs until SIGINT/SIGTERM, then stops gracefully.
 */
import { InProcessWorkQueue } from "../../../src/adapters/local/inProcessWorkQueue";
import { MemoryDeliveryStore } from "../../../src/adapters/local/memoryDeliveryStore";
import { WebhookReceiver } from "../../../src/core/webhooks/receiver";
import { LedgerStackOutcomeRecorder } from "../../../src/core/webhooks/stackOutcomeRecorder";
import { lineLogger } from "../../logger";
import { startWebhookServer } from "../../serve";
import { withLedger, type CommandContext } from "../context";
import { CliUsageError } from "../errors";
import { CLI_ENV } from "../settings";
import { openLocalWorkflow } from "../workflowSetup";

/** Options of `avm serve`. */
export interface ServeOptions {
  readonly port?: number;
  readonly host?: string;
  /** Finish re-enqueued requests (completion tags) in this process. */
  readonly process?: boolean;
}

/** `--json` shape of `avm serve`: one line once listening. */
export interface ServeJson {
  readonly url: string;
  readonly port: number;
  /** True when deliveries must be signed (AVM_WEBHOOK_SECRET set). */
  readonly signed: boolean;
}

/** Runs `avm serve` until interrupted. */
export async function serveCommand(ctx: CommandContext, options: ServeOptions): Promise<void> {
  const host = options.host ?? "127.0.0.1";
  if (!/^[\w.:-]+$/.test(host)) throw new CliUsageError(`--host must be a host name or IP address, got "${host}"`);
  const secret = ctx.io.env[CLI_ENV.webhookSecret];
  const signed = secret !== undefined && secret !== "";
  ctx.io.claimInterrupt?.();
  await withLedger(ctx, async (ledger) => {
    const queue = new InProcessWorkQueue();
    // The receiver's log lines, one per line on stderr (`webhook <level>: message {json}`).
    const logger = lineLogger("webhook", (line) => ctx.io.stderr.write(line));
    // Without --process nothing here finishes a request: its ledger record (COMPLETING) is what `avm retry` (or
    // the same `avm vend` again) resumes, so its work item is not kept (it would only pile up in memory for as
    // long as the server runs).
    const recorder = new LedgerStackOutcomeRecorder({
      ledger,
      queue: options.process === true ? queue : { enqueue: async () => undefined },
      timing: ctx.deps.timing,
    });
    // With --process, requests the recorder re-enqueued (COMPLETING) are finished here, one drain at a time.
    let draining = Promise.resolve();
    let finish: ((email: string) => Promise<unknown>) | undefined;
    if (options.process === true) {
      const local = await openLocalWorkflow(ctx, ledger, { withoutStacks: true });
      finish = (email) => local.workflow.processRequest(email);
    }
    const kick = (): void => {
      if (!finish || queue.size === 0) return;
      const process = finish;
      draining = draining.then(async () => {
        await queue.drain(async (item) => void (await process(item.email)), {
          onDeadLetter: (item, error) =>
            logger.error("could not finish request", { requestId: item.requestId, error: String(error) }),
        });
      });
    };
    const receiver = new WebhookReceiver({
      ...(signed ? { secret } : {}),
      recorder: {
        record: async (accountId, outcome) => {
          const result = await recorder.record(accountId, outcome);
          kick();
          return result;
        },
      },
      deliveries: new MemoryDeliveryStore(),
      timing: ctx.deps.timing,
      logger,
    });
    const server = await startWebhookServer({ receiver, host, port: options.port ?? 8787 });
    if (!signed) {
      ctx.io.stderr.write(
        `avm: warning: ${CLI_ENV.webhookSecret} is not set: deliveries are accepted unsigned (local testing only)\n`,
      );
    }
    if (ctx.out.json) {
      ctx.io.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, signed } satisfies ServeJson)}\n`);
    } else {
      ctx.out.text(`listening on ${server.url} (${signed ? "signed deliveries only" : "UNSIGNED"}; Ctrl-C to stop)`);
    }
    const signal = await (ctx.io.interrupted ?? new Promise<string>(() => undefined));
    ctx.out.progress(`stopping (${signal})`);
    await server.stop();
    await draining;
  });
}
