/**
 * Fleet figures. (1) `avm fleet status` (the CLI's own command, in-process through `run()`) for 1,000 member
 * accounts in moto, every account with an account stack on the recording fake engine (test/support) and a ledger
 * record: wall time and AWS calls by command. (2) Rollout orchestration overhead per stack: `avm fleet rollout` of
 * N stacks on the recording fake engine, whose operations cost nothing, so the wall time per stack is what the
 * rollout adds (selection, config validation, journal appends, progress, the engine seam calls); shown beside bare
 * `AccountStacks.deploy` of the same stacks, and with the journal on disk.
 *
 *   node --import tsx bench/fleet.ts [--accounts 1000] [--stacks 1000] [--runs 3]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { CreateAccountCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { createOrganizationWithOu, localClientConfig, startMoto } from "../automation/localAws";
import { run } from "../automation/cli/main";
import { AccountStacks } from "../automation/stacks/accountStacks";
import { SqliteLedger } from "../src/adapters/local/sqliteLedger";
import { countCalls } from "../test/support/countCalls";
import { RecordingEngine } from "../test/support/recordingEngine";
import { RecordingTiming } from "../test/support/recordingTiming";
import { accountIds, fakeOrganizations } from "../test/automation/fleet/fleetFixture";

const AUTOMATION = "444455556666";

function parseArgs(argv: string[]) {
  const options = { accounts: 1000, stacks: 1000, runs: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, "") as keyof typeof options;
    if (!(key in options)) throw new Error(`unknown argument ${argv[i]}; use --accounts N --stacks N --runs N`);
    options[key] = Number(argv[i + 1]);
  }
  return options;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const quietIo = (cwd: string) => ({
  stdout: { write: () => true },
  stderr: { write: () => true },
  stdin: "",
  env: { AWS_REGION: "us-east-1" },
  cwd,
});

async function statusBench(n: number, runs: number): Promise<void> {
  const moto = await startMoto();
  const dir = mkdtempSync(path.join(tmpdir(), "avm-bench-fleet-"));
  try {
    const org = await createOrganizationWithOu(moto.endpoint);
    const client = new OrganizationsClient(localClientConfig(moto.endpoint));
    const ledgerPath = path.join(dir, "ledger.sqlite");
    const ledger = new SqliteLedger({ path: ledgerPath });
    const settings = {
      managementAccountId: org.managementAccountId,
      automationAccountId: AUTOMATION,
      region: "us-east-1",
    };
    const engine = new RecordingEngine();
    engine.stampUp = true;
    engine.outputLines = [];
    const stacks = new AccountStacks({ engine, settings, timing: new RecordingTiming() });
    const setupStart = performance.now();
    for (let i = 0; i < n; i++) {
      const email = `fleet-${i}@example.com`;
      const out = await client.send(new CreateAccountCommand({ Email: email, AccountName: `fleet-${i}` }));
      const accountId = out.CreateAccountStatus!.AccountId!;
      await ledger.claim(
        {
          email,
          requestId: `req-${i}`,
          kind: "vend",
          request: { accountName: `fleet-${i}`, email, tags: {} },
          accountId,
          state: "SUCCEEDED",
        },
        new Date(),
      );
      await stacks.deploy({ accountId });
    }
    await ledger.close();
    client.destroy();
    console.log(
      `fleet status: ${n} member accounts in moto ${moto.version} (setup ${((performance.now() - setupStart) / 1000).toFixed(1)} s)`,
    );
    const times: number[] = [];
    let calls: string[] = [];
    for (let r = 0; r < runs; r++) {
      calls = [];
      const recorded = calls;
      const started = performance.now();
      const code = await run(
        [
          "--ledger",
          ledgerPath,
          "--json",
          "-q",
          "fleet",
          "status",
          "--management-account-id",
          org.managementAccountId,
          "--automation-account-id",
          AUTOMATION,
        ],
        quietIo(dir),
        {
          organizationsClient: () => countCalls(new OrganizationsClient(localClientConfig(moto.endpoint)), recorded),
          pulumiEngine: async () => engine,
          hasPulumiCli: () => true,
        },
      );
      times.push(performance.now() - started);
      if (code !== 0) throw new Error(`fleet status exited ${code}`);
    }
    const byCommand = new Map<string, number>();
    for (const c of calls) byCommand.set(c, (byCommand.get(c) ?? 0) + 1);
    console.log(
      `  wall p50 ${median(times).toFixed(0)} ms over ${runs} runs (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}); ` +
        `AWS calls per run ${calls.length}: ${[...byCommand].map(([k, v]) => `${k} ${v}`).join(", ")}; ` +
        `engine: 1 listStacks + ${n} outputs reads`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await moto.stop();
  }
}

async function rolloutBench(n: number, runs: number): Promise<void> {
  const ids = accountIds(n);
  const settings = { managementAccountId: "111122223333", automationAccountId: AUTOMATION, region: "us-east-1" };
  console.log(`rollout overhead: ${n} stacks, recording fake engine (operations cost ~0), concurrency 4`);
  const rows: string[] = [];
  for (let r = 0; r < runs; r++) {
    const engine = new RecordingEngine();
    engine.stampUp = true;
    engine.outputLines = [];
    const stacks = new AccountStacks({ engine, settings, timing: new RecordingTiming() });
    for (const id of ids) await stacks.deploy({ accountId: id });
    // Bare AccountStacks.deploy of every stack (config validation + engine seam calls), 4 at a time.
    const bareStart = performance.now();
    await stacks.deployMany(
      ids.map((accountId) => ({ accountId })),
      { concurrency: 4 },
    );
    const bare = (performance.now() - bareStart) / n;
    const dir = mkdtempSync(path.join(tmpdir(), "avm-bench-rollout-"));
    try {
      const started = performance.now();
      const code = await run(
        [
          "--ledger",
          ":memory:",
          "--json",
          "-q",
          "fleet",
          "rollout",
          "--management-account-id",
          "111122223333",
          "--automation-account-id",
          AUTOMATION,
        ],
        quietIo(dir),
        {
          organizationsClient: () => fakeOrganizations(ids),
          pulumiEngine: async () => engine,
          hasPulumiCli: () => true,
        },
      );
      const total = (performance.now() - started) / n;
      if (code !== 0) throw new Error(`rollout exited ${code}`);
      rows.push(
        `  run ${r + 1}: rollout ${total.toFixed(2)} ms/stack (bare AccountStacks.deploy ${bare.toFixed(2)} ms/stack; rollout layer ${(total - bare).toFixed(2)} ms/stack)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const row of rows) console.log(row);
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  console.log(`fleet bench: node ${process.version}`);
  await rolloutBench(options.stacks, options.runs);
  await statusBench(options.accounts, options.runs);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
