/**
 * Decides, per account, what `avm fleet adopt` does, from what is already known (the organization's listing, the
 * management account id, the ledger's records): adopt it, resume an adoption that did not finish, skip one that is
 * done, or refuse it (the management account, an account outside the organization or not ACTIVE, an account the
 * AVM manages through a vend or meshStack request, an email the ledger holds for another account). Pure: no calls.
 */
import type { LedgerRecord } from "../../src/core/ledger";
import { normaliseEmail } from "../../src/core/ledger";
import type { OrganizationAccount } from "../../src/core/organizations";

/** What happens to one account. */
export type AdoptionAction = "adopt" | "resume" | "skip" | "refuse";

/** The decision for one account. */
export interface AdoptionDecision {
  readonly accountId: string;
  readonly action: AdoptionAction;
  /** Why (refusals and skips), or what (adopt, resume). */
  readonly reason: string;
  /** The organization's record of the account (absent when it is not a member). */
  readonly account?: OrganizationAccount;
  /** The existing ledger record, when there is one. */
  readonly record?: LedgerRecord;
}

/** Decides for every id of `candidates` (in their order, duplicates dropped). */
export function planAdoption(
  candidates: readonly string[],
  members: readonly OrganizationAccount[],
  managementAccountId: string,
  records: readonly LedgerRecord[],
): AdoptionDecision[] {
  const memberById = new Map(members.map((m) => [m.id, m]));
  const byAccount = new Map<string, LedgerRecord>();
  const byEmail = new Map<string, LedgerRecord>();
  for (const record of records) {
    if (record.accountId) byAccount.set(record.accountId, record);
    byEmail.set(record.email, record);
  }
  const decisions: AdoptionDecision[] = [];
  for (const accountId of new Set(candidates)) {
    const account = memberById.get(accountId);
    const record = byAccount.get(accountId);
    const base = { accountId, ...(account ? { account } : {}), ...(record ? { record } : {}) };
    if (accountId === managementAccountId) {
      decisions.push({ ...base, action: "refuse", reason: "the organization's management account is never managed" });
    } else if (!account) {
      decisions.push({ ...base, action: "refuse", reason: "not a member account of this organization" });
    } else if (record && record.kind !== "adopted") {
      decisions.push({
        ...base,
        action: "refuse",
        reason: `already managed by the AVM (${record.kind} request ${record.requestId}, ${record.state})`,
      });
    } else if (record && record.state === "SUCCEEDED") {
      decisions.push({ ...base, action: "skip", reason: `already adopted (request ${record.requestId})` });
    } else if (record && record.state === "FAILED") {
      decisions.push({
        ...base,
        action: "refuse",
        reason: `its adoption ${record.requestId} FAILED (${record.failureReason ?? "no reason"}): fix the cause, then avm retry ${record.requestId}`,
      });
    } else if (record) {
      decisions.push({ ...base, action: "resume", reason: `adoption ${record.requestId} is ${record.state}` });
    } else if (account.status !== "ACTIVE") {
      decisions.push({ ...base, action: "refuse", reason: `account is ${account.status}` });
    } else {
      const other = byEmail.get(normaliseEmail(account.email));
      if (other && other.accountId !== accountId) {
        decisions.push({
          ...base,
          action: "refuse",
          reason: `the ledger holds its email ${account.email} for request ${other.requestId} (${other.accountId ?? "no account yet"})`,
        });
      } else {
        decisions.push({ ...base, action: "adopt", reason: "adopt: ledger record, account stack" });
      }
    }
  }
  return decisions;
}
