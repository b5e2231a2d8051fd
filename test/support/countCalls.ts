/**
 * Counts the commands an AWS SDK v3 client sends (an `initialize` middleware), for exact AWS call-count assertions.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { bindLedger } from "../../automation/cli/deps";
import { run } from "../../automation/cli/main";
import type { LocalClientConfig } from "../../automation/localAws";
import { DynamoLedger } from "../../src/adapters/aws/dynamoLedger";

/** Adds a middleware to `client` that pushes each command's name (without `Command`) onto `calls`; returns `client`. */
export function countCalls<T>(client: T, calls: string[]): T {
  (
    client as unknown as {
      middlewareStack: { add(mw: unknown, options: { step: string; name: string; priority: string }): void };
    }
  ).middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      calls.push((context.commandName ?? "unknown").replace(/Command$/, ""));
      return next(args);
    },
    { step: "initialize", name: "countCalls", priority: "high" },
  );
  return client;
}

/** `{name: count}` of recorded calls, keys sorted. */
export function tally(calls: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of [...calls].sort()) counts[call] = (counts[call] ?? 0) + 1;
  return counts;
}

/**
 * Runs `avm <argv> --ledger-table <table> --json` in-process against DynamoDB and Organizations at `config` (moto),
 * pushing every AWS call the command makes onto `calls` (by command name, as {@link countCalls}); the Organizations
 * calls go to `organizationsCalls` instead when it is given (default: `calls`, all calls in one list).
 */
export async function runCliCountingCalls(
  config: LocalClientConfig,
  table: string,
  argv: readonly string[],
  calls: string[],
  organizationsCalls: string[] = calls,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await run(
    [...argv, "--ledger-table", table, "--json"],
    {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      stdin: "",
      env: { AWS_REGION: "us-east-1" },
      cwd: process.cwd(),
    },
    {
      openLedger: async () => {
        const client = countCalls(new DynamoDBClient(config), calls);
        return { ...bindLedger(new DynamoLedger({ client, tableName: table })), close: async () => client.destroy() };
      },
      organizationsClient: () => countCalls(new OrganizationsClient(config), organizationsCalls),
    },
  );
  return { code, stdout, stderr };
}
