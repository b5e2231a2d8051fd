/**
 * A narrow gateway over AWS Organizations: exactly the calls the account workflow and the close path
 * need, each wrapped in one retry loop (jittered exponential backoff with a cap and a bounded number of
 * attempts, timing injected, never sleeping past the caller's deadline) and one error classifier.
 */
import {
  AccountAlreadyClosedException,
  CloseAccountCommand,
  ConcurrentModificationException,
  CreateAccountCommand,
  DescribeAccountCommand,
  DescribeCreateAccountStatusCommand,
  DescribeOrganizationCommand,
  DescribeOrganizationalUnitCommand,
  DuplicateAccountException,
  FinalizingOrganizationException,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListCreateAccountStatusCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  MoveAccountCommand,
  OrganizationsServiceException,
  ServiceException,
  TagResourceCommand,
  TooManyRequestsException,
  type Account,
  type CreateAccountStatus,
  type OrganizationsClient,
} from "@aws-sdk/client-organizations";
import type { Timing } from "../../shared/timing";
import {
  OrganizationalUnitPathError,
  OrganizationsDeadlineError,
  OrganizationsRequestError,
  OrganizationsRetriesExhaustedError,
  OrganizationsUnknownOutcomeError,
  isOrganizationalUnitId,
  type CloseResult,
  type CreateAccountRequestSummary,
  type CreateAccountStatusView,
  type MoveResult,
  type OrganizationAccount,
  type OrganizationsErrorClass,
  type OrganizationsOperation,
} from "../../core/organizations";
import type { Organizations } from "../../core/ports";
import { currentDeadline } from "../../core/callDeadline";
import { DEFAULT_ORGANIZATIONS_RETRY, backoffDelay, type RetryEvent, type RetryPolicy } from "../../core/retry";

/**
 * The one classifier of Organizations SDK errors (by `instanceof` on the SDK's exception classes).
 * `ServiceException` and any other server fault (HTTP 5xx, "try again later") is retried like throttling, except on
 * CreateAccount: there a server fault, or a connection that broke after the request went out, leaves open whether
 * AWS accepted the call (the reply may have been lost), so it is `unknown-outcome` and never repeated blindly.
 */
export function classifyOrganizationsError(operation: OrganizationsOperation, error: unknown): OrganizationsErrorClass {
  if (operation === "CreateAccount" && (isServerFault(error) || isLostReply(error))) return "unknown-outcome";
  if (
    error instanceof TooManyRequestsException ||
    error instanceof ConcurrentModificationException ||
    error instanceof FinalizingOrganizationException ||
    isServerFault(error)
  ) {
    return "retryable";
  }
  if (operation === "MoveAccount" && error instanceof DuplicateAccountException) return "already-done";
  if (operation === "CloseAccount" && error instanceof AccountAlreadyClosedException) return "already-done";
  if (error instanceof OrganizationsServiceException) return "terminal";
  return "not-aws";
}

/** An HTTP 5xx answer: the modeled `ServiceException` or any other error the SDK marks as a server fault. */
function isServerFault(error: unknown): boolean {
  if (error instanceof ServiceException) return true;
  if (!(error instanceof OrganizationsServiceException)) return false;
  return error.$fault === "server" || (error.$metadata?.httpStatusCode ?? 0) >= 500;
}

/**
 * Node's errors for a connection that broke or timed out after the request was written: the call may have reached
 * AWS and only its reply was lost. (`ECONNREFUSED` and credential errors happen before anything is sent.)
 */
const LOST_REPLY_CODES: ReadonlySet<string> = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNABORTED"]);
const LOST_REPLY_NAMES: ReadonlySet<string> = new Set(["TimeoutError", "RequestTimeout"]);

function isLostReply(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof OrganizationsServiceException) return false;
  const code = (error as { code?: unknown }).code;
  return (
    (typeof code === "string" && LOST_REPLY_CODES.has(code)) ||
    LOST_REPLY_NAMES.has(error.name) ||
    error.message === "socket hang up"
  );
}

/**
 * The SDK's retry middleware replaced, for one command, by a pass-through: the command goes out exactly once,
 * whatever the client's `maxAttempts`. (A command's middleware overrides the client's entry of the same name when
 * the two stacks are combined.) Used for CreateAccount, the one call that is not idempotent: a 5xx or a lost reply
 * after AWS accepted it must reach the workflow as an unknown outcome, never be resent by the SDK.
 */
function sendOnce<C extends CreateAccountCommand>(command: C): C {
  command.middlewareStack.add((next) => (args) => next(args), {
    name: "retryMiddleware",
    tags: ["RETRY"],
    step: "finalizeRequest",
    priority: "high",
    override: true,
  });
  return command;
}

/** Options of {@link OrganizationsGateway}. */
export interface OrganizationsGatewayOptions {
  /** Sleep and jitter source. */
  readonly timing: Timing;
  /** Retry policy for retryable errors. Default {@link DEFAULT_ORGANIZATIONS_RETRY}. */
  readonly retry?: RetryPolicy;
  /** Called before every backoff sleep. */
  readonly onRetry?: (event: RetryEvent) => void;
  /**
   * The caller's deadline (epoch ms) for the call being made: no backoff sleeps past it. Default: the deadline the
   * caller runs under (`runWithDeadline`, e.g. the workflow's per-invocation deadline), else none.
   */
  readonly deadline?: () => number | undefined;
}

/**
 * Organizations calls of the account workflow. Call it with a client whose credentials are the
 * management account's (in Lambda: the vending role assumed through STS).
 */
export class OrganizationsGateway implements Organizations {
  private readonly retry: RetryPolicy;
  private readonly ouCache = new Map<string, string>();

  /**
   * @param client an Organizations client (region `us-east-1`; Organizations is a global service).
   * @param options timing, retry policy and retry hook.
   */
  constructor(
    private readonly client: OrganizationsClient,
    private readonly options: OrganizationsGatewayOptions,
  ) {
    this.retry = options.retry ?? DEFAULT_ORGANIZATIONS_RETRY;
    if (!Number.isInteger(this.retry.maxAttempts) || this.retry.maxAttempts < 1) {
      throw new RangeError(`retry.maxAttempts must be an integer >= 1, got ${this.retry.maxAttempts}`);
    }
  }

  /**
   * Starts account creation (asynchronous in AWS) and returns its first status. Sent exactly once: neither the
   * SDK nor this gateway resends it after a server fault or a lost reply (that is an
   * {@link OrganizationsUnknownOutcomeError}); only a throttling answer, which proves AWS did not take it, is
   * retried.
   */
  async createAccount(input: {
    email: string;
    accountName: string;
    roleName?: string;
  }): Promise<CreateAccountStatusView> {
    const out = await this.call("CreateAccount", () =>
      this.client.send(
        sendOnce(
          new CreateAccountCommand({ Email: input.email, AccountName: input.accountName, RoleName: input.roleName }),
        ),
      ),
    );
    return toStatusView("CreateAccount", out.CreateAccountStatus);
  }

  /** Current status of a CreateAccount request. */
  async describeCreateAccountStatus(createAccountRequestId: string): Promise<CreateAccountStatusView> {
    const out = await this.call("DescribeCreateAccountStatus", () =>
      this.client.send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: createAccountRequestId })),
    );
    return toStatusView("DescribeCreateAccountStatus", out.CreateAccountStatus);
  }

  /**
   * CreateAccount requests of the organization in the given states (all pages of ListCreateAccountStatus).
   * The answer names each request's account name but not its email.
   */
  async listCreateAccountRequests(
    states: readonly CreateAccountStatusView["state"][],
  ): Promise<CreateAccountRequestSummary[]> {
    const requests: CreateAccountRequestSummary[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await this.call("ListCreateAccountStatus", () =>
        this.client.send(new ListCreateAccountStatusCommand({ States: [...states], NextToken: token })),
      );
      for (const status of page.CreateAccountStatuses ?? []) {
        const view = toStatusView("ListCreateAccountStatus", status);
        requests.push({ requestId: view.requestId, accountName: status.AccountName ?? "", state: view.state });
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return requests;
  }

  /** Every account of the organization (all pages of ListAccounts). */
  async listAccounts(): Promise<OrganizationAccount[]> {
    const accounts: OrganizationAccount[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await this.call("ListAccounts", () =>
        this.client.send(new ListAccountsCommand({ NextToken: token })),
      );
      for (const account of page.Accounts ?? []) accounts.push(toAccount(account));
      nextToken = page.NextToken;
    } while (nextToken);
    return accounts;
  }

  /** Accounts directly under the root or OU `parentId` (all pages of ListAccountsForParent). */
  async listAccountsForParent(parentId: string): Promise<OrganizationAccount[]> {
    const accounts: OrganizationAccount[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await this.call("ListAccountsForParent", () =>
        this.client.send(new ListAccountsForParentCommand({ ParentId: parentId, NextToken: token })),
      );
      for (const account of page.Accounts ?? []) accounts.push(toAccount(account));
      nextToken = page.NextToken;
    } while (nextToken);
    return accounts;
  }

  /** Ids of the OUs directly under the root or OU `parentId` (all pages of ListOrganizationalUnitsForParent). */
  async listChildOus(parentId: string): Promise<string[]> {
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await this.call("ListOrganizationalUnitsForParent", () =>
        this.client.send(new ListOrganizationalUnitsForParentCommand({ ParentId: parentId, NextToken: token })),
      );
      for (const ou of page.OrganizationalUnits ?? []) if (ou.Id) ids.push(ou.Id);
      nextToken = page.NextToken;
    } while (nextToken);
    return ids;
  }

  /**
   * The organization's account with root email `email` (compared case-insensitively), if any. Stops
   * paging at the first match.
   */
  async findAccountByEmail(email: string): Promise<OrganizationAccount | undefined> {
    const wanted = email.trim().toLowerCase();
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await this.call("ListAccounts", () =>
        this.client.send(new ListAccountsCommand({ NextToken: token })),
      );
      const match = page.Accounts?.find((account) => account.Email?.trim().toLowerCase() === wanted);
      if (match) return toAccount(match);
      nextToken = page.NextToken;
    } while (nextToken);
    return undefined;
  }

  /** One account by id. */
  async describeAccount(accountId: string): Promise<OrganizationAccount> {
    const out = await this.call("DescribeAccount", () =>
      this.client.send(new DescribeAccountCommand({ AccountId: accountId })),
    );
    return toAccount(out.Account ?? {});
  }

  /** Id of the account's parent (root or OU). An account has exactly one parent. */
  async getParentId(accountId: string): Promise<string> {
    const out = await this.call("ListParents", () => this.client.send(new ListParentsCommand({ ChildId: accountId })));
    const parentId = out.Parents?.[0]?.Id;
    if (!parentId) throw new OrganizationsRequestError("ListParents", "NoParent", `account ${accountId} has no parent`);
    return parentId;
  }

  /**
   * Moves the account from `sourceParentId` to `destinationParentId`. A DuplicateAccountException (the
   * account is already there, e.g. a concurrent move won) counts as done.
   */
  async moveAccount(accountId: string, sourceParentId: string, destinationParentId: string): Promise<MoveResult> {
    if (sourceParentId === destinationParentId) return "already-there";
    const done = await this.call(
      "MoveAccount",
      () =>
        this.client.send(
          new MoveAccountCommand({
            AccountId: accountId,
            SourceParentId: sourceParentId,
            DestinationParentId: destinationParentId,
          }),
        ),
      true,
    );
    return done === ALREADY_DONE ? "already-there" : "moved";
  }

  /** Adds or overwrites tags on the account (TagResource). No call when `tags` is empty. */
  async tagAccount(accountId: string, tags: Readonly<Record<string, string>>): Promise<void> {
    const list = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    if (list.length === 0) return;
    await this.call("TagResource", () =>
      this.client.send(new TagResourceCommand({ ResourceId: accountId, Tags: list })),
    );
  }

  /** All tags of the account. */
  async listAccountTags(accountId: string): Promise<Record<string, string>> {
    const tags: Record<string, string> = {};
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await this.call("ListTagsForResource", () =>
        this.client.send(new ListTagsForResourceCommand({ ResourceId: accountId, NextToken: token })),
      );
      for (const tag of page.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? "";
      nextToken = page.NextToken;
    } while (nextToken);
    return tags;
  }

  /** Id of the organization's root (`r-...`). */
  async getRootId(): Promise<string> {
    const cached = this.ouCache.get("/");
    if (cached) return cached;
    const out = await this.call("ListRoots", () => this.client.send(new ListRootsCommand({})));
    const rootId = out.Roots?.[0]?.Id;
    if (!rootId) throw new OrganizationalUnitPathError("/", "the organization has no root");
    this.ouCache.set("/", rootId);
    return rootId;
  }

  /**
   * Resolves an OU reference to the id of an existing OU or root: an OU id is checked with
   * DescribeOrganizationalUnit, a root id against ListRoots; a path such as `/Workloads/Prod` is walked from
   * the root by exact OU name (results are cached per gateway).
   * @throws OrganizationalUnitPathError when a path segment names no OU or the root id is not the root.
   * @throws OrganizationsRequestError (`OrganizationalUnitNotFoundException`) for an OU id that does not exist.
   */
  async resolveOrganizationalUnit(reference: string): Promise<string> {
    const trimmed = reference.trim();
    if (isOrganizationalUnitId(trimmed)) {
      if (this.ouCache.has(`#${trimmed}`)) return trimmed;
      if (trimmed.startsWith("r-")) {
        const rootId = await this.getRootId();
        if (rootId !== trimmed) {
          throw new OrganizationalUnitPathError(reference, `the organization's root is ${rootId}, not ${trimmed}`);
        }
      } else {
        await this.call("DescribeOrganizationalUnit", () =>
          this.client.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: trimmed })),
        );
      }
      this.ouCache.set(`#${trimmed}`, trimmed);
      return trimmed;
    }
    const segments = trimmed.split("/").filter((segment) => segment !== "");
    let parentId = await this.getRootId();
    let walked = "";
    for (const segment of segments) {
      walked += `/${segment}`;
      const cached = this.ouCache.get(walked);
      if (cached) {
        parentId = cached;
        continue;
      }
      const childId = await this.findChildOu(parentId, segment);
      if (!childId) {
        throw new OrganizationalUnitPathError(reference, `no OU named "${segment}" under ${parentId} (${walked})`);
      }
      this.ouCache.set(walked, childId);
      parentId = childId;
    }
    return parentId;
  }

  /** The organization's id and its management account id. */
  async describeOrganization(): Promise<{ organizationId: string; managementAccountId: string }> {
    const out = await this.call("DescribeOrganization", () => this.client.send(new DescribeOrganizationCommand({})));
    const organizationId = out.Organization?.Id;
    const managementAccountId = out.Organization?.MasterAccountId;
    if (!organizationId || !managementAccountId) {
      throw new OrganizationsRequestError("DescribeOrganization", "IncompleteResponse", "no organization id");
    }
    return { organizationId, managementAccountId };
  }

  /** Requests closure of a member account (CloseAccount). An already closed account counts as done. */
  async closeAccount(accountId: string): Promise<CloseResult> {
    const done = await this.call(
      "CloseAccount",
      () => this.client.send(new CloseAccountCommand({ AccountId: accountId })),
      true,
    );
    return done === ALREADY_DONE ? "already-closed" : "close-requested";
  }

  private async findChildOu(parentId: string, name: string): Promise<string | undefined> {
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await this.call("ListOrganizationalUnitsForParent", () =>
        this.client.send(new ListOrganizationalUnitsForParentCommand({ ParentId: parentId, NextToken: token })),
      );
      const match = page.OrganizationalUnits?.find((ou) => ou.Name === name);
      if (match?.Id) return match.Id;
      nextToken = page.NextToken;
    } while (nextToken);
    return undefined;
  }

  /** Runs `send` under the retry policy; maps errors through the classifier. */
  private async call<T>(operation: OrganizationsOperation, send: () => Promise<T>): Promise<T>;
  private async call<T>(
    operation: OrganizationsOperation,
    send: () => Promise<T>,
    allowDone: true,
  ): Promise<T | typeof ALREADY_DONE>;
  private async call<T>(
    operation: OrganizationsOperation,
    send: () => Promise<T>,
    allowDone = false,
  ): Promise<T | typeof ALREADY_DONE> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await send();
      } catch (error) {
        const kind = classifyOrganizationsError(operation, error);
        if (kind === "already-done" && allowDone) return ALREADY_DONE;
        if (kind === "not-aws") throw error;
        if (kind === "unknown-outcome") throw new OrganizationsUnknownOutcomeError(operation, error);
        if (kind !== "retryable") {
          const name = error instanceof Error ? error.name : "Error";
          throw new OrganizationsRequestError(operation, name, errorMessage(error), { cause: error });
        }
        if (attempt >= this.retry.maxAttempts) throw new OrganizationsRetriesExhaustedError(operation, attempt, error);
        const delayMs = backoffDelay(attempt - 1, this.retry, this.options.timing.random());
        const deadline = (this.options.deadline ?? currentDeadline)();
        if (deadline !== undefined && this.options.timing.now().getTime() + delayMs > deadline) {
          throw new OrganizationsDeadlineError(operation, attempt, new Date(deadline).toISOString(), error);
        }
        this.options.onRetry?.({ operation, attempt, delayMs, error });
        await this.options.timing.sleep(delayMs);
      }
    }
  }
}

const ALREADY_DONE: unique symbol = Symbol("already-done");

function toStatusView(
  operation: OrganizationsOperation,
  status: CreateAccountStatus | undefined,
): CreateAccountStatusView {
  const requestId = status?.Id;
  const state = status?.State;
  if (!requestId || (state !== "IN_PROGRESS" && state !== "SUCCEEDED" && state !== "FAILED")) {
    throw new OrganizationsRequestError(operation, "IncompleteResponse", "no CreateAccountStatus id or state");
  }
  return {
    requestId,
    state,
    ...(status.AccountId ? { accountId: status.AccountId } : {}),
    ...(state === "FAILED" ? { failureReason: status.FailureReason ?? "UNKNOWN (no FailureReason given)" } : {}),
  };
}

function toAccount(account: Account): OrganizationAccount {
  return {
    id: account.Id ?? "",
    email: account.Email ?? "",
    name: account.Name ?? "",
    status: account.Status ?? account.State ?? "UNKNOWN",
  };
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || "(no message)";
  return String(error);
}
