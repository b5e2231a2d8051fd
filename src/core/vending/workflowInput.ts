/**
 * The workflow's input as read from a ledger record. Its own module, so the CLI can render records without loading
 * the workflow (and with it the Organizations client).
 */
import { normaliseEmail, type LedgerRecord } from "../ledger";
import { WorkflowRecordError } from "./workflowErrors";

/** What the workflow reads from a ledger record's `request`. */
export interface WorkflowInput {
  readonly email: string;
  readonly accountName: string;
  /** OU id or path, when the request names one. */
  readonly targetOu?: string;
  readonly tags: Readonly<Record<string, string>>;
  /** meshStack workspace id (completion tag). */
  readonly productName?: string;
  /** meshStack project id (completion tag). */
  readonly stage?: string;
}

/**
 * Reads the workflow's input from a record whose `request` is a validated request (`requests.ts`:
 * `accountName`, optional `targetOu`, `tags`, `productName`, `stage`). Reads defensively: the stored JSON
 * may come from an older version.
 * @throws WorkflowRecordError when the account name is missing.
 */
export function workflowInputOf(record: LedgerRecord): WorkflowInput {
  const request = record.request;
  const str = (key: string): string | undefined => {
    const value = request[key];
    return typeof value === "string" && value.trim() !== "" ? value : undefined;
  };
  const accountName = str("accountName");
  if (accountName === undefined) {
    throw new WorkflowRecordError(`ledger record ${record.requestId} has no accountName in its request`);
  }
  const tags: Record<string, string> = {};
  const given = request["tags"];
  if (given !== null && typeof given === "object" && !Array.isArray(given)) {
    for (const [key, value] of Object.entries(given)) if (typeof value === "string") tags[key] = value;
  }
  const targetOu = str("targetOu");
  const productName = str("productName");
  const stage = str("stage");
  // The email as the requester wrote it (AWS keeps its case); the ledger key is the normalised form.
  const givenEmail = str("email");
  const email =
    givenEmail !== undefined && normaliseEmail(givenEmail) === record.email ? givenEmail.trim() : record.email;
  return {
    email,
    accountName,
    tags,
    ...(targetOu !== undefined ? { targetOu } : {}),
    ...(productName !== undefined ? { productName } : {}),
    ...(stage !== undefined ? { stage } : {}),
  };
}
