/**
 * Progress of a fleet verb over many accounts, as a {@link ProgressReporter} (`automation/progress.ts`), so
 * `AccountStacks` and the rollout feed it the same events as any multi-stack run. On a TTY it redraws a small
 * block in place: a totals line (done, failed, running, pending, ETA) and one line per stack in flight with its
 * latest engine line; finished stacks leave the block, so 1,000 accounts never mean 1,000 lines. Elsewhere it
 * prints one plain line per start and per finish with the running totals.
 */
import type { ProgressReporter, ProgressStream } from "../progress";

/** Options of {@link FleetProgress}. */
export interface FleetProgressOptions {
  /** Where to draw (stderr). */
  readonly stream: ProgressStream;
  /** Live display (default: `stream.isTTY`). */
  readonly tty?: boolean;
  /** Accounts the verb will handle (for pending and ETA). */
  readonly total: number;
  /** Verb shown in the totals line, e.g. `rollout`. */
  readonly verb: string;
  /** Clock in ms (default `Date.now`). */
  readonly now?: () => number;
  /** Accounts already finished before this run (a resumed rollout). */
  readonly alreadyDone?: number;
  readonly alreadyFailed?: number;
}

/** Formats a duration as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** The counters of a fleet run. */
export interface FleetCounts {
  readonly done: number;
  readonly failed: number;
  readonly running: number;
  readonly pending: number;
  /** Estimated time left in ms, undefined until the first stack finished. */
  readonly etaMs: number | undefined;
}

/** Totals line plus in-flight stacks (TTY) or plain lines (pipes, CI). */
export class FleetProgress implements ProgressReporter {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly inFlight = new Map<string, string>();
  private done: number;
  private failed: number;
  private finishedHere = 0;
  private startedAt: number | undefined;
  private drawn = 0;

  constructor(private readonly options: FleetProgressOptions) {
    this.stream = options.stream;
    this.tty = options.tty ?? options.stream.isTTY === true;
    this.now = options.now ?? Date.now;
    this.done = options.alreadyDone ?? 0;
    this.failed = options.alreadyFailed ?? 0;
  }

  /** The current counters. */
  counts(): FleetCounts {
    const running = this.inFlight.size;
    const pending = Math.max(0, this.options.total - this.done - this.failed - running);
    let etaMs: number | undefined;
    if (this.startedAt !== undefined && this.finishedHere > 0) {
      const perAccount = (this.now() - this.startedAt) / this.finishedHere;
      etaMs = perAccount * (pending + running);
    }
    return { done: this.done, failed: this.failed, running, pending, etaMs };
  }

  /** `rollout: 12/200 done, 1 failed, 4 running, 183 pending, ETA 3m20s`. */
  summary(): string {
    const c = this.counts();
    const eta = c.etaMs === undefined ? "" : `, ETA ${formatDuration(c.etaMs)}`;
    return `${this.options.verb}: ${c.done}/${this.options.total} done, ${c.failed} failed, ${c.running} running, ${c.pending} pending${eta}`;
  }

  private width(): number {
    // A pseudo-terminal without a size reports 0 columns: draw as if 100 wide.
    return Math.max(20, (this.stream.columns || 100) - 1);
  }

  private clip(text: string): string {
    const width = this.width();
    return text.length > width ? `${text.slice(0, width - 1)}…` : text;
  }

  private redraw(): void {
    const lines = [this.summary(), ...[...this.inFlight.entries()].map(([stack, line]) => `  … ${stack} ${line}`)];
    let out = this.drawn > 0 ? `\x1b[${this.drawn}A` : "";
    for (const line of lines) out += `\x1b[2K${this.clip(line)}\n`;
    // Lines left over from a taller block are cleared.
    for (let i = lines.length; i < this.drawn; i++) out += "\x1b[2K\n";
    const extra = Math.max(0, this.drawn - lines.length);
    if (extra > 0) out += `\x1b[${extra}A`;
    this.drawn = lines.length;
    this.stream.write(out);
  }

  /** Prints a line above the live block (or as a plain line). */
  note(line: string): void {
    if (!this.tty) {
      this.stream.write(`${line}\n`);
      return;
    }
    let out = this.drawn > 0 ? `\x1b[${this.drawn}A` : "";
    out += `\x1b[2K${this.clip(line)}\n`;
    this.stream.write(out);
    this.drawn = 0;
    this.redraw();
  }

  start(stackName: string, verb: string): void {
    this.startedAt ??= this.now();
    this.inFlight.set(stackName, verb);
    if (this.tty) this.redraw();
    else this.stream.write(`${stackName}: ${verb} started\n`);
  }

  update(stackName: string, line: string): void {
    const trimmed = line.trim();
    if (!this.inFlight.has(stackName) || trimmed === "") return;
    this.inFlight.set(stackName, trimmed);
    if (this.tty) this.redraw();
  }

  succeed(stackName: string, summary: string): void {
    this.inFlight.delete(stackName);
    this.done++;
    this.finishedHere++;
    if (this.tty) this.redraw();
    else this.stream.write(`${stackName}: ${summary} [${this.summary()}]\n`);
  }

  fail(stackName: string, message: string): void {
    this.inFlight.delete(stackName);
    this.failed++;
    this.finishedHere++;
    if (this.tty) this.note(`✖ ${stackName} ${message}`);
    else this.stream.write(`${stackName}: FAILED ${message} [${this.summary()}]\n`);
  }

  /** Leaves the final totals on screen (TTY) or prints them (plain). */
  finish(): void {
    if (this.tty) this.redraw();
    else this.stream.write(`${this.summary()}\n`);
  }
}
