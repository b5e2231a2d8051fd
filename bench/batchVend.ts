/**
 * Batch vending through the CLI as a user runs it: `node bin/avm.js vend -f requests.jsonl --runner offline` with
 * the SQLite ledger, against moto (fresh state per run), for N accounts (OU + 2 tags each, as the peer comparison
 * in the README uses). Per N: wall time of the whole command (process start to exit) and per account. Side by side,
 * in the same run: a create+move+tag-only baseline that calls Organizations directly from this process (CreateAccount,
 * MoveAccount, TagResource with 5 in flight; no ledger, no stack step), i.e. what a tool that only creates, moves and
 * tags costs against the same moto. Also the marginal cost per account between consecutive N (the fixed start-up
 * cost, e.g. the offline planners loading `@pulumi/aws`, cancels out: flat when each account costs the same) and the
 * `avm` process's peak resident set (`/usr/bin/time -f %M`, when present).
 *
 *   node --import tsx bench/batchVend.ts [--sizes 10,50,200] [--concurrency 5]
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import {
  CreateAccountCommand,
  MoveAccountCommand,
  OrganizationsClient,
  TagResourceCommand,
} from "@aws-sdk/client-organizations";
import { createOrganizationWithOu, localClientConfig, resetMoto, startMoto } from "../automation/localAws";
import { mapWithLimit } from "../automation/concurrency";

interface Options {
  sizes: number[];
  concurrency: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { sizes: [10, 50, 200], concurrency: 5 };
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1] ?? "";
    if (argv[i] === "--sizes") options.sizes = value.split(",").map(Number);
    else if (argv[i] === "--concurrency") options.concurrency = Number(value);
    else throw new Error(`unknown argument ${argv[i]}; use --sizes 10,50,200 --concurrency 5`);
  }
  if (options.sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 2000)) throw new Error("--sizes: 1-2000");
  return options;
}

/** create + move + tag, 5 at a time, straight from this process (the baseline). */
async function baseline(endpoint: string, n: number, ouId: string, rootId: string): Promise<number> {
  const client = new OrganizationsClient(localClientConfig(endpoint));
  const started = performance.now();
  try {
    await mapWithLimit(
      Array.from({ length: n }, (_, i) => i),
      5,
      async (i) => {
        const created = await client.send(
          new CreateAccountCommand({ AccountName: `base-${i}`, Email: `aws+base-${i}@example.com` }),
        );
        const accountId = created.CreateAccountStatus?.AccountId;
        if (!accountId) throw new Error("moto returned no account id");
        await client.send(
          new MoveAccountCommand({ AccountId: accountId, SourceParentId: rootId, DestinationParentId: ouId }),
        );
        await client.send(
          new TagResourceCommand({
            ResourceId: accountId,
            Tags: [
              { Key: "CostCenter", Value: `${i}` },
              { Key: "Environment", Value: "dev" },
            ],
          }),
        );
      },
    );
    return (performance.now() - started) / 1000;
  } finally {
    client.destroy();
  }
}

/** Runs a command to its end without blocking this process's event loop; stops it after 30 minutes. */
function runToEnd(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-64_000)));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30 * 60_000);
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const moto = await startMoto();
  const dir = mkdtempSync(path.join(tmpdir(), "avm-batch-bench-"));
  const bin = path.resolve(__dirname, "..", "bin", "avm.js");
  try {
    console.log(
      `batch vend bench: node ${process.version}, moto ${moto.version}, SQLite ledger, --runner offline, ` +
        `--concurrency ${options.concurrency}`,
    );
    console.log(
      "\n  N     avm vend -f (wall)  per account  marginal/acct  peak RSS   create+move+tag only (wall)  per account",
    );
    let previous: { n: number; wall: number } | undefined;
    const time = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
    for (const n of options.sizes) {
      await resetMoto(moto.endpoint);
      const org = await createOrganizationWithOu(moto.endpoint, "Workloads");
      const file = path.join(dir, `requests-${n}.jsonl`);
      const lines = Array.from({ length: n }, (_, i) =>
        JSON.stringify({
          accountName: `batch-${i}`,
          email: `aws+batch-${i}@example.com`,
          targetOu: org.ouId,
          tags: { CostCenter: `${i}`, Environment: "dev" },
        }),
      );
      writeFileSync(file, `${lines.join("\n")}\n`);
      const ledger = path.join(dir, `ledger-${n}.sqlite`);
      const started = performance.now();
      const avm = [
        bin,
        "vend",
        "-f",
        file,
        "--json",
        "-q",
        "--ledger",
        ledger,
        "--concurrency",
        String(options.concurrency),
      ];
      // Asynchronous on purpose: moto's request log goes through a pipe this process drains on its event loop, and a
      // blocking spawnSync left that pipe full after about 40 accounts, which stalled moto (and the batch) for good.
      const run = await runToEnd(
        time ?? process.execPath,
        time ? ["-f", "avm-max-rss-kib %M", process.execPath, ...avm] : avm,
        {
          ...process.env,
          AWS_ENDPOINT_URL: moto.endpoint,
          AWS_ACCESS_KEY_ID: "testing",
          AWS_SECRET_ACCESS_KEY: "testing",
          AWS_REGION: "us-east-1",
          AVM_STACK_RUNNER: "offline",
          AVM_AUTOMATION_ACCOUNT_ID: "444455556666",
        },
      );
      const wall = (performance.now() - started) / 1000;
      // Offline account stacks are planned, not deployed: every line ends PLANNED.
      const result = JSON.parse(run.stdout || "{}") as { planned?: number };
      if (result.planned !== n) {
        throw new Error(`avm vend -f failed for N=${n} (exit ${run.status}): ${run.stderr.slice(-2000)}`);
      }
      await resetMoto(moto.endpoint);
      const base = await createOrganizationWithOu(moto.endpoint, "Workloads");
      const baseWall = await baseline(moto.endpoint, n, base.ouId, base.rootId);
      const rss = /avm-max-rss-kib (\d+)/.exec(run.stderr)?.[1];
      const marginal = previous ? ((wall - previous.wall) / (n - previous.n)) * 1000 : undefined;
      previous = { n, wall };
      console.log(
        `  ${String(n).padEnd(4)}  ${`${wall.toFixed(2)} s`.padStart(18)}  ${`${((wall / n) * 1000).toFixed(0)} ms`.padStart(11)}` +
          `  ${(marginal === undefined ? "-" : `${marginal.toFixed(0)} ms`).padStart(13)}` +
          `  ${(rss === undefined ? "-" : `${(Number(rss) / 1024).toFixed(0)} MiB`).padStart(8)}` +
          `   ${`${baseWall.toFixed(2)} s`.padStart(27)}  ${`${((baseWall / n) * 1000).toFixed(0)} ms`.padStart(11)}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await moto.stop();
  }
}

void main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
