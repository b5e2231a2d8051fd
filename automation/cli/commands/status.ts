/**
 * `avm status`: one request's record, found by email, account id or request id. Reads the ledger only
 * (one indexed lookup): it never calls AWS Organizations, so its cost does not grow with the organization.
 */
import { isAccountId } from "../../../src/shared/naming";
import type { LedgerRecord } from "../../../src/core/ledger";
import { LedgerInputError, ledgerKey } from "../../../src/core/ledgerRecords";
import { withLedger, type CommandContext } from "../context";
import { CliNotFoundError, CliUsageError } from "../errors";
import { recordJson, recordText, type RecordJson } from "../output";

/** Options of `avm status`. */
export interface StatusOptions {
  readonly email?: string;
  readonly accountId?: string;
  readonly requestId?: string;
}

/** `--json` shape of `avm status`. */
export interface StatusJson {
  readonly record: RecordJson;
}

/**
 * Looks the record up and prints it.
 * @throws CliUsageError unless exactly one of the three keys is given, or when the one given is malformed
 * @throws CliNotFoundError when no record matches
 */
export async function statusCommand(ctx: CommandContext, options: StatusOptions): Promise<void> {
  const given = (["email", "accountId", "requestId"] as const).filter((key) => options[key] !== undefined);
  if (given.length !== 1) {
    throw new CliUsageError("status needs exactly one of --email, --account-id or --request-id");
  }
  if (options.accountId !== undefined && !isAccountId(options.accountId)) {
    throw new CliUsageError(`--account-id must be a 12-digit AWS account id, got "${options.accountId}"`);
  }
  if (options.email !== undefined) {
    try {
      ledgerKey(options.email);
    } catch (error) {
      if (!(error instanceof LedgerInputError)) throw error;
      // The ledger's own rule and message ("email must be an email address, got ..."), named as the flag.
      throw new CliUsageError(`--${error.message}`, { cause: error });
    }
  }
  if (options.requestId !== undefined && options.requestId.trim() === "") {
    throw new CliUsageError("--request-id must not be empty");
  }
  const record = await withLedger(ctx, async (ledger): Promise<LedgerRecord | undefined> => {
    if (options.email !== undefined) return ledger.get(options.email);
    if (options.accountId !== undefined) return ledger.getByAccountId(options.accountId);
    return ledger.getByRequestId(options.requestId!);
  });
  if (!record) {
    const what =
      options.email !== undefined
        ? `email ${options.email}`
        : options.accountId !== undefined
          ? `account id ${options.accountId}`
          : `request id ${options.requestId}`;
    throw new CliNotFoundError(`no request found for ${what} in ${describeLedger(ctx)}`);
  }
  ctx.out.result({ record: recordJson(record) } satisfies StatusJson, recordText(record));
}

/** `the ledger .avm/ledger.sqlite` / `DynamoDB table X`, for messages. */
export function describeLedger(ctx: CommandContext): string {
  const spec = ctx.settings.ledger;
  return spec.kind === "sqlite" ? `ledger ${spec.path}` : `DynamoDB ledger table ${spec.table}`;
}
