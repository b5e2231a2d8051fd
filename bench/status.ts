/**
 * Status lookup cost: AWS API calls and time of `avm status` (the CLI's own command, run in-process through
 * `automation/cli/main.ts` `run()`) with 1, 100 and 1,000 accounts in the organization, against moto. The ledger is
 * the DynamoDB table as deployed, holding one record per account; SDK calls are counted by a middleware on the
 * DynamoDB and Organizations clients the command is given. The figures must not grow with the organization.
 *
 *   node --import tsx bench/status.ts [--sizes 1,100,1000] [--lookups 20]
 */
import { performance } from "node:perf_hooks";
import { CreateAccountCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createOrganizationWithOu, localClientConfig, startMoto } from "../automation/localAws";
import { DynamoLedger, createLedgerTable } from "../src/adapters/aws/dynamoLedger";
import { runCliCountingCalls, tally } from "../test/support/countCalls";

interface Options {
  sizes: number[];
  lookups: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { sizes: [1, 100, 1000], lookups: 20 };
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1] ?? "";
    if (argv[i] === "--sizes") options.sizes = value.split(",").map(Number);
    else if (argv[i] === "--lookups") options.lookups = Number(value);
    else throw new Error(`unknown argument ${argv[i]}; use --sizes 1,100,1000 --lookups 20`);
  }
  if (options.sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 2000)) throw new Error("--sizes: 1-2000");
  if (!Number.isInteger(options.lookups) || options.lookups < 1 || options.lookups > 500)
    throw new Error("--lookups: 1-500");
  return options;
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const moto = await startMoto();
  const limit = setTimeout(() => {
    console.error("status bench exceeded 10 minutes; stopping");
    void moto.stop().then(() => process.exit(1));
  }, 600_000);
  try {
    console.log(`status bench: moto ${moto.version}, node ${process.version}, ${options.lookups} lookups per key`);
    console.log(
      "  accounts  lookup by   AWS calls/lookup  of which Organizations  calls by command      p50 ms  max ms",
    );
    for (const n of options.sizes) {
      await moto.reset();
      const config = localClientConfig(moto.endpoint);
      await createOrganizationWithOu(moto.endpoint, "Workloads");
      const setupOrgs = new OrganizationsClient(config);
      const setupDynamo = new DynamoDBClient(config);
      const table = "avm-ledger";
      await createLedgerTable(setupDynamo, table);
      const setupLedger = new DynamoLedger({ client: setupDynamo, tableName: table });
      const emails = Array.from({ length: n }, (_, i) => `status-${n}-${i}@example.com`);
      const accountIds = new Map<string, string>();
      await pool(emails, 8, async (email) => {
        const created = await setupOrgs.send(
          new CreateAccountCommand({ Email: email, AccountName: email.split("@")[0]! }),
        );
        const accountId = created.CreateAccountStatus!.AccountId!;
        accountIds.set(email, accountId);
        await setupLedger.claim(
          {
            email,
            requestId: `req-${email.split("@")[0]}`,
            kind: "vend",
            request: { accountName: email.split("@")[0], email },
            accountId,
          },
          new Date(),
        );
      });
      setupOrgs.destroy();
      setupDynamo.destroy();

      const target = Math.floor(n / 2);
      const keys: [string, string[]][] = [
        ["email", ["--email", emails[target]!]],
        ["account id", ["--account-id", accountIds.get(emails[target]!)!]],
        ["request id", ["--request-id", `req-${emails[target]!.split("@")[0]}`]],
      ];
      for (const [label, flags] of keys) {
        const calls: string[] = [];
        const orgCalls: string[] = [];
        const times: number[] = [];
        for (let i = 0; i < options.lookups; i++) {
          const started = performance.now();
          const { code, stdout, stderr } = await runCliCountingCalls(
            config,
            table,
            ["status", ...flags],
            calls,
            orgCalls,
          );
          times.push(performance.now() - started);
          if (code !== 0 || !stdout.includes(emails[target]!)) {
            throw new Error(`avm status ${flags.join(" ")} failed (${code}): ${stderr}${stdout}`);
          }
        }
        const total = calls.length / options.lookups;
        const orgs = orgCalls.length / options.lookups;
        const byCommand = [...Object.entries(tally(calls)), ...Object.entries(tally(orgCalls))]
          .map(([name, count]) => `${name} ${count / options.lookups}`)
          .join(", ");
        console.log(
          `  ${String(n).padStart(8)}  ${label.padEnd(10)}  ${(total + orgs).toFixed(1).padStart(16)}  ${orgs.toFixed(1).padStart(22)}` +
            `  ${byCommand.padEnd(20)}  ${median(times).toFixed(1).padStart(6)}  ${Math.max(...times)
              .toFixed(1)
              .padStart(6)}`,
        );
      }
    }
  } finally {
    clearTimeout(limit);
    await moto.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
