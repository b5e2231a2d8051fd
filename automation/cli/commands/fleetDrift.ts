/**
 * `avm fleet drift`: a refresh preview (`pulumi refresh --preview-only`) of every selected account stack, expecting
 * no changes; reports each drifted account with the resources and properties that changed out of band. Exit 3 when
 * drift is found, 0 when none, 1 when a stack could not be checked. `--remediate` then updates the drifted stacks as
 * a rollout (same canary, concurrency and halt rules, same journal and `--resume`). `--remote` runs each check as a
 * Pulumi Deployments `detect-drift` run whose result arrives by webhook in the ledger (`automation/fleet/remoteDrift.ts`);
 * with `--remediate` the rollout's updates are then `remediate-drift` deployments.
 */
import path from "node:path";
import { programVersion } from "../../../src/shared/deploymentStamp";
import { accountStackName, isAccountId } from "../../../src/shared/naming";
import { mapWithLimit } from "../../concurrency";
import { collectFleet } from "../../fleet/fleetInventory";
import { FleetProgress } from "../../fleet/fleetProgress";
import { checkDriftRemotely } from "../../fleet/remoteDrift";
import { RolloutJournal } from "../../fleet/rolloutJournal";
import { silentProgress } from "../../progress";
import type { ResourceDrift } from "../../stacks/resourceDrift";
import type { CommandContext } from "../context";
import { CliRefusedError, CliUsageError, EXIT } from "../errors";
import { progressLogger, type StackFlags } from "../workflowSetup";
import { withFleet } from "./fleet";
import {
  DEFAULT_ROLLOUT_DIR,
  driveRollout,
  newRolloutPlan,
  rolloutPolicyOf,
  rolloutText,
  type FleetRolloutJson,
} from "./fleetRollout";

/** Exit code when drift was found (and not remediated). */
export const EXIT_DRIFT = 3;

/** Options of `avm fleet drift`. */
export interface FleetDriftOptions extends StackFlags {
  readonly ou?: string[];
  readonly accounts?: string;
  readonly concurrency?: number;
  readonly remediate?: boolean;
  readonly canary?: number;
  readonly maxFailurePercent?: number;
  readonly dryRun?: boolean;
  readonly rolloutDir?: string;
  /** Check on Pulumi Deployments (`detect-drift` runs) instead of a local refresh preview. */
  readonly remote?: boolean;
  /** Seconds to wait for a remote run's drift webhook event in the ledger (default 300). */
  readonly webhookWait?: number;
}

/** One account in `--json`. */
export interface DriftAccountJson {
  readonly accountId: string;
  readonly stackName: string;
  /** `none`, `drift` or `error`. */
  readonly drift: "none" | "drift" | "error";
  readonly resources: readonly ResourceDrift[];
  /** `--remote`: the drift note the webhook recorded (e.g. `drift: detected (update 1), run <id>, <url>`); else null. */
  readonly detail: string | null;
  readonly error: string | null;
}

/** `--json` shape of `avm fleet drift`. */
export interface FleetDriftJson {
  readonly counts: { readonly checked: number; readonly drifted: number; readonly errors: number };
  readonly accounts: readonly DriftAccountJson[];
  /** The remediation rollout (`--remediate`), null otherwise. */
  readonly remediation: FleetRolloutJson | null;
}

function driftText(json: FleetDriftJson): string {
  const lines: string[] = [];
  for (const a of json.accounts) {
    if (a.drift === "drift" && a.detail !== null) {
      lines.push(`${a.stackName}: ${a.detail}`);
    } else if (a.drift === "drift") {
      lines.push(`${a.stackName}: drift in ${a.resources.length} resource(s)`);
      for (const r of a.resources) {
        lines.push(
          `  ${r.change === "delete" ? "- deleted" : "~ changed"} ${r.type} ${r.name}${r.properties.length > 0 ? `: ${r.properties.join(", ")}` : ""}`,
        );
      }
    } else if (a.drift === "error") {
      lines.push(`${a.stackName}: not checked: ${a.error}`);
    }
  }
  const c = json.counts;
  lines.push(`${c.checked} stack(s) checked: ${c.drifted} drifted, ${c.errors} not checked`);
  return `${lines.join("\n")}\n`;
}

/** Runs `avm fleet drift`; exit 0 none, 3 drift, 1 error (or a failed remediation). */
export async function fleetDriftCommand(ctx: CommandContext, options: FleetDriftOptions): Promise<number> {
  const wanted = options.accounts
    ?.split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
  if (wanted && (wanted.length === 0 || wanted.some((id) => !isAccountId(id)))) {
    throw new CliUsageError(`--accounts must list 12-digit AWS account ids, got "${options.accounts}"`);
  }
  if (options.webhookWait !== undefined && !options.remote) throw new CliUsageError("--webhook-wait needs --remote");
  const version = programVersion({ env: ctx.io.env });
  const policy = rolloutPolicyOf({ ...options, remote: options.remote === true });
  return withFleet(ctx, options, async (session) => {
    const inventory = await collectFleet(
      { ...session, programVersion: version },
      { ...(options.ou ? { ous: options.ou } : {}), withStamps: false },
    );
    const eligible = inventory.accounts.filter((a) => a.stackName !== null && a.class !== "stack-without-account");
    if (wanted) {
      const missing = wanted.filter((id) => !eligible.some((a) => a.accountId === id));
      if (missing.length > 0) {
        throw new CliRefusedError(`--accounts: no managed account stack for ${missing.join(", ")}`);
      }
    }
    const selected = eligible.filter((a) => !wanted || wanted.includes(a.accountId));
    const progress = ctx.out.quiet
      ? silentProgress
      : new FleetProgress({
          stream: ctx.out.progressStream,
          total: selected.length,
          verb: "drift",
          now: () => ctx.deps.timing.now().getTime(),
        });
    const remote = options.remote
      ? await ctx.deps.remoteDriftRunner(session.settings, ctx.io.env, progressLogger(ctx, "deployments"))
      : undefined;
    const accounts = await mapWithLimit(selected, options.concurrency ?? policy.concurrency, async (account) => {
      const stackName = accountStackName(account.accountId);
      if (remote !== undefined) {
        progress.start(stackName, "Pulumi Deployments: detect-drift");
        const result = await checkDriftRemotely(
          { accountId: account.accountId, tags: account.tags },
          {
            runner: remote,
            ledger: session.ledger,
            timing: ctx.deps.timing,
            webhookWaitMs: (options.webhookWait ?? 300) * 1000,
          },
        );
        if (result.drift === "error") progress.fail(stackName, result.detail);
        else progress.succeed(stackName, result.detail);
        return {
          accountId: account.accountId,
          stackName,
          drift: result.drift,
          resources: [],
          detail: result.drift === "error" ? null : result.detail,
          error: result.drift === "error" ? result.detail : null,
        } satisfies DriftAccountJson;
      }
      progress.start(stackName, "refresh --preview-only");
      try {
        const result = await session.stacks.detectDrift(account.accountId, progress);
        progress.succeed(stackName, result.summary);
        return {
          accountId: account.accountId,
          stackName,
          drift: result.resources.length > 0 ? "drift" : "none",
          resources: result.resources,
          detail: null,
          error: null,
        } satisfies DriftAccountJson;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        progress.fail(stackName, message);
        return {
          accountId: account.accountId,
          stackName,
          drift: "error",
          resources: [],
          detail: null,
          error: message,
        } satisfies DriftAccountJson;
      }
    });
    if (progress instanceof FleetProgress) progress.finish();
    const drifted = accounts.filter((a) => a.drift === "drift");
    const errors = accounts.filter((a) => a.drift === "error").length;
    let remediation: FleetRolloutJson | null = null;
    let code = errors > 0 ? EXIT.runtime : drifted.length > 0 ? EXIT_DRIFT : EXIT.ok;
    if (options.remediate && drifted.length > 0 && !options.dryRun) {
      const tagsOf = new Map(selected.map((a) => [a.accountId, a.tags]));
      // Without a refresh `pulumi up` compares the program with the stale state and would leave the drift in place.
      const plan = newRolloutPlan(
        drifted.map((a) => ({ accountId: a.accountId, tags: tagsOf.get(a.accountId) ?? {} })),
        { ...policy, refresh: true },
        version,
        { remediate: "drift", accounts: drifted.map((a) => a.accountId) },
      );
      const journal = RolloutJournal.create(path.resolve(ctx.io.cwd, options.rolloutDir ?? DEFAULT_ROLLOUT_DIR), plan);
      ctx.out.progress(`remediating ${drifted.length} drifted stack(s) as rollout ${plan.id}`);
      const driven = await driveRollout(ctx, session, journal, version, false);
      remediation = driven.json;
      code = errors > 0 ? EXIT.runtime : driven.code;
    }
    const json: FleetDriftJson = {
      counts: { checked: accounts.length, drifted: drifted.length, errors },
      accounts,
      remediation,
    };
    ctx.out.result(json, driftText(json) + (remediation ? `\n${rolloutText(remediation)}` : ""));
    return code;
  });
}
