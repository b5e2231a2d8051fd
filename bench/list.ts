/**
 * `avm list` page cost: AWS calls and time of one page (`avm list --limit <page> --json`, the CLI's own command run
 * in-process through `automation/cli/main.ts` `run()`) with 1, 1,000 and 10,000 records in the ledger: the first
 * page and a page after a cursor in the middle, on
 * - the DynamoDB table as deployed (the `byStateCreatedAt` index: one Query per state),
 * - the table as deployed before that index existed (the old path: a Scan of the whole table, cut in memory),
 * - the SQLite ledger file (a keyset query).
 * Records are written one millisecond apart, spread over four states. The DynamoDB figures are moto's, whose Query
 * reads every item of the table in memory, so its times grow with the table even where the calls do not.
 *
 *   node --import tsx bench/list.ts [--sizes 1,1000,10000] [--runs 5] [--page 100]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { BatchWriteItemCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { localClientConfig, startMoto } from "../automation/localAws";
import { run } from "../automation/cli/main";
import { bindLedger } from "../automation/cli/deps";
import { type ListJson } from "../automation/cli/commands/list";
import { DynamoLedger, createLedgerTable } from "../src/adapters/aws/dynamoLedger";
import { LEDGER_INDEXES } from "../src/adapters/aws/ledgerTable";
import { SqliteLedger } from "../src/adapters/local/sqliteLedger";
import { type LedgerRecord, type RequestState } from "../src/core/ledger";
import { createRecord, encodeListCursor } from "../src/core/ledgerRecords";
import { type Ledger } from "../src/core/ports";
import { countCalls, tally } from "../test/support/countCalls";

interface Options {
  sizes: number[];
  runs: number;
  page: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { sizes: [1, 1_000, 10_000], runs: 5, page: 100 };
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1] ?? "";
    if (argv[i] === "--sizes") options.sizes = value.split(",").map(Number);
    else if (argv[i] === "--runs") options.runs = Number(value);
    else if (argv[i] === "--page") options.page = Number(value);
    else throw new Error(`unknown argument ${argv[i]}; use --sizes 1,1000,10000 --runs 5 --page 100`);
  }
  if (options.sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 20_000)) throw new Error("--sizes: 1-20000");
  if (!Number.isInteger(options.runs) || options.runs < 1 || options.runs > 50) throw new Error("--runs: 1-50");
  if (!Number.isInteger(options.page) || options.page < 1 || options.page > 1_000) throw new Error("--page: 1-1000");
  return options;
}

const SPREAD: readonly RequestState[] = ["SUCCEEDED", "FAILED", "PLANNED", "BOOTSTRAPPING"];
const T0 = Date.parse("2026-01-01T00:00:00.000Z");

function records(n: number): LedgerRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const email = `row-${i}@example.com`;
    const request = { accountName: `row-${i}`, email };
    return createRecord(
      { email, requestId: `req-${i}`, kind: "vend", request, state: SPREAD[i % 4] },
      new Date(T0 + i),
    );
  });
}

/** Writes the records into a DynamoDB table with the current layout, or (`legacy`) the one before `byStateCreatedAt`. */
async function dynamoTable(client: DynamoDBClient, name: string, rows: LedgerRecord[], legacy: boolean): Promise<void> {
  await createLedgerTable(client, name, legacy ? LEDGER_INDEXES.filter((i) => i.rangeKey === undefined) : undefined);
  for (let start = 0; start < rows.length; start += 25) {
    const items = rows
      .slice(start, start + 25)
      .map((r) => ({ PutRequest: { Item: marshall(r, { removeUndefinedValues: true }) } }));
    await client.send(new BatchWriteItemCommand({ RequestItems: { [name]: items } }));
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Runs `avm list <flags> --json` `runs` times on `open()`'s ledger: p50 ms, max ms, calls per run. */
async function measure(
  flags: string[],
  runs: number,
  open: (calls: string[]) => Ledger,
  expectCount: number,
): Promise<{ p50: number; max: number; calls: string }> {
  const calls: string[] = [];
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    let stdout = "";
    let stderr = "";
    const started = performance.now();
    const code = await run(
      ["list", ...flags, "--json"],
      {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        stdin: "",
        env: { AWS_REGION: "us-east-1" },
        cwd: process.cwd(),
      },
      { openLedger: async () => open(calls) },
    );
    times.push(performance.now() - started);
    const count = code === 0 ? (JSON.parse(stdout) as ListJson).count : -1;
    if (count !== expectCount)
      throw new Error(`avm list ${flags.join(" ")}: exit ${code}, ${count} records: ${stderr}`);
  }
  const perRun =
    Object.entries(tally(calls))
      .map(([name, count]) => `${name} ${count / runs}`)
      .join(", ") || "-";
  return { p50: median(times), max: Math.max(...times), calls: perRun };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const moto = await startMoto();
  const dir = mkdtempSync(path.join(tmpdir(), "avm-list-bench-"));
  const limit = setTimeout(() => {
    console.error("list bench exceeded 12 minutes; stopping");
    void moto.stop().then(() => process.exit(1));
  }, 720_000);
  try {
    console.log(
      `list bench: moto ${moto.version}, node ${process.version}, ${options.runs} runs per row, --limit ${options.page}`,
    );
    console.log("  records  ledger                 page         calls per page                 p50 ms  max ms");
    const config = localClientConfig(moto.endpoint);
    for (const n of options.sizes) {
      await moto.reset();
      const rows = records(n);
      const setup = new DynamoDBClient(config);
      await dynamoTable(setup, "avm-ledger", rows, false);
      await dynamoTable(setup, "avm-ledger-old", rows, true);
      setup.destroy();
      const file = path.join(dir, `ledger-${n}.sqlite`);
      const sqlite = new SqliteLedger({ path: file });
      for (const r of rows) await sqlite.claim({ ...r, state: r.state }, new Date(r.createdAt));
      await sqlite.close();
      const middle = Math.floor(n / 2);
      const pages: [string, string[], number][] = [
        ["first", [], Math.min(options.page, n)],
        ["middle", ["--after", encodeListCursor(rows[middle]!)], Math.min(options.page, n - middle - 1)],
      ];
      const ledgers: [string, string[], (calls: string[]) => Ledger][] = [
        ["DynamoDB (index)", ["--ledger-table", "avm-ledger"], (calls) => dynamo("avm-ledger", calls)],
        ["DynamoDB (no index)", ["--ledger-table", "avm-ledger-old"], (calls) => dynamo("avm-ledger-old", calls)],
        ["SQLite file", ["--ledger", file], () => new SqliteLedger({ path: file })],
      ];
      function dynamo(table: string, calls: string[]): Ledger {
        const client = countCalls(new DynamoDBClient(config), calls);
        return { ...bindLedger(new DynamoLedger({ client, tableName: table })), close: async () => client.destroy() };
      }
      for (const [label, ledgerFlags, open] of ledgers) {
        for (const [pageLabel, pageFlags, expected] of pages) {
          const flags = [...ledgerFlags, "--limit", String(options.page), ...pageFlags];
          const figure = await measure(flags, options.runs, open, expected);
          console.log(
            `  ${String(n).padStart(7)}  ${label.padEnd(21)}  ${pageLabel.padEnd(11)}  ${figure.calls.padEnd(29)}` +
              `  ${figure.p50.toFixed(1).padStart(6)}  ${figure.max.toFixed(1).padStart(6)}`,
          );
        }
      }
    }
  } finally {
    clearTimeout(limit);
    rmSync(dir, { recursive: true, force: true });
    await moto.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
