/**
 * `avm fleet adopt`: brings member accounts that existed before the AVM under management. Per account: a ledger
 * record of kind `adopted` keyed by the account's email with its id (never CreateAccount), then the account workflow
 * from there (no move, the account stack, completion tags only with `--product-name` and `--stage`). Idempotent:
 * adopted accounts are skipped, unfinished adoptions resume. Refuses the management account, accounts outside the
 * organization and accounts the AVM manages already (see `automation/fleet/adoptionPlan.ts`); with `--accounts`,
 * one refusal refuses the whole call before anything is written. Each adoption runs under its request's lease, like
 * `avm vend` and `avm retry`: a concurrent vend, retry or adopt of the same account waits for the holder's outcome
 * (or takes over an expired lease) instead of acting too.
 */
import { mapWithLimit } from "../../concurrency";
import { accountsOfOus } from "../../fleet/fleetInventory";
import { FleetProgress } from "../../fleet/fleetProgress";
import { planAdoption, type AdoptionAction, type AdoptionDecision } from "../../fleet/adoptionPlan";
import { silentProgress } from "../../progress";
import { isAccountId } from "../../../src/shared/naming";
import type { OrganizationAccount } from "../../../src/core/organizations";
import { withLedger, type CommandContext } from "../context";
import { CliRefusedError, CliUsageError, EXIT } from "../errors";
import { table } from "../output";
import { openLocalWorkflow, type StackFlags } from "../workflowSetup";
import { processUnderLease } from "./vend";

/** Options of `avm fleet adopt`. */
export interface FleetAdoptOptions extends StackFlags {
  readonly ou?: string[];
  /** Comma-separated account ids. */
  readonly accounts?: string;
  readonly productName?: string;
  readonly stage?: string;
  readonly concurrency?: number;
  readonly dryRun?: boolean;
  /** Seconds an adoption waits for another run holding its request (default 1800). */
  readonly timeout?: number;
}

/** One account in `--json`. */
export interface AdoptAccountJson {
  readonly accountId: string;
  readonly action: AdoptionAction;
  readonly reason: string;
  readonly requestId: string | null;
  /** Ledger state after the run (null for refused accounts and dry runs of new adoptions). */
  readonly state: string | null;
  readonly failureReason: string | null;
}

/** `--json` shape of `avm fleet adopt`. */
export interface FleetAdoptJson {
  readonly dryRun: boolean;
  readonly counts: Readonly<Record<"adopted" | "resumed" | "skipped" | "refused" | "failed", number>>;
  readonly accounts: readonly AdoptAccountJson[];
}

function parseIds(value: string): string[] {
  const ids = value
    .split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
  const bad = ids.filter((id) => !isAccountId(id));
  if (bad.length > 0 || ids.length === 0) {
    throw new CliUsageError(`--accounts must list 12-digit AWS account ids, got "${bad.join(", ") || value}"`);
  }
  return ids;
}

/** Runs `avm fleet adopt`; exit 0 when no adoption failed, 1 otherwise. */
export async function fleetAdoptCommand(ctx: CommandContext, options: FleetAdoptOptions): Promise<number> {
  const hasOu = options.ou !== undefined && options.ou.length > 0;
  if (hasOu === (options.accounts !== undefined)) {
    throw new CliUsageError("give either --ou (repeatable) or --accounts, not both and not neither");
  }
  if ((options.productName === undefined) !== (options.stage === undefined)) {
    throw new CliUsageError("--product-name and --stage go together (the completion tags meshStack waits for)");
  }
  const explicit = options.accounts !== undefined ? parseIds(options.accounts) : undefined;
  const timeoutMs = (options.timeout ?? 1800) * 1000;

  const json = await withLedger(ctx, async (ledger) => {
    const local = await openLocalWorkflow(ctx, ledger, options);
    for (const note of local.notes) ctx.out.progress(`note: ${note}`);
    const { organizations } = local;
    const { managementAccountId } = await organizations.describeOrganization();
    let members: OrganizationAccount[];
    let candidates: string[];
    if (explicit) {
      members = await organizations.listAccounts();
      candidates = explicit;
    } else {
      const ous: string[] = [];
      for (const reference of options.ou ?? []) ous.push(await organizations.resolveOrganizationalUnit(reference));
      members = await accountsOfOus(organizations, ous);
      candidates = members.map((m) => m.id).sort();
    }
    const decisions = planAdoption(candidates, members, managementAccountId, await ledger.list());
    const refused = decisions.filter((d) => d.action === "refuse");
    if (explicit && refused.length > 0) {
      throw new CliRefusedError(
        `refusing to adopt: ${refused.map((d) => `${d.accountId} (${d.reason})`).join("; ")}; nothing was changed`,
      );
    }
    const work = decisions.filter((d) => d.action === "adopt" || d.action === "resume");
    const results = new Map<string, { requestId: string; state: string; failureReason: string | null }>();
    if (!options.dryRun && work.length > 0) {
      const progress = ctx.out.quiet
        ? silentProgress
        : new FleetProgress({
            stream: ctx.out.progressStream,
            total: work.length,
            verb: "adopt",
            now: () => ctx.deps.timing.now().getTime(),
          });
      await mapWithLimit(work, options.concurrency ?? 4, async (decision: AdoptionDecision) => {
        const account = decision.account as OrganizationAccount;
        const stackName = `account-${decision.accountId}`;
        progress.start(stackName, decision.action);
        try {
          let email = decision.record?.email;
          if (decision.action === "adopt") {
            const claimed = await ledger.claim(
              {
                email: account.email,
                requestId: `adopt-${decision.accountId}`,
                kind: "adopted",
                accountId: decision.accountId,
                request: {
                  accountName: account.name || stackName,
                  email: account.email,
                  tags: {},
                  ...(options.productName !== undefined ? { productName: options.productName } : {}),
                  ...(options.stage !== undefined ? { stage: options.stage } : {}),
                },
              },
              ctx.deps.timing.now(),
            );
            const held = claimed.record;
            if (held.accountId !== decision.accountId) {
              throw new CliRefusedError(`the ledger holds ${account.email} for another account`);
            }
            if (held.kind !== "adopted") {
              // A vend or meshStack request recorded this account since the plan was made: it is managed already.
              throw new CliRefusedError(
                `already managed by the AVM (${held.kind} request ${held.requestId}, ${held.state})`,
              );
            }
            email = held.email;
          }
          const record = (await ledger.get(email as string)) ?? decision.record;
          if (record === undefined) throw new CliRefusedError(`the ledger lost the record of ${email}`);
          const deadline = ctx.deps.timing.now().getTime() + timeoutMs;
          const outcome = await processUnderLease(ctx, ledger, local, record, deadline);
          const final = "record" in outcome ? outcome.record : undefined;
          const state = final?.state ?? outcome.status;
          results.set(decision.accountId, {
            requestId: final?.requestId ?? `adopt-${decision.accountId}`,
            state,
            failureReason: final?.failureReason ?? ("reason" in outcome ? outcome.reason : null),
          });
          if (state === "SUCCEEDED") progress.succeed(stackName, "adopted");
          else
            progress.fail(
              stackName,
              `${state}: ${final?.failureReason ?? ("reason" in outcome ? outcome.reason : "")}`,
            );
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          results.set(decision.accountId, {
            requestId: `adopt-${decision.accountId}`,
            state: "ERROR",
            failureReason: message,
          });
          progress.fail(stackName, message);
        }
      });
      if (progress instanceof FleetProgress) progress.finish();
    }
    const accounts: AdoptAccountJson[] = decisions.map((d) => {
      const result = results.get(d.accountId);
      return {
        accountId: d.accountId,
        action: d.action,
        reason: d.reason,
        requestId: result?.requestId ?? d.record?.requestId ?? null,
        state: result?.state ?? d.record?.state ?? null,
        failureReason: result?.failureReason ?? null,
      };
    });
    const done = (a: AdoptAccountJson) => options.dryRun === true || a.state === "SUCCEEDED";
    return {
      dryRun: options.dryRun === true,
      counts: {
        adopted: accounts.filter((a) => a.action === "adopt" && done(a)).length,
        resumed: accounts.filter((a) => a.action === "resume" && done(a)).length,
        skipped: accounts.filter((a) => a.action === "skip").length,
        refused: accounts.filter((a) => a.action === "refuse").length,
        failed: accounts.filter((a) => (a.action === "adopt" || a.action === "resume") && !done(a)).length,
      },
      accounts,
    } satisfies FleetAdoptJson;
  });
  const c = json.counts;
  const rows = json.accounts.map((a) => [a.accountId, a.action, a.state ?? "-", a.failureReason ?? a.reason]);
  ctx.out.result(
    json,
    `${json.dryRun ? "adopt plan (dry run, nothing changed)" : "adopt"}: ${c.adopted} adopted, ${c.resumed} resumed, ` +
      `${c.skipped} skipped, ${c.refused} refused, ${c.failed} failed\n` +
      (rows.length > 0 ? `\n${table(["ACCOUNT", "ACTION", "STATE", "DETAIL"], rows)}` : ""),
  );
  return c.failed > 0 ? EXIT.runtime : EXIT.ok;
}
