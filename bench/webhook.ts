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
import { computeSignature } from "../src/webhooks/signature";

interface Options {
  seconds: number;
  connections: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { seconds: 5, connections: 10 };
  for (let i = 0; i < argv.length; i += 2) {
    const value = Number(argv[i + 1]);
    if (argv[i] === "--seconds") options.seconds = value;
    else if (argv[i] === "--connections") options.connections = value;
    else throw new Error(`unknown argument ${argv[i]}; use --seconds N --connections N`);
  }
  if (!(options.seconds >= 1 && options.seconds <= 60)) throw new Error("--seconds: 1-60");
  if (!Number.isInteger(options.connections) || options.connections < 1 || options.connections > 200)
    throw new Error("--connections: 1-200");
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
      `per scenario, 127.0.0.1, body ${BODY.length} bytes`,
  );
  console.log("  scenario                                      req/s    p50 ms   p99 ms    requests  expected-status");
  for (const scenario of scenarios) {
    const { url, child } = await startServer(scenario.mode);
    try {
      const r = await load(url, scenario, options);
      console.log(
        `  ${scenario.label.padEnd(44)} ${r.rps.toFixed(0).padStart(6)}  ${String(r.p50).padStart(7)}  ${String(r.p99).padStart(7)}` +
          `  ${String(r.total).padStart(10)}  ${r.matching} x ${scenario.expect}${r.errors > 0 ? `, ${r.errors} other` : ""}`,
      );
    } finally {
      await stopServer(child);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
