/**
 * The account workflow against moto's Organizations and DynamoDB (the deployed ledger and slots).
 * moto's CreateAccount is synchronous and always SUCCEEDED and moto does not enforce email uniqueness, so
 * "exactly one account per email" here rests on the workflow alone (the unit and property tests cover
 * IN_PROGRESS, failure reasons and throttling).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  DescribeAccountCommand,
  ListAccountsCommand,
  ListParentsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
  ServiceException,
  type Account,
} from "@aws-sdk/client-organizations";
import { expect } from "chai";
import { DynamoCreateSlots } from "../../../../src/adapters/aws/dynamoCreateSlots";
import { DynamoLedger, createLedgerTable } from "../../../../src/adapters/aws/dynamoLedger";
import { createManagementOrganizationsClient } from "../../../../src/adapters/aws/managementClients";
import { OrganizationsGateway } from "../../../../src/adapters/aws/organizationsGateway";
import { type AccountRequest } from "../../../../src/core/vending/requestRules";
import { parseMeshstackHook, parseVendRequest } from "../../../../src/core/vending/requests";
import { createWorkflow, type Workflow } from "../../../../src/core/vending/workflow";
import { realTiming } from "../../../../src/shared/timing";
import { HANG_GUARD_MS } from "../../../support/hangGuard";
import { useMoto, type LocalOrganization } from "../../../support/moto";
import { CrashingLedger, RecordingStackRunner, SimulatedCrash } from "./workflowFixtures";

const TABLE = "avm-ledger";
const LEASE_TTL_MS = 1_000;

describe("account workflow against moto", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let org: LocalOrganization;
  let prodOuId: string;
  let organizationsClient: OrganizationsClient;
  let dynamo: DynamoDBClient;
  let ledger: CrashingLedger;
  let runner: RecordingStackRunner;
  let workflow: Workflow;

  beforeEach(async () => {
    org = await moto.createOrganization("Workloads");
    organizationsClient = new OrganizationsClient(moto.clientConfig());
    const prod = await organizationsClient.send(
      new CreateOrganizationalUnitCommand({ ParentId: org.ouId, Name: "Prod" }),
    );
    prodOuId = prod.OrganizationalUnit!.Id!;
    dynamo = new DynamoDBClient(moto.clientConfig());
    await createLedgerTable(dynamo, TABLE);
    ledger = new CrashingLedger(new DynamoLedger({ client: dynamo, tableName: TABLE }));
    runner = new RecordingStackRunner();
    workflow = createWorkflow({
      ledger,
      organizations: new OrganizationsGateway(organizationsClient, { timing: realTiming }),
      stackRunner: runner,
      createSlots: new DynamoCreateSlots({ client: dynamo, tableName: TABLE }),
      timing: realTiming,
      // A short lease, so a crashed holder's lease expires within the test.
      options: { slotWait: { baseDelayMs: 20, maxDelayMs: 200 }, leaseTtlMs: LEASE_TTL_MS },
    });
  });
  afterEach(() => {
    organizationsClient.destroy();
    dynamo.destroy();
  });

  async function record(request: AccountRequest, requestId: string) {
    const accountId = request.kind === "meshstack-hook" ? request.accountId : undefined;
    return ledger.claim(
      {
        email: request.email,
        requestId,
        kind: request.kind,
        request: request as unknown as Record<string, unknown>,
        ...(accountId ? { accountId } : {}),
      },
      new Date(),
    );
  }

  async function members(): Promise<Account[]> {
    const accounts: Account[] = [];
    let token: string | undefined;
    do {
      const page = await organizationsClient.send(new ListAccountsCommand({ NextToken: token }));
      accounts.push(...(page.Accounts ?? []));
      token = page.NextToken;
    } while (token);
    return accounts.filter((a) => a.Id !== org.managementAccountId);
  }

  async function tagsOf(accountId: string): Promise<Record<string, string>> {
    const out = await organizationsClient.send(new ListTagsForResourceCommand({ ResourceId: accountId }));
    return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key!, t.Value!]));
  }

  async function parentOf(accountId: string): Promise<string> {
    const out = await organizationsClient.send(new ListParentsCommand({ ChildId: accountId }));
    return out.Parents![0]!.Id!;
  }

  it("vends one account end to end into an OU path with tags", async () => {
    const request = parseVendRequest({
      accountName: "team-a-prod",
      email: "Team-A@Example.com",
      targetOu: "/Workloads/Prod",
      tags: { CostCenter: "1234", Environment: "prod" },
      productName: "team-a",
      stage: "prod",
    });
    await record(request, "req-1");
    const outcome = await workflow.processRequest("team-a@example.com");
    expect(outcome.status).to.equal("terminal");

    const stored = (await ledger.get("team-a@example.com"))!;
    expect(stored.state).to.equal("SUCCEEDED");
    expect(stored.history.map((h) => h.state)).to.deep.equal([
      "RECEIVED",
      "CREATING",
      "CREATING",
      "CREATING",
      "MOVING",
      "TAGGING",
      "BOOTSTRAPPING",
      "COMPLETING",
      "SUCCEEDED",
    ]);
    const accountId = stored.accountId!;
    const described = await organizationsClient.send(new DescribeAccountCommand({ AccountId: accountId }));
    expect([described.Account!.Email, described.Account!.Name]).to.deep.equal(["Team-A@Example.com", "team-a-prod"]);
    expect(await parentOf(accountId)).to.equal(prodOuId);
    expect(await tagsOf(accountId)).to.deep.equal({
      CostCenter: "1234",
      Environment: "prod",
      ProductName: "team-a",
      Stage: "prod",
    });
    expect(runner.calls.map((c) => c.accountId)).to.deep.equal([accountId]);
    expect(await members()).to.have.length(1);
  });

  it("runs a meshStack hook for an account meshStack already created", async () => {
    const created = await organizationsClient.send(
      new CreateAccountCommand({ Email: "awsexample+mesh@example.com", AccountName: "meshcloud.test-aws-integration" }),
    );
    const accountId = created.CreateAccountStatus!.AccountId!;
    const request = parseMeshstackHook({
      AccountName: "meshcloud.test-aws-integration",
      AccountEmail: "awsexample+mesh@example.com",
      AccountId: accountId,
      AccountArn: `arn:aws:organizations::${org.managementAccountId}:account/${org.organizationId}/${accountId}`,
      ProductName: "meshcloud",
      ContactEmail: "owner@example.com",
      Stage: "test-aws-integration",
      tagCostCenter: "1234",
      tagEnvironment: "dev",
    });
    await record(request, "req-hook");
    await workflow.processRequest("awsexample+mesh@example.com");

    const stored = (await ledger.get("awsexample+mesh@example.com"))!;
    expect(stored.state).to.equal("SUCCEEDED");
    expect(stored.accountId).to.equal(accountId);
    expect(stored.history.map((h) => h.state)).to.deep.equal([
      "RECEIVED",
      "TAGGING",
      "BOOTSTRAPPING",
      "COMPLETING",
      "SUCCEEDED",
    ]);
    expect(await members()).to.have.length(1);
    expect(await parentOf(accountId)).to.equal(org.rootId);
    expect(await tagsOf(accountId)).to.deep.equal({
      CostCenter: "1234",
      Environment: "dev",
      ProductName: "meshcloud",
      Stage: "test-aws-integration",
    });
  });

  it("turns 20 distinct and 20 duplicate concurrent requests into exactly 20 accounts", async () => {
    const emails = Array.from({ length: 20 }, (_, i) => `burst${i}@example.com`);
    const invocations = [...emails, ...emails].map(async (email, i) => {
      const request = parseVendRequest({
        accountName: email.split("@")[0],
        email,
        targetOu: org.ouId,
        tags: { Burst: "yes" },
      });
      await record(request, `req-${i}`);
      return workflow.processRequest(email);
    });
    const outcomes = await Promise.all(invocations);
    // A duplicate that found its twin mid-flight is skipped; redeliver what is not terminal yet.
    for (const email of emails) {
      for (
        let round = 0;
        round < 5 && !["SUCCEEDED", "FAILED"].includes((await ledger.get(email))!.state);
        round += 1
      ) {
        await workflow.processRequest(email);
      }
    }
    expect(outcomes.filter((o) => o.status === "terminal").length).to.be.at.least(20);

    const accounts = await members();
    expect(accounts).to.have.length(20);
    expect(accounts.map((a) => a.Email).sort()).to.deep.equal([...emails].sort());
    const records = await ledger.list();
    expect(records.filter((r) => r.state === "SUCCEEDED")).to.have.length(20);
    expect(records).to.have.length(20);
    for (const r of records) {
      expect(accounts.find((a) => a.Id === r.accountId)?.Email, r.email).to.equal(r.email);
      expect(await parentOf(r.accountId!)).to.equal(org.ouId);
    }
  });

  it("resumes after a worker crash that followed persisting the CreateAccount id, without a second account", async () => {
    await record(parseVendRequest({ accountName: "crashy", email: "crashy@example.com" }), "req-crash");
    ledger.crashes.push({ when: "after", match: (patch) => patch.createAccountRequestId !== undefined });
    const error = await workflow.processRequest("crashy@example.com").catch((e: unknown) => e);
    expect(error).to.be.instanceOf(SimulatedCrash);
    const crashed = (await ledger.get("crashy@example.com"))!;
    expect(crashed.state).to.equal("CREATING");
    expect(crashed.createAccountRequestId).to.match(/^car-/);
    // The crashed worker's lease holds until it expires; then the redelivery takes over.
    expect((await workflow.processRequest("crashy@example.com")).status).to.equal("busy");
    await new Promise((resolve) => setTimeout(resolve, LEASE_TTL_MS + 100));

    await workflow.processRequest("crashy@example.com");
    const done = (await ledger.get("crashy@example.com"))!;
    expect(done.state).to.equal("SUCCEEDED");
    expect(done.createAccountRequestId).to.equal(crashed.createAccountRequestId);
    const accounts = await members();
    expect(accounts.map((a) => a.Email)).to.deep.equal(["crashy@example.com"]);
  });

  it("looks first after a CreateAccount whose reply was lost (the call reached AWS), never a second account", async () => {
    await record(parseVendRequest({ accountName: "lost", email: "lost@example.com" }), "req-lost");
    let creates = 0;
    // The call reaches moto, which creates the account; the reply is dropped on its way back (a 500).
    organizationsClient.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "CreateAccountCommand") return next(args);
        creates += 1;
        const result = await next(args);
        if (creates === 1) {
          throw new ServiceException({ message: "reply lost (injected)", $metadata: { httpStatusCode: 500 } });
        }
        return result;
      },
      { step: "initialize", name: "loseCreateAccountReply" },
    );
    const outcome = await workflow.processRequest("lost@example.com");
    expect(outcome.status).to.equal("terminal");
    const done = (await ledger.get("lost@example.com"))!;
    expect(done.state).to.equal("SUCCEEDED");
    expect(creates).to.equal(1);
    const accounts = await members();
    expect(accounts.map((a) => [a.Id, a.Email])).to.deep.equal([[done.accountId, "lost@example.com"]]);
    expect(done.history.map((e) => e.note)).to.include.members([
      "CreateAccount attempt 1 CreateAccount outcome unknown: ServiceException: reply lost (injected)",
      `found account ${done.accountId} after an interrupted CreateAccount`,
    ]);
  });

  it("adopts the account after a crash between CreateAccount and persisting its id, without a second call", async () => {
    await record(parseVendRequest({ accountName: "gappy", email: "gappy@example.com" }), "req-gap");
    ledger.crashes.push({ when: "before", match: (patch) => patch.createAccountRequestId !== undefined });
    const error = await workflow.processRequest("gappy@example.com").catch((e: unknown) => e);
    expect(error).to.be.instanceOf(SimulatedCrash);
    expect((await ledger.get("gappy@example.com"))!.createAccountRequestId).to.equal(undefined);

    // ListCreateAccountStatus (IN_PROGRESS) over the wire shows nothing in flight (moto creates at once), and
    // ListAccounts finds the account.
    await workflow.processRequest("gappy@example.com");
    const done = (await ledger.get("gappy@example.com"))!;
    expect(done.state).to.equal("SUCCEEDED");
    const accounts = await members();
    expect(accounts.map((a) => [a.Id, a.Email])).to.deep.equal([[done.accountId, "gappy@example.com"]]);
    expect(done.history.map((e) => e.note)).to.include(
      `found account ${done.accountId} after an interrupted CreateAccount`,
    );
  });

  it("closes a vended account within the quota and keeps it in the organization", async () => {
    await record(parseVendRequest({ accountName: "short-lived", email: "close@example.com" }), "req-close");
    await workflow.processRequest("close@example.com");
    const { accountId } = (await ledger.get("close@example.com"))!;

    const outcome = await workflow.closeAccount({ accountId: accountId!, reason: "project deleted" });
    expect(outcome.status).to.equal("close-requested");
    expect(outcome.quota).to.deep.equal({ memberAccounts: 1, allowed: 10, used: 0, remaining: 10 });
    expect(outcome.record!.state).to.equal("CLOSED");
    const described = await organizationsClient.send(new DescribeAccountCommand({ AccountId: accountId! }));
    expect(described.Account!.Status).to.equal("SUSPENDED");
    expect((await members()).map((a) => a.Id)).to.deep.equal([accountId]);
    // Now counted against the quota (SUSPENDED in the organization, CLOSING in the ledger within 30 days).
    expect(await workflow.closeQuota()).to.deep.equal({ memberAccounts: 0, allowed: 10, used: 1, remaining: 9 });
    expect((await workflow.closeAccount({ accountId: accountId! })).status).to.equal("already-closed");
  });

  it("reaches Organizations through the assumed management role", async () => {
    const client = createManagementOrganizationsClient({
      env: {
        AVM_MANAGEMENT_ROLE_ARN: `arn:aws:iam::${org.managementAccountId}:role/meshstack-avm-vending`,
        AWS_ENDPOINT_URL: moto.endpoint,
        AWS_REGION: "us-east-1",
      },
      maxAttempts: 1,
      sourceCredentials: moto.clientConfig().credentials,
    });
    try {
      const gateway = new OrganizationsGateway(client, { timing: realTiming });
      expect(await gateway.describeOrganization()).to.deep.equal({
        organizationId: org.organizationId,
        managementAccountId: org.managementAccountId,
      });
      expect(await gateway.resolveOrganizationalUnit("/Workloads/Prod")).to.equal(prodOuId);
      const credentials = await client.config.credentials();
      expect(credentials.accessKeyId).to.not.equal("testing");
      expect(credentials.sessionToken).to.be.a("string");
    } finally {
      client.destroy();
    }
  });
});
