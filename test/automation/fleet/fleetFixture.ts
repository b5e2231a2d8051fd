/**
 * Fixtures of the fleet specs: an Organizations client answering from a fixed list of accounts (aws-sdk-client-mock,
 * ListAccounts in pages of 20 as AWS does), and an in-process `avm` run that captures stdout and stderr.
 */
import {
  DescribeOrganizationCommand,
  ListAccountsCommand,
  OrganizationsClient,
  type Account,
} from "@aws-sdk/client-organizations";
import { mockClient } from "aws-sdk-client-mock";
import { run, type CliDeps } from "../../../automation/cli/main";

/** The management account of the fixtures. */
export const MANAGEMENT = "111122223333";
/** The automation account of the fixtures. */
export const AUTOMATION = "444455556666";

/** `n` member account ids, `200000000000`, `200000000001`, ... */
export function accountIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String(200_000_000_000 + i));
}

/** An Organizations client whose organization holds the management account and `members` (all ACTIVE). */
export function fakeOrganizations(
  members: readonly string[],
  status: Record<string, string> = {},
): OrganizationsClient {
  const client = new OrganizationsClient({ region: "us-east-1" });
  const mock = mockClient(client);
  const all: Account[] = [MANAGEMENT, ...members].map((id) => ({
    Id: id,
    Email: `aws+${id}@example.com`,
    Name: `acct-${id}`,
    Status: (status[id] ?? "ACTIVE") as Account["Status"],
  }));
  mock.on(DescribeOrganizationCommand).resolves({ Organization: { Id: "o-exampleorg1", MasterAccountId: MANAGEMENT } });
  mock.on(ListAccountsCommand).callsFake((input: { NextToken?: string }) => {
    const start = Number(input.NextToken ?? 0);
    const next = start + 20;
    return { Accounts: all.slice(start, next), ...(next < all.length ? { NextToken: String(next) } : {}) };
  });
  return client;
}

/** Output of one in-process run. */
export interface FleetRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `avm <argv>` in-process with `deps` (stack flags for the fixtures' accounts appended by the caller). */
export async function runAvm(
  argv: readonly string[],
  deps: Partial<CliDeps>,
  options: { cwd: string; env?: Record<string, string>; isTTY?: boolean } = { cwd: process.cwd() },
): Promise<FleetRun> {
  let stdout = "";
  let stderr = "";
  const code = await run(
    argv,
    {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s), isTTY: options.isTTY === true, columns: 100 },
      stdin: "",
      env: { AWS_REGION: "us-east-1", ...(options.env ?? {}) },
      cwd: options.cwd,
    },
    deps,
  );
  return { code, stdout, stderr };
}

/** The stack flags every fleet call of the fixtures passes. */
export const STACK_FLAGS = ["--management-account-id", MANAGEMENT, "--automation-account-id", AUTOMATION] as const;
