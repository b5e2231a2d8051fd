/**
 * Paging through {@link Ledger.list}: one page of records and the cursor of the next one, for every ledger alike.
 */
import { type LedgerRecord } from "./ledger";
import { encodeListCursor, LedgerInputError } from "./ledgerRecords";
import { type Ledger, type ListOptions } from "./ports";

/** One page of {@link listPage}. */
export interface LedgerPage {
  /** At most the page size, oldest first (`createdAt`), then by email. */
  readonly records: LedgerRecord[];
  /** The `after` cursor of the next page, or `null` when no record follows this page. */
  readonly next: string | null;
}

/** {@link ListOptions} with the page size required. */
export interface PageOptions extends ListOptions {
  /** Records per page (a positive integer). */
  readonly limit: number;
}

/**
 * The page of `options.limit` records after `options.after` (the first page without it), and whether more follow:
 * one `list` call for `limit + 1` records, so its cost is the ledger's cost of one bounded page.
 * @throws LedgerInputError for a page size below 1 (and whatever `list` throws for the other options).
 */
export async function listPage(ledger: Pick<Ledger, "list">, options: PageOptions): Promise<LedgerPage> {
  if (!Number.isInteger(options.limit) || options.limit < 1) {
    throw new LedgerInputError(`limit must be a positive integer, got ${options.limit}`);
  }
  const records = await ledger.list({ ...options, limit: options.limit + 1 });
  if (records.length <= options.limit) return { records, next: null };
  const page = records.slice(0, options.limit);
  return { records: page, next: encodeListCursor(page[page.length - 1]!) };
}
