/**
 * Drives a rollout (see `rolloutJournal.ts` for the record): the canary first, then the remaining accounts with at
 * most `concurrency` updates in flight, halting by the policy:
 * - any failure among the canary halts before the first wave account starts;
 * - after the canary, the rollout halts as soon as more than `maxFailurePercent` of the wave accounts have failed
 *   (the failure tolerance of CloudFormation StackSets, rounded down: 10% of 199 accounts tolerates 19 failures).
 * A halt or an interruption stops starting updates; those in flight finish and are recorded (an interrupted
 * `pulumi up` would leave its stack locked). On resume, an account recorded as started but not finished is
 * looked up first: when its stack already carries the stamp this rollout deploys, it is recorded done without a
 * second update; otherwise it is updated. Finished accounts are never updated again; failed ones only when the
 * operator asks (`retryFailed`).
 */
import { sameStamp, type DeploymentStamp } from "../../src/shared/deploymentStamp";
import { accountStackName } from "../../src/shared/naming";
import type { ProgressReporter } from "../progress";
import type { AccountStackTarget } from "../stacks/stackConfig";
import type { RolloutAccount, RolloutJournal, RolloutState, RolloutStatus } from "./rolloutJournal";

/** How a rollout updates one account stack. */
export interface FleetUpdater {
  /** Deploys the account's stack to the current program and settings; resolves with a one-line summary. */
  update(target: AccountStackTarget, progress: ProgressReporter): Promise<{ readonly summary: string }>;
  /** The stack's current `avmDeployment` stamp, undefined when unknown (then an interrupted update is re-run). */
  deployedStamp(accountId: string): Promise<DeploymentStamp | undefined>;
  /** The stamp an update of `target` records, undefined when it cannot be known here. */
  expectedStamp(target: AccountStackTarget): DeploymentStamp | undefined;
}

/** Options of {@link runRollout}. */
export interface RunRolloutOptions {
  readonly journal: RolloutJournal;
  readonly updater: FleetUpdater;
  readonly progress: ProgressReporter;
  /** Failed accounts go back to pending before the run (`--retry-failed`). */
  readonly retryFailed?: boolean;
  /** When aborted, no further update starts; the run ends `interrupted`. */
  readonly signal?: AbortSignal;
  /** Clock for journal timestamps (default `new Date()`). */
  readonly now?: () => Date;
}

/** Result of {@link runRollout}. */
export interface RolloutResult {
  readonly id: string;
  readonly status: RolloutStatus;
  readonly haltReason: string | null;
  readonly accounts: readonly RolloutAccount[];
  readonly counts: { readonly done: number; readonly failed: number; readonly pending: number };
  /** Accounts recorded done after an interruption because their stack already carried the target stamp. */
  readonly recovered: readonly string[];
}

/** Counts of a state's accounts (a `running` account counts as pending: it has not finished). */
export function rolloutCounts(accounts: readonly RolloutAccount[]): RolloutResult["counts"] {
  let done = 0;
  let failed = 0;
  for (const a of accounts) {
    if (a.state === "done") done++;
    else if (a.state === "failed") failed++;
  }
  return { done, failed, pending: accounts.length - done - failed };
}

/** Failures the waves tolerate: floor(percent of the wave accounts). */
export function waveFailureBudget(waveAccounts: number, maxFailurePercent: number): number {
  return Math.floor((waveAccounts * maxFailurePercent) / 100);
}

/** Runs (or resumes) the rollout in `journal` until it completes, halts or is interrupted. */
export async function runRollout(options: RunRolloutOptions): Promise<RolloutResult> {
  const { journal, updater, progress } = options;
  const now = options.now ?? (() => new Date());
  const at = () => now().toISOString();
  const initial: RolloutState = journal.state();
  const { plan } = initial;
  const accounts = new Map(initial.accounts.map((a) => [a.accountId, a]));
  const set = (id: string, patch: Partial<RolloutAccount>) =>
    accounts.set(id, { ...(accounts.get(id) as RolloutAccount), ...patch });
  const recovered: string[] = [];

  if (initial.status !== "running") journal.append({ t: "resume", at: at(), pid: process.pid });
  if (options.retryFailed) {
    const failed = [...accounts.values()].filter((a) => a.state === "failed").map((a) => a.accountId);
    if (failed.length > 0) {
      journal.append({ t: "retry", accountIds: failed, at: at() });
      for (const id of failed) set(id, { state: "pending", error: null });
    }
  }
  // Accounts whose update started before a crash: look before updating again.
  for (const account of [...accounts.values()].filter((a) => a.state === "running")) {
    const expected = updater.expectedStamp(account);
    const deployed = expected ? await updater.deployedStamp(account.accountId) : undefined;
    if (expected && deployed && sameStamp(expected, deployed)) {
      const summary = "already updated (its stack carries this rollout's stamp; found after an interruption)";
      journal.append({ t: "done", accountId: account.accountId, at: at(), summary });
      set(account.accountId, { state: "done", summary });
      recovered.push(account.accountId);
    } else {
      set(account.accountId, { state: "pending" });
    }
  }

  const stopped = (): boolean => options.signal?.aborted === true || haltReason !== null;
  let haltReason: string | null = null;

  async function runOne(id: string): Promise<void> {
    const account = accounts.get(id) as RolloutAccount;
    const stackName = accountStackName(id);
    journal.append({ t: "start", accountId: id, at: at() });
    set(id, { state: "running", attempts: account.attempts + 1 });
    progress.start(stackName, "up");
    try {
      const { summary } = await updater.update({ accountId: id, tags: account.tags }, progress);
      journal.append({ t: "done", accountId: id, at: at(), summary });
      set(id, { state: "done", summary, error: null });
      progress.succeed(stackName, summary);
    } catch (raw) {
      const error = raw instanceof Error ? raw.message : String(raw);
      journal.append({ t: "fail", accountId: id, at: at(), error });
      set(id, { state: "failed", error });
      progress.fail(stackName, error);
    }
  }

  async function pool(ids: readonly string[], limit: number, afterEach: () => void): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ids.length && !stopped()) {
        const id = ids[next++] as string;
        await runOne(id);
        afterEach();
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, ids.length)) }, worker));
  }

  const all = [...accounts.values()];
  const canary = all.filter((a) => a.phase === "canary");
  const waves = all.filter((a) => a.phase === "wave");
  const failedIn = (group: readonly RolloutAccount[]) =>
    group.filter((a) => accounts.get(a.accountId)?.state === "failed").map((a) => a.accountId);

  const checkCanary = () => {
    const failed = failedIn(canary);
    if (failed.length > 0 && haltReason === null) {
      haltReason = `canary failed (${failed.join(", ")}): no wave account was started`;
    }
  };
  checkCanary();
  if (!stopped()) {
    const pendingCanary = canary.filter((a) => accounts.get(a.accountId)?.state === "pending").map((a) => a.accountId);
    await pool(pendingCanary, plan.policy.concurrency, checkCanary);
  }
  const budget = waveFailureBudget(waves.length, plan.policy.maxFailurePercent);
  const checkWaves = () => {
    const failed = failedIn(waves).length;
    if (failed > budget && haltReason === null) {
      haltReason =
        `${failed} of ${waves.length} accounts after the canary failed ` +
        `(more than ${plan.policy.maxFailurePercent}% = ${budget} tolerated)`;
    }
  };
  checkWaves();
  if (!stopped()) {
    const pendingWaves = waves.filter((a) => accounts.get(a.accountId)?.state === "pending").map((a) => a.accountId);
    await pool(pendingWaves, plan.policy.concurrency, checkWaves);
  }

  let status: RolloutStatus;
  const final = [...accounts.values()];
  const counts = rolloutCounts(final);
  if (haltReason !== null) {
    status = "halted";
    journal.append({ t: "halt", at: at(), reason: haltReason });
  } else if (options.signal?.aborted === true || counts.pending > 0) {
    status = "interrupted";
    haltReason = "interrupted: updates in flight finished, the rest is pending; resume with --resume";
    journal.append({ t: "interrupt", at: at(), reason: haltReason });
  } else {
    status = "completed";
    journal.append({ t: "complete", at: at() });
  }
  return { id: plan.id, status, haltReason, accounts: final, counts, recovered };
}
