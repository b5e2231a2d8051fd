/**
 * Webhook receiver throughput: deliveries per second of `avm serve`'s receiver (`automation/serve.ts`: HMAC-SHA256
 * over the raw body with a constant-time compare, de-duplication by `Pulumi-Webhook-ID`, JSON parse, schema check,
 * then the ledger recorder) side by side with a bare `node:http` server in the same run, and the rate at which forged
 * deliveries are turned away.
 *
 * The ledger is populated (`bench/support/webhookServer.ts`): per verified delivery there is a fresh account waiting
 * in `BOOTSTRAPPING` (and as many `SUCCEEDED` records besides), and every delivery reports its stack deployment
 * succeeded, so each one is applied: index lookup by account id, read by email, compare-and-set to `COMPLETING`, a
 * work item enqueued. The server counts what the recorder did and the bench prints it, so a run where deliveries were
 * not applied shows. Ledgers: the in-memory one with indexes, the SQLite ledger in memory (same SQL, no disk) and in
 * a file as `avm serve` uses it by default (every write committed to disk). The disk's `fdatasync` latency, which bounds
 * the file ledger (one per group commit), is measured in the same run, before and after the rounds. One more row is an
 * experiment, not what `avm serve` does: the same SQLite file ledger run by a worker thread
 * (`bench/support/workerSqliteLedger.ts`), to measure whether taking the ledger off the event loop would pay. Another
 * experiment is the receiver's ceiling: every check as above, then a recorder that touches no ledger and answers
 * at once, so what no ledger, however cheap, can go below.
 *
 * Each server runs in its own process on 127.0.0.1; autocannon sends a fixed number of requests per scenario and
 * round (so the accounts to populate are known), scenarios alternate, medians are shown; rate = requests / time.
 * `CPU µs/req` is the server process's CPU time (user + system, from /proc/<pid>/stat) per request in a round: on a
 * shared machine the rates move with the other load, the CPU per request much less.
 *
 * Each scenario has its own server process. `--profile DIR` writes a V8 CPU profile of each one to
 * `DIR/<scenario>.cpuprofile` (and when serving started, `DIR/<scenario>.serving-since`);
 * `node --import tsx bench/support/cpuProfileSummary.ts DIR/signed-memory.cpuprofile` prints where the time went
 * while serving (start-up and population left out).
 *
 *   node --import tsx bench/webhook.ts [--requests 15000] [--connections 10] [--rounds 3] [--profile DIR]
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import {
  closeSync,
  fdatasyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { computeSignature } from "../src/core/webhooks/signature";
import { benchAccountId } from "./support/webhookAccounts";

interface Options {
  requests: number;
  connections: number;
  rounds: number;
  /** Folder for a V8 CPU profile of each server process (`--cpu-prof`), or none. */
  profile?: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { requests: 15_000, connections: 10, rounds: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const value = Number(argv[i + 1]);
    if (argv[i] === "--requests") options.requests = value;
    else if (argv[i] === "--connections") options.connections = value;
    else if (argv[i] === "--rounds") options.rounds = value;
    else if (argv[i] === "--profile" && argv[i + 1] !== undefined) options.profile = path.resolve(argv[i + 1]!);
    else throw new Error(`unknown argument ${argv[i]}; use --requests N --connections N --rounds N --profile DIR`);
  }
  if (!Number.isInteger(options.requests) || options.requests < 100 || options.requests > 200_000)
    throw new Error("--requests: 100-200000");
  if (!Number.isInteger(options.connections) || options.connections < 1 || options.connections > 200)
    throw new Error("--connections: 1-200");
  if (!Number.isInteger(options.rounds) || options.rounds < 1 || options.rounds > 10) throw new Error("--rounds: 1-10");
  return options;
}

const SECRET = "bench-webhook-secret-0123456789abcdef";

/** The deployment-succeeded event for the account stack of `accountId`. */
function bodyFor(accountId: string): string {
  return JSON.stringify({
    projectName: "meshstack-avm",
    stackName: `account-${accountId}`,
    status: "succeeded",
    operation: "update",
    version: 7,
    deploymentId: "dep-7",
  });
}

type ServerKind = "bare" | "none" | "memory" | "sqlite-memory" | "sqlite" | "sqlite-worker";

interface Server {
  readonly url: string;
  readonly child: ChildProcess;
  /** The server's stdout after `listening` (the `actions` line comes at the end). */
  readonly output: () => string;
}

async function startServer(kind: ServerKind, accounts: number, profile: string | undefined): Promise<Server> {
  const args = kind === "bare" ? ["bare"] : ["avm", SECRET, kind, String(accounts)];
  const child = spawn(
    process.execPath,
    [
      ...(profile === undefined
        ? []
        : ["--cpu-prof", `--cpu-prof-dir=${path.dirname(profile)}`, `--cpu-prof-name=${path.basename(profile)}`]),
      "--import",
      "tsx",
      "--disable-warning=ExperimentalWarning",
      path.join(__dirname, "support", "webhookServer.ts"),
      ...args,
    ],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start within 10 minutes`)), 600_000);
    const check = () => {
      const match = /listening (\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off("data", check);
        resolve(match[1]!);
      }
    };
    child.stdout!.on("data", check);
    child.once("exit", (code) => reject(new Error(`${kind} server exited (${code})`)));
  });
  return { url, child, output: () => out };
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin!.end();
  });
}

interface Scenario {
  /** Names the scenario's server process (and its profile, `<id>.cpuprofile`). */
  readonly id: string;
  readonly label: string;
  readonly server: ServerKind;
  /** Requests per round. */
  readonly requests: number;
  /** The delivery of the n-th request of the scenario: its body and signature. */
  readonly delivery: (n: number) => { body: string; signature: string };
  /** The status code every answer must have. */
  readonly expect: number;
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times (`getconf CLK_TCK`, 100 on Linux). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system) the process `pid` has used, in microseconds; undefined where /proc is missing. */
function cpuMicros(pid: number | undefined): number | undefined {
  try {
    // Fields after the parenthesised command name: state is the 3rd field, utime the 14th, stime the 15th.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

async function load(url: string, scenario: Scenario, requests: number, options: Options, first: number, pid?: number) {
  const cpuBefore = cpuMicros(pid);
  let n = first;
  let ids = 0;
  const started = process.hrtime.bigint();
  let last = started;
  const instance = autocannon({
    url,
    method: "POST",
    amount: requests,
    connections: options.connections,
    headers: { "content-type": "application/json", "pulumi-webhook-kind": "deployment" },
    requests: [
      {
        setupRequest: (request: Record<string, any>) => {
          const { body, signature } = scenario.delivery(n++);
          request.body = body;
          request.headers = {
            ...request.headers,
            "pulumi-webhook-id": `bench-${process.pid}-${++ids}-${n}`,
            "pulumi-webhook-signature": signature,
          };
          return request;
        },
      },
    ],
  });
  // From the start to the last answer: autocannon itself ends a run with `amount` only at its next 1-second tick.
  (instance as unknown as NodeJS.EventEmitter).on("response", () => (last = process.hrtime.bigint()));
  const result = await instance;
  const statusKey = `${Math.floor(scenario.expect / 100)}xx`;
  const matching = (result as unknown as Record<string, number>)[statusKey] ?? 0;
  const seconds = Number(last - started) / 1e9;
  const cpuAfter = cpuMicros(pid);
  return {
    /** Server CPU time per request, µs (load-independent, unlike the rate, on a shared machine). */
    cpu: cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / result.requests.total,
    rps: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    matching,
    errors: result.errors + result.timeouts + (result.non2xx - (scenario.expect >= 300 ? matching : 0)),
  };
}

/**
 * `fdatasync` latency of the disk under the system's temporary folder (where the SQLite file server keeps its
 * ledger): 200 rounds of a 12 KiB write (about what a group commit appends to the WAL) and its fdatasync.
 * @returns p50, p90 and p99 in µs
 */
function fdatasyncLatency(): [number, number, number] {
  const dir = mkdtempSync(path.join(tmpdir(), "avm-webhook-bench-disk-"));
  const fd = openSync(path.join(dir, "probe"), "w");
  const page = Buffer.alloc(12 * 1024, 1);
  const samples: number[] = [];
  try {
    for (let i = 0; i < 200; i++) {
      writeSync(fd, page, 0, page.length, (i % 50) * page.length);
      const started = process.hrtime.bigint();
      fdatasyncSync(fd);
      samples.push(Number(process.hrtime.bigint() - started) / 1000);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => Math.round(samples[Math.floor(q * samples.length)]!);
  return [at(0.5), at(0.9), at(0.99)];
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const warmup = Math.max(100, Math.floor(options.requests / 10));
  // Signed deliveries, one per fresh account, computed before the run so the load generator does no HMAC work.
  const signed = (count: number) => {
    const deliveries = Array.from({ length: count }, (_, i) => {
      const body = bodyFor(benchAccountId(i));
      return { body, signature: computeSignature(SECRET, body) };
    });
    return (n: number) => deliveries[n % count]!;
  };
  const perServer = (requests: number) => warmup + options.rounds * requests;
  const anyBody = bodyFor(benchAccountId(0));
  const forged = { body: anyBody, signature: "0".repeat(64) };
  const bare = { body: anyBody, signature: computeSignature(SECRET, anyBody) };
  const scenarios: Scenario[] = [
    {
      id: "bare",
      label: "bare node:http (reads body, answers JSON)",
      server: "bare",
      requests: options.requests,
      delivery: () => bare,
      expect: 200,
    },
    {
      id: "signed-none",
      label: "experiment: signed, recorder does nothing",
      server: "none",
      requests: options.requests,
      delivery: signed(perServer(options.requests)),
      expect: 200,
    },
    {
      id: "signed-memory",
      label: "avm serve, signed, applied (memory ledger)",
      server: "memory",
      requests: options.requests,
      delivery: signed(perServer(options.requests)),
      expect: 200,
    },
    {
      id: "forged",
      label: "avm serve, forged (401)",
      server: "memory",
      requests: options.requests,
      delivery: () => forged,
      expect: 401,
    },
    {
      id: "signed-sqlite-memory",
      label: "avm serve, signed, applied (SQLite :memory:)",
      server: "sqlite-memory",
      requests: options.requests,
      delivery: signed(perServer(options.requests)),
      expect: 200,
    },
    {
      id: "signed-sqlite-file",
      label: "avm serve, signed, applied (SQLite file)",
      server: "sqlite",
      requests: options.requests,
      delivery: signed(perServer(options.requests)),
      expect: 200,
    },
    {
      id: "signed-sqlite-worker",
      label: "experiment: SQLite file in a worker thread",
      server: "sqlite-worker",
      requests: options.requests,
      delivery: signed(perServer(options.requests)),
      expect: 200,
    },
  ];
  console.log(
    `webhook bench: node ${process.version}, autocannon ${options.connections} connections, ${options.requests} ` +
      `requests per scenario and round after a warm-up of ${warmup}, ` +
      `${options.rounds} rounds (scenarios alternate; medians shown), 127.0.0.1, body ${anyBody.length} bytes; ` +
      `ledgers populated with ${perServer(options.requests)} BOOTSTRAPPING + as many SUCCEEDED records`,
  );
  if (options.profile) mkdirSync(options.profile, { recursive: true });
  const diskBefore = fdatasyncLatency();
  const servers = new Map<Scenario, Server>();
  const results = new Map<Scenario, Awaited<ReturnType<typeof load>>[]>();
  const sent = new Map<Scenario, number>();
  try {
    // One server process per scenario, so each profile shows one kind of delivery.
    for (const scenario of scenarios) {
      const profile = options.profile && path.join(options.profile, `${scenario.id}.cpuprofile`);
      const server = await startServer(scenario.server, perServer(scenario.requests), profile);
      servers.set(scenario, server);
      const since = /serving-since (\d+)/.exec(server.output())?.[1];
      if (profile && since) writeFileSync(profile.replace(/\.cpuprofile$/, ".serving-since"), since);
    }
    // Warm-up (JIT, connection pools), not counted.
    for (const scenario of scenarios) {
      await load(servers.get(scenario)!.url, scenario, warmup, options, 0);
      sent.set(scenario, warmup);
    }
    for (let round = 0; round < options.rounds; round++) {
      for (const scenario of scenarios) {
        const server = servers.get(scenario)!;
        const r = await load(server.url, scenario, scenario.requests, options, sent.get(scenario)!, server.child.pid);
        sent.set(scenario, sent.get(scenario)! + scenario.requests);
        results.set(scenario, [...(results.get(scenario) ?? []), r]);
      }
    }
  } finally {
    await Promise.all([...servers.values()].map((server) => stopServer(server.child)));
  }
  const diskAfter = fdatasyncLatency();
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const bareRps = median(results.get(scenarios[0]!)!.map((r) => r.rps));
  console.log(
    "  scenario                                      req/s (rounds)                x bare  p50 ms  p99 ms  CPU µs/req  answers",
  );
  for (const scenario of scenarios) {
    const rs = results.get(scenario)!;
    const rps = rs.map((r) => r.rps);
    const matching = rs.reduce((a, r) => a + r.matching, 0);
    const total = rs.reduce((a, r) => a + r.total, 0);
    const other = rs.reduce((a, r) => a + r.errors, 0);
    const cpus = rs.flatMap((r) => (r.cpu === undefined ? [] : [r.cpu]));
    console.log(
      `  ${scenario.label.padEnd(44)} ${median(rps).toFixed(0).padStart(6)} (${rps.map((v) => v.toFixed(0)).join(", ")})`.padEnd(
        79,
      ) +
        `${(median(rps) / bareRps).toFixed(2).padStart(6)}` +
        `${String(median(rs.map((r) => r.p50))).padStart(8)}  ${String(median(rs.map((r) => r.p99))).padStart(6)}` +
        `${(cpus.length === rs.length ? median(cpus).toFixed(0) : "-").padStart(12)}` +
        `  ${matching}/${total} x ${scenario.expect}${other > 0 ? `, ${other} other` : ""}`,
    );
  }
  console.log(
    `  disk (${tmpdir()}): fdatasync after a 12 KiB write p50 / p90 / p99 ${diskBefore.join(" / ")} µs before the ` +
      `rounds, ${diskAfter.join(" / ")} µs after (the SQLite file ledger does one per group commit)`,
  );
  // What the recorder did in each avm server (warm-up included): "completing" = applied.
  for (const [scenario, server] of servers) {
    const actions = /actions (\{.*\})/.exec(server.output())?.[1];
    if (actions !== undefined) console.log(`  recorder actions, ${scenario.id}: ${actions}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
