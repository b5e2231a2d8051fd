/**
 * `npm run demo`: the main job on embedded defaults, end to end on this machine.
 *
 * Starts a local AWS (moto), creates an organization with the OU `/Workloads`, and with a fresh SQLite ledger:
 * - vends three accounts through the `avm vend` CLI path (CreateAccount, OU move, tags, account stack, and
 *   completion tags once the stack is deployed: an offline plan ends PLANNED without them);
 * - sends one meshStack AVM hook (the meshStack example payload, real ids) for an account created
 *   beforehand, through `avm invoke --process` (the AVMEntryPoint handler, then the worker's workflow);
 * - runs every account stack step with the local Automation API when a `pulumi` binary is on PATH, else with
 *   the offline planner, and then says plainly that the stacks were planned, not deployed;
 * - prints a summary, reads AWS Organizations back to show each account's OU and tags, and stops everything
 *   it started (moto, temporary files), also on error and Ctrl-C.
 *
 * Options: `--keep` keeps the temporary folder (ledger, state) and prints its path.
 */
import { exitWhenFlushed } from "./exit";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  CreateAccountCommand,
  DescribeOrganizationalUnitCommand,
  ListParentsCommand,
  ListTagsForResourceCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import { run, silenceSqliteWarning } from "./cli/main";
import type { CliIo, CliOutput } from "./cli/io";
import type { VendJson } from "./cli/commands/vend";
import type { InvokeJson } from "./cli/commands/invoke";
import { pulumiOnPath, runnerSetting } from "./cli/settings";
import { createOrganizationWithOu, localClientConfig, startMoto, type MotoServer } from "./localAws";

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Where the demo's report goes (default stdout). */
  readonly stdout?: CliOutput;
  /** Where the CLI's progress goes (default stderr). */
  readonly stderr?: CliOutput;
  /** Keep the temporary folder. */
  readonly keep?: boolean;
}

/** One vended account in the summary. */
interface Row {
  readonly path: "avm vend" | "meshStack hook";
  readonly email: string;
  readonly accountId: string;
  readonly state: string;
  readonly stack: string;
}

const VENDS = [
  {
    name: "demo-team-a-dev",
    email: "aws+demo-team-a-dev@example.com",
    tags: ["CostCenter=1001", "Environment=dev"],
    stage: "team-a-dev",
  },
  {
    name: "demo-team-a-prod",
    email: "aws+demo-team-a-prod@example.com",
    tags: ["CostCenter=1001", "Environment=prod"],
    stage: "team-a-prod",
  },
  {
    name: "demo-team-b-dev",
    email: "aws+demo-team-b-dev@example.com",
    tags: ["CostCenter=2002", "Environment=dev"],
    stage: "team-b-dev",
  },
];

/** The meshStack AVM hook example payload (meshStack's documented fields); ids replaced by the caller. */
const HOOK_EXAMPLE = {
  AccountName: "meshcloud.test-aws-integration",
  AccountEmail: "awsexample+meshcloud.test-aws-integration@example.com",
  AccountId: "222233334444",
  AccountArn: "arn:aws:organizations::111122223333:account/o-exampleorg1/222233334444",
  ProductName: "meshcloud",
  ContactEmail: "owner@example.com",
  Stage: "test-aws-integration",
  tagCostCenter: "1234",
  tagEnvironment: "dev",
};

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** Runs the demo; resolves with the exit code (0 when every request SUCCEEDED, or PLANNED with the offline plan). */
export async function runDemo(options: DemoOptions = {}): Promise<number> {
  const out = options.stdout ?? process.stdout;
  const err = options.stderr ?? process.stderr;
  const say = (text = ""): void => void out.write(`${text}\n`);
  const started = Date.now();
  silenceSqliteWarning();
  const saved = { ...process.env };
  let moto: MotoServer | undefined;
  let dir: string | undefined;
  let org: OrganizationsClient | undefined;
  const cleanup = async (): Promise<void> => {
    org?.destroy();
    await moto?.stop();
    moto = undefined;
    if (dir && !options.keep) rmSync(dir, { recursive: true, force: true });
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    err.write(`\navm demo: interrupted by ${signal}; stopping moto\n`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    moto = await startMoto();
    const organization = await createOrganizationWithOu(moto.endpoint, "Workloads");
    dir = mkdtempSync(path.join(tmpdir(), "avm-demo-"));
    const ledger = path.join(dir, "ledger.sqlite");
    // AVM_STACK_RUNNER=offline forces the offline plan even where pulumi is installed (the CLI honours it too).
    const runner = runnerSetting(undefined, process.env);
    const local = runner === "local" || (runner === "auto" && pulumiOnPath(process.env));
    if (runner === "remote") throw new Error("the demo runs account stacks locally: unset AVM_STACK_RUNNER=remote");
    // Without pulumi the demo asks for the offline plan explicitly (auto never plans instead of deploying).
    if (!local) process.env.AVM_STACK_RUNNER = "offline";
    // The standard SDK chain, pointed at moto: the CLI below runs exactly as an operator would run it.
    delete process.env.AWS_PROFILE;
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: "us-east-1",
      AVM_MANAGEMENT_ACCOUNT_ID: organization.managementAccountId,
      // One emulated account plays both roles here; in real use the AVM lives in its own automation account.
      AVM_AUTOMATION_ACCOUNT_ID: organization.managementAccountId,
      PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: saved.PULUMI_CONFIG_PASSPHRASE ?? "avm-demo-passphrase",
    });
    say("avm demo: the main job on embedded defaults");
    say(`  local AWS        moto ${moto.version} at ${moto.endpoint}`);
    say(`  organization     ${organization.organizationId}, management account ${organization.managementAccountId}`);
    say(`  target OU        /Workloads (${organization.ouId})`);
    say(`  ledger           SQLite ${ledger}`);
    say(
      `  account stacks   ${local ? `local Automation API (pulumi on PATH), state ${process.env.PULUMI_BACKEND_URL}` : "offline plan (no pulumi CLI on PATH)"}`,
    );
    say();

    const cli = async (argv: string[], stdin = ""): Promise<{ code: number; json: unknown }> => {
      let stdout = "";
      const io: CliIo = {
        stdout: { write: (s: string) => (stdout += s) },
        // Plain progress lines (not a live TTY display): the vends run concurrently.
        stderr: { write: (s: string) => err.write(s) },
        stdin,
        env: process.env,
        cwd: process.cwd(),
      };
      const code = await run(["--ledger", ledger, ...argv, "--json"], io);
      return { code, json: stdout.trim() === "" ? undefined : JSON.parse(stdout) };
    };
    const stackLabel = (stack: VendJson["stack"]): string =>
      stack === null ? "-" : stack.status === "planned" ? "planned (offline)" : stack.status;

    const rows: Row[] = [];
    const steps = VENDS.length + 1;
    const argvs = VENDS.map((vend) => [
      "vend",
      "--account-name",
      vend.name,
      "--email",
      vend.email,
      "--ou",
      "/Workloads",
      ...vend.tags.flatMap((t) => ["--tag", t]),
      "--product-name",
      "demo-workspace",
      "--stage",
      vend.stage,
    ]);
    argvs.forEach((argv, i) => say(`[${i + 1}/${steps}] $ avm ${argv.join(" ")}`));
    say(`      (the ${argvs.length} vends run concurrently; progress on stderr)`);
    const vended = await Promise.all(argvs.map((argv) => cli(argv)));
    for (const [i, { code, json }] of vended.entries()) {
      const result = json as VendJson | { error: { message: string } } | undefined;
      if (!result || "error" in result) {
        say(
          `[${i + 1}/${steps}] failed (exit ${code}): ${result && "error" in result ? result.error.message : "no output"}`,
        );
        continue;
      }
      say(
        `[${i + 1}/${steps}] ${result.record.state}: account ${result.record.accountId ?? "-"}, stack ${stackLabel(result.stack)}`,
      );
      rows.push({
        path: "avm vend",
        email: result.record.email,
        accountId: result.record.accountId ?? "-",
        state: result.record.state,
        stack: stackLabel(result.stack),
      });
    }

    // meshStack creates the account itself, then calls AVMEntryPoint with the hook payload.
    org = new OrganizationsClient(localClientConfig(moto.endpoint));
    const created = await org.send(
      new CreateAccountCommand({ Email: HOOK_EXAMPLE.AccountEmail, AccountName: HOOK_EXAMPLE.AccountName }),
    );
    const hookAccountId = created.CreateAccountStatus?.AccountId;
    if (!hookAccountId) throw new Error("moto did not return the hook account's id");
    await org.send(
      new MoveAccountCommand({
        AccountId: hookAccountId,
        SourceParentId: organization.rootId,
        DestinationParentId: organization.ouId,
      }),
    );
    const hook = {
      ...HOOK_EXAMPLE,
      AccountId: hookAccountId,
      AccountArn: `arn:aws:organizations::${organization.managementAccountId}:account/${organization.organizationId}/${hookAccountId}`,
    };
    say(
      `[${steps}/${steps}] meshStack created account ${hookAccountId}; its AVM hook: $ avm invoke --process < hook.json`,
    );
    say(`      ${JSON.stringify(hook)}`);
    // The offline plan shown at the end renders meanwhile (it runs in its own child process).
    const firstVended = rows[0]?.accountId;
    let planOut = "";
    const planning =
      !local && firstVended !== undefined && firstVended !== "-"
        ? run(["--ledger", ledger, "plan", firstVended, "--quiet"], {
            stdout: { write: (s: string) => (planOut += s) },
            stderr: { write: (s: string) => err.write(s) },
            stdin: "",
            env: process.env,
            cwd: process.cwd(),
          })
        : Promise.resolve(0);
    const invoked = await cli(["invoke", "--process"], JSON.stringify(hook));
    const invoke = invoked.json as InvokeJson | undefined;
    if (invoke?.processed) {
      say(`      AVMEntryPoint answered ${JSON.stringify(invoke.response)}; worker: ${invoke.processed.record.state}`);
      rows.push({
        path: "meshStack hook",
        email: invoke.processed.record.email,
        accountId: invoke.processed.record.accountId ?? "-",
        state: invoke.processed.record.state,
        stack: stackLabel(invoke.processed.stack),
      });
    } else {
      say(`      failed (exit ${invoked.code}): ${JSON.stringify(invoked.json)}`);
    }

    // Read AWS Organizations back.
    const ouNames = new Map<string, string>([[organization.rootId, "/ (root)"]]);
    const ouOf = async (accountId: string): Promise<string> => {
      const parents = await org!.send(new ListParentsCommand({ ChildId: accountId }));
      const parentId = parents.Parents?.[0]?.Id ?? "?";
      if (!ouNames.has(parentId)) {
        const ou = await org!.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: parentId }));
        ouNames.set(parentId, `/${ou.OrganizationalUnit?.Name ?? parentId}`);
      }
      return ouNames.get(parentId)!;
    };
    const tagsOf = async (accountId: string): Promise<string> => {
      const tags = await org!.send(new ListTagsForResourceCommand({ ResourceId: accountId }));
      return (tags.Tags ?? [])
        .map((t) => `${t.Key}=${t.Value}`)
        .sort()
        .join(" ");
    };

    say();
    say("Summary (ledger)");
    const summary: string[][] = [["PATH", "EMAIL", "ACCOUNT ID", "OU", "STATE", "STACK"]];
    const readBack: string[][] = [["ACCOUNT ID", "OU", "TAGS"]];
    for (const row of rows) {
      const ou = row.accountId === "-" ? "-" : await ouOf(row.accountId);
      summary.push([row.path, row.email, row.accountId, ou, row.state, row.stack]);
      if (row.accountId !== "-") readBack.push([row.accountId, ou, await tagsOf(row.accountId)]);
    }
    say(pad(summary));
    say();
    say("Read back from AWS Organizations (moto)");
    say(pad(readBack));
    say();
    // Planned is not deployed: offline, every request ends PLANNED (no completion tags), never SUCCEEDED.
    const done = local ? "SUCCEEDED" : "PLANNED";
    const allSucceeded = rows.length === steps && rows.every((r) => r.state === done);
    if (!local) {
      say("Account stacks: planned (offline, no pulumi CLI), not deployed.");
      const code = await planning;
      if (firstVended !== undefined && firstVended !== "-") {
        say(`The offline plan of account-${firstVended} (what \`pulumi up\` would create there):`);
        say(code === 0 ? planOut.trimEnd().replace(/^/gm, "  ") : `  (plan failed with exit ${code})`);
      }
    } else {
      say(`Account stacks: deployed with the local Automation API (state ${process.env.PULUMI_BACKEND_URL}).`);
    }
    say();
    say(
      `${allSucceeded ? "All" : "Not all"} ${steps} requests ${allSucceeded ? done : `ended ${done}`} in ${((Date.now() - started) / 1000).toFixed(1)} s.` +
        (options.keep ? ` Ledger kept: avm list --ledger ${ledger}` : ""),
    );
    return allSucceeded ? 0 : 1;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await cleanup();
    say(
      options.keep ? `Stopped moto; kept ${dir ?? "nothing"}.` : "Stopped moto and removed the demo's temporary files.",
    );
  }
}

if (require.main === module) {
  runDemo({ keep: process.argv.includes("--keep") }).then(
    (code) => exitWhenFlushed(code),
    (error: unknown) => {
      process.stderr.write(`avm demo: error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
