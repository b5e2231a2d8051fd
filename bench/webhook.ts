/**
 * Webhook receiver throughput: verified deliveries per second of `avm serve`'s receiver (`automation/serve.ts`:
 * HMAC-SHA256 over the raw body with a constant-time compare, de-duplication by `Pulumi-Webhook-ID`, JSON parse,
 * schema check, ledger lookup), side by side with a bare `node:http` server in the same run. Also the rate at
 * which forged deliveries are turned away.
 *
 * Each server runs in its own process on 127.0.0.1; autocannon runs here for a bounded duration per scenario.
 * Every verified delivery carries a fresh `Pulumi-Webhook-ID`, so none is answered from the duplicate path.
 *
 *   node --import tsx bench/webhook.ts [--seconds 5] [--connections 10]
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import autocannon from "autocannon";
import { computeSignature } from "../src/core/webhooks/signature";

interface Options {
  seconds: number;
  connections: number;
  rounds: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { seconds: 5, connections: 10, rounds: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const value = Number(argv[i + 1]);
    if (argv[i] === "--seconds") options.seconds = value;
    else if (argv[i] === "--connections") options.connections = value;
    else if (argv[i] === "--rounds") options.rounds = value;
    else throw new Error(`unknown argument ${argv[i]}; use --seconds N --connections N --rounds N`);
  }
  if (!(options.seconds >= 1 && options.seconds <= 60)) throw new Error("--seconds: 1-60");
  if (!Number.isInteger(options.connections) || options.connections < 1 || options.connections > 200)
    throw new Error("--connections: 1-200");
  if (!Number.isInteger(options.rounds) || options.rounds < 1 || options.rounds > 10) throw new Error("--rounds: 1-10");
  return options;
}

const SECRET = "bench-webhook-secret-0123456789abcdef";
const BODY = JSON.stringify({
  projectName: "meshstack-avm",
  stackName: "account-222233334444",
  status: "succeeded",
  operation: "update",
  version: 7,
  deploymentId: "dep-7",
});

async function startServer(mode: "avm" | "bare"): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(__dirname, "support", "webhookServer.ts"), mode, SECRET],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${mode} server did not start within 20 s`)), 20_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      const match = /listening (\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once("exit", (code) => reject(new Error(`${mode} server exited (${code})`)));
  });
  return { url, child };
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
  readonly label: string;
  readonly mode: "avm" | "bare";
  readonly signature: string;
  /** The status code every answer must have. */
  readonly expect: number;
}

async function load(url: string, scenario: Scenario, options: Options) {
  let id = 0;
  const result = await autocannon({
    url,
    method: "POST",
    duration: options.seconds,
    connections: options.connections,
    body: BODY,
    headers: {
      "content-type": "application/json",
      "pulumi-webhook-kind": "deployment",
      "pulumi-webhook-signature": scenario.signature,
    },
    requests: [
      {
        setupRequest: (request: Record<string, any>) => {
          request.headers = { ...request.headers, "pulumi-webhook-id": `bench-${process.pid}-${++id}` };
          return request;
        },
      },
    ],
    expectBody: undefined,
  });
  const statusKey = `${Math.floor(scenario.expect / 100)}xx`;
  const matching = (result as unknown as Record<string, number>)[statusKey] ?? 0;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    matching,
    errors: result.errors + result.timeouts + (result.non2xx - (scenario.expect >= 300 ? matching : 0)),
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const good = computeSignature(SECRET, BODY);
  const scenarios: Scenario[] = [
    { label: "bare node:http (reads body, answers JSON)", mode: "bare", signature: good, expect: 200 },
    { label: "avm serve receiver, signed deliveries", mode: "avm", signature: good, expect: 200 },
    { label: "avm serve receiver, forged deliveries", mode: "avm", signature: "0".repeat(64), expect: 401 },
  ];
  console.log(
    `webhook bench: node ${process.version}, autocannon ${options.connections} connections x ${options.seconds} s ` +
      `per scenario and round after a 1 s warm-up, ${options.rounds} rounds (scenarios alternate; medians shown), 127.0.0.1, ` +
      `body ${BODY.length} bytes`,
  );
  const servers = { bare: await startServer("bare"), avm: await startServer("avm") };
  const results = new Map<Scenario, Awaited<ReturnType<typeof load>>[]>();
  try {
    // Warm-up (JIT, connection pools), not counted.
    for (const scenario of scenarios) await load(servers[scenario.mode].url, scenario, { ...options, seconds: 1 });
    for (let round = 0; round < options.rounds; round++) {
      for (const scenario of scenarios) {
        const r = await load(servers[scenario.mode].url, scenario, options);
        results.set(scenario, [...(results.get(scenario) ?? []), r]);
      }
    }
  } finally {
    await Promise.all([stopServer(servers.bare.child), stopServer(servers.avm.child)]);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log("  scenario                                      req/s (rounds)              p50 ms  p99 ms  answers");
  for (const scenario of scenarios) {
    const rs = results.get(scenario)!;
    const rps = rs.map((r) => r.rps);
    const matching = rs.reduce((a, r) => a + r.matching, 0);
    const total = rs.reduce((a, r) => a + r.total, 0);
    const other = rs.reduce((a, r) => a + r.errors, 0);
    console.log(
      `  ${scenario.label.padEnd(44)} ${median(rps).toFixed(0).padStart(6)} (${rps.map((v) => v.toFixed(0)).join(", ")})`.padEnd(
        79,
      ) +
        `${String(median(rs.map((r) => r.p50))).padStart(6)}  ${String(median(rs.map((r) => r.p99))).padStart(6)}` +
        `  ${matching}/${total} x ${scenario.expect}${other > 0 ? `, ${other} other` : ""}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
