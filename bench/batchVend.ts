/**
 * Batch vending through the CLI as a user runs it: `node bin/avm.js vend -f requests.jsonl --runner offline` with
 * the SQLite ledger, against moto (fresh state per run), for N accounts (OU + 2 tags each). Per N and side by side,
 * each on a fresh moto organization, in alternating order per round:
 * - `avm vend -f`: wall time of the whole command (process start to exit), per account, the marginal cost per
 *   account between consecutive N (fixed start-up costs cancel out: flat when each account costs the same) and the
 *   `avm` process's peak resident set (`/usr/bin/time -f %M`, when present);
 * - the peer: `org-formation update` (aws-organization-formation 1.0.17, installed on first use into `.tools/peers/`;
 *   `--no-peer` skips it), creating the same accounts in the same OU with the same tags; process start to exit;
 * - calls only: CreateAccount, MoveAccount and TagResource straight from this process, 5 in flight, no process
 *   start, no ledger, no stack step: the floor that moto's own speed sets for any tool.
 * With `--rounds R` each figure is the median of R rounds.
 *
 *   node --import tsx bench/batchVend.ts [--sizes 10,50,200] [--concurrency 10] [--rounds 1] [--no-peer]
 *
 * `--concurrency` is `avm vend -f --concurrency`, default the CLI's own default.
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
import { DEFAULT_BATCH_CONCURRENCY } from "../automation/cli/commands/vendBatch";
import {
  ensureOrgFormation,
  ORG_FORMATION_VERSION,
  runOrgFormation,
  type OrgPeerAccount,
} from "./support/orgFormationPeer";

interface Options {
  sizes: number[];
  concurrency: number;
  rounds: number;
  peer: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { sizes: [10, 50, 200], concurrency: DEFAULT_BATCH_CONCURRENCY, rounds: 1, peer: true };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1] ?? "";
    if (argv[i] === "--no-peer") options.peer = false;
    else if (argv[i] === "--sizes") options.sizes = value.split(",").map(Number);
    else if (argv[i] === "--concurrency") options.concurrency = Number(value);
    else if (argv[i] === "--rounds") options.rounds = Number(value);
    else throw new Error(`unknown argument ${argv[i]}; use --sizes 10,50,200 --concurrency 10 --rounds 1 --no-peer`);
    if (argv[i] !== "--no-peer") i++;
  }
  if (options.sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 2000)) throw new Error("--sizes: 1-2000");
  if (!Number.isInteger(options.rounds) || options.rounds < 1) throw new Error("--rounds: a positive integer");
  return options;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The N accounts of a run: the same names, emails and tags for avm and the peer. */
function accountsOf(n: number): OrgPeerAccount[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `batch-${i}`,
    email: `aws+batch-${i}@example.com`,
    tags: { CostCenter: `${i}`, Environment: "dev" },
  }));
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

/** One `avm vend -f` run on a fresh organization: wall seconds and the process's peak RSS in KiB (if measured). */
async function runAvm(
  endpoint: string,
  dir: string,
  n: number,
  concurrency: number,
  round: number,
): Promise<{ wall: number; rssKib?: number }> {
  await resetMoto(endpoint);
  const org = await createOrganizationWithOu(endpoint, "Workloads");
  const file = path.join(dir, `requests-${n}-${round}.jsonl`);
  const lines = accountsOf(n).map((a) =>
    JSON.stringify({ accountName: a.name, email: a.email, targetOu: org.ouId, tags: a.tags }),
  );
  writeFileSync(file, `${lines.join("\n")}\n`);
  const ledger = path.join(dir, `ledger-${n}-${round}.sqlite`);
  const bin = path.resolve(__dirname, "..", "bin", "avm.js");
  const avm = [bin, "vend", "-f", file, "--json", "-q", "--ledger", ledger, "--concurrency", String(concurrency)];
  const time = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
  const started = performance.now();
  // Asynchronous on purpose: moto's request log goes through a pipe this process drains on its event loop, and a
  // blocking spawnSync left that pipe full after about 40 accounts, which stalled moto (and the batch) for good.
  const run = await runToEnd(
    time ?? process.execPath,
    time ? ["-f", "avm-max-rss-kib %M", process.execPath, ...avm] : avm,
    {
      ...process.env,
      AWS_ENDPOINT_URL: endpoint,
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
  const rss = /avm-max-rss-kib (\d+)/.exec(run.stderr)?.[1];
  return { wall, ...(rss !== undefined ? { rssKib: Number(rss) } : {}) };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const root = path.resolve(__dirname, "..");
  const peer = options.peer ? ensureOrgFormation(root) : { reason: "skipped (--no-peer)" };
  const moto = await startMoto();
  const dir = mkdtempSync(path.join(tmpdir(), "avm-batch-bench-"));
  try {
    console.log(
      `batch vend bench: node ${process.version}, moto ${moto.version}, SQLite ledger, --runner offline, ` +
        `--concurrency ${options.concurrency}, ${options.rounds} round(s), medians; ` +
        `peer: ${peer.bin ? `org-formation ${ORG_FORMATION_VERSION}` : `none (${peer.reason})`}`,
    );
    console.log(
      "\n  N     avm vend -f  per acct  marginal  peak RSS   org-formation  per acct  marginal   calls only  per acct",
    );
    let previous: { n: number; avm: number; peer?: number } | undefined;
    for (const n of options.sizes) {
      const avm: number[] = [];
      const rss: number[] = [];
      const peers: number[] = [];
      const floor: number[] = [];
      for (let round = 0; round < options.rounds; round++) {
        // Alternating order, so a slow stretch of a shared machine does not always hit the same contender.
        const steps: (() => Promise<void>)[] = [
          async () => {
            const run = await runAvm(moto.endpoint, dir, n, options.concurrency, round);
            avm.push(run.wall);
            if (run.rssKib !== undefined) rss.push(run.rssKib);
          },
          async () => {
            if (!peer.bin) return;
            await resetMoto(moto.endpoint);
            const org = await createOrganizationWithOu(moto.endpoint, "Sandbox");
            peers.push(await runOrgFormation(peer.bin, dir, moto.endpoint, org.managementAccountId, accountsOf(n)));
          },
          async () => {
            await resetMoto(moto.endpoint);
            const base = await createOrganizationWithOu(moto.endpoint, "Workloads");
            floor.push(await baseline(moto.endpoint, n, base.ouId, base.rootId));
          },
        ];
        for (const step of round % 2 === 0 ? steps : [...steps].reverse()) await step();
      }
      const avmWall = median(avm);
      const peerWall = peers.length > 0 ? median(peers) : undefined;
      const floorWall = median(floor);
      const perAccount = (wall: number | undefined) =>
        wall === undefined ? "-" : `${((wall / n) * 1000).toFixed(0)} ms`;
      const marginal = (now: number | undefined, before: number | undefined) =>
        previous && now !== undefined && before !== undefined
          ? `${(((now - before) / (n - previous.n)) * 1000).toFixed(0)} ms`
          : "-";
      console.log(
        `  ${String(n).padEnd(4)}  ${`${avmWall.toFixed(2)} s`.padStart(11)}  ${perAccount(avmWall).padStart(8)}` +
          `  ${marginal(avmWall, previous?.avm).padStart(8)}` +
          `  ${(rss.length === 0 ? "-" : `${(median(rss) / 1024).toFixed(0)} MiB`).padStart(8)}` +
          `   ${(peerWall === undefined ? "-" : `${peerWall.toFixed(2)} s`).padStart(13)}  ${perAccount(peerWall).padStart(8)}` +
          `  ${marginal(peerWall, previous?.peer).padStart(8)}` +
          `   ${`${floorWall.toFixed(2)} s`.padStart(10)}  ${perAccount(floorWall).padStart(8)}`,
      );
      previous = { n, avm: avmWall, ...(peerWall !== undefined ? { peer: peerWall } : {}) };
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
