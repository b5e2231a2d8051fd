/**
 * Test doubles for the workflow specs: instant timing, a recording stack runner, and a fake AWS
 * Organizations backend (installed on an `aws-sdk-client-mock` stub, so the real gateway and SDK command
 * objects are exercised) with asynchronous account creation and injectable faults.
 */
import type { AwsStub } from "aws-sdk-client-mock";
import {
  CloseAccountCommand,
  ConcurrentModificationException,
  CreateAccountCommand,
  DescribeAccountCommand,
  DescribeCreateAccountStatusCommand,
  DescribeOrganizationCommand,
  DuplicateAccountException,
  ListAccountsCommand,
  ListCreateAccountStatusCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  MoveAccountCommand,
  TagResourceCommand,
  TooManyRequestsException,
  AccountNotFoundException,
  CreateAccountStatusNotFoundException,
  DescribeOrganizationalUnitCommand,
  OrganizationalUnitNotFoundException,
} from "@aws-sdk/client-organizations";
import type { ClaimResult, Ledger, ListOptions } from "../../../../src/core/ports";
import type { LedgerPatch, LedgerRecord, NewLedgerRecord } from "../../../../src/core/ledger";
import type { AccountStackRequest, AccountStackResult, AccountStackRunner } from "../../../../src/core/ports";

/** Instant timing: sleeps are recorded and advance the clock (the shared test timing). */
export { RecordingTiming as InstantTiming } from "../../../support/recordingTiming";

/** Stack runner that records its calls and answers with a configurable status. */
export class RecordingStackRunner implements AccountStackRunner {
  readonly calls: AccountStackRequest[] = [];
  status: AccountStackResult["status"] = "deployed";
  failWith: Error | undefined;
  async deploy(request: AccountStackRequest): Promise<AccountStackResult> {
    this.calls.push(request);
    if (this.failWith) throw this.failWith;
    const stackName = `account-${request.accountId}`;
    return {
      status: this.status,
      stackName,
      summary: `${stackName} ${this.status}`,
      ...(this.status === "queued"
        ? { url: `https://app.pulumi.com/acme/meshstack-avm/${stackName}/deployments/1` }
        : {}),
    };
  }
}

/** One account of the fake organization. */
export interface FakeAccount {
  id: string;
  email: string;
  name: string;
  status: string;
  parentId: string;
  tags: Record<string, string>;
}

/** One CreateAccount request as the fake AWS holds it. */
export interface FakeCreate {
  id: string;
  email: string;
  name: string;
  /** Remaining DescribeCreateAccountStatus calls answering IN_PROGRESS. */
  pending: number;
  outcome: { state: "SUCCEEDED"; accountId: string } | { state: "FAILED"; reason: string };
}

const meta = { $metadata: {} };

/**
 * An in-memory AWS Organizations: email uniqueness (EMAIL_ALREADY_EXISTS), asynchronous CreateAccount
 * (`inProgressPolls` IN_PROGRESS answers before the outcome), a queue of scripted failure reasons per
 * email, throttling injection, OUs, parents, tags and close.
 */
export class FakeOrganizations {
  readonly managementAccountId = "999999999999";
  readonly rootId = "r-root";
  readonly accounts = new Map<string, FakeAccount>();
  readonly ous = new Map<string, { id: string; name: string; parentId: string }>();
  readonly creates = new Map<string, FakeCreate>();
  /** Scripted async failure reasons by lower-case email, consumed one per CreateAccount. */
  readonly scriptedFailures = new Map<string, string[]>();
  /** IN_PROGRESS answers before a create settles. */
  inProgressPolls = 1;
  /** Whether ListAccounts settles creates nobody polls (time passing); false keeps them in progress. */
  settleOnList = true;
  /** Number of upcoming calls (any operation) that answer TooManyRequestsException. */
  throttleNext = 0;
  /** Number of upcoming MoveAccount calls that answer DuplicateAccountException (after moving). */
  duplicateOnMove = 0;
  /** Thrown by the next CreateAccount calls (consumed one per call), before AWS receives the call. */
  readonly createErrors: Error[] = [];
  /**
   * Thrown by the next CreateAccount calls (consumed one per call) AFTER AWS received and accepted the call: the
   * reply is lost.
   */
  readonly lostCreateReplies: Error[] = [];
  /** Called when AWS accepted a CreateAccount whose reply is then lost. */
  onLostReply: (() => void) | undefined;
  /**
   * Upcoming ListAccounts calls that do not show the newest CreateAccount request yet, and while it lasts neither
   * does ListCreateAccountStatus (AWS's listing lag after accepting a call).
   */
  listingLag = 0;
  /**
   * Until this time (epoch ms, read from {@link clock}) the listings do not show the newest CreateAccount request
   * either: AWS's listing lag as time rather than calls.
   */
  listingLagUntil: number | undefined;
  /** The clock {@link listingLagUntil} is compared with. */
  clock: (() => number) | undefined;
  /** Thrown by the next CloseAccount calls (consumed one per call). */
  readonly closeErrors: Error[] = [];
  /**
   * CreateAccount calls sent for an email while AWS had already received an earlier CreateAccount for it
   * that created (or is creating) an account: a second account but for AWS's email uniqueness. Counted when
   * the call is sent, so a stalled call (see {@link stallNextCreate}) counts only if the account was on its
   * way when its worker decided to send it. The workflow must keep this at 0.
   */
  secondCreates = 0;
  /**
   * Number of upcoming CreateAccount calls that stall on their way to AWS (a slow network, a paused worker):
   * AWS receives them only at {@link releaseStalledCreates}. {@link onStall} is called when one stalls.
   */
  stallNextCreate = 0;
  /** Called when a CreateAccount call stalls. */
  onStall: (() => void) | undefined;
  private readonly stalled: (() => void)[] = [];
  /** Counts of calls by command name. */
  readonly calls = new Map<string, number>();
  private nextAccount = 100_000_000_000;
  private nextCreate = 1;

  constructor() {
    this.accounts.set(this.managementAccountId, {
      id: this.managementAccountId,
      email: "management@example.com",
      name: "management",
      status: "ACTIVE",
      parentId: this.rootId,
      tags: {},
    });
  }

  /** Adds an OU under `parentId` (default the root) and returns its id. */
  addOu(name: string, parentId = this.rootId): string {
    const id = `ou-root-${String(this.ous.size + 1).padStart(8, "0")}`;
    this.ous.set(id, { id, name, parentId });
    return id;
  }

  /** Adds an existing member account. */
  addAccount(email: string, name = email, status = "ACTIVE"): FakeAccount {
    const id = String(this.nextAccount++);
    const account = { id, email, name, status, parentId: this.rootId, tags: {} };
    this.accounts.set(id, account);
    return account;
  }

  /** Member accounts (without the management account) whose email is `email`. */
  accountsWithEmail(email: string): FakeAccount[] {
    return [...this.accounts.values()].filter((a) => a.email.toLowerCase() === email.toLowerCase());
  }

  count(command: string): number {
    return this.calls.get(command) ?? 0;
  }

  private enter(command: string): void {
    this.calls.set(command, this.count(command) + 1);
    if (this.throttleNext > 0) {
      this.throttleNext -= 1;
      throw new TooManyRequestsException({ message: "Rate exceeded", ...meta });
    }
  }

  private settle(create: FakeCreate): void {
    if (create.outcome.state === "SUCCEEDED" && !this.accounts.has(create.outcome.accountId)) {
      this.accounts.set(create.outcome.accountId, {
        id: create.outcome.accountId,
        email: create.email,
        name: create.name,
        status: "ACTIVE",
        parentId: this.rootId,
        tags: {},
      });
    }
  }

  private statusOf(create: FakeCreate) {
    if (create.pending > 0) return { Id: create.id, State: "IN_PROGRESS" as const, AccountName: create.name };
    this.settle(create);
    return create.outcome.state === "SUCCEEDED"
      ? { Id: create.id, State: "SUCCEEDED" as const, AccountId: create.outcome.accountId }
      : { Id: create.id, State: "FAILED" as const, FailureReason: create.outcome.reason as never };
  }

  /** The newest CreateAccount request while {@link listingLag} or {@link listingLagUntil} hides it. */
  private lagging(): FakeCreate | undefined {
    const lagging =
      this.listingLag > 0 ||
      (this.listingLagUntil !== undefined && this.clock !== undefined && this.clock() < this.listingLagUntil);
    return lagging ? [...this.creates.values()].at(-1) : undefined;
  }

  /** Lets every stalled CreateAccount call reach AWS, in the order they were sent; returns how many. */
  releaseStalledCreates(): number {
    const stalled = this.stalled.splice(0);
    for (const release of stalled) release();
    return stalled.length;
  }

  /** Whether AWS has received a CreateAccount for `email` that created or is creating an account. */
  private hasAccountOnItsWay(email: string): boolean {
    const wanted = email.toLowerCase();
    return [...this.creates.values()].some((c) => c.email.toLowerCase() === wanted && c.outcome.state === "SUCCEEDED");
  }

  /** AWS receives a CreateAccount: email uniqueness (also against creates in progress), scripted reasons. */
  private receiveCreate(input: { Email: string; AccountName: string }) {
    const email = input.Email.toLowerCase();
    const id = `car-${String(this.nextCreate++).padStart(4, "0")}`;
    const scripted = this.scriptedFailures.get(email)?.shift();
    const taken = this.accountsWithEmail(email).length > 0 || this.hasAccountOnItsWay(email);
    const outcome: FakeCreate["outcome"] = scripted
      ? { state: "FAILED", reason: scripted }
      : taken
        ? { state: "FAILED", reason: "EMAIL_ALREADY_EXISTS" }
        : { state: "SUCCEEDED", accountId: String(this.nextAccount++) };
    const create: FakeCreate = {
      id,
      email: input.Email,
      name: input.AccountName,
      pending: this.inProgressPolls,
      outcome,
    };
    this.creates.set(id, create);
    return { CreateAccountStatus: this.statusOf(create) };
  }

  /** Installs the fake's handlers on an `aws-sdk-client-mock` stub of an OrganizationsClient. */
  install(mock: AwsStub<any, any, any>): void {
    mock.on(CreateAccountCommand).callsFake((input: { Email: string; AccountName: string }) => {
      this.enter("CreateAccount");
      const injected = this.createErrors.shift();
      if (injected) throw injected;
      if (this.hasAccountOnItsWay(input.Email)) this.secondCreates += 1;
      const lost = this.lostCreateReplies.shift();
      if (lost) {
        this.receiveCreate(input);
        this.onLostReply?.();
        throw lost;
      }
      if (this.stallNextCreate > 0) {
        this.stallNextCreate -= 1;
        return new Promise((resolve) => {
          this.stalled.push(() => resolve(this.receiveCreate(input)));
          this.onStall?.();
        });
      }
      return this.receiveCreate(input);
    });
    mock.on(DescribeCreateAccountStatusCommand).callsFake((input: { CreateAccountRequestId: string }) => {
      this.enter("DescribeCreateAccountStatus");
      const create = this.creates.get(input.CreateAccountRequestId);
      if (!create) throw new CreateAccountStatusNotFoundException({ message: "no such request", ...meta });
      if (create.pending > 0) create.pending -= 1;
      return { CreateAccountStatus: this.statusOf(create) };
    });
    mock.on(ListAccountsCommand).callsFake((input: { NextToken?: string }) => {
      this.enter("ListAccounts");
      // Time has passed for every create nobody polls (e.g. its worker crashed): they settle now.
      for (const create of this.settleOnList ? this.creates.values() : []) {
        create.pending = 0;
        this.settle(create);
      }
      const hidden = this.lagging();
      if (this.listingLag > 0 && !input.NextToken) this.listingLag -= 1;
      // Two accounts per page, to exercise pagination.
      const all = [...this.accounts.values()].filter(
        (account) => hidden?.outcome.state !== "SUCCEEDED" || account.id !== hidden.outcome.accountId,
      );
      const start = input.NextToken ? Number(input.NextToken) : 0;
      const page = all.slice(start, start + 2);
      return {
        Accounts: page.map((a) => ({ Id: a.id, Email: a.email, Name: a.name, Status: a.status })),
        ...(start + 2 < all.length ? { NextToken: String(start + 2) } : {}),
      };
    });
    mock.on(ListCreateAccountStatusCommand).callsFake((input: { States?: string[]; NextToken?: string }) => {
      this.enter("ListCreateAccountStatus");
      // Time passes for creates nobody polls exactly as in ListAccounts (AWS answers both from one truth).
      for (const create of this.settleOnList ? this.creates.values() : []) {
        create.pending = 0;
        this.settle(create);
      }
      const hidden = this.lagging();
      const all = [...this.creates.values()]
        .filter((create) => create !== hidden)
        .map((create) => ({ ...this.statusOf(create), AccountName: create.name }))
        .filter((status) => input.States === undefined || input.States.includes(status.State));
      // Two requests per page, to exercise pagination.
      const start = input.NextToken ? Number(input.NextToken) : 0;
      return {
        CreateAccountStatuses: all.slice(start, start + 2),
        ...(start + 2 < all.length ? { NextToken: String(start + 2) } : {}),
      };
    });
    mock.on(DescribeAccountCommand).callsFake((input: { AccountId: string }) => {
      this.enter("DescribeAccount");
      const a = this.accounts.get(input.AccountId);
      if (!a) throw new AccountNotFoundException({ message: "no such account", ...meta });
      return { Account: { Id: a.id, Email: a.email, Name: a.name, Status: a.status } };
    });
    mock.on(ListParentsCommand).callsFake((input: { ChildId: string }) => {
      this.enter("ListParents");
      const a = this.accounts.get(input.ChildId);
      if (!a) throw new AccountNotFoundException({ message: "no such account", ...meta });
      return { Parents: [{ Id: a.parentId, Type: a.parentId.startsWith("r-") ? "ROOT" : "ORGANIZATIONAL_UNIT" }] };
    });
    mock
      .on(MoveAccountCommand)
      .callsFake((input: { AccountId: string; SourceParentId: string; DestinationParentId: string }) => {
        this.enter("MoveAccount");
        const a = this.accounts.get(input.AccountId);
        if (!a) throw new AccountNotFoundException({ message: "no such account", ...meta });
        a.parentId = input.DestinationParentId;
        if (this.duplicateOnMove > 0) {
          this.duplicateOnMove -= 1;
          throw new DuplicateAccountException({ message: "The account is already in the target", ...meta });
        }
        return {};
      });
    mock.on(TagResourceCommand).callsFake((input: { ResourceId: string; Tags: { Key: string; Value: string }[] }) => {
      this.enter("TagResource");
      const a = this.accounts.get(input.ResourceId);
      if (!a) throw new AccountNotFoundException({ message: "no such account", ...meta });
      for (const tag of input.Tags) a.tags[tag.Key] = tag.Value;
      return {};
    });
    mock.on(ListTagsForResourceCommand).callsFake((input: { ResourceId: string }) => {
      this.enter("ListTagsForResource");
      const a = this.accounts.get(input.ResourceId);
      return { Tags: Object.entries(a?.tags ?? {}).map(([Key, Value]) => ({ Key, Value })) };
    });
    mock.on(ListRootsCommand).callsFake(() => {
      this.enter("ListRoots");
      return { Roots: [{ Id: this.rootId, Name: "Root" }] };
    });
    mock.on(ListOrganizationalUnitsForParentCommand).callsFake((input: { ParentId: string }) => {
      this.enter("ListOrganizationalUnitsForParent");
      return {
        OrganizationalUnits: [...this.ous.values()]
          .filter((ou) => ou.parentId === input.ParentId)
          .map((ou) => ({ Id: ou.id, Name: ou.name })),
      };
    });
    mock.on(DescribeOrganizationalUnitCommand).callsFake((input: { OrganizationalUnitId: string }) => {
      this.enter("DescribeOrganizationalUnit");
      const ou = this.ous.get(input.OrganizationalUnitId);
      if (!ou) throw new OrganizationalUnitNotFoundException({ message: "no such OU", ...meta });
      return { OrganizationalUnit: { Id: ou.id, Name: ou.name } };
    });
    mock.on(DescribeOrganizationCommand).callsFake(() => {
      this.enter("DescribeOrganization");
      return { Organization: { Id: "o-fakeorg000", MasterAccountId: this.managementAccountId } };
    });
    mock.on(CloseAccountCommand).callsFake((input: { AccountId: string }) => {
      this.enter("CloseAccount");
      const injected = this.closeErrors.shift();
      if (injected) throw injected;
      const a = this.accounts.get(input.AccountId);
      if (!a) throw new AccountNotFoundException({ message: "no such account", ...meta });
      if (a.status !== "ACTIVE") throw new ConcurrentModificationException({ message: "unexpected", ...meta });
      a.status = "PENDING_CLOSURE";
      return {};
    });
  }
}

/** Thrown by {@link CrashingLedger} to simulate a worker dying. */
export class SimulatedCrash extends Error {
  constructor(where: string) {
    super(`simulated crash ${where}`);
    this.name = "SimulatedCrash";
  }
}

/** When a {@link CrashingLedger} crashes: before or after applying a matching update. */
export interface CrashPoint {
  readonly when: "before" | "after";
  readonly match: (patch: LedgerPatch, record: LedgerRecord | undefined) => boolean;
}

/**
 * A ledger wrapper that "kills the worker" (throws {@link SimulatedCrash}) at a chosen update, once per
 * armed crash point.
 */
export class CrashingLedger implements Ledger {
  readonly crashes: CrashPoint[] = [];
  constructor(readonly inner: Ledger) {}
  claim(record: NewLedgerRecord, now: Date): Promise<ClaimResult> {
    return this.inner.claim(record, now);
  }
  get(email: string) {
    return this.inner.get(email);
  }
  getByRequestId(requestId: string) {
    return this.inner.getByRequestId(requestId);
  }
  getByAccountId(accountId: string) {
    return this.inner.getByAccountId(accountId);
  }
  list(options?: ListOptions) {
    return this.inner.list(options);
  }
  async update(email: string, expectedVersion: number, patch: LedgerPatch, now: Date): Promise<LedgerRecord> {
    const before = this.take("before", patch, await this.inner.get(email));
    if (before) throw new SimulatedCrash(`before ${JSON.stringify(patch)}`);
    const record = await this.inner.update(email, expectedVersion, patch, now);
    if (this.take("after", patch, record)) throw new SimulatedCrash(`after ${JSON.stringify(patch)}`);
    return record;
  }
  close() {
    return this.inner.close();
  }
  private take(when: CrashPoint["when"], patch: LedgerPatch, record: LedgerRecord | undefined): boolean {
    const index = this.crashes.findIndex((c) => c.when === when && c.match(patch, record));
    if (index === -1) return false;
    this.crashes.splice(index, 1);
    return true;
  }
}
