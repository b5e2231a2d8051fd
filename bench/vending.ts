/**
 * Vending throughput against moto: vends N accounts (default N = 10, 50, 100) with 5 concurrent workers
 * through the real workflow (Organizations gateway, ledger, CreateAccount slots) and prints accounts per
 * second, the orchestration time per account beyond the time spent inside AWS calls, and the bench process's peak
 * resident set size.
 *
 * Starts and stops its own moto server; each N runs on a freshly reset moto with a new organization.
 * The account stack step is a no-op runner answering `deployed` (no Pulumi CLI here), so requests go on to the
 * completion tags and SUCCEEDED and the figures are the vending core's own cost.
 *
 * Without `--ledger` it runs each ledger in a process of its own (so each peak RSS is that ledger's), at the sizes of
 * the scale figures: memory and SQLite N = 10, 100, 1000, DynamoDB in moto N = 10, 50, 200 (`--sizes` overrides).
 *
 *   node --import tsx bench/vending.ts [--sizes 10,50,100] [--concurrency 5] [--ledger dynamodb|sqlite|memory]
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createOrganizationWithOu, localClientConfig, startMoto, type MotoServer } from "../automation/localAws";
import { realTiming } from "../src/shared/timing";
import type { Ledger } from "../src/core/ports";
import { DynamoLedger, createLedgerTable } from "../src/adapters/aws/dynamoLedger";
import { SqliteLedger } from "../src/adapters/local/sqliteLedger";
import { MemoryLedger } from "../test/support/memoryLedger";
import { DynamoCreateSlots } from "../src/adapters/aws/dynamoCreateSlots";
import { InProcessCreateSlots } from "../src/adapters/local/inProcessCreateSlots";
import { type CreateSlots } from "../src/core/ports";
import { OrganizationsGateway } from "../src/adapters/aws/organizationsGateway";
import { createWorkflow } from "../src/core/vending/workflow";
import type { AccountStackRunner } from "../src/core/ports";

type LedgerKind = "dynamodb" | "sqlite" | "memory";

interface Options {
  sizes: number[];
  concurrency: number;
  /** Unset: every ledger, each in its own process. */
  ledger?: LedgerKind;
  /** Whether `--sizes` was given. */
  sizesGiven: boolean;
  /** Per-N time limit; the bench stops with an error beyond it. */
  limitMs: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { sizes: [10, 50, 100], concurrency: 5, sizesGiven: false, limitMs: 300_000 };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1] ?? "";
    if (flag === "--sizes") {
      options.sizes = value.split(",").map(Number);
      options.sizesGiven = true;
    } else if (flag === "--concurrency") options.concurrency = Number(value);
    else if (flag === "--ledger") options.ledger = value as LedgerKind;
    else
      throw new Error(
        `unknown argument ${flag}; use --sizes 10,50,100 --concurrency 5 --ledger dynamodb|sqlite|memory`,
      );
    i += 1;
  }
  if (options.sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) throw new Error("--sizes: integers 1-1000");
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new Error("--concurrency: integer >= 1");
  if (options.ledger !== undefined && !["dynamodb", "sqlite", "memory"].includes(options.ledger))
    throw new Error("--ledger: dynamodb, sqlite or memory");
  return options;
}

/**
 * AWS calls made on behalf of one account (attributed through AsyncLocalStorage). `ms` is wall time with
 * at least one call in flight (calls can overlap, e.g. the DynamoDB slot reads), so it never exceeds the
 * account's total time.
 */
interface AwsTally {
  ms: number;
  calls: number;
  /** Calls made through the Organizations client (the rest went to DynamoDB). */
  organizationsCalls: number;
  inFlight: number;
  since: number;
}

const newTally = (): AwsTally => ({ ms: 0, calls: 0, organizationsCalls: 0, inFlight: 0, since: 0 });

const tallies = new AsyncLocalStorage<AwsTally>();

/** Adds a middleware that accounts each call (SDK serialisation, HTTP, parsing) to the current tally. */
/** Calls by command name over the whole run (printed per account). */
const byCommand = new Map<string, number>();

function timeAwsCalls(client: OrganizationsClient | DynamoDBClient): void {
  const organizations = client instanceof OrganizationsClient;
  (client.middlewareStack as { add: (mw: unknown, options: unknown) => void }).add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const tally = tallies.getStore();
      if (tally) {
        const name = context.commandName ?? "?";
        byCommand.set(name, (byCommand.get(name) ?? 0) + 1);
        tally.calls += 1;
        if (organizations) tally.organizationsCalls += 1;
        if (tally.inFlight++ === 0) tally.since = performance.now();
      }
      try {
        return await next(args);
      } finally {
        if (tally && --tally.inFlight === 0) tally.ms += performance.now() - tally.since;
      }
    },
    { step: "initialize", name: "benchAwsTimer", priority: "high" },
  );
}

/** Reports every stack deployed without running anything, so requests go on to the completion tags and SUCCEEDED. */
const deployedRunner: AccountStackRunner = {
  async deploy(request) {
    return { status: "deployed", stackName: `account-${request.accountId}`, summary: "bench: stack step skipped" };
  },
};

interface RunResult {
  n: number;
  wallMs: number;
  perAccount: { totalMs: number; aws: AwsTally }[];
  succeeded: number;
}

async function runOnce(moto: MotoServer, n: number, options: Options): Promise<RunResult> {
  await moto.reset();
  const org = await createOrganizationWithOu(moto.endpoint, "Workloads");
  const config = localClientConfig(moto.endpoint);
  const organizationsClient = new OrganizationsClient(config);
  timeAwsCalls(organizationsClient);
  const dynamo = new DynamoDBClient(config);
  timeAwsCalls(dynamo);
  let ledger: Ledger;
  let createSlots: CreateSlots;
  let tempDir: string | undefined;
  if (options.ledger === "dynamodb") {
    const tableName = `avm-bench-${n}`;
    await createLedgerTable(dynamo, tableName);
    ledger = new DynamoLedger({ client: dynamo, tableName });
    createSlots = new DynamoCreateSlots({ client: dynamo, tableName });
  } else {
    if (options.ledger === "sqlite") {
      tempDir = mkdtempSync(path.join(tmpdir(), "avm-bench-"));
      ledger = new SqliteLedger({ path: path.join(tempDir, "ledger.db") });
    } else {
      ledger = new MemoryLedger();
    }
    createSlots = new InProcessCreateSlots();
  }
  const workflow = createWorkflow({
    ledger,
    organizations: new OrganizationsGateway(organizationsClient, { timing: realTiming }),
    stackRunner: deployedRunner,
    createSlots,
    timing: realTiming,
  });

  const emails = Array.from({ length: n }, (_, i) => `bench-${n}-${i}@example.com`);
  const perAccount: RunResult["perAccount"] = [];
  let next = 0;
  const deadline = performance.now() + options.limitMs;
  const worker = async (): Promise<void> => {
    while (next < emails.length) {
      if (performance.now() > deadline) throw new Error(`N=${n} exceeded the ${options.limitMs} ms limit`);
      const email = emails[next++]!;
      const aws = newTally();
      const started = performance.now();
      await tallies.run(aws, async () => {
        await ledger.claim(
          {
            email,
            requestId: `bench-${email}`,
            kind: "vend",
            request: {
              kind: "vend",
              accountName: email.split("@")[0],
              email,
              targetOu: org.ouId,
              tags: { Bench: "yes" },
            },
          },
          new Date(),
        );
        const outcome = await workflow.processRequest(email);
        if (outcome.status !== "terminal") throw new Error(`${email} ended ${outcome.status}`);
      });
      perAccount.push({ totalMs: performance.now() - started, aws });
    }
  };
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    const wallMs = performance.now() - started;
    const succeeded = (await ledger.list({ states: ["SUCCEEDED"] })).length;
    return { n, wallMs, perAccount, succeeded };
  } finally {
    await ledger.close();
    organizationsClient.destroy();
    dynamo.destroy();
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const fmt = (value: number, digits = 1) => value.toFixed(digits).padStart(8);

/** The scale figures' sizes per ledger, when `--sizes` is not given. */
const SCALE_SIZES: Readonly<Record<LedgerKind, readonly number[]>> = {
  memory: [10, 100, 1000],
  sqlite: [10, 100, 1000],
  dynamodb: [10, 50, 200],
};

/** Runs this bench once per ledger, each in a process of its own, one after the other. */
async function runEveryLedger(options: Options): Promise<void> {
  for (const ledger of ["memory", "sqlite", "dynamodb"] as const) {
    const sizes = options.sizesGiven ? options.sizes : SCALE_SIZES[ledger];
    const args = ["--ledger", ledger, "--sizes", sizes.join(","), "--concurrency", String(options.concurrency)];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [...process.execArgv, __filename, ...args], { stdio: "inherit" });
      child.once("error", reject);
      child.once("close", resolve);
    });
    if (code !== 0) throw new Error(`vending bench --ledger ${ledger} exited ${code}`);
    console.log("");
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.ledger === undefined) return runEveryLedger(options);
  const moto = await startMoto();
  try {
    console.log(
      `vending bench: moto ${moto.version} (${moto.python}), ledger=${options.ledger}, concurrency=${options.concurrency}, ` +
        `node ${process.version}, account stack step = no-op reported deployed`,
    );
    console.log(
      "       N   wall s  acct/s  calls/acct (orgs)  total ms/acct  AWS ms/acct  orch ms/acct  orch p50  orch p95  succeeded  peak RSS MiB",
    );
    for (const n of options.sizes) {
      byCommand.clear();
      const result = await runOnce(moto, n, options);
      const orchestration = result.perAccount.map((a) => a.totalMs - a.aws.ms);
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
      console.log(
        [
          String(n).padStart(8),
          fmt(result.wallMs / 1000, 2),
          fmt(n / (result.wallMs / 1000), 1),
          fmt(mean(result.perAccount.map((a) => a.aws.calls)), 1).padStart(11),
          ` (${fmt(mean(result.perAccount.map((a) => a.aws.organizationsCalls)), 1).trim()})`.padEnd(7),
          fmt(mean(result.perAccount.map((a) => a.totalMs))).padStart(14),
          fmt(mean(result.perAccount.map((a) => a.aws.ms))).padStart(12),
          fmt(mean(orchestration)).padStart(13),
          fmt(percentile(orchestration, 50)).padStart(9),
          fmt(percentile(orchestration, 95)).padStart(9),
          `${result.succeeded}/${n}`.padStart(10),
          // The bench process's peak resident set so far (sizes run in the order given, so after the largest N it
          // is that run's peak); moto runs in its own process and is not counted.
          (process.resourceUsage().maxRSS / 1024).toFixed(0).padStart(14),
        ].join(""),
      );
      const perCommand = [...byCommand].sort((a, b) => b[1] - a[1]).map(([c, k]) => `${c} ${(k / n).toFixed(1)}`);
      console.log(`          calls per account: ${perCommand.join(", ")}`);
    }
  } finally {
    await moto.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  process.exitCode = 1;
});
