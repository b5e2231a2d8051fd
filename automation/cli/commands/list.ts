/** `avm list`: ledger records, oldest first, optionally filtered by state. Reads the ledger only. */
import { REQUEST_STATES, type RequestState } from "../../../src/core/ledger";
import { withLedger, type CommandContext } from "../context";
import { CliUsageError } from "../errors";
import { recordJson, table, type RecordJson } from "../output";

/** Options of `avm list`. */
export interface ListCommandOptions {
  /** Comma-separated states (case-insensitive). */
  readonly state?: string;
  readonly limit?: number;
}

/** `--json` shape of `avm list`. */
export interface ListJson {
  readonly count: number;
  readonly records: readonly RecordJson[];
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

/** Lists records. */
export async function listCommand(ctx: CommandContext, options: ListCommandOptions): Promise<void> {
  const states = options.state !== undefined ? parseStates(options.state) : undefined;
  const records = await withLedger(ctx, (ledger) =>
    ledger.list({
      ...(states && states.length > 0 ? { states } : {}),
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
    }),
  );
  const json: ListJson = { count: records.length, records: records.map(recordJson) };
  const text =
    records.length === 0
      ? "no requests\n"
      : table(
          ["REQUEST ID", "EMAIL", "STATE", "ACCOUNT ID", "UPDATED"],
          records.map((r) => [r.requestId, r.email, r.state, r.accountId ?? "-", r.updatedAt]),
        );
  ctx.out.result(json, text);
}
