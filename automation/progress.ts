/**
 * Progress display for multi-account operations. On a TTY it keeps one live line per stack (redrawn in
 * place with ANSI cursor movement); otherwise (CI, pipes, `--json`) it prints plain lines for start and
 * finish only, so logs stay readable.
 */

/** Receives per-stack progress events. */
export interface ProgressReporter {
  /** A stack's operation started. */
  start(stackName: string, verb: string): void;
  /** Latest engine output line of a stack (TTY only shows it). */
  update(stackName: string, line: string): void;
  /** A stack's operation succeeded. */
  succeed(stackName: string, summary: string): void;
  /** A stack's operation failed. */
  fail(stackName: string, message: string): void;
}

/** Reports nothing. */
export const silentProgress: ProgressReporter = {
  start: () => undefined,
  update: () => undefined,
  succeed: () => undefined,
  fail: () => undefined,
};

/** The subset of a writable stream the display needs. */
export interface ProgressStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

const MARK = { running: "…", ok: "✔", failed: "✖" } as const;

/** Line-per-stack display for terminals. */
class TtyProgress implements ProgressReporter {
  private readonly lines = new Map<string, string>();
  private drawn = 0;

  constructor(private readonly stream: ProgressStream) {}

  private set(stackName: string, text: string): void {
    const width = Math.max(20, (this.stream.columns ?? 100) - 1);
    this.lines.set(stackName, text.length > width ? `${text.slice(0, width - 1)}…` : text);
    this.redraw();
  }

  private redraw(): void {
    let out = this.drawn > 0 ? `\x1b[${this.drawn}A` : "";
    for (const line of this.lines.values()) out += `\x1b[2K${line}\n`;
    this.drawn = this.lines.size;
    this.stream.write(out);
  }

  start(stackName: string, verb: string): void {
    this.set(stackName, `${MARK.running} ${stackName} ${verb}`);
  }
  update(stackName: string, line: string): void {
    const trimmed = line.trim();
    if (trimmed !== "") this.set(stackName, `${MARK.running} ${stackName} ${trimmed}`);
  }
  succeed(stackName: string, summary: string): void {
    this.set(stackName, `${MARK.ok} ${stackName} ${summary}`);
  }
  fail(stackName: string, message: string): void {
    this.set(stackName, `${MARK.failed} ${stackName} ${message}`);
  }
}

/** Plain lines for pipes and CI logs. */
class PlainProgress implements ProgressReporter {
  constructor(private readonly stream: ProgressStream) {}
  start(stackName: string, verb: string): void {
    this.stream.write(`${stackName}: ${verb} started\n`);
  }
  update(): void {}
  succeed(stackName: string, summary: string): void {
    this.stream.write(`${stackName}: ${summary}\n`);
  }
  fail(stackName: string, message: string): void {
    this.stream.write(`${stackName}: FAILED ${message}\n`);
  }
}

/**
 * Creates the display for `stream` (default `process.stderr`): live lines when it is a TTY, plain lines otherwise.
 * @param stream where to draw
 * @param tty override TTY detection (tests, `--no-progress`)
 */
export function createProgress(
  stream: ProgressStream = process.stderr,
  tty: boolean = stream.isTTY === true,
): ProgressReporter {
  return tty ? new TtyProgress(stream) : new PlainProgress(stream);
}
