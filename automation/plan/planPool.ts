/**
 * Long-lived offline planners for batch vending: up to `size` child processes started with
 * `planChild.ts --serve`, each loading `@pulumi/aws` once and then planning one account stack after another
 * (mocks are process-global, so a child plans one stack at a time). Requests go to an idle child; a second child
 * starts only when the backlog outgrows the running ones.
 */
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import {
  PLAN_MARKER,
  type PlanChildRequest,
  type PlanChildResult,
  type PlanServeRequest,
  type PlanServeResponse,
  spawnPlanner,
} from "./planProtocol";

/** A planner child died or timed out; `detail` is the end of its stderr (secrets masked by the caller). */
export class PlannerExitError extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = new.target.name;
  }
}

interface Pending {
  readonly resolve: (result: PlanChildResult) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** One `planChild.ts --serve` process. */
class Planner {
  readonly pending = new Map<number, Pending>();
  /** Plans it answered: 0 while it is still loading the program. */
  answered = 0;
  private readonly child: ChildProcessWithoutNullStreams;
  private stderr = "";
  private exited = false;

  constructor(repoRoot: string) {
    this.child = spawnPlanner(repoRoot, "serve");
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      if (!line.startsWith(PLAN_MARKER)) return;
      const response = JSON.parse(line.slice(PLAN_MARKER.length)) as PlanServeResponse;
      const pending = this.pending.get(response.id);
      if (!pending) return;
      this.answered += 1;
      this.pending.delete(response.id);
      clearTimeout(pending.timer);
      pending.resolve(response.result);
    });
    this.child.stderr.on("data", (c: Buffer) => (this.stderr = (this.stderr + c.toString("utf8")).slice(-8192)));
    this.child.on("error", (error) => this.fail(error.message));
    this.child.on("close", (code) => this.fail(`exit code ${code}`));
  }

  get alive(): boolean {
    return !this.exited;
  }

  plan(id: number, request: PlanChildRequest, timeoutMs: number): Promise<PlanChildResult> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(`no answer within ${timeoutMs / 1000} s`);
        this.child.kill("SIGKILL");
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.stdin.write(`${JSON.stringify({ id, request } satisfies PlanServeRequest)}\n`);
    });
  }

  private fail(reason: string): void {
    this.exited = true;
    const detail = this.stderr.trim().split("\n").slice(-5).join(" | ") || reason;
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new PlannerExitError(detail));
    }
    this.pending.clear();
  }

  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once("close", () => resolve());
      this.child.stdin.end();
    });
  }
}

/** A planner started ahead of its pool ({@link prestartPlanner}), for the first pool of that repository to adopt. */
let prestarted: { readonly repoRoot: string; readonly planner: Planner } | undefined;

/**
 * Starts a planner now, before any {@link PlanPool} exists (a batch starts it before it has read the organization
 * its stack settings need); the first pool for `repoRoot` adopts it instead of starting its first planner. One at
 * most. If no pool adopts it, it ends when this process does: its stdin closes with the process.
 */
export function prestartPlanner(repoRoot: string): void {
  if (prestarted === undefined || !prestarted.planner.alive) prestarted = { repoRoot, planner: new Planner(repoRoot) };
}

/** Whether a prestarted planner for `repoRoot` waits for a pool to adopt it (diagnostics and tests). */
export function hasPrestartedPlanner(repoRoot: string): boolean {
  return prestarted?.repoRoot === repoRoot && prestarted.planner.alive;
}

/** Options of {@link PlanPool}. */
export interface PlanPoolOptions {
  /** Repo root holding `automation/plan/planChild.ts`. */
  readonly repoRoot: string;
  /** Child processes at most (default 2). */
  readonly size?: number;
  /**
   * Another planner (up to `size`) starts only when every running one has answered a plan and at least this many
   * requests per running planner wait (default 16). A planner costs about as much CPU to start as 40 plans, so
   * another one pays only for a lasting backlog, not for the requests that queued while the first one started.
   */
  readonly growAt?: number;
  /** A plan with no answer after this long kills its child (default 120 s). */
  readonly timeoutMs?: number;
}

/** Up to `size` planner children, started as the backlog asks for them and reused until {@link PlanPool.close}. */
export class PlanPool {
  private readonly planners: Planner[] = [];
  /** Requests no planner has taken yet (each planner works on one at a time). */
  private readonly queue: {
    request: PlanChildRequest;
    resolve: (result: PlanChildResult) => void;
    reject: (error: Error) => void;
  }[] = [];
  private nextId = 1;
  private startedCount = 0;

  constructor(private readonly options: PlanPoolOptions) {}

  /** Planner processes started so far (for the batch's figures and tests). */
  get started(): number {
    return this.startedCount;
  }

  /** Starts the first planner now, so it loads the program while the caller does other work (a batch's AWS calls). */
  warm(): void {
    if (this.planners.length === 0) this.start();
  }

  private start(): Planner {
    const early = hasPrestartedPlanner(this.options.repoRoot) ? prestarted : undefined;
    if (early) prestarted = undefined;
    const planner = early?.planner ?? new Planner(this.options.repoRoot);
    this.planners.push(planner);
    this.startedCount += 1;
    return planner;
  }

  /** Whether the backlog justifies another planner (see {@link PlanPoolOptions.growAt}). */
  private shouldGrow(): boolean {
    if (this.planners.length >= (this.options.size ?? 2)) return false;
    if (this.planners.length === 0) return true;
    return (
      this.planners.every((p) => p.answered > 0) &&
      this.queue.length >= (this.options.growAt ?? 16) * this.planners.length
    );
  }

  /** Plans one stack on the next free planner (another one starts when the backlog asks for it, up to `size`). */
  plan(request: PlanChildRequest): Promise<PlanChildResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  /** Hands queued requests to idle planners; the timeout of a plan starts when a planner takes it. */
  private dispatch(): void {
    for (let i = this.planners.length - 1; i >= 0; i--) if (!this.planners[i]!.alive) this.planners.splice(i, 1);
    while (this.queue.length > 0) {
      const idle = this.planners.find((p) => p.pending.size === 0);
      const planner = idle ?? (this.shouldGrow() ? this.start() : undefined);
      if (!planner) return;
      const next = this.queue.shift()!;
      planner.plan(this.nextId++, next.request, this.options.timeoutMs ?? 120_000).then(
        (result) => {
          next.resolve(result);
          this.dispatch();
        },
        (error: Error) => {
          next.reject(error);
          this.dispatch();
        },
      );
    }
  }

  /** Ends every planner (they finish what they were given first). */
  async close(): Promise<void> {
    await Promise.all(this.planners.splice(0).map((p) => p.close()));
  }
}
