/**
 * `avm fleet rollout`: updates the selected account stacks to this checkout's program and settings, canary first,
 * then with bounded concurrency, halting by the failure policy (`automation/fleet/rollout.ts`), persisted in a
 * journal under `.avm/rollouts/` that `--resume` continues. `--dry-run` prints the plan and changes nothing.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { programVersion } from "../../../src/shared/deploymentStamp";
import { isAccountId } from "../../../src/shared/naming";
import { collectFleet } from "../../fleet/fleetInventory";
import { FleetProgress } from "../../fleet/fleetProgress";
import { LocalFleetUpdater } from "../../fleet/localFleetUpdater";
import { RemoteFleetUpdater } from "../../fleet/remoteFleetUpdater";
import {
  rolloutCounts,
  runRollout,
  waveFailureBudget,
  type FleetUpdater,
  type RolloutResult,
} from "../../fleet/rollout";
import {
  RolloutJournal,
  RolloutJournalError,
  type PlannedAccount,
  type RolloutAccount,
  type RolloutPlan,
  type RolloutPolicy,
} from "../../fleet/rolloutJournal";
import { silentProgress } from "../../progress";
import type { CommandContext } from "../context";
import { CliRefusedError, CliUsageError, EXIT } from "../errors";
import { table } from "../output";
import { progressLogger, type StackFlags } from "../workflowSetup";
import { withFleet, type FleetSession } from "./fleet";

/** Default rollout directory, relative to the working directory. */
export const DEFAULT_ROLLOUT_DIR = path.join(".avm", "rollouts");

/** Defaults of the rollout policy (docs/operations.md "Operating the fleet" says why). */
export const ROLLOUT_DEFAULTS = { canary: 1, concurrency: 4, maxFailurePercent: 10 } as const;

/** Options of `avm fleet rollout`. */
export interface FleetRolloutOptions extends StackFlags {
  readonly ou?: string[];
  /** Comma-separated account ids. */
  readonly accounts?: string;
  readonly outdatedOnly?: boolean;
  readonly canary?: number;
  readonly concurrency?: number;
  readonly maxFailurePercent?: number;
  readonly dryRun?: boolean;
  /** `true` for the newest unfinished rollout, or a rollout id. */
  readonly resume?: string | boolean;
  readonly retryFailed?: boolean;
  readonly remote?: boolean;
  /** With `--remote`: seconds to wait for a deployment's webhook event after the polling budget (off by default). */
  readonly webhookWait?: number;
  readonly rolloutDir?: string;
}

/** `--json` shape of `avm fleet rollout`. */
export interface FleetRolloutJson {
  readonly rolloutId: string | null;
  readonly dryRun: boolean;
  /** `planned` (dry run), `running`, `completed`, `halted` or `interrupted`. */
  readonly status: string;
  readonly haltReason: string | null;
  readonly policy: RolloutPolicy;
  readonly programVersion: string;
  readonly counts: { readonly done: number; readonly failed: number; readonly pending: number };
  /** Accounts recorded done on resume because their stack already carried this rollout's stamp. */
  readonly recovered: readonly string[];
  readonly accounts: readonly {
    readonly accountId: string;
    readonly phase: "canary" | "wave";
    readonly state: string;
    readonly attempts: number;
    readonly summary: string | null;
    readonly error: string | null;
  }[];
}

function parseAccounts(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const ids = value
    .split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
  const bad = ids.filter((id) => !isAccountId(id));
  if (bad.length > 0) throw new CliUsageError(`--accounts must list 12-digit AWS account ids, got "${bad.join(", ")}"`);
  if (ids.length === 0) throw new CliUsageError("--accounts must list at least one account id");
  return [...new Set(ids)];
}

function policyOf(options: FleetRolloutOptions): RolloutPolicy {
  const percent = options.maxFailurePercent ?? ROLLOUT_DEFAULTS.maxFailurePercent;
  if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
    throw new CliUsageError(`--max-failure-percent must be a number from 0 to 100, got "${percent}"`);
  }
  return {
    canary: options.canary ?? ROLLOUT_DEFAULTS.canary,
    concurrency: options.concurrency ?? ROLLOUT_DEFAULTS.concurrency,
    maxFailurePercent: percent,
    mode: options.remote ? "remote" : "local",
  };
}

/** Picks the accounts to roll out: managed accounts with a stack, narrowed by the selection flags. */
async function select(session: FleetSession, options: FleetRolloutOptions, version: string): Promise<PlannedAccount[]> {
  const wanted = parseAccounts(options.accounts);
  const inventory = await collectFleet(
    { ...session, programVersion: version },
    { ...(options.ou ? { ous: options.ou } : {}), withStamps: options.outdatedOnly === true },
  );
  const eligible = inventory.accounts.filter(
    (a) =>
      a.stackName !== null &&
      a.class !== "stack-without-account" &&
      (options.outdatedOnly !== true || a.class === "managed-outdated"),
  );
  if (wanted) {
    const byId = new Map(inventory.accounts.map((a) => [a.accountId, a]));
    const refused = wanted
      .filter((id) => !eligible.some((a) => a.accountId === id))
      .map((id) => {
        const known = byId.get(id);
        if (!known) return `${id} (not a member account in scope)`;
        if (known.stackName === null) return `${id} (no account stack: adopt or bootstrap it)`;
        if (known.class === "stack-without-account") return `${id} (${known.detail})`;
        return `${id} (${known.class})`;
      });
    if (refused.length > 0) throw new CliRefusedError(`--accounts: cannot roll out ${refused.join("; ")}`);
  }
  return eligible
    .filter((a) => !wanted || wanted.includes(a.accountId))
    .map((a) => ({ accountId: a.accountId, tags: a.tags }));
}

function toJson(
  id: string | null,
  dryRun: boolean,
  status: string,
  haltReason: string | null,
  plan: Pick<RolloutPlan, "policy" | "programVersion">,
  accounts: readonly RolloutAccount[],
  recovered: readonly string[] = [],
): FleetRolloutJson {
  return {
    rolloutId: id,
    dryRun,
    status,
    haltReason,
    policy: plan.policy,
    programVersion: plan.programVersion,
    counts: rolloutCounts(accounts),
    recovered,
    accounts: accounts.map((a) => ({
      accountId: a.accountId,
      phase: a.phase,
      state: a.state,
      attempts: a.attempts,
      summary: a.summary,
      error: a.error,
    })),
  };
}

function text(json: FleetRolloutJson): string {
  const c = json.counts;
  const waves = json.accounts.filter((a) => a.phase === "wave").length;
  const head = json.dryRun
    ? `rollout plan (dry run, nothing changed): ${json.accounts.length} account(s), canary ${json.policy.canary}, ` +
      `then ${waves} with at most ${json.policy.concurrency} in flight; halts on any canary failure or more than ` +
      `${waveFailureBudget(waves, json.policy.maxFailurePercent)} wave failure(s) (${json.policy.maxFailurePercent}%)`
    : `rollout ${json.rolloutId}: ${json.status}${json.haltReason ? ` (${json.haltReason})` : ""}; ` +
      `${c.done} done, ${c.failed} failed, ${c.pending} pending`;
  const shown = json.dryRun ? json.accounts : json.accounts.filter((a) => a.state !== "done");
  const rows = shown.map((a) => [a.accountId, a.phase, a.state, a.error ?? a.summary ?? ""]);
  const resume =
    !json.dryRun && json.status !== "completed" ? `\nresume: avm fleet rollout --resume ${json.rolloutId}\n` : "";
  return `${head}\n${rows.length > 0 ? `\n${table(["ACCOUNT", "PHASE", "STATE", "DETAIL"], rows)}` : ""}${resume}`;
}

/** A new rollout plan with a fresh id (`rollout-<UTC time>-<6 hex>`). */
export function newRolloutPlan(
  accounts: readonly PlannedAccount[],
  policy: RolloutPolicy,
  version: string,
  selection: Readonly<Record<string, unknown>>,
): RolloutPlan {
  const createdAt = new Date().toISOString();
  return {
    id: `rollout-${createdAt.replace(/[-:]/g, "").replace(/\..*$/, "")}-${randomBytes(3).toString("hex")}`,
    createdAt,
    policy,
    programVersion: version,
    selection,
    accounts,
  };
}

/**
 * Runs the rollout in `journal` (new or resumed) with the live progress and Ctrl-C handling, releases its lock, and
 * returns its `--json` document and exit code.
 */
export async function driveRollout(
  ctx: CommandContext,
  session: FleetSession,
  journal: RolloutJournal,
  version: string,
  retryFailed: boolean,
  webhookWaitMs?: number,
): Promise<{ json: FleetRolloutJson; code: number }> {
  try {
    const state = journal.state();
    const updater = await updaterFor(ctx, session, state.plan.policy, state.plan.id, version, webhookWaitMs);
    const counts = rolloutCounts(state.accounts);
    const progress = ctx.out.quiet
      ? undefined
      : new FleetProgress({
          stream: ctx.out.progressStream,
          total: state.accounts.length,
          verb: "rollout",
          now: () => ctx.deps.timing.now().getTime(),
          alreadyDone: counts.done,
          alreadyFailed: retryFailed ? 0 : counts.failed,
        });
    const abort = new AbortController();
    ctx.io.claimInterrupt?.();
    void ctx.io.interrupted?.then((signal) => {
      abort.abort();
      progress?.note(`${signal}: no new update starts; waiting for those in flight (again to stop at once)`);
    });
    const result = await runRollout({
      journal,
      updater,
      progress: progress ?? silentProgress,
      retryFailed,
      signal: abort.signal,
    });
    progress?.finish();
    const json = toJson(
      result.id,
      false,
      result.status,
      result.haltReason,
      state.plan,
      result.accounts,
      result.recovered,
    );
    return { json, code: exitCodeOf(result) };
  } finally {
    journal.release();
  }
}

/** The rollout policy from the flags (defaults {@link ROLLOUT_DEFAULTS}). */
export { policyOf as rolloutPolicyOf, text as rolloutText };

function exitCodeOf(result: RolloutResult): number {
  if (result.status === "interrupted") return EXIT.interrupted;
  return result.status === "completed" && result.counts.failed === 0 ? EXIT.ok : EXIT.runtime;
}

function updaterFor(
  ctx: CommandContext,
  session: FleetSession,
  policy: RolloutPolicy,
  rolloutId: string,
  version: string,
  webhookWaitMs?: number,
): Promise<FleetUpdater> | FleetUpdater {
  if (policy.mode === "local") {
    return new LocalFleetUpdater(session.stacks, session.settings, version, policy.refresh === true);
  }
  const logger = progressLogger(ctx, "deployments");
  // A remote rollout with refresh is a drift remediation: remediate-drift deployments (pulumi up --refresh).
  if (policy.refresh === true) {
    return ctx.deps
      .remoteDriftRunner(session.settings, ctx.io.env, logger)
      .then((runner) => new RemoteFleetUpdater({ remediate: runner }, rolloutId));
  }
  return ctx.deps
    .remoteStackRunner(session.settings, ctx.io.env, logger)
    .then(
      (runner) =>
        new RemoteFleetUpdater(
          { update: runner },
          rolloutId,
          webhookWaitMs === undefined
            ? undefined
            : { ledger: session.ledger, timing: ctx.deps.timing, waitMs: webhookWaitMs },
        ),
    );
}

/** Runs `avm fleet rollout`; returns the exit code (0 all done, 1 halted or failures, 130 interrupted). */
export async function fleetRolloutCommand(ctx: CommandContext, options: FleetRolloutOptions): Promise<number> {
  const dir = path.resolve(ctx.io.cwd, options.rolloutDir ?? DEFAULT_ROLLOUT_DIR);
  const version = programVersion({ env: ctx.io.env });
  const resuming = options.resume !== undefined && options.resume !== false;
  if (resuming && (options.ou || options.accounts || options.outdatedOnly)) {
    throw new CliUsageError(
      "--resume continues a rollout as planned: do not combine it with --ou, --accounts or --outdated-only",
    );
  }
  if (!resuming && options.retryFailed) throw new CliUsageError("--retry-failed needs --resume");
  if (options.webhookWait !== undefined && !options.remote && !resuming) {
    throw new CliUsageError("--webhook-wait needs --remote (or --resume of a remote rollout)");
  }

  return withFleet(ctx, options, async (session) => {
    let journal: RolloutJournal;
    if (resuming) {
      try {
        journal = RolloutJournal.open(dir, typeof options.resume === "string" ? options.resume : undefined);
      } catch (error) {
        if (error instanceof RolloutJournalError) throw new CliRefusedError(error.message, { cause: error });
        throw error;
      }
      const state = journal.state();
      if (state.plan.programVersion !== version) {
        journal.release();
        throw new CliRefusedError(
          `rollout ${state.plan.id} deploys program ${state.plan.programVersion}, this checkout is ${version}: start a new rollout`,
        );
      }
      if (options.dryRun) {
        journal.release();
        const json = toJson(state.plan.id, true, "planned", state.haltReason, state.plan, state.accounts);
        ctx.out.result(json, text(json));
        return EXIT.ok;
      }
    } else {
      const policy = policyOf(options);
      const accounts = await select(session, options, version);
      if (accounts.length === 0) {
        const json = toJson(
          null,
          options.dryRun === true,
          "nothing-to-do",
          null,
          { policy, programVersion: version },
          [],
        );
        ctx.out.result(json, "no account matches the selection: nothing to roll out\n");
        return EXIT.ok;
      }
      const plan = newRolloutPlan(accounts, policy, version, {
        ou: options.ou ?? null,
        accounts: options.accounts ?? null,
        outdatedOnly: options.outdatedOnly === true,
      });
      if (options.dryRun) {
        const planned: RolloutAccount[] = accounts.map((a, i) => ({
          ...a,
          phase: i < policy.canary ? "canary" : "wave",
          state: "pending",
          attempts: 0,
          summary: null,
          error: null,
        }));
        const json = toJson(null, true, "planned", null, plan, planned);
        ctx.out.result(json, text(json));
        return EXIT.ok;
      }
      journal = RolloutJournal.create(dir, plan);
      ctx.out.progress(`rollout ${plan.id}: ${accounts.length} account(s), journal ${journal.file}`);
    }

    const { json, code } = await driveRollout(
      ctx,
      session,
      journal,
      version,
      options.retryFailed === true,
      options.webhookWait === undefined ? undefined : options.webhookWait * 1000,
    );
    ctx.out.result(json, text(json));
    return code;
  });
}
