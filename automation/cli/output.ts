/**
 * Output of the `avm` CLI: the stable `--json` shapes (documented in docs/cli.md) and the human-readable
 * renderings. Human output goes to stdout, progress to stderr (live only on a TTY), errors to stderr.
 */
import type { LedgerRecord, RequestState } from "../../src/core/ledger";
import { workflowInputOf } from "../../src/core/vending/workflowInput";
import type { CliIo, CliOutput } from "./io";

/** A ledger record in `--json` output. Absent values are `null`, so every key is always present. */
export interface RecordJson {
  readonly requestId: string;
  readonly email: string;
  readonly kind: string;
  readonly state: RequestState;
  readonly accountId: string | null;
  readonly accountName: string | null;
  readonly targetOu: string | null;
  readonly tags: Readonly<Record<string, string>>;
  /** Completion tag `ProductName` (meshStack workspace), when the request has one. */
  readonly productName: string | null;
  /** Completion tag `Stage` (meshStack project), when the request has one. */
  readonly stage: string | null;
  readonly failureReason: string | null;
  readonly createAccountRequestId: string | null;
  readonly attempts: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly history: readonly { readonly at: string; readonly state: RequestState; readonly note: string | null }[];
}

/** Converts a ledger record to its `--json` shape. */
export function recordJson(record: LedgerRecord): RecordJson {
  let accountName: string | null = null;
  let targetOu: string | null = null;
  let tags: Readonly<Record<string, string>> = {};
  let productName: string | null = null;
  let stage: string | null = null;
  try {
    const input = workflowInputOf(record);
    accountName = input.accountName;
    targetOu = input.targetOu ?? null;
    tags = input.tags;
    productName = input.productName ?? null;
    stage = input.stage ?? null;
  } catch {
    // A record without an account name (hand-edited): show what there is.
  }
  return {
    requestId: record.requestId,
    email: record.email,
    kind: record.kind,
    state: record.state,
    accountId: record.accountId ?? null,
    accountName,
    targetOu,
    tags,
    productName,
    stage,
    failureReason: record.failureReason ?? null,
    createAccountRequestId: record.createAccountRequestId ?? null,
    attempts: record.attempts,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    history: record.history.map((entry) => ({ at: entry.at, state: entry.state, note: entry.note ?? null })),
  };
}

/** Renders rows as a left-aligned text table with a header. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/** A record as a few `key: value` lines. */
export function recordText(record: LedgerRecord): string {
  const view = recordJson(record);
  const lines: [string, string][] = [
    ["request", view.requestId],
    ["email", view.email],
    ["kind", view.kind],
    ["state", view.state],
    ["account", view.accountId ?? "-"],
    ["name", view.accountName ?? "-"],
  ];
  if (view.targetOu !== null) lines.push(["target OU", view.targetOu]);
  const tags = Object.entries(view.tags);
  if (tags.length > 0) lines.push(["tags", tags.map(([k, v]) => `${k}=${v}`).join(", ")]);
  if (view.productName !== null && view.stage !== null) {
    lines.push(["completion", `ProductName=${view.productName}, Stage=${view.stage}`]);
  }
  if (view.failureReason !== null) lines.push(["failure", view.failureReason]);
  lines.push(["updated", view.updatedAt]);
  const width = Math.max(...lines.map(([k]) => k.length));
  const history = view.history.map((h) => `  ${h.at}  ${h.state.padEnd(13)} ${h.note ?? ""}`.trimEnd());
  return [...lines.map(([k, v]) => `${k.padEnd(width)}  ${v}`), "history:", ...history].join("\n") + "\n";
}

/** Writers bound to one run's streams and flags. */
export class Output {
  constructor(
    private readonly io: CliIo,
    /** `--json`: results as JSON on stdout. */
    readonly json: boolean,
    /** `--quiet`: no progress on stderr. */
    readonly quiet: boolean,
    /** Told when a result document was written (then a later error adds no second JSON document). */
    private readonly onResult: () => void = () => undefined,
  ) {}

  /** Writes `value` as pretty JSON (one document) to stdout. */
  writeJson(value: unknown): void {
    this.onResult();
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Writes human-readable text to stdout (ignored under `--json`). */
  text(text: string): void {
    if (!this.json) this.io.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  /** `json` under `--json`, else `text`. */
  result(json: unknown, text: string): void {
    if (this.json) this.writeJson(json);
    else this.text(text);
  }

  /** A progress line on stderr (suppressed by `--quiet`). */
  progress(line: string): void {
    if (!this.quiet) this.io.stderr.write(`${line}\n`);
  }

  /** The stream progress displays draw on. */
  get progressStream(): CliOutput {
    return this.io.stderr;
  }
}
