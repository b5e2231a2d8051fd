/**
 * The `avm` command tree (commander). Built fresh for every run so parsed option state never leaks
 * between in-process runs. Every command has `--help` with an example, writes results to stdout (`--json`
 * for scripts), progress to stderr, and ends with an exit code (0 ok, 1 runtime error, 2 usage error).
 */
import { Command, InvalidArgumentError, Option } from "commander";
import type { CommandContext } from "./context";
import type { CliDeps } from "./deps";
import type { CliIo } from "./io";
import { Output } from "./output";
import { CLI_ENV, resolveGlobalSettings, type GlobalFlags } from "./settings";

export type { CliDeps } from "./deps";

/**
 * The command modules, loaded when their command runs (literal `require()`s, which esbuild bundles without
 * evaluating them at start): `avm --help` and `avm status` do not load the vending workflow or zod.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const commands = {
  vend: () => require("./commands/vend") as typeof import("./commands/vend"),
  status: () => require("./commands/status") as typeof import("./commands/status"),
  list: () => require("./commands/list") as typeof import("./commands/list"),
  bootstrap: () => require("./commands/bootstrap") as typeof import("./commands/bootstrap"),
  plan: () => require("./commands/plan") as typeof import("./commands/plan"),
  planPlatform: () => require("./commands/planPlatform") as typeof import("./commands/planPlatform"),
  close: () => require("./commands/close") as typeof import("./commands/close"),
  serve: () => require("./commands/serve") as typeof import("./commands/serve"),
  invoke: () => require("./commands/invoke") as typeof import("./commands/invoke"),
  reconcile: () => require("./commands/reconcile") as typeof import("./commands/reconcile"),
  webhooks: () => require("./commands/webhooks") as typeof import("./commands/webhooks"),
  doctor: () => require("./commands/doctor") as typeof import("./commands/doctor"),
  retry: () => require("./commands/retry") as typeof import("./commands/retry"),
  outputs: () => require("./commands/outputs") as typeof import("./commands/outputs"),
  fleet: () => require("./commands/fleet") as typeof import("./commands/fleet"),
  fleetRollout: () => require("./commands/fleetRollout") as typeof import("./commands/fleetRollout"),
  fleetAdopt: () => require("./commands/fleetAdopt") as typeof import("./commands/fleetAdopt"),
  fleetDrift: () => require("./commands/fleetDrift") as typeof import("./commands/fleetDrift"),
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Mutable result of one run, set by the action that ran. */
export interface RunState {
  exitCode: number;
  /** True once the command printed its `--json` result (an error then prints no second document). */
  wroteJson?: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION = (require("../../package.json") as { version: string }).version;

function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1) {
      throw new InvalidArgumentError(`${name} must be a positive integer.`);
    }
    return Number(value);
  };
}

function nonNegativeInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a non-negative integer.`);
    return Number(value);
  };
}

function percent(name: string) {
  return (value: string): number => {
    if (!/^\d+(\.\d+)?$/.test(value) || Number(value) > 100) {
      throw new InvalidArgumentError(`${name} must be a number from 0 to 100.`);
    }
    return Number(value);
  };
}

function port(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError("must be a port number 0-65535.");
  return Number(value);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const STACK_ENV_HELP = `
Account stack settings (flag, else environment):
  --management-account-id  ${CLI_ENV.managementAccountId} (vend: default the organization's management account)
  --automation-account-id  ${CLI_ENV.automationAccountId} (default: the management account)
  --bootstrap-role         ${CLI_ENV.bootstrapRoleName} (default OrganizationAccountAccessRole)
  --access-role            ${CLI_ENV.accessRoleName} (default MeshstackAccountAccessRole)
  external id              ${CLI_ENV.externalId} (environment only; never printed)
  state backend            PULUMI_BACKEND_URL (default file://.avm/state), PULUMI_CONFIG_PASSPHRASE
  Pulumi Deployments       PULUMI_ACCESS_TOKEN (never printed)`;

/** Options of the commands that drive requests to a terminal state (`vend`, `retry`). */
function addDriveOptions(command: Command): Command {
  return command
    .option("--default-ou <ou>", `OU for requests naming none (env ${CLI_ENV.defaultOu})`)
    .option(
      "--timeout <seconds>",
      "stop waiting after this long; the request stays resumable",
      positiveInt("--timeout"),
    )
    .option(
      "--concurrency <n>",
      "batch files: requests driven at once (default 10; CreateAccount stays within the slots)",
      positiveInt("--concurrency"),
    );
}

function addStackOptions(command: Command, withRunner: boolean): Command {
  command
    .option("--management-account-id <id>", `management account id (env ${CLI_ENV.managementAccountId})`)
    .option("--automation-account-id <id>", `automation account id (env ${CLI_ENV.automationAccountId})`)
    .option("--bootstrap-role <name>", `role assumed in the new account (env ${CLI_ENV.bootstrapRoleName})`)
    .option("--access-role <name>", `name of the meshStack access role (env ${CLI_ENV.accessRoleName})`);
  if (withRunner) {
    command.addOption(
      new Option(
        "--runner <kind>",
        `how the account stack step runs (env ${CLI_ENV.stackRunner}; auto = local if pulumi is on PATH, else remote if Pulumi Deployments is configured, else an error; offline only plans: the request ends PLANNED)`,
      ).choices(["auto", "local", "offline", "remote"]),
    );
  }
  return command;
}

/**
 * Builds the command tree for one run.
 * @param io the run's streams and environment
 * @param deps the run's dependencies
 * @param state receives the exit code chosen by the action
 */
export function buildProgram(io: CliIo, deps: CliDeps, state: RunState): Command {
  const program = new Command("avm");
  program
    .description("meshStack AWS Account Vending Machine: vend accounts, deploy their stacks, inspect the ledger")
    .version(VERSION, "-V, --version")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      // Errors are reported by run() as one `avm: error: ...` line.
      outputError: () => undefined,
    })
    .showSuggestionAfterError(true)
    .option("--ledger <path>", `SQLite ledger file (env ${CLI_ENV.ledger}; default .avm/ledger.sqlite)`)
    .option("--ledger-table <name>", `DynamoDB ledger table instead of SQLite (env ${CLI_ENV.ledgerTable})`)
    .option("--region <region>", "AWS region of the ledger table and account stacks (env AWS_REGION)")
    .option("--json", "print results as JSON on stdout (for scripts)")
    .option("-q, --quiet", "no progress lines on stderr")
    .addHelpText(
      "after",
      `
Exit codes: 0 success, 1 runtime error (AWS, engine, request FAILED, not found), 2 usage error, 130 interrupted.
AWS credentials come from the standard chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO, instance roles);
AWS_ENDPOINT_URL points every client at another endpoint (e.g. a local moto).

Example:
  $ avm vend --account-name team-a-dev --email aws+team-a-dev@example.com --ou /Workloads --tag CostCenter=1234
  $ avm status --email aws+team-a-dev@example.com --json`,
    );

  const action =
    <A extends unknown[]>(fn: (ctx: CommandContext, ...args: A) => Promise<number | void>) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args.at(-1) as Command;
      const global = command.optsWithGlobals() as GlobalFlags;
      const settings = resolveGlobalSettings(global, io.env, io.cwd);
      const ctx: CommandContext = {
        io,
        deps,
        settings,
        out: new Output(io, settings.json, settings.quiet, () => (state.wroteJson = true)),
      };
      const code = await fn(ctx, ...(args.slice(0, -1) as A));
      state.exitCode = typeof code === "number" ? code : 0;
    };

  addStackOptions(
    addDriveOptions(
      program
        .command("vend")
        .description(
          "vend one account: record the request, create it, move, tag, deploy its stack, write completion tags",
        )
        .option(
          "-f, --file <path>",
          "JSON vend request, or a batch: JSON Lines (.jsonl, one request per line) or a JSON array (- for stdin)",
        )
        .option("--account-name <name>", "account name (1-50 printable ASCII)")
        .option("--email <email>", "root email of the new account")
        .option("--ou <ou>", "target OU: id (ou-...), root (r-...) or path (/Workloads/Prod)")
        .option("--tag <key=value>", "account tag (repeatable)", collect)
        .option("--request-id <id>", "request id (default: generated)")
        .option("--product-name <name>", "completion tag ProductName (meshStack workspace)")
        .option("--stage <stage>", "completion tag Stage (meshStack project)"),
    ),
    true,
  )
    .addHelpText(
      "after",
      `${STACK_ENV_HELP}

The request file holds {"accountName", "email", "targetOu"?, "tags"?, "requestId"?, "productName"?, "stage"?}.
Fields are validated before anything is recorded, and the target OU before CreateAccount: a request that
cannot succeed fails without creating an account. Running the same vend again resumes the same request, and
retries it when it FAILED (with the corrected fields you give); it never creates a second account.
Exit codes: 0 SUCCEEDED (or waiting for a deployment's webhook), 1 FAILED or not finished in time (run it
again), 2 invalid request (nothing recorded).

Example:
  $ avm vend --account-name team-a-dev --email aws+team-a-dev@example.com --ou /Workloads --tag CostCenter=1234
  $ avm vend --file request.json --json`,
    )
    .action(action(async (ctx, options) => commands.vend().vendCommand(ctx, options as never)));

  addStackOptions(
    addDriveOptions(
      program
        .command("retry")
        .description("retry a FAILED request (or resume an unfinished one) once its cause is fixed")
        .argument("<key>", "the request's account email or request id"),
    ),
    true,
  )
    .addHelpText(
      "after",
      `${STACK_ENV_HELP}

A FAILED request goes back to RECEIVED and resumes from where its account stands: with an account id it
moves, tags, deploys and completes; after a CreateAccount that may have reached AWS it looks the email up
before creating anything. It never creates a second account. A SUCCEEDED request is reported (exit 0).
Exit codes: 0 SUCCEEDED (or waiting for a deployment's webhook), 1 FAILED again, not found, closed or not
finished in time, 2 usage error.

Example:
  $ avm retry aws+team-a-dev@example.com
  $ avm retry 3f9c2a7e-0d1b-4c55-9a0e-2b8f6d1e4a10 --runner remote --json`,
    )
    .action(action(async (ctx, key, options) => commands.retry().retryCommand(ctx, key as string, options as never)));

  program
    .command("status")
    .description("show one request from the ledger (no AWS calls)")
    .option("--email <email>", "account root email")
    .option("--account-id <id>", "12-digit account id")
    .option("--request-id <id>", "request id")
    .addHelpText(
      "after",
      `
Reads the ledger only (one indexed lookup): its cost does not grow with the organization.

Example:
  $ avm status --email aws+team-a-dev@example.com
  $ avm status --account-id 123456789012 --json`,
    )
    .action(action(async (ctx, options) => commands.status().statusCommand(ctx, options as never)));

  program
    .command("list")
    .description("list ledger records, oldest first, a page at a time (--all: every page)")
    .option("--state <states>", "only these states, comma-separated (e.g. FAILED or CREATING,MOVING)")
    .option("--limit <n>", "records per page (default 100; 1000 with --all)", positiveInt("--limit"))
    .option("--after <cursor>", "the page after this cursor (printed by the previous page)")
    .option("--all", "every page, in one output")
    .addHelpText(
      "after",
      `
Pages: without --all, one page of --limit records; when more follow, the last line is the
command for the next page ("next page: avm list ... --after <cursor>"; --json: "next").
A page costs the same whatever the size of the ledger (DynamoDB: one Query per state asked for).

Example:
  $ avm list --state FAILED
  $ avm list --json --limit 20
  $ avm list --all --json`,
    )
    .action(action(async (ctx, options) => commands.list().listCommand(ctx, options as never)));

  addStackOptions(
    program
      .command("bootstrap")
      .description("deploy an account's stack (access role, baseline) with the local Automation API")
      .argument("<accountId>", "12-digit id of the managed account")
      .option("--remote", "run on Pulumi Deployments instead (needs PULUMI_ACCESS_TOKEN)"),
    false,
  )
    .addHelpText(
      "after",
      `${STACK_ENV_HELP}

Example:
  $ PULUMI_CONFIG_PASSPHRASE=... avm bootstrap 123456789012 --management-account-id 111122223333
  $ avm bootstrap 123456789012 --remote --json`,
    )
    .action(
      action(async (ctx, accountId, options) =>
        commands.bootstrap().bootstrapCommand(ctx, accountId as string, options as never),
      ),
    );

  addStackOptions(
    program
      .command("outputs")
      .description("show the outputs of an account's stack (e.g. accessRoleArn for meshStack); secrets masked")
      .argument("<accountId>", "12-digit id of the managed account"),
    false,
  )
    .addHelpText(
      "after",
      `${STACK_ENV_HELP}

Reads the state backend only (no AWS calls). Exit 1 when the account has no stack.

Example:
  $ PULUMI_CONFIG_PASSPHRASE=... avm outputs 123456789012 --management-account-id 111122223333
  $ avm outputs 123456789012 --json`,
    )
    .action(
      action(async (ctx, accountId, options) =>
        commands.outputs().outputsCommand(ctx, accountId as string, options as never),
      ),
    );

  addStackOptions(
    program
      .command("plan")
      .description("render an account's stack offline (Pulumi mock runtime, IAM catalog check; no credentials)")
      .argument("<accountId>", "12-digit id of the managed account"),
    false,
  )
    .addHelpText(
      "after",
      `${STACK_ENV_HELP}

Nothing is deployed and no credentials are needed (the program runs under the Pulumi mock runtime).
Tags come from the account's ledger record when there is one.

Example:
  $ avm plan 123456789012 --management-account-id 111122223333
  $ avm plan 123456789012 --json`,
    )
    .action(
      action(async (ctx, accountId, options) =>
        commands.plan().planCommand(ctx, accountId as string, options as never),
      ),
    );

  program
    .command("plan-platform")
    .description("render the platform stack offline from its configuration (Pulumi mock runtime, IAM catalog check)")
    .argument("[stack]", "platform stack name", "dev")
    .option("-f, --file <path>", "stack configuration as JSON: the output of `pulumi config --json` (- for stdin)")
    .option("--set <key=value...>", "set a configuration key (repeatable; applied after --file)")
    .addHelpText(
      "after",
      `
Nothing is deployed and no credentials are needed. Keys without a namespace are meshstack-avm keys; secret values
need not be known (pulumi config --json without --show-secrets is enough) and never appear in the output.

Example:
  $ pulumi config --json --stack dev | avm plan-platform dev -f - --set meshfedServicePolicy=attach
  $ avm plan-platform dev --set aws:region=eu-central-1 --set managementAccountId=111122223333 \\
      --set automationAccountId=444455556666 --set organizationId=o-exampleorg1 --json`,
    )
    .action(
      action(async (ctx, stack, options) =>
        commands.planPlatform().planPlatformCommand(ctx, stack as string, options as never),
      ),
    );

  program
    .command("close")
    .description("close a member account (quota-aware; never removes it from the organization)")
    .argument("<accountId>", "12-digit id of the member account")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--reason <text>", "reason, stored in the ledger history")
    .addHelpText(
      "after",
      `
Refuses when AWS's rolling 30-day close quota (10% of member accounts, at least 10) is used up,
and for the management account. Without --yes it asks to type the account id (terminal only).

Example:
  $ avm close 123456789012 --yes --reason "project decommissioned"`,
    )
    .action(
      action(async (ctx, accountId, options) =>
        commands.close().closeCommand(ctx, accountId as string, options as never),
      ),
    );

  program
    .command("serve")
    .description("receive Pulumi Cloud webhooks locally and move ledger records")
    .option("--port <port>", "port to listen on (0 = any free port)", port, 8787)
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--process", "finish requests whose stack deployment succeeded (completion tags; needs AWS credentials)")
    .addHelpText(
      "after",
      `
The webhook secret comes from ${CLI_ENV.webhookSecret} (never printed); without it deliveries are accepted
unsigned (a warning is printed). Stops cleanly on Ctrl-C.

Example:
  $ ${CLI_ENV.webhookSecret}=... avm serve --port 8787`,
    )
    .action(action(async (ctx, options) => commands.serve().serveCommand(ctx, options as never)));

  addStackOptions(
    program
      .command("invoke")
      .description("run the AVMEntryPoint handler locally on a JSON event (meshStack hook or vend request)")
      .option("-f, --file <path>", "event file (default: stdin)")
      .option("--process", "then drive the request to a terminal state, as the worker would")
      .option("--logs", "print the handler's structured log lines on stderr"),
    true,
  )
    .addHelpText(
      "after",
      `
Uses the local ledger and an in-process queue; the handler's JSON response is printed on stdout
(exit 2 when it rejects the event, naming the field).

Example:
  $ avm invoke --file hook.json
  $ echo '{"AccountName": ...}' | avm invoke --process`,
    )
    .action(action(async (ctx, options) => commands.invoke().invokeCommand(ctx, options as never)));

  program
    .command("reconcile")
    .description("end or resume requests whose work messages are in the dead-letter queue (worker crashed)")
    .requiredOption("--dlq-url <url>", "URL of the dead-letter queue (platform stack output deadLetterQueueUrl)")
    .option("--queue-url <url>", "URL of the work queue (output queueUrl), for requests that must be re-driven")
    .option("--max <n>", "examine at most n messages (default 100)", positiveInt("--max"))
    .option("--dry-run", "report what would be done; change nothing")
    .addHelpText(
      "after",
      `
A request whose account cannot exist yet is marked FAILED ("dead-lettered in <state> after <n> deliveries").
One whose account exists or may exist (CreateAccount issued, account id known) is put back on the work queue,
where the workflow resumes it (at most 3 times; then it is marked FAILED too). Terminal requests are left
alone; unreadable messages are reported and stay in the queue. A message is deleted only after its ledger
write (and re-enqueue) succeeded, so a rerun is always safe.

Example:
  $ avm reconcile --ledger-table avm-ledger --dlq-url https://sqs.eu-central-1.amazonaws.com/111122223333/avm-dlq \
      --queue-url https://sqs.eu-central-1.amazonaws.com/111122223333/avm-work --dry-run
  $ avm reconcile --ledger-table avm-ledger --dlq-url <url> --queue-url <url> --json`,
    )
    .action(action(async (ctx, options) => commands.reconcile().reconcileCommand(ctx, options as never)));

  const webhooks = program.command("webhooks").description("manage the Pulumi Cloud webhook of the AVM receiver");
  webhooks
    .command("ensure")
    .description("create or update the one Pulumi Cloud webhook that delivers to the AVM receiver")
    .option("--org <name>", "Pulumi Cloud organization (env AVM_PULUMI_ORGANIZATION)")
    .option("--url <url>", "receiver URL: the platform stack output webhookUrl (env AVM_WEBHOOK_URL)")
    .option("--stack <project/stack>", "a stack webhook instead of an organization webhook")
    .option("--event <filter>", "event filter (repeatable; default the four final update/deployment events)", collect)
    .option("--dry-run", "show the change; change nothing")
    .option("--resend-secret", "send the secret even when nothing else differs (after a change in the console)")
    .addHelpText(
      "after",
      `
The secret comes from ${CLI_ENV.webhookSecret} (the platform stack's webhookSecret), never from a flag, and is
never printed. The token comes from PULUMI_ACCESS_TOKEN (an organization admin's, to manage org webhooks).
Idempotent: one webhook for the URL, updated in place when the URL, the events or the secret change.

Example:
  $ ${CLI_ENV.webhookSecret}="$(pulumi config get webhookSecret)" avm webhooks ensure --org acme \
      --url "$(pulumi stack output webhookUrl)" --dry-run`,
    )
    .action(action(async (ctx, options) => commands.webhooks().webhooksEnsureCommand(ctx, options as never)));

  program
    .command("doctor")
    .description("check every link of the installation and print a checklist with the fix for each failure")
    .option("--stack <name>", "platform stack whose outputs are read with the pulumi CLI (env AVM_PLATFORM_STACK)")
    .option("--outputs <file>", "the platform stack's `pulumi stack output --json` in a file (- for stdin)")
    .option("--management-account-id <id>", `expected management account id (env ${CLI_ENV.managementAccountId})`)
    .option("--bootstrap-role <name>", `role tried in a member account (env ${CLI_ENV.bootstrapRoleName})`)
    .addOption(
      new Option("--runner <kind>", `the stack runner in use (env ${CLI_ENV.stackRunner})`).choices([
        "auto",
        "local",
        "offline",
        "remote",
      ]),
    )
    .option("--strict", "also fail (exit 1) when a check could not run (!)")
    .addHelpText(
      "after",
      `
Lines: ✓ passed, ✗ failed (the fix is printed under it), ! not checked (and why; never counted as passed).
Exit codes: 0 no check failed, 1 a check failed (--strict: or could not run), 2 usage error.
Reads AWS credentials (standard chain), PULUMI_ACCESS_TOKEN, AVM_PULUMI_ORGANIZATION, ${CLI_ENV.webhookSecret}
(never printed), ${CLI_ENV.managementAccountId}, ${CLI_ENV.bootstrapRoleName}, ${CLI_ENV.stackRunner},
PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE (only whether they are set).

Example:
  $ ${CLI_ENV.webhookSecret}="$(pulumi config get webhookSecret)" avm doctor --stack dev
  $ pulumi stack output --json > outputs.json && avm doctor --outputs outputs.json --json`,
    )
    .action(action(async (ctx, options) => commands.doctor().doctorCommand(ctx, options as never)));

  const fleet = program
    .command("fleet")
    .description("fleet operations over every account stack: status, rollout, drift, adopt")
    .addHelpText(
      "after",
      `
Example:
  $ avm fleet status --json
  $ avm fleet rollout --outdated-only --dry-run`,
    );

  addStackOptions(
    fleet
      .command("status")
      .description(
        "classify every member account: managed-current, managed-outdated, no-stack, stack-without-account, failed",
      )
      .option("--ou <ou>", "only accounts of this OU and the OUs under it: id or path (repeatable)", collect)
      .option("--concurrency <n>", "stack output reads in flight (default 8)", positiveInt("--concurrency")),
    false,
  )
    .addHelpText(
      "after",
      `${STACK_ENV_HELP}

Organizations calls: DescribeOrganization, then the pages of ListAccounts (or, per OU visited, of
ListOrganizationalUnitsForParent and ListAccountsForParent); never one call per account. Each stack's
avmDeployment output (program version, config digest) is compared with what this checkout would deploy.

Example:
  $ avm fleet status
  $ avm fleet status --ou /Workloads/Prod --json`,
    )
    .action(action(async (ctx, options) => commands.fleet().fleetStatusCommand(ctx, options as never)));

  addStackOptions(
    fleet
      .command("rollout")
      .description(
        "update account stacks to this checkout's program and settings: canary, then waves; halts on failures",
      )
      .option("--ou <ou>", "only accounts of this OU and the OUs under it: id or path (repeatable)", collect)
      .option("--accounts <ids>", "only these accounts (comma-separated 12-digit ids)")
      .option("--outdated-only", "only accounts whose stack is managed-outdated (see fleet status)")
      .option(
        "--canary <k>",
        "accounts updated first; any failure among them halts (default 1)",
        nonNegativeInt("--canary"),
      )
      .option("--concurrency <n>", "updates in flight after the canary (default 4)", positiveInt("--concurrency"))
      .option(
        "--max-failure-percent <p>",
        "halt once more than p% of the accounts after the canary failed (default 10)",
        percent("--max-failure-percent"),
      )
      .option("--remote", "run each update on Pulumi Deployments (needs PULUMI_ACCESS_TOKEN)")
      .option(
        "--webhook-wait <seconds>",
        "with --remote: a deployment still running after AVM_DEPLOYMENT_WAIT_SECONDS of polling is finished by its " +
          "Pulumi Cloud webhook event in the ledger (the platform's, --ledger-table), waited for up to this long",
        positiveInt("--webhook-wait"),
      )
      .option(
        "--resume [id]",
        "continue the newest unfinished rollout (or rollout id); finished accounts never run again",
      )
      .option("--retry-failed", "with --resume: update the failed accounts again")
      .option("--rollout-dir <dir>", "where rollout journals live (default .avm/rollouts)")
      .option("--dry-run", "print the plan; change nothing"),
    false,
  )
    .addHelpText(
      "after",
      `${STACK_ENV_HELP}

Selection: managed accounts (active, with an account stack), narrowed by --ou, --accounts and --outdated-only.
The canary (first k accounts by id) runs first; any failure there halts before a wave account starts. Then at most
--concurrency updates run at once; the rollout halts once more than --max-failure-percent of the accounts after the
canary failed (updates in flight finish). Every start and finish is journaled in .avm/rollouts/<id>.jsonl; Ctrl-C
stops starting updates, lets those in flight finish and exits 130. --resume continues: an account whose update was
in flight when the process died is looked up first (its stack's avmDeployment output) and not updated twice.
Exit codes: 0 every account done, 1 halted or some failed, 2 usage error, 130 interrupted.

Example:
  $ avm fleet rollout --outdated-only --dry-run
  $ avm fleet rollout --ou /Workloads --canary 2 --concurrency 8
  $ avm fleet rollout --resume --retry-failed`,
    )
    .action(action(async (ctx, options) => commands.fleetRollout().fleetRolloutCommand(ctx, options as never)));

  addStackOptions(
    fleet
      .command("drift")
      .description(
        "refresh-preview every selected account stack, expecting no changes; report what changed out of band",
      )
      .option("--ou <ou>", "only accounts of this OU and the OUs under it: id or path (repeatable)", collect)
      .option("--accounts <ids>", "only these accounts (comma-separated 12-digit ids)")
      .option(
        "--concurrency <n>",
        "checks (and remediation updates) in flight (default 4)",
        positiveInt("--concurrency"),
      )
      .option("--remediate", "update the drifted stacks as a rollout (canary, halt rules, journal, --resume)")
      .option("--canary <k>", "with --remediate: canary size (default 1)", nonNegativeInt("--canary"))
      .option(
        "--max-failure-percent <p>",
        "with --remediate: halt above p% failures after the canary (default 10)",
        percent("--max-failure-percent"),
      )
      .option("--rollout-dir <dir>", "where the remediation's rollout journal goes (default .avm/rollouts)")
      .option("--dry-run", "with --remediate: report the drift, update nothing")
      .option(
        "--remote",
        "check on Pulumi Deployments: one detect-drift run per stack; the result comes by webhook into the ledger",
      )
      .option(
        "--webhook-wait <seconds>",
        "with --remote: how long to wait for a run's drift event in the ledger (default 300)",
        positiveInt("--webhook-wait"),
      ),
    false,
  )
    .addHelpText(
      "after",
      `${STACK_ENV_HELP}

Each stack gets pulumi refresh --preview-only (reads the cloud, writes nothing). A drifted account is listed with
each resource that changed out of band and its properties (e.g. policyNames of the access role's exclusive policy
list when someone attached another policy). --remediate updates exactly the drifted stacks as a rollout; an
interrupted remediation continues with avm fleet rollout --resume. --remote instead starts one Pulumi Deployments
detect-drift run per stack (at most --concurrency in flight) and reads its result from the ledger, where the
platform's webhook receiver records Pulumi Cloud's drift_detection event (use the platform's ledger: --ledger-table).
Needs the Deployments settings of avm vend --runner remote (PULUMI_ACCESS_TOKEN, AVM_PULUMI_ORGANIZATION,
AVM_PULUMI_REPO_URL); with --remediate the remediation's updates are remediate-drift deployments.
Exit codes: 0 no drift, 3 drift found (not remediated), 1 a stack could not be checked or the remediation did not
finish, 2 usage error.

Example:
  $ avm fleet drift --ou /Workloads
  $ avm fleet drift --remediate --json
  $ avm fleet drift --remote --ledger-table avm-ledger --concurrency 10`,
    )
    .action(action(async (ctx, options) => commands.fleetDrift().fleetDriftCommand(ctx, options as never)));

  addStackOptions(
    fleet
      .command("adopt")
      .description("bring existing member accounts under management: ledger record (kind adopted), account stack")
      .option("--ou <ou>", "every account of this OU and the OUs under it: id or path (repeatable)", collect)
      .option("--accounts <ids>", "these accounts (comma-separated 12-digit ids)")
      .option("--product-name <name>", "also write the completion tag ProductName (with --stage)")
      .option("--stage <stage>", "also write the completion tag Stage (with --product-name)")
      .option("--concurrency <n>", "adoptions in flight (default 4)", positiveInt("--concurrency"))
      .option(
        "--timeout <seconds>",
        "how long an adoption waits for another run holding its request (default 1800)",
        positiveInt("--timeout"),
      )
      .option("--dry-run", "print what would be adopted, skipped and refused; change nothing"),
    true,
  )
    .addHelpText(
      "after",
      `${STACK_ENV_HELP}

Never calls CreateAccount: each account gets a ledger record of kind adopted (keyed by its email, with its id), then
its account stack is deployed (--runner) and the record ends SUCCEEDED. The account is not moved; completion tags
are written only with --product-name and --stage. Running it again skips adopted accounts and resumes unfinished
ones. Refused: the management account, accounts outside the organization or not ACTIVE, and accounts the AVM
manages already; with --accounts any refusal refuses the whole call before anything is written. Each adoption runs
under its request's lease: a concurrent vend, retry or adopt of the account waits for it (up to --timeout) and takes
over only when its lease expires, so no two runs act on one account.
Exit codes: 0 nothing failed, 1 an adoption failed (or, with --accounts, was refused), 2 usage error.

Example:
  $ avm fleet adopt --ou /Legacy --dry-run
  $ avm fleet adopt --accounts 123456789012,210987654321 --runner local`,
    )
    .action(action(async (ctx, options) => commands.fleetAdopt().fleetAdoptCommand(ctx, options as never)));

  return program;
}
