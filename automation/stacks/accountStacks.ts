/**
 * The account-stack verbs (ensure, deploy, preview, refresh, destroy, outputs, list) over a
 * {@link PulumiEngine}, with: stack names from `accountStackName`, stack config from the ledger record and
 * settings, retries of ConcurrentUpdateError with jittered backoff (injected {@link Timing}), engine errors
 * mapped once by `classifyEngineError`, engine output streamed to the logger, and parallel multi-account
 * runs with a concurrency limit and a progress display.
 */
import { accountIdFromStackName, accountStackName, DEFAULT_ACCESS_ROLE_NAME } from "../../src/shared/naming";
import { realTiming, type Timing } from "../../src/shared/timing";
import { accessRoleCollisionMessage, isRoleAlreadyExistsError } from "../../src/stacks/accessRoleCollision";
import { mapWithLimit } from "../concurrency";
import { AccessRoleCollisionError, AutomationError, classifyEngineError, EngineError, StackBusyError } from "../errors";
import { silentLogger, type AutomationLogger } from "../logger";
import { silentProgress, type ProgressReporter } from "../progress";
import type { EngineOutputs, EngineUpdateResult, PulumiEngine, ResourceChanges } from "./engine";
import type { ResourceDrift } from "./resourceDrift";
import { buildAccountStackConfig, type AccountStackSettings, type AccountStackTarget } from "./stackConfig";

/** Options of {@link AccountStacks}. */
export interface AccountStacksOptions {
  readonly engine: PulumiEngine;
  readonly settings: AccountStackSettings;
  /** Default `realTiming`. */
  readonly timing?: Timing;
  /** Engine output lines go to `debug`, verbs to `info`. Default: silent. */
  readonly logger?: AutomationLogger;
  /** Attempts per operation while the stack is busy (ConcurrentUpdateError); default 5. */
  readonly busyAttempts?: number;
  /** First backoff delay in ms; default 2000. Doubles per attempt, with full jitter. */
  readonly busyBaseDelayMs?: number;
  /** Backoff cap in ms; default 30000. */
  readonly busyMaxDelayMs?: number;
  /** Default concurrency of the `*Many` calls; default 4. */
  readonly concurrency?: number;
}

/** Result of {@link AccountStacks.ensure}. */
export interface EnsureResult {
  readonly accountId: string;
  readonly stackName: string;
}

/** Result of deploy, refresh and destroy. */
export interface StackUpdateResult extends EnsureResult {
  readonly resourceChanges: ResourceChanges;
  readonly outputs: EngineOutputs;
  /** One line, e.g. `up: 3 create, 1 same`. */
  readonly summary: string;
}

/** Result of {@link AccountStacks.detectDrift}. */
export interface StackDriftResult extends EnsureResult {
  readonly changeSummary: ResourceChanges;
  readonly resources: readonly ResourceDrift[];
  /** `no drift` or `drift in N resource(s)`. */
  readonly summary: string;
}

/** One account stack as listed by {@link AccountStacks.list}. */
export interface AccountStackSummary {
  readonly accountId: string;
  readonly stackName: string;
  readonly updateInProgress: boolean;
  readonly lastUpdate?: string;
  readonly resourceCount?: number;
  readonly url?: string;
}

/** Outcome of one account in a multi-account run: either `result` or `error` is set. */
export type BatchOutcome<R> =
  | { readonly accountId: string; readonly stackName: string; readonly ok: true; readonly result: R }
  | { readonly accountId: string; readonly stackName: string; readonly ok: false; readonly error: AutomationError };

/** Options of the multi-account calls. */
export interface BatchOptions {
  /** Maximum stacks in flight; default from {@link AccountStacksOptions.concurrency}. */
  readonly concurrency?: number;
  /** Where per-stack progress goes; default silent. */
  readonly progress?: ProgressReporter;
}

/** Formats resource change counts as `3 create, 1 same` (sorted by name; `no changes` when empty). */
export function formatChanges(changes: ResourceChanges): string {
  const parts = Object.entries(changes)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([op, n]) => `${n} ${op}`);
  return parts.length === 0 ? "no changes" : parts.join(", ");
}

/** The account-stack verbs. One instance can serve many concurrent calls. */
export class AccountStacks {
  private readonly engine: PulumiEngine;
  private readonly settings: AccountStackSettings;
  private readonly timing: Timing;
  private readonly logger: AutomationLogger;
  private readonly busyAttempts: number;
  private readonly busyBaseDelayMs: number;
  private readonly busyMaxDelayMs: number;
  private readonly concurrency: number;
  private prepared: Promise<void> | undefined;

  constructor(options: AccountStacksOptions) {
    this.engine = options.engine;
    this.settings = options.settings;
    this.timing = options.timing ?? realTiming;
    this.logger = options.logger ?? silentLogger;
    this.busyAttempts = options.busyAttempts ?? 5;
    this.busyBaseDelayMs = options.busyBaseDelayMs ?? 2000;
    this.busyMaxDelayMs = options.busyMaxDelayMs ?? 30000;
    this.concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(this.busyAttempts) || this.busyAttempts < 1) {
      throw new RangeError(`busyAttempts must be a positive integer, got ${this.busyAttempts}`);
    }
  }

  /** Engine preparation (plugin install), run once per instance before the first stack operation. */
  private prepare(): Promise<void> {
    if (!this.prepared) {
      this.prepared = this.engine.prepare().catch((error: unknown) => {
        this.prepared = undefined;
        throw classifyEngineError(error, "(workspace)", "plugin install");
      });
    }
    return this.prepared;
  }

  /**
   * Runs one engine call with the error classifier and the busy-stack retry.
   * @throws StackBusyError with `attempts` set when the stack stays busy
   */
  private async call<R>(stackName: string, operation: string, fn: () => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (raw) {
        const error = classifyEngineError(raw, stackName, operation);
        if (!(error instanceof StackBusyError)) throw error;
        if (attempt >= this.busyAttempts) {
          const exhausted = new StackBusyError(
            `${operation} ${stackName}: stack still busy after ${attempt} attempts: ${error.message}`,
            stackName,
            operation,
            error.engineMessage,
            { cause: raw },
          );
          exhausted.attempts = attempt;
          throw exhausted;
        }
        const cap = Math.min(this.busyMaxDelayMs, this.busyBaseDelayMs * 2 ** (attempt - 1));
        const delay = Math.round(cap / 2 + (cap / 2) * this.timing.random());
        this.logger.warn("stack busy, retrying", { stackName, operation, attempt, delayMs: delay });
        await this.timing.sleep(delay);
      }
    }
  }

  /** The engine error of an `up` that met an unmanaged role with the access role's name, as a clear report. */
  private accessRoleCollision(error: unknown, accountId: string): AccessRoleCollisionError | undefined {
    if (!(error instanceof EngineError)) return undefined;
    const roleName = this.settings.accessRoleName ?? DEFAULT_ACCESS_ROLE_NAME;
    if (!isRoleAlreadyExistsError(error.engineMessage, roleName)) return undefined;
    return new AccessRoleCollisionError(
      `${error.operation} ${error.stackName} failed: ${accessRoleCollisionMessage(roleName, accountId)}`,
      error.stackName,
      error.operation,
      error.engineMessage,
      { cause: error },
    );
  }

  private onOutput(stackName: string, operation: string, progress: ProgressReporter): (chunk: string) => void {
    return (chunk) => {
      for (const line of chunk.split(/\r?\n/)) {
        if (line.trim() === "") continue;
        this.logger.debug(line, { stackName, operation });
        progress.update(stackName, line);
      }
    };
  }

  /**
   * Creates or selects the account's stack and makes its config exactly the one the settings give (keys dropped from
   * the settings are removed).
   * @throws Error when `accountId` is not 12 digits; AutomationConfigError for invalid settings
   */
  async ensure(target: AccountStackTarget): Promise<EnsureResult> {
    const stackName = accountStackName(target.accountId);
    const config = buildAccountStackConfig(target, this.settings);
    await this.prepare();
    await this.call(stackName, "ensure", () => this.engine.ensureStack(stackName));
    // Replace, not merge: a setting removed since the last run (an external id, an alias, a tag) must leave the stack.
    await this.call(stackName, "config", () => this.engine.replaceConfig(stackName, config));
    this.logger.info("account stack ready", { stackName });
    return { accountId: target.accountId, stackName };
  }

  /** `ensure` then `pulumi up` (`refresh`: `pulumi up --refresh`, which also reverts drift). */
  async deploy(
    target: AccountStackTarget,
    progress: ProgressReporter = silentProgress,
    options: { readonly refresh?: boolean } = {},
  ): Promise<StackUpdateResult> {
    const { stackName } = await this.ensure(target);
    this.logger.info("up started", { stackName });
    const result: EngineUpdateResult = await this.call(stackName, "up", () =>
      this.engine.up(stackName, {
        onOutput: this.onOutput(stackName, "up", progress),
        ...(options.refresh ? { refresh: true } : {}),
      }),
    ).catch((error: unknown) => {
      throw this.accessRoleCollision(error, target.accountId) ?? error;
    });
    const summary = `up: ${formatChanges(result.resourceChanges)}`;
    this.logger.info("up succeeded", { stackName, summary });
    return {
      accountId: target.accountId,
      stackName,
      resourceChanges: result.resourceChanges,
      outputs: result.outputs,
      summary,
    };
  }

  /** `pulumi refresh` of an existing stack. @throws AccountStackNotFoundError when it does not exist */
  async refresh(accountId: string, progress: ProgressReporter = silentProgress): Promise<StackUpdateResult> {
    const stackName = accountStackName(accountId);
    await this.prepare();
    const result = await this.call(stackName, "refresh", () =>
      this.engine.refresh(stackName, { onOutput: this.onOutput(stackName, "refresh", progress) }),
    );
    const summary = `refresh: ${formatChanges(result.resourceChanges)}`;
    this.logger.info("refresh finished", { stackName, summary });
    return { accountId, stackName, resourceChanges: result.resourceChanges, outputs: result.outputs, summary };
  }

  /**
   * `pulumi refresh --preview-only` of an existing stack: the resources whose real state drifted from the stack's
   * state, changing nothing. @throws AccountStackNotFoundError when it does not exist
   */
  async detectDrift(accountId: string, progress: ProgressReporter = silentProgress): Promise<StackDriftResult> {
    const stackName = accountStackName(accountId);
    await this.prepare();
    const result = await this.call(stackName, "drift", () =>
      this.engine.previewRefresh(stackName, { onOutput: this.onOutput(stackName, "drift", progress) }),
    );
    const summary = result.resources.length === 0 ? "no drift" : `drift in ${result.resources.length} resource(s)`;
    this.logger.info("drift check finished", { stackName, summary });
    return { accountId, stackName, changeSummary: result.changeSummary, resources: result.resources, summary };
  }

  /** Outputs of an existing stack. @throws AccountStackNotFoundError when it does not exist */
  async outputs(accountId: string): Promise<EngineOutputs> {
    const stackName = accountStackName(accountId);
    return this.call(stackName, "outputs", () => this.engine.outputs(stackName));
  }

  /** Account stacks in the backend (other stacks of the project, e.g. the platform stack, are left out). */
  async list(): Promise<AccountStackSummary[]> {
    const stacks = await this.call("(all)", "list", () => this.engine.listStacks());
    const result: AccountStackSummary[] = [];
    for (const s of stacks) {
      // Backends may qualify names (`org/project/stack`); the last segment is the stack name.
      const stackName = s.name.split("/").pop() ?? s.name;
      const accountId = accountIdFromStackName(stackName);
      if (accountId === undefined) continue;
      result.push({
        accountId,
        stackName,
        updateInProgress: s.updateInProgress,
        ...(s.lastUpdate === undefined ? {} : { lastUpdate: s.lastUpdate }),
        ...(s.resourceCount === undefined ? {} : { resourceCount: s.resourceCount }),
        ...(s.url === undefined ? {} : { url: s.url }),
      });
    }
    return result.sort((a, b) => a.stackName.localeCompare(b.stackName));
  }

  /**
   * Runs `verb` for many accounts, at most `concurrency` at once. Never rejects for a single account's
   * failure: each account gets its own {@link BatchOutcome}, in input order.
   */
  async runMany<R>(
    verb: string,
    accountIds: readonly string[],
    run: (accountId: string, progress: ProgressReporter) => Promise<R & { summary: string }>,
    options: BatchOptions = {},
  ): Promise<Array<BatchOutcome<R & { summary: string }>>> {
    const progress = options.progress ?? silentProgress;
    const stackNames = accountIds.map((id) => accountStackName(id)); // validate all before starting any
    await this.prepare();
    return mapWithLimit(accountIds, options.concurrency ?? this.concurrency, async (accountId, index) => {
      const stackName = stackNames[index] as string;
      progress.start(stackName, verb);
      try {
        const result = await run(accountId, progress);
        progress.succeed(stackName, result.summary);
        return { accountId, stackName, ok: true as const, result };
      } catch (raw) {
        const error = classifyEngineError(raw, stackName, verb);
        progress.fail(stackName, error.message);
        this.logger.error(`${verb} failed`, { stackName, error: error.message });
        return { accountId, stackName, ok: false as const, error };
      }
    });
  }

  /** {@link deploy} for many accounts in parallel (see {@link runMany}). */
  deployMany(
    targets: readonly AccountStackTarget[],
    options: BatchOptions = {},
  ): Promise<Array<BatchOutcome<StackUpdateResult>>> {
    const byId = new Map(targets.map((t) => [t.accountId, t]));
    return this.runMany(
      "up",
      [...byId.keys()],
      (id, progress) => this.deploy(byId.get(id) as AccountStackTarget, progress),
      options,
    );
  }
}
