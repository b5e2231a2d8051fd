/**
 * Entry point gates for tests. {@link OPERATOR_GATE} lets every request through (for specs about parsing,
 * recording and queueing, where authorization is not the subject); {@link directoryOf} is an account
 * directory over a fixed set of accounts, for specs of the gate itself.
 */
import { OrganizationsRequestError, type OrganizationAccount } from "../../src/core/organizations";
import type { AccountDirectory, EntryPointGate } from "../../src/core/vending/entryPointGate";

/** A gate that allows everything, as if an operator made every request (the CLI records vends without a gate). */
export const OPERATOR_GATE: EntryPointGate = Object.freeze({ adoptExisting: true, check: async () => undefined });

/** A directory over `accounts` (id -> email, or a whole record); counts its lookups. */
export function directoryOf(
  accounts: Readonly<Record<string, string | Partial<OrganizationAccount>>>,
): AccountDirectory & { lookups: string[] } {
  const lookups: string[] = [];
  return {
    lookups,
    async describeAccount(accountId) {
      lookups.push(accountId);
      const entry = Object.hasOwn(accounts, accountId) ? accounts[accountId] : undefined;
      if (entry === undefined) {
        throw new OrganizationsRequestError("DescribeAccount", "AccountNotFoundException", "no such account");
      }
      const fields = typeof entry === "string" ? { email: entry } : entry;
      return { id: accountId, email: "", name: "account", status: "ACTIVE", ...fields };
    },
  };
}
