import { expect } from "chai";
import { mockClient } from "aws-sdk-client-mock";
import {
  AccessDeniedException,
  AccountAlreadyClosedException,
  CloseAccountCommand,
  ConcurrentModificationException,
  ConstraintViolationException,
  CreateAccountCommand,
  DescribeCreateAccountStatusCommand,
  DuplicateAccountException,
  FinalizingOrganizationException,
  ListAccountsCommand,
  ListCreateAccountStatusCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
  OrganizationsServiceException,
  ServiceException,
  TagResourceCommand,
  TooManyRequestsException,
} from "@aws-sdk/client-organizations";
import { currentDeadline, runWithDeadline } from "../../../../src/core/callDeadline";
import {
  OrganizationalUnitPathError,
  OrganizationsDeadlineError,
  OrganizationsRequestError,
  OrganizationsRetriesExhaustedError,
} from "../../../../src/core/organizations";
import { OrganizationsGateway, classifyOrganizationsError } from "../../../../src/adapters/aws/organizationsGateway";
import { backoffDelay, type RetryEvent } from "../../../../src/core/retry";
import { InstantTiming } from "../../core/vending/workflowFixtures";

const meta = { $metadata: {} };
const throttle = () => new TooManyRequestsException({ message: "Rate exceeded", ...meta });
const POLICY = { baseDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 4 };

describe("classifyOrganizationsError", () => {
  it("classifies throttling, concurrent modification, finalizing and service errors as retryable", () => {
    for (const error of [
      throttle(),
      new ConcurrentModificationException({ message: "busy", ...meta }),
      new FinalizingOrganizationException({ message: "finalizing", ...meta }),
    ]) {
      expect(classifyOrganizationsError("CreateAccount", error), error.name).to.equal("retryable");
    }
    expect(classifyOrganizationsError("MoveAccount", new ServiceException({ message: "internal", ...meta }))).to.equal(
      "retryable",
    );
  });

  it("never retries CreateAccount after a ServiceException: AWS may have accepted it (outcome unknown)", () => {
    expect(
      classifyOrganizationsError("CreateAccount", new ServiceException({ message: "internal", ...meta })),
    ).to.equal("unknown-outcome");
  });

  it("treats DuplicateAccountException as done only on MoveAccount", () => {
    const duplicate = new DuplicateAccountException({ message: "already there", ...meta });
    expect(classifyOrganizationsError("MoveAccount", duplicate)).to.equal("already-done");
    expect(classifyOrganizationsError("TagResource", duplicate)).to.equal("terminal");
  });

  it("treats AccountAlreadyClosedException as done on CloseAccount", () => {
    const closed = new AccountAlreadyClosedException({ message: "closed", ...meta });
    expect(classifyOrganizationsError("CloseAccount", closed)).to.equal("already-done");
  });

  it("classifies other Organizations exceptions as terminal and foreign errors as not-aws", () => {
    expect(classifyOrganizationsError("CreateAccount", new AccessDeniedException({ message: "no", ...meta }))).to.equal(
      "terminal",
    );
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:443"), { code: "ECONNREFUSED" });
    expect(classifyOrganizationsError("CreateAccount", refused)).to.equal("not-aws");
    expect(classifyOrganizationsError("ListAccounts", new Error("socket hang up"))).to.equal("not-aws");
    expect(classifyOrganizationsError("CreateAccount", "string")).to.equal("not-aws");
  });

  it("classifies a CreateAccount whose reply may have been lost as unknown-outcome, never as retryable", () => {
    const unmodeled500 = new OrganizationsServiceException({
      name: "UnknownError",
      $fault: "server",
      $metadata: { httpStatusCode: 500 },
      message: "UnknownError",
    });
    const lost = [
      unmodeled500,
      Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
      Object.assign(new Error("write EPIPE"), { code: "EPIPE" }),
      Object.assign(new Error("Connection timed out after 5000 ms"), { name: "TimeoutError" }),
    ];
    expect(lost.map((error) => classifyOrganizationsError("CreateAccount", error))).to.deep.equal([
      "unknown-outcome",
      "unknown-outcome",
      "unknown-outcome",
      "unknown-outcome",
    ]);
    // Idempotent calls retry a server fault; transport errors are the SDK's to retry.
    expect(classifyOrganizationsError("ListAccounts", unmodeled500)).to.equal("retryable");
  });
});

describe("backoffDelay", () => {
  it("doubles a ceiling from the base, caps it, and jitters the upper half", () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1_000 };
    expect([0, 1, 2, 3, 4, 5].map((retry) => backoffDelay(retry, policy, 0.5))).to.deep.equal([
      75, 150, 300, 600, 750, 750,
    ]);
    expect(backoffDelay(2, policy, 0)).to.equal(200);
    expect(backoffDelay(2, policy, 0.999999)).to.equal(400);
  });
});

describe("OrganizationsGateway", () => {
  const client = new OrganizationsClient({ region: "us-east-1" });
  const mock = mockClient(client);
  let timing: InstantTiming;
  let retries: RetryEvent[];
  let gateway: OrganizationsGateway;

  beforeEach(() => {
    mock.reset();
    timing = new InstantTiming();
    retries = [];
    gateway = new OrganizationsGateway(client, { timing, retry: POLICY, onRetry: (event) => retries.push(event) });
  });
  after(() => mock.restore());

  it("recovers from a throttling sequence with jittered backoff", async () => {
    mock
      .on(CreateAccountCommand)
      .rejectsOnce(throttle())
      .rejectsOnce(new ConcurrentModificationException({ message: "busy", ...meta }))
      .rejectsOnce(throttle())
      .resolves({ CreateAccountStatus: { Id: "car-1", State: "IN_PROGRESS" } });
    const status = await gateway.createAccount({ email: "a@example.com", accountName: "a" });
    expect(status).to.deep.equal({ requestId: "car-1", state: "IN_PROGRESS" });
    expect(timing.sleeps).to.deep.equal([75, 150, 300]);
    expect(retries.map((r) => [r.operation, r.attempt, r.delayMs])).to.deep.equal([
      ["CreateAccount", 1, 75],
      ["CreateAccount", 2, 150],
      ["CreateAccount", 3, 300],
    ]);
    expect(mock.commandCalls(CreateAccountCommand)).to.have.length(4);
    expect(mock.commandCalls(CreateAccountCommand)[0]!.args[0].input).to.deep.equal({
      Email: "a@example.com",
      AccountName: "a",
      RoleName: undefined,
    });
  });

  it("gives up after maxAttempts with OrganizationsRetriesExhaustedError", async () => {
    const last = throttle();
    mock.on(TagResourceCommand).rejectsOnce(throttle()).rejectsOnce(throttle()).rejectsOnce(throttle()).rejects(last);
    const error = await gateway.tagAccount("111122223333", { A: "1" }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(OrganizationsRetriesExhaustedError);
    expect((error as Error).message).to.equal(
      "TagResource still failing after 4 attempts: TooManyRequestsException: Rate exceeded",
    );
    expect((error as OrganizationsRetriesExhaustedError).attempts).to.equal(4);
    expect((error as Error).cause).to.equal(last);
    expect(timing.sleeps).to.deep.equal([75, 150, 300]);
  });

  it("stops before a backoff would sleep past the caller's deadline (runWithDeadline or the deadline option)", async () => {
    const last = throttle();
    mock.on(TagResourceCommand).rejectsOnce(throttle()).rejectsOnce(throttle()).rejects(last);
    const start = timing.now().getTime();
    // Sleeps 75 and 150 fit before start + 300; the third (300) would end at 525.
    const error = await runWithDeadline(start + 300, () => gateway.tagAccount("111122223333", { A: "1" })).catch(
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(OrganizationsDeadlineError);
    expect((error as Error).message).to.equal(
      "TagResource still failing after 3 attempt(s) and the next retry would pass the deadline " +
        `${new Date(start + 300).toISOString()}: TooManyRequestsException: Rate exceeded`,
    );
    expect((error as Error).cause).to.equal(last);
    expect(timing.sleeps).to.deep.equal([75, 150]);
    expect(timing.now().getTime() - start).to.equal(225);
    expect(mock.commandCalls(TagResourceCommand)).to.have.length(3);

    // The same with the deadline given to the gateway, and a deadline already past: one attempt, no sleep.
    mock.reset();
    mock.on(ListRootsCommand).rejects(throttle());
    const late = new OrganizationsGateway(client, { timing, retry: POLICY, deadline: () => timing.now().getTime() });
    expect(await late.getRootId().catch((e: unknown) => e)).to.be.instanceOf(OrganizationsDeadlineError);
    expect(mock.commandCalls(ListRootsCommand)).to.have.length(1);
    expect(timing.sleeps).to.deep.equal([75, 150]);
  });

  it("keeps the earlier deadline when calls nest", async () => {
    expect(currentDeadline()).to.equal(undefined);
    await runWithDeadline(1_000, async () => {
      expect(currentDeadline()).to.equal(1_000);
      await runWithDeadline(5_000, async () => expect(currentDeadline()).to.equal(1_000));
      await runWithDeadline(500, async () => expect(currentDeadline()).to.equal(500));
    });
  });

  it("turns a terminal exception into OrganizationsRequestError keeping the cause", async () => {
    const cause = new ConstraintViolationException({
      message: "limit reached",
      Reason: "ACCOUNT_NUMBER_LIMIT_EXCEEDED",
      ...meta,
    });
    mock.on(CreateAccountCommand).rejects(cause);
    const error = await gateway.createAccount({ email: "a@example.com", accountName: "a" }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(OrganizationsRequestError);
    expect((error as OrganizationsRequestError).message).to.equal(
      "CreateAccount failed: ConstraintViolationException: limit reached",
    );
    expect((error as OrganizationsRequestError).code).to.equal("ConstraintViolationException");
    expect((error as Error).cause).to.equal(cause);
    expect(timing.sleeps).to.deep.equal([]);
  });

  it("rethrows errors that are not AWS answers unchanged, without retrying", async () => {
    const network = new Error("socket hang up");
    mock.on(DescribeCreateAccountStatusCommand).rejects(network);
    const error = await gateway.describeCreateAccountStatus("car-1").catch((e: unknown) => e);
    expect(error).to.equal(network);
    expect(mock.commandCalls(DescribeCreateAccountStatusCommand)).to.have.length(1);
  });

  it("reports a FAILED status with its reason verbatim", async () => {
    mock.on(DescribeCreateAccountStatusCommand).resolves({
      CreateAccountStatus: { Id: "car-1", State: "FAILED", FailureReason: "SOMETHING_NEW" as never },
    });
    expect(await gateway.describeCreateAccountStatus("car-1")).to.deep.equal({
      requestId: "car-1",
      state: "FAILED",
      failureReason: "SOMETHING_NEW",
    });
  });

  it("lists CreateAccount requests in the given states across pages, with their account names", async () => {
    mock
      .on(ListCreateAccountStatusCommand)
      .resolvesOnce({
        CreateAccountStatuses: [
          { Id: "car-1", State: "IN_PROGRESS", AccountName: "team-a" },
          { Id: "car-2", State: "IN_PROGRESS", AccountName: "team-b" },
        ],
        NextToken: "t1",
      })
      .resolvesOnce({ CreateAccountStatuses: [{ Id: "car-3", State: "IN_PROGRESS", AccountName: "team-a" }] });
    expect(await gateway.listCreateAccountRequests(["IN_PROGRESS"])).to.deep.equal([
      { requestId: "car-1", accountName: "team-a", state: "IN_PROGRESS" },
      { requestId: "car-2", accountName: "team-b", state: "IN_PROGRESS" },
      { requestId: "car-3", accountName: "team-a", state: "IN_PROGRESS" },
    ]);
    expect(mock.commandCalls(ListCreateAccountStatusCommand).map((call) => call.args[0].input)).to.deep.equal([
      { States: ["IN_PROGRESS"], NextToken: undefined },
      { States: ["IN_PROGRESS"], NextToken: "t1" },
    ]);
  });

  it("treats DuplicateAccountException on MoveAccount as already moved", async () => {
    mock.on(MoveAccountCommand).rejects(new DuplicateAccountException({ message: "dup", ...meta }));
    expect(await gateway.moveAccount("111122223333", "r-abcd", "ou-abcd-12345678")).to.equal("already-there");
  });

  it("does not call MoveAccount when the account is already in the target", async () => {
    expect(await gateway.moveAccount("111122223333", "ou-abcd-12345678", "ou-abcd-12345678")).to.equal("already-there");
    expect(mock.commandCalls(MoveAccountCommand)).to.have.length(0);
  });

  it("treats AccountAlreadyClosedException on CloseAccount as already closed", async () => {
    mock.on(CloseAccountCommand).rejects(new AccountAlreadyClosedException({ message: "closed", ...meta }));
    expect(await gateway.closeAccount("111122223333")).to.equal("already-closed");
  });

  it("finds an account by email across pages, case-insensitively", async () => {
    mock
      .on(ListAccountsCommand, { NextToken: undefined })
      .resolves({
        Accounts: [{ Id: "111111111111", Email: "x@example.com", Name: "x", Status: "ACTIVE" }],
        NextToken: "p2",
      })
      .on(ListAccountsCommand, { NextToken: "p2" })
      .resolves({ Accounts: [{ Id: "222222222222", Email: "Wanted@Example.com", Name: "w", Status: "ACTIVE" }] });
    expect(await gateway.findAccountByEmail("wanted@example.com")).to.deep.equal({
      id: "222222222222",
      email: "Wanted@Example.com",
      name: "w",
      status: "ACTIVE",
    });
    expect(await gateway.findAccountByEmail("missing@example.com")).to.equal(undefined);
  });

  it("resolves OU paths level by level through all pages and caches them", async () => {
    mock
      .on(ListRootsCommand)
      .resolves({ Roots: [{ Id: "r-abcd" }] })
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: "r-abcd", NextToken: undefined })
      .resolves({ OrganizationalUnits: [{ Id: "ou-abcd-00000001", Name: "Sandbox" }], NextToken: "n" })
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: "r-abcd", NextToken: "n" })
      .resolves({ OrganizationalUnits: [{ Id: "ou-abcd-00000002", Name: "Workloads" }] })
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: "ou-abcd-00000002" })
      .resolves({ OrganizationalUnits: [{ Id: "ou-abcd-00000003", Name: "Prod" }] });
    expect(await gateway.resolveOrganizationalUnit("/Workloads/Prod")).to.equal("ou-abcd-00000003");
    expect(await gateway.resolveOrganizationalUnit("/Workloads/Prod")).to.equal("ou-abcd-00000003");
    expect(await gateway.resolveOrganizationalUnit("/")).to.equal("r-abcd");
    expect(await gateway.resolveOrganizationalUnit("ou-zzzz-99999999")).to.equal("ou-zzzz-99999999");
    expect(mock.commandCalls(ListRootsCommand)).to.have.length(1);
    expect(mock.commandCalls(ListOrganizationalUnitsForParentCommand)).to.have.length(3);
  });

  it("names the missing segment of an OU path", async () => {
    mock
      .on(ListRootsCommand)
      .resolves({ Roots: [{ Id: "r-abcd" }] })
      .on(ListOrganizationalUnitsForParentCommand)
      .resolves({ OrganizationalUnits: [{ Id: "ou-abcd-00000002", Name: "Workloads" }] });
    const error = await gateway.resolveOrganizationalUnit("/Workloads/Dev").catch((e: unknown) => e);
    expect(error).to.be.instanceOf(OrganizationalUnitPathError);
    expect((error as Error).message).to.equal(
      'cannot resolve OU path "/Workloads/Dev": no OU named "Dev" under ou-abcd-00000002 (/Workloads/Dev)',
    );
  });

  it("reads an account's single parent", async () => {
    mock.on(ListParentsCommand).resolves({ Parents: [{ Id: "ou-abcd-00000002", Type: "ORGANIZATIONAL_UNIT" }] });
    expect(await gateway.getParentId("111122223333")).to.equal("ou-abcd-00000002");
  });

  it("rejects a retry policy without attempts", () => {
    expect(() => new OrganizationsGateway(client, { timing, retry: { ...POLICY, maxAttempts: 0 } })).to.throw(
      RangeError,
      "retry.maxAttempts must be an integer >= 1, got 0",
    );
  });
});
