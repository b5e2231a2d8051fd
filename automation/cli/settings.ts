/**
 * Settings of the `avm` CLI: each from its flag, else its environment variable, else a default.
 * Values are validated here so a bad one is a usage error (exit 2) naming the flag and the variable.
 *
 * | flag                        | environment                   | default                 |
 * |-----------------------------|-------------------------------|-------------------------|
 * | `--ledger <path>`           | `AVM_LEDGER`                  | `.avm/ledger.sqlite`    |
 * | `--ledger-table <name>`     | `AVM_LEDGER_TABLE`            | (SQLite)                |
 * | `--region <region>`         | `AWS_REGION`, `AWS_DEFAULT_REGION` | SDK default chain  |
 * | `--management-account-id`   | `AVM_MANAGEMENT_ACCOUNT_ID`   | (the organization's)    |
 * | `--automation-account-id`   | `AVM_AUTOMATION_ACCOUNT_ID`   | management account id   |
 * | `--default-ou`              | `AVM_DEFAULT_OU`              | (account stays at root) |
 * | `--bootstrap-role`          | `AVM_BOOTSTRAP_ROLE_NAME`     | `OrganizationAccountAccessRole` |
 * | `--access-role`             | `AVM_ACCESS_ROLE_NAME`        | `MeshstackAccountAccessRole` |
 * | `--runner`                  | `AVM_STACK_RUNNER`            | `auto`                  |
 */
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { isAccountId } from "../../src/shared/naming";
import { CliUsageError } from "./errors";

/** Environment variable names the CLI reads. */
export const CLI_ENV = {
  ledger: "AVM_LEDGER",
  ledgerTable: "AVM_LEDGER_TABLE",
  managementAccountId: "AVM_MANAGEMENT_ACCOUNT_ID",
  automationAccountId: "AVM_AUTOMATION_ACCOUNT_ID",
  defaultOu: "AVM_DEFAULT_OU",
  bootstrapRoleName: "AVM_BOOTSTRAP_ROLE_NAME",
  accessRoleName: "AVM_ACCESS_ROLE_NAME",
  externalId: "AVM_EXTERNAL_ID",
  stackRunner: "AVM_STACK_RUNNER",
  webhookSecret: "AVM_WEBHOOK_SECRET",
  debug: "AVM_DEBUG",
} as const;

/** Default SQLite ledger file, relative to the working directory. */
export const DEFAULT_LEDGER_PATH = path.join(".avm", "ledger.sqlite");

/** Where the ledger lives. */
export type LedgerSpec =
  | { readonly kind: "sqlite"; readonly path: string }
  | { readonly kind: "dynamodb"; readonly table: string; readonly region?: string };

/** The global options as parsed by commander. */
export interface GlobalFlags {
  readonly ledger?: string;
  readonly ledgerTable?: string;
  readonly region?: string;
  readonly json?: boolean;
  readonly quiet?: boolean;
}

/** Resolved global settings. */
export interface GlobalSettings {
  readonly ledger: LedgerSpec;
  /** Region for the ledger table and account stacks; `undefined` leaves it to the SDK's chain. */
  readonly region?: string;
  readonly json: boolean;
  /** No progress lines on stderr. */
  readonly quiet: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** The first non-empty value among a flag and environment variables. */
export function pick(flag: string | undefined, env: Env, ...names: string[]): string | undefined {
  if (flag !== undefined && flag.trim() !== "") return flag.trim();
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value.trim() !== "") return value.trim();
  }
  return undefined;
}

/**
 * Resolves the global settings.
 * @throws CliUsageError when `--ledger` and `--ledger-table` are both given or the region is malformed
 */
export function resolveGlobalSettings(flags: GlobalFlags, env: Env, cwd: string): GlobalSettings {
  if (flags.ledger !== undefined && flags.ledgerTable !== undefined) {
    throw new CliUsageError("--ledger and --ledger-table are mutually exclusive (SQLite file or DynamoDB table)");
  }
  const region = pick(flags.region, env, "AWS_REGION", "AWS_DEFAULT_REGION");
  if (region !== undefined && !REGION.test(region)) {
    throw new CliUsageError(`--region must look like eu-central-1, got "${region}"`);
  }
  const table = flags.ledger === undefined ? pick(flags.ledgerTable, env, CLI_ENV.ledgerTable) : undefined;
  let ledger: LedgerSpec;
  if (table !== undefined) {
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(table)) {
      throw new CliUsageError(`--ledger-table must be a DynamoDB table name ([A-Za-z0-9_.-], 3-255), got "${table}"`);
    }
    ledger = { kind: "dynamodb", table, ...(region !== undefined ? { region } : {}) };
  } else {
    const file = pick(flags.ledger, env, CLI_ENV.ledger) ?? DEFAULT_LEDGER_PATH;
    ledger = { kind: "sqlite", path: file === ":memory:" ? file : path.resolve(cwd, file) };
  }
  return {
    ledger,
    ...(region !== undefined ? { region } : {}),
    json: flags.json === true,
    quiet: flags.quiet === true,
  };
}

/**
 * An optional 12-digit account id from a flag or the environment.
 * @throws CliUsageError naming the flag and the variable when the value is not 12 digits
 */
export function accountIdSetting(flag: string | undefined, env: Env, flagName: string, envName: string) {
  const value = pick(flag, env, envName);
  if (value !== undefined && !isAccountId(value)) {
    throw new CliUsageError(`${flagName} (or ${envName}) must be a 12-digit AWS account id, got "${value}"`);
  }
  return value;
}

/**
 * A role name from a flag or the environment.
 * @throws CliUsageError naming the flag when it breaks the IAM role-name rule
 */
export function roleNameSetting(flag: string | undefined, env: Env, flagName: string, envName: string) {
  const value = pick(flag, env, envName);
  if (value !== undefined && !/^[\w+=,.@-]{1,64}$/.test(value)) {
    throw new CliUsageError(`${flagName} (or ${envName}) must match [\\w+=,.@-]{1,64}, got "${value}"`);
  }
  return value;
}

/** How account stacks are run. `auto`: `local` when a `pulumi` binary is on PATH, else `remote` when Pulumi Deployments is configured, else an error (never `offline`, which only plans). */
export type RunnerKind = "auto" | "local" | "offline" | "remote";

/** Parses `--runner` / `AVM_STACK_RUNNER`. */
export function runnerSetting(flag: string | undefined, env: Env): RunnerKind {
  const value = pick(flag, env, CLI_ENV.stackRunner) ?? "auto";
  if (value !== "auto" && value !== "local" && value !== "offline" && value !== "remote") {
    throw new CliUsageError(
      `--runner (or ${CLI_ENV.stackRunner}) must be auto, local, offline or remote, got "${value}"`,
    );
  }
  return value;
}

/** True when an executable `pulumi` is on `PATH` in `env`. */
export function pulumiOnPath(env: Env): boolean {
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    try {
      accessSync(path.join(dir, "pulumi"), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}
