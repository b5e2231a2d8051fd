/**
 * `avm fleet status`: every member account (or those of `--ou`) against the ledger and the account stacks, one
 * class per account (see `automation/fleet/fleetInventory.ts`), as a table with totals or `--json`. Also the
 * session every fleet verb opens: Organizations gateway, ledger, account stacks on the Pulumi engine, settings.
 */
import type { Ledger } from "../../../src/core/ports";
import { OrganizationsGateway } from "../../../src/adapters/aws/organizationsGateway";
import { FLEET_CLASSES, collectFleet, type FleetAccount, type FleetInventory } from "../../fleet/fleetInventory";
import { FleetProgress } from "../../fleet/fleetProgress";
import { AccountStacks } from "../../stacks/accountStacks";
import type { CommandContext } from "../context";
import type { StackSettings } from "../deps";
import { CliError } from "../errors";
import { table } from "../output";
import { resolveStackSettings, type StackFlags } from "../workflowSetup";

/** Everything a fleet verb works with; `close()` releases the ledger. */
export interface FleetSession {
  readonly organizations: OrganizationsGateway;
  readonly ledger: Ledger;
  readonly stacks: AccountStacks;
  readonly settings: StackSettings;
  close(): Promise<void>;
}

/**
 * Opens the fleet session. The management account id defaults to the organization's (DescribeOrganization).
 * @throws CliError when no pulumi CLI is on PATH (the account stacks live in a Pulumi backend)
 */
export async function openFleet(ctx: CommandContext, flags: StackFlags): Promise<FleetSession> {
  if (!ctx.deps.hasPulumiCli(ctx.io.env)) {
    throw new CliError(
      "the pulumi CLI is not on PATH: fleet verbs read and update account stacks in the Pulumi backend (https://www.pulumi.com/docs/install/)",
    );
  }
  const organizations = new OrganizationsGateway(ctx.deps.organizationsClient(ctx.io.env), {
    timing: ctx.deps.timing,
  });
  const { settings, notes } = await resolveStackSettings(
    ctx,
    flags,
    async () => (await organizations.describeOrganization()).managementAccountId,
  );
  for (const note of notes) ctx.out.progress(`note: ${note}`);
  const engine = await ctx.deps.pulumiEngine(ctx.io.env);
  const stacks = new AccountStacks({ engine, settings, timing: ctx.deps.timing });
  const ledger = await ctx.deps.openLedger(ctx.settings.ledger);
  return { organizations, ledger, stacks, settings, close: () => ledger.close() };
}

/** Runs `fn` with an open fleet session and always closes it. */
export async function withFleet<T>(
  ctx: CommandContext,
  flags: StackFlags,
  fn: (session: FleetSession) => Promise<T>,
): Promise<T> {
  const session = await openFleet(ctx, flags);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

/** Options of `avm fleet status`. */
export interface FleetStatusOptions extends StackFlags {
  /** OU ids or paths (repeatable). */
  readonly ou?: string[];
  /** Stack output reads in flight. */
  readonly concurrency?: number;
}

/** `--json` shape of one account of `avm fleet status`. */
export type FleetAccountJson = Omit<FleetAccount, "tags">;

/** `--json` shape of `avm fleet status`. */
export interface FleetStatusJson {
  readonly ous: readonly string[] | null;
  readonly managementAccountId: string;
  readonly programVersion: string;
  readonly totals: FleetInventory["totals"];
  readonly accounts: readonly FleetAccountJson[];
}

/** The `--json` document of an inventory. */
export function fleetStatusJson(inventory: FleetInventory): FleetStatusJson {
  return {
    ous: inventory.ous,
    managementAccountId: inventory.managementAccountId,
    programVersion: inventory.programVersion,
    totals: inventory.totals,
    accounts: inventory.accounts.map(({ tags: _tags, ...rest }) => rest),
  };
}

/** The human rendering: one row per account, then the totals. */
export function fleetStatusText(inventory: FleetInventory): string {
  const rows = inventory.accounts.map((a) => [a.accountId, a.class, a.name ?? "-", a.detail]);
  const totals = FLEET_CLASSES.map((c) => `${c} ${inventory.totals[c]}`).join(", ");
  return (
    (rows.length > 0 ? table(["ACCOUNT", "CLASS", "NAME", "DETAIL"], rows) : "no accounts in scope\n") +
    `\n${inventory.accounts.length} accounts: ${totals}\n` +
    `current program: ${inventory.programVersion}${inventory.ous ? `; OUs ${inventory.ous.join(", ")}` : ""}\n`
  );
}

/** Runs `avm fleet status`. */
export async function fleetStatusCommand(ctx: CommandContext, options: FleetStatusOptions): Promise<void> {
  const inventory = await withFleet(ctx, options, async (session) => {
    ctx.out.progress("fleet status: listing accounts, ledger records and stacks");
    let progress: FleetProgress | undefined;
    const result = await collectFleet(session, {
      ...(options.ou ? { ous: options.ou } : {}),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(ctx.out.quiet
        ? {}
        : {
            progress: (total: number) =>
              (progress = new FleetProgress({ stream: ctx.out.progressStream, total, verb: "stack outputs" })),
          }),
    });
    progress?.finish();
    return result;
  });
  ctx.out.result(fleetStatusJson(inventory), fleetStatusText(inventory));
}
