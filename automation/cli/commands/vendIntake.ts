/**
 * The intake half of `avm vend`, shared by single and batch vends (`vend.ts`, `vendBatch.ts`): the options,
 * reading a request from flags or a file, validation with flag names, and recording it through the shared
 * intake (the AVMEntryPoint's own path).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { InProcessWorkQueue } from "../../../src/adapters/local/inProcessWorkQueue";
import { type LedgerRecord } from "../../../src/core/ledger";
import type { AccountStackResult } from "../../../src/core/ports";
import { type Ledger } from "../../../src/core/ports";
import { acceptRequest } from "../../../src/core/vending/intake";
import { RequestValidationError, type VendRequest } from "../../../src/core/vending/requestRules";
import { parseVendRequest } from "../../../src/core/vending/requests";
import { type CommandContext } from "../context";
import { CliError, CliUsageError, CliValidationError } from "../errors";
import { readAll } from "../io";
import { type LocalWorkflowOptions } from "../workflowSetup";

/** Options of `avm vend`. */
export interface VendOptions extends LocalWorkflowOptions {
  /** JSON request file; `-` reads stdin. Exclusive with the request flags. */
  readonly file?: string;
  readonly accountName?: string;
  readonly email?: string;
  readonly ou?: string;
  /** `Key=Value` pairs. */
  readonly tag?: readonly string[];
  readonly requestId?: string;
  readonly productName?: string;
  readonly stage?: string;
  /** Give up waiting after this many seconds (the request stays resumable). */
  readonly timeout?: number;
  /** Batch files: requests driven at once (default 10). */
  readonly concurrency?: number;
}

/** An account stack result in `--json` output. */
export interface StackJson {
  readonly status: AccountStackResult["status"];
  readonly stackName: string;
  readonly summary: string;
  readonly url: string | null;
}

/** Converts a runner result to its `--json` shape. */
export function stackJson(result: AccountStackResult | undefined): StackJson | null {
  if (!result) return null;
  return { status: result.status, stackName: result.stackName, summary: result.summary, url: result.url ?? null };
}

const FLAG_OF: Record<string, string> = {
  accountName: "--account-name",
  email: "--email",
  targetOu: "--ou",
  requestId: "--request-id",
  productName: "--product-name",
  stage: "--stage",
  tags: "--tag",
};

/** Names a request field by its flag (`tags.CostCenter` -> `--tag CostCenter`). */
function flagName(field: string): string {
  if (field.startsWith("tags.")) return `--tag ${field.slice(5)}`;
  return FLAG_OF[field] ?? field;
}

/**
 * Reads the raw vend request from `--file` or the flags.
 * @throws CliUsageError for contradictory flags or an unreadable file, CliValidationError for a bad `--tag`
 */
export async function rawVendRequest(
  ctx: CommandContext,
  options: VendOptions,
): Promise<{ raw: unknown; fromFlags: boolean }> {
  const flagKeys = ["accountName", "email", "ou", "tag", "requestId", "productName", "stage"] as const;
  const used = flagKeys.filter((key) => options[key] !== undefined);
  if (options.file !== undefined) {
    if (used.length > 0) {
      throw new CliUsageError(
        `--file cannot be combined with request flags (${used.map((k) => flagName(k === "ou" ? "targetOu" : k === "tag" ? "tags" : k)).join(", ")})`,
      );
    }
    let text: string;
    try {
      text =
        options.file === "-"
          ? await readAll(ctx.io.stdin)
          : await readFile(path.resolve(ctx.io.cwd, options.file), "utf8");
    } catch (error) {
      throw new CliUsageError(
        `cannot read --file ${options.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        { cause: error },
      );
    }
    return { raw: text, fromFlags: false };
  }
  const tags: Record<string, string> = {};
  for (const pair of options.tag ?? []) {
    const at = pair.indexOf("=");
    if (at <= 0) {
      throw new CliValidationError(`invalid vend request: --tag: must be Key=Value, got "${pair}"`, [
        { field: "tags", message: `must be Key=Value, got "${pair}"` },
      ]);
    }
    tags[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const raw: Record<string, unknown> = {
    ...(options.accountName !== undefined ? { accountName: options.accountName } : {}),
    ...(options.email !== undefined ? { email: options.email } : {}),
    ...(options.ou !== undefined ? { targetOu: options.ou } : {}),
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
    ...(options.requestId !== undefined ? { requestId: options.requestId } : {}),
    ...(options.productName !== undefined ? { productName: options.productName } : {}),
    ...(options.stage !== undefined ? { stage: options.stage } : {}),
  };
  return { raw, fromFlags: true };
}

/** Converts a request validation error; with flags, fields are named by their flag. */
export function toCliValidation(error: RequestValidationError, fromFlags: boolean): CliValidationError {
  if (!fromFlags) return new CliValidationError(error.message, error.issues, { cause: error });
  const issues = error.issues.map((issue) => ({ field: flagName(issue.field), message: issue.message }));
  const shown = issues.slice(0, 5).map((i) => `${i.field}: ${i.message}`);
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : "";
  return new CliValidationError(`invalid vend request: ${shown.join("; ")}${more}`, issues, { cause: error });
}

/**
 * Parses and validates a vend request. With flags, problems are reported by flag name.
 * @throws CliValidationError naming every bad field
 */
export function validateVendRequest(raw: unknown, fromFlags: boolean): VendRequest {
  try {
    return parseVendRequest(raw);
  } catch (error) {
    if (error instanceof RequestValidationError) throw toCliValidation(error, fromFlags);
    throw error;
  }
}

/**
 * Records a vend request through the shared intake (the AVMEntryPoint's own path: validation, request-id
 * uniqueness, idempotent claim keyed by email) and returns the stored record.
 * @throws CliValidationError (fields named by flag when `fromFlags`) for invalid requests
 */
export async function acceptVend(
  ledger: Ledger,
  raw: unknown,
  fromFlags: boolean,
  now: () => Date,
): Promise<{ created: boolean; retried: boolean; record: LedgerRecord }> {
  let accepted;
  try {
    // `avm vend` run again for a FAILED request retries it (the operator fixed the cause).
    accepted = await acceptRequest(raw, { ledger, queue: new InProcessWorkQueue(), now, retryFailed: "always" });
  } catch (error) {
    if (error instanceof RequestValidationError) throw toCliValidation(error, fromFlags);
    throw error;
  }
  const record = await ledger.get(accepted.email);
  if (!record) throw new CliError(`request ${accepted.requestId} vanished from the ledger after intake`);
  return { created: accepted.created, retried: accepted.retried, record };
}
