/**
 * `avm list`: ledger records, oldest first, optionally filtered by state, one page at a time (the next page's
 * command is printed when more follow), or every page with `--all`. Reads the ledger only.
 */
import { REQUEST_STATES, type LedgerRecord, type RequestState } from "../../../src/core/ledger";
import { listPage } from "../../../src/core/ledgerPages";
import { decodeListCursor } from "../../../src/core/ledgerRecords";
import { shellWord } from "../../../src/shared/shellQuote";
import { withLedger, type CommandContext } from "../context";
import { CliUsageError } from "../errors";
import { recordJson, table, type RecordJson } from "../output";
import { DEFAULT_LEDGER_PATH, type LedgerSpec } from "../settings";
import path from "node:path";

/** Records per page of `avm list` without `--limit`. */
export const DEFAULT_LIST_PAGE = 100;

/** Records per page while `avm list --all` walks the ledger without `--limit`. */
export const DEFAULT_LIST_ALL_PAGE = 1_000;

/** Options of `avm list`. */
export interface ListCommandOptions {
  /** Comma-separated states (case-insensitive). */
  readonly state?: string;
  /** Records per page (default {@link DEFAULT_LIST_PAGE}; {@link DEFAULT_LIST_ALL_PAGE} with `all`). */
  readonly limit?: number;
  /** Cursor of the page to show: the `next` of the previous page. */
  readonly after?: string;
  /** Every page from `after` (or the first record) on, in one output. */
  readonly all?: boolean;
}

/** `--json` shape of `avm list`. */
export interface ListJson {
  readonly count: number;
  readonly records: readonly RecordJson[];
  /** `--after` of the next page, `null` when no record follows (always `null` with `--all`). */
  readonly next: string | null;
}

/**
 * Parses `--state a,b` into request states.
 * @throws CliUsageError naming the unknown state
 */
export function parseStates(value: string): RequestState[] {
  return value
    .split(",")
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s !== "")
    .map((s) => {
      if (!(REQUEST_STATES as readonly string[]).includes(s)) {
        throw new CliUsageError(`--state: unknown state "${s}" (one of ${REQUEST_STATES.join(", ")})`);
      }
      return s as RequestState;
    });
}

/**
 * Checks `--after`.
 * @throws CliUsageError naming the flag when the value is not a cursor printed by `avm list`
 */
export function parseAfter(value: string): string {
  try {
    decodeListCursor(value);
  } catch (error) {
    const shown = value.length <= 80 ? value : `${value.slice(0, 80)}...`;
    throw new CliUsageError(
      `--after must be a cursor printed by avm list (its "next page" line or "next" in --json), got "${shown}"`,
      { cause: error },
    );
  }
  return value;
}

/** The global options that select `ledger` again (none for the default SQLite file of `cwd`). */
function ledgerFlags(ledger: LedgerSpec, cwd: string): string[] {
  if (ledger.kind === "dynamodb") {
    return ["--ledger-table", ledger.table, ...(ledger.region !== undefined ? ["--region", ledger.region] : [])];
  }
  if (ledger.path === path.resolve(cwd, DEFAULT_LEDGER_PATH)) return [];
  return ["--ledger", shellWord(ledger.path)];
}

/** Lists records: one page (with the next page's command when more follow), or every page with `--all`. */
export async function listCommand(ctx: CommandContext, options: ListCommandOptions): Promise<void> {
  const states = options.state !== undefined ? parseStates(options.state) : undefined;
  const after = options.after !== undefined ? parseAfter(options.after) : undefined;
  const limit = options.limit ?? (options.all === true ? DEFAULT_LIST_ALL_PAGE : DEFAULT_LIST_PAGE);
  const filter = states && states.length > 0 ? { states } : {};
  const { records, next } = await withLedger(ctx, async (ledger) => {
    if (options.all !== true) return listPage(ledger, { ...filter, limit, ...(after ? { after } : {}) });
    const every: LedgerRecord[] = [];
    let cursor = after;
    do {
      const page = await listPage(ledger, { ...filter, limit, ...(cursor ? { after: cursor } : {}) });
      every.push(...page.records);
      cursor = page.next ?? undefined;
    } while (cursor !== undefined);
    return { records: every, next: null };
  });
  const json: ListJson = { count: records.length, records: records.map(recordJson), next };
  let text =
    records.length === 0
      ? "no requests\n"
      : table(
          ["REQUEST ID", "EMAIL", "STATE", "ACCOUNT ID", "UPDATED"],
          records.map((r) => [r.requestId, r.email, r.state, r.accountId ?? "-", r.updatedAt]),
        );
  if (next !== null) {
    const command = [
      "avm",
      ...ledgerFlags(ctx.settings.ledger, ctx.io.cwd),
      "list",
      ...(states && states.length > 0 ? ["--state", states.join(",")] : []),
      ...(options.limit !== undefined ? ["--limit", String(options.limit)] : []),
      "--after",
      next,
    ];
    text += `next page: ${command.join(" ")}\n`;
  }
  ctx.out.result(json, text);
}
