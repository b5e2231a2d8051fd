/**
 * The fleet as the AVM sees it: every member account of the organization (or of given OUs, nested OUs
 * included), the ledger's records and the backend's account stacks, joined by account id and sorted into one
 * {@link FleetClass} each. Organizations calls are bounded by pages: one DescribeOrganization, then the pages
 * of ListAccounts (whole organization) or, per OU visited, the pages of ListOrganizationalUnitsForParent and
 * ListAccountsForParent. Never a per-account AWS call.
 */
import {
  DEPLOYMENT_STAMP_OUTPUT,
  parseDeploymentStamp,
  programVersion,
  sameStamp,
  type DeploymentStamp,
} from "../../src/shared/deploymentStamp";
import { accountStackName } from "../../src/shared/naming";
import type { Ledger } from "../../src/core/ports";
import type { LedgerRecord, RequestState } from "../../src/core/ledger";
import type { OrganizationAccount } from "../../src/core/organizations";
import type { OrganizationsGateway } from "../../src/adapters/aws/organizationsGateway";
import { workflowInputOf } from "../../src/core/vending/workflow";
import { mapWithLimit } from "../concurrency";
import { silentProgress, type ProgressReporter } from "../progress";
import type { AccountStacks, AccountStackSummary } from "../stacks/accountStacks";
import { expectedDeploymentStamp, type AccountStackSettings } from "../stacks/stackConfig";

/** Where an account stands. */
export type FleetClass = "managed-current" | "managed-outdated" | "no-stack" | "stack-without-account" | "failed";

/** Every class, in display order. */
export const FLEET_CLASSES: readonly FleetClass[] = [
  "managed-current",
  "managed-outdated",
  "no-stack",
  "stack-without-account",
  "failed",
];

/** One account of the fleet. */
export interface FleetAccount {
  readonly accountId: string;
  readonly class: FleetClass;
  /** Why, in a few words (e.g. `program 0.1.0+aaa -> 0.1.0+bbb`, `SUSPENDED`). */
  readonly detail: string;
  /** Account name and email from Organizations (or the ledger when the account is gone). */
  readonly name: string | null;
  readonly email: string | null;
  /** Organizations status (`ACTIVE`, `SUSPENDED`, ...), null when the organization does not list it. */
  readonly accountStatus: string | null;
  /** The ledger record of the account, when the AVM vended or adopted it. */
  readonly requestId: string | null;
  readonly ledgerState: RequestState | null;
  /** `account-<id>` when the stack exists. */
  readonly stackName: string | null;
  /** What the stack was deployed with (its `avmDeployment` output), when read and present. */
  readonly deployed: DeploymentStamp | null;
  /** Tags from the ledger record (the account stack's `tags` config). */
  readonly tags: Readonly<Record<string, string>>;
}

/** The result of {@link collectFleet}. */
export interface FleetInventory {
  /** OU ids the scope was limited to (their nested OUs count too), or null for the whole organization. */
  readonly ous: readonly string[] | null;
  readonly managementAccountId: string;
  /** The program version a deployment from this checkout records. */
  readonly programVersion: string;
  /** Sorted by account id. */
  readonly accounts: readonly FleetAccount[];
  readonly totals: Readonly<Record<FleetClass, number>>;
}

/** What {@link collectFleet} reads. */
export interface FleetSources {
  readonly organizations: OrganizationsGateway;
  readonly ledger: Ledger;
  readonly stacks: AccountStacks;
  /** Settings every account stack is deployed with (to compute the expected config digest). */
  readonly settings: AccountStackSettings;
  /** Default: this checkout's ({@link programVersion}). */
  readonly programVersion?: string;
}

/** Options of {@link collectFleet}. */
export interface CollectOptions {
  /** OU ids or paths (`/Workloads`); their nested OUs are included. Default: the whole organization. */
  readonly ous?: readonly string[];
  /** Read each stack's `avmDeployment` output to tell current from outdated (default true). */
  readonly withStamps?: boolean;
  /** Stack output reads in flight (default 8). */
  readonly concurrency?: number;
  /** Creates the progress display of the stack output reads once their number is known. */
  readonly progress?: (total: number) => ProgressReporter;
}

/** The member accounts of `ous` and all OUs under them (breadth first, each OU visited once). */
export async function accountsOfOus(
  organizations: OrganizationsGateway,
  ouIds: readonly string[],
): Promise<OrganizationAccount[]> {
  const seen = new Set<string>();
  const queue = [...ouIds];
  const accounts = new Map<string, OrganizationAccount>();
  while (queue.length > 0) {
    const ou = queue.shift() as string;
    if (seen.has(ou)) continue;
    seen.add(ou);
    for (const account of await organizations.listAccountsForParent(ou)) accounts.set(account.id, account);
    queue.push(...(await organizations.listChildOus(ou)));
  }
  return [...accounts.values()];
}

function tagsOf(record: LedgerRecord | undefined): Readonly<Record<string, string>> {
  if (!record) return {};
  try {
    return workflowInputOf(record).tags;
  } catch {
    return {};
  }
}

function nameOf(record: LedgerRecord | undefined): string | null {
  if (!record) return null;
  try {
    return workflowInputOf(record).accountName;
  } catch {
    return null;
  }
}

/**
 * Reads the organization (or the OUs), the ledger and the stacks and classifies every account:
 * - `failed`: the ledger record is FAILED, or the stack exists but has no outputs (its first update never finished);
 * - `managed-current`: the stack's `avmDeployment` equals what this checkout and settings would deploy;
 * - `managed-outdated`: the stack exists and was deployed with another program version or config, or before stamps;
 * - `no-stack`: an active member account without a stack;
 * - `stack-without-account`: a stack whose account is closed (not ACTIVE) or not in the organization (only
 *   decidable for the whole organization; with `ous`, stacks of accounts outside them are left out).
 * The management account is never part of the fleet. Accounts that are not ACTIVE and have no stack are left out.
 */
export async function collectFleet(sources: FleetSources, options: CollectOptions = {}): Promise<FleetInventory> {
  const { organizations, ledger, stacks, settings } = sources;
  const { managementAccountId } = await organizations.describeOrganization();
  let ous: string[] | null = null;
  let members: OrganizationAccount[];
  if (options.ous && options.ous.length > 0) {
    ous = [];
    for (const reference of options.ous) ous.push(await organizations.resolveOrganizationalUnit(reference));
    members = await accountsOfOus(organizations, ous);
  } else {
    members = await organizations.listAccounts();
  }
  const [records, stackList] = await Promise.all([ledger.list(), stacks.list()]);
  const byAccountRecord = new Map<string, LedgerRecord>();
  for (const record of records) if (record.accountId) byAccountRecord.set(record.accountId, record);
  const memberById = new Map(members.map((m) => [m.id, m]));
  const stackById = new Map<string, AccountStackSummary>(stackList.map((s) => [s.accountId, s]));

  const ids = new Set<string>();
  for (const member of members) if (member.id !== managementAccountId) ids.add(member.id);
  if (ous === null) for (const id of stackById.keys()) if (id !== managementAccountId) ids.add(id);

  const version = sources.programVersion ?? programVersion();
  const stamps = new Map<string, { stamp?: DeploymentStamp; outputs: number; error?: string }>();
  if (options.withStamps !== false) {
    const toRead = [...ids].filter((id) => stackById.has(id) && memberById.get(id)?.status === "ACTIVE");
    const progress = options.progress?.(toRead.length) ?? silentProgress;
    await mapWithLimit(toRead, options.concurrency ?? 8, async (id) => {
      const stackName = accountStackName(id);
      progress.start(stackName, "reading outputs");
      try {
        const outputs = await stacks.outputs(id);
        const stamp = parseDeploymentStamp(outputs[DEPLOYMENT_STAMP_OUTPUT]?.value);
        stamps.set(id, { ...(stamp ? { stamp } : {}), outputs: Object.keys(outputs).length });
        progress.succeed(stackName, "outputs read");
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        stamps.set(id, { outputs: 0, error: message });
        progress.fail(stackName, message);
      }
    });
  }

  const accounts: FleetAccount[] = [];
  for (const accountId of [...ids].sort()) {
    const member = memberById.get(accountId);
    const record = byAccountRecord.get(accountId);
    const stack = stackById.get(accountId);
    if (member && member.status !== "ACTIVE" && !stack) continue;
    const tags = tagsOf(record);
    const read = stamps.get(accountId);
    let cls: FleetClass;
    let detail: string;
    if (stack && (!member || member.status !== "ACTIVE")) {
      cls = "stack-without-account";
      detail = member ? `account is ${member.status}` : "account not in the organization";
    } else if (record?.state === "FAILED") {
      cls = "failed";
      detail = `request ${record.requestId} FAILED: ${record.failureReason ?? "no reason"}`;
    } else if (!stack) {
      cls = "no-stack";
      detail = record ? `request ${record.requestId} is ${record.state}` : "not managed by the AVM";
    } else if (read === undefined) {
      cls = "managed-outdated";
      detail = "stack exists (deployment stamp not read)";
      // Without stamps the class is a guess; callers that need current vs outdated ask for stamps.
    } else if (read.error !== undefined) {
      cls = "failed";
      detail = `stack outputs unreadable: ${read.error}`;
    } else if (read.outputs === 0) {
      cls = stack.updateInProgress ? "managed-outdated" : "failed";
      detail = stack.updateInProgress ? "first update in progress" : "stack has no outputs: its update never finished";
    } else if (!read.stamp) {
      cls = "managed-outdated";
      detail = "deployed before deployment stamps";
    } else {
      const expected = expectedDeploymentStamp({ accountId, tags }, settings, version);
      if (sameStamp(read.stamp, expected)) {
        cls = "managed-current";
        detail = `program ${expected.programVersion}`;
      } else {
        cls = "managed-outdated";
        const why: string[] = [];
        if (read.stamp.programVersion !== expected.programVersion) {
          why.push(`program ${read.stamp.programVersion} -> ${expected.programVersion}`);
        }
        if (read.stamp.configDigest !== expected.configDigest) why.push("config changed");
        detail = why.join(", ");
      }
    }
    accounts.push({
      accountId,
      class: cls,
      detail,
      name: member?.name ?? nameOf(record),
      email: member?.email ?? record?.email ?? null,
      accountStatus: member?.status ?? null,
      requestId: record?.requestId ?? null,
      ledgerState: record?.state ?? null,
      stackName: stack ? accountStackName(accountId) : null,
      deployed: read?.stamp ?? null,
      tags,
    });
  }
  const totals = Object.fromEntries(FLEET_CLASSES.map((c) => [c, 0])) as Record<FleetClass, number>;
  for (const account of accounts) totals[account.class]++;
  return { ous, managementAccountId, programVersion: version, accounts, totals };
}
