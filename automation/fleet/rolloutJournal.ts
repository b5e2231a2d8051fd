/**
 * The persisted record of a rollout: an append-only JSON-lines journal `<dir>/<id>.jsonl` (the plan first, then
 * one event per account start, finish and failure, halts, interruptions and the end). Appending one short line is
 * a single write, so a crash (even SIGKILL) leaves at worst a torn last line, which replay ignores. The state is
 * the replay of the journal. A lock file `<id>.lock` holding the owner's pid keeps two processes from driving the
 * same rollout; a lock whose process is gone is taken over.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  closeSync,
  writeSync,
} from "node:fs";
import path from "node:path";

/** Where one account stands in a rollout. */
export type RolloutAccountState = "pending" | "running" | "done" | "failed";

/** Where the rollout stands. */
export type RolloutStatus = "running" | "halted" | "interrupted" | "completed";

/** The rollout's rules, fixed when it is created. */
export interface RolloutPolicy {
  /** Accounts updated first; any failure among them halts the rollout. */
  readonly canary: number;
  /** Stacks updated at once after the canary (local `pulumi up`s or in-flight Deployments). */
  readonly concurrency: number;
  /** The rollout halts once more than this percentage of the accounts after the canary have failed. */
  readonly maxFailurePercent: number;
  /** `local` (Automation API in this process) or `remote` (Pulumi Deployments). */
  readonly mode: "local" | "remote";
  /** Refresh each stack before its update (`pulumi up --refresh`): set for drift remediation. */
  readonly refresh?: boolean;
}

/** One account of the plan. */
export interface PlannedAccount {
  readonly accountId: string;
  /** The account stack's `tags` config (from the ledger record). */
  readonly tags: Readonly<Record<string, string>>;
}

/** The first journal line. */
export interface RolloutPlan {
  readonly id: string;
  readonly createdAt: string;
  readonly policy: RolloutPolicy;
  /** Program version the rollout deploys (a resume from another checkout is refused). */
  readonly programVersion: string;
  /** What was selected, for the record (`--ou`, `--accounts`, `--outdated-only`). */
  readonly selection: Readonly<Record<string, unknown>>;
  /** In rollout order; the first `policy.canary` are the canary. */
  readonly accounts: readonly PlannedAccount[];
}

/** Events after the plan. */
export type RolloutEvent =
  | { readonly t: "start"; readonly accountId: string; readonly at: string }
  | { readonly t: "done"; readonly accountId: string; readonly at: string; readonly summary: string }
  | { readonly t: "fail"; readonly accountId: string; readonly at: string; readonly error: string }
  | { readonly t: "retry"; readonly accountIds: readonly string[]; readonly at: string }
  | { readonly t: "halt"; readonly at: string; readonly reason: string }
  | { readonly t: "interrupt"; readonly at: string; readonly reason: string }
  | { readonly t: "resume"; readonly at: string; readonly pid: number }
  | { readonly t: "complete"; readonly at: string };

/** One account's state after replay. */
export interface RolloutAccount extends PlannedAccount {
  readonly phase: "canary" | "wave";
  readonly state: RolloutAccountState;
  /** Times an update of this account started. */
  readonly attempts: number;
  readonly summary: string | null;
  readonly error: string | null;
}

/** The replayed state of a rollout. */
export interface RolloutState {
  readonly plan: RolloutPlan;
  readonly status: RolloutStatus;
  readonly haltReason: string | null;
  readonly accounts: readonly RolloutAccount[];
}

/** The rollout cannot be opened or driven (unknown id, locked by a live process, unreadable plan). */
export class RolloutJournalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Replays a journal's lines into the state; a torn (unparsable) last line is ignored. */
export function replayRollout(text: string): RolloutState {
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const parsed: unknown[] = [];
  lines.forEach((line, index) => {
    try {
      parsed.push(JSON.parse(line));
    } catch (error) {
      if (index !== lines.length - 1)
        throw new RolloutJournalError(`journal line ${index + 1} is corrupt`, { cause: error });
    }
  });
  const plan = parsed[0] as RolloutPlan | undefined;
  if (!plan || typeof plan.id !== "string" || !Array.isArray(plan.accounts)) {
    throw new RolloutJournalError("journal has no rollout plan on its first line");
  }
  const accounts = new Map<string, RolloutAccount>(
    plan.accounts.map((a, i) => [
      a.accountId,
      {
        accountId: a.accountId,
        tags: a.tags,
        phase: i < plan.policy.canary ? "canary" : "wave",
        state: "pending",
        attempts: 0,
        summary: null,
        error: null,
      },
    ]),
  );
  let status: RolloutStatus = "running";
  let haltReason: string | null = null;
  const set = (id: string, patch: Partial<RolloutAccount>) => {
    const current = accounts.get(id);
    if (current) accounts.set(id, { ...current, ...patch });
  };
  for (const raw of parsed.slice(1)) {
    const event = raw as RolloutEvent;
    switch (event.t) {
      case "start":
        set(event.accountId, { state: "running", attempts: (accounts.get(event.accountId)?.attempts ?? 0) + 1 });
        break;
      case "done":
        set(event.accountId, { state: "done", summary: event.summary, error: null });
        break;
      case "fail":
        set(event.accountId, { state: "failed", error: event.error });
        break;
      case "retry":
        for (const id of event.accountIds) set(id, { state: "pending", error: null });
        break;
      case "halt":
        status = "halted";
        haltReason = event.reason;
        break;
      case "interrupt":
        status = "interrupted";
        haltReason = event.reason;
        break;
      case "resume":
        status = "running";
        haltReason = null;
        break;
      case "complete":
        status = "completed";
        haltReason = null;
        break;
    }
  }
  return { plan, status, haltReason, accounts: [...accounts.values()] };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** An open rollout journal; holds the rollout's lock until {@link RolloutJournal.release}. */
export class RolloutJournal {
  private constructor(
    /** Journal file. */
    readonly file: string,
    private readonly lockFile: string,
  ) {}

  /** The journal directory's rollouts, newest first (by plan time). */
  static list(dir: string): RolloutState[] {
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith(".jsonl"))
      .map((f) => replayRollout(readFileSync(path.join(dir, f), "utf8")))
      .sort((a, b) => b.plan.createdAt.localeCompare(a.plan.createdAt) || b.plan.id.localeCompare(a.plan.id));
  }

  /** Writes a new rollout's plan and takes its lock. */
  static create(dir: string, plan: RolloutPlan): RolloutJournal {
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${plan.id}.jsonl`);
    if (existsSync(file)) throw new RolloutJournalError(`rollout ${plan.id} exists already`);
    const journal = new RolloutJournal(file, path.join(dir, `${plan.id}.lock`));
    journal.lock();
    appendFileSync(file, `${JSON.stringify(plan)}\n`);
    return journal;
  }

  /**
   * Opens rollout `id` (or, when undefined, the newest one that is not completed) and takes its lock.
   * @throws RolloutJournalError when there is none, or a live process holds it
   */
  static open(dir: string, id: string | undefined): RolloutJournal {
    let chosen = id;
    if (chosen === undefined) {
      const open = RolloutJournal.list(dir).find((state) => state.status !== "completed");
      if (!open) throw new RolloutJournalError(`no unfinished rollout in ${dir}`);
      chosen = open.plan.id;
    }
    if (!/^[\w.-]+$/.test(chosen)) throw new RolloutJournalError(`rollout id must be [A-Za-z0-9_.-], got "${chosen}"`);
    const file = path.join(dir, `${chosen}.jsonl`);
    if (!existsSync(file)) throw new RolloutJournalError(`no rollout ${chosen} in ${dir}`);
    const journal = new RolloutJournal(file, path.join(dir, `${chosen}.lock`));
    journal.lock();
    return journal;
  }

  private lock(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockFile, "wx");
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const pid = Number(readFileSync(this.lockFile, "utf8").trim());
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) {
          throw new RolloutJournalError(
            `rollout ${path.basename(this.file, ".jsonl")} is being driven by process ${pid}; wait for it or stop it`,
          );
        }
        // The owner is gone (crashed or killed): take the rollout over.
        rmSync(this.lockFile, { force: true });
      }
    }
    throw new RolloutJournalError(`could not lock ${this.lockFile}`);
  }

  /** The replayed state. */
  state(): RolloutState {
    return replayRollout(readFileSync(this.file, "utf8"));
  }

  /** Appends one event (one write). */
  append(event: RolloutEvent): void {
    appendFileSync(this.file, `${JSON.stringify(event)}\n`);
  }

  /** Releases the lock. */
  release(): void {
    rmSync(this.lockFile, { force: true });
  }
}
