/**
 * "CreateAccount accepted, reply lost", with the fault where it happens in AWS: behind the SDK. A loopback proxy
 * in front of moto forwards CreateAccount (moto creates the account) and then loses the reply (cuts the connection
 * or answers a bare 500). The SDK clients are configured as deployed (standard retries, 3 attempts): the proof is
 * that CreateAccount still reaches moto exactly once per workflow attempt, and the request ends with exactly one
 * account, found by looking (ListCreateAccountStatus, ListAccounts by email) after the unknown outcome.
 */
import { expect } from "chai";
import { CreateAccountCommand, ListAccountsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { useMoto } from "../../../support/moto";
import { startFaultProxy, type FaultAction, type FaultProxy, type ProxiedCall } from "../../../support/faultProxy";
import { realTiming } from "../../../../src/shared/timing";
import { DynamoLedger, createLedgerTable } from "../../../../src/adapters/aws/dynamoLedger";
import { DynamoCreateSlots } from "../../../../src/adapters/aws/dynamoCreateSlots";
import { OrganizationsGateway } from "../../../../src/adapters/aws/organizationsGateway";
import { OrganizationsUnknownOutcomeError } from "../../../../src/core/organizations";
import { createWorkflow } from "../../../../src/core/vending/workflow";
import { parseVendRequest } from "../../../../src/core/vending/requests";
import { RecordingStackRunner } from "./workflowFixtures";
import { HANG_GUARD_MS } from "../../../support/hangGuard";

const TABLE = "avm-ledger";

describe("CreateAccount accepted, reply lost (fault proxy in front of moto)", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let proxy: FaultProxy | undefined;
  let direct: OrganizationsClient;
  const clients: { destroy(): void }[] = [];

  beforeEach(async () => {
    await moto.createOrganization("Workloads");
    direct = new OrganizationsClient(moto.clientConfig());
    clients.push(direct);
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await proxy?.stop();
    proxy = undefined;
  });

  /** An Organizations client through the proxy, with the SDK's production retries (standard mode, 3 attempts). */
  async function throughProxy(decide: (call: ProxiedCall) => FaultAction): Promise<OrganizationsClient> {
    proxy = await startFaultProxy(moto.endpoint, decide);
    const client = new OrganizationsClient({ ...moto.clientConfig(), endpoint: proxy.endpoint, maxAttempts: 3 });
    clients.push(client);
    return client;
  }

  async function accountsWithEmail(email: string): Promise<string[]> {
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const page = await direct.send(new ListAccountsCommand({ NextToken: token }));
      for (const account of page.Accounts ?? []) if (account.Email === email) ids.push(account.Id!);
      token = page.NextToken;
    } while (token);
    return ids;
  }

  const loseCreateReplies =
    (action: FaultAction) =>
    (call: ProxiedCall): FaultAction =>
      call.operation.endsWith(".CreateAccount") ? action : "pass";

  it("shows the fault is real: the SDK on its own resends a CreateAccount whose reply was lost", async () => {
    const client = await throughProxy(loseCreateReplies("500"));
    const error = await client
      .send(new CreateAccountCommand({ Email: "sdk@example.com", AccountName: "sdk" }))
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(Error);
    // Three attempts, three accounts for one email (moto has no email uniqueness; AWS would answer the
    // resends asynchronously with EMAIL_ALREADY_EXISTS).
    expect(proxy!.callsOf("CreateAccount")).to.have.length(3);
    expect(await accountsWithEmail("sdk@example.com")).to.have.length(3);
  });

  for (const action of ["500", "drop"] as const) {
    it(`sends CreateAccount exactly once through the gateway when the reply is lost (${action})`, async () => {
      const gateway = new OrganizationsGateway(await throughProxy(loseCreateReplies(action)), { timing: realTiming });
      const error = await gateway
        .createAccount({ email: `once-${action}@example.com`, accountName: `once-${action}` })
        .catch((e: unknown) => e);
      expect(error).to.be.instanceOf(OrganizationsUnknownOutcomeError);
      expect((error as Error).message).to.match(/^CreateAccount outcome unknown: /);
      expect(proxy!.callsOf("CreateAccount").map((c) => c.action)).to.deep.equal([action]);
      expect(await accountsWithEmail(`once-${action}@example.com`)).to.have.length(1);
    });
  }

  describe("the workflow", () => {
    let dynamo: DynamoDBClient;
    beforeEach(async () => {
      dynamo = new DynamoDBClient({ ...moto.clientConfig(), maxAttempts: 3 });
      clients.push(dynamo);
      await createLedgerTable(dynamo, TABLE);
    });

    async function vend(decide: (call: ProxiedCall) => FaultAction, email: string) {
      const organizations = await throughProxy(decide);
      const ledger = new DynamoLedger({ client: dynamo, tableName: TABLE });
      const workflow = createWorkflow({
        ledger,
        organizations: new OrganizationsGateway(organizations, { timing: realTiming }),
        stackRunner: new RecordingStackRunner(),
        createSlots: new DynamoCreateSlots({ client: dynamo, tableName: TABLE }),
        timing: realTiming,
        options: { poll: { firstIntervalMs: 20, maxIntervalMs: 200 }, unknownOutcomeGraceMs: 5 * 60_000 },
      });
      const request = parseVendRequest({ accountName: email.split("@")[0]!, email, targetOu: "/Workloads" });
      await ledger.claim(
        { email, requestId: `req-${email}`, kind: "vend", request: request as unknown as Record<string, unknown> },
        new Date(),
      );
      const outcome = await workflow.processRequest(email);
      return { outcome, record: (await ledger.get(email))! };
    }

    for (const action of ["500", "drop"] as const) {
      it(`ends SUCCEEDED with exactly one account and one CreateAccount when the reply is lost (${action})`, async () => {
        const email = `lost-${action}@example.com`;
        const { outcome, record } = await vend(loseCreateReplies(action), email);
        expect(outcome.status).to.equal("terminal");
        expect([record.state, record.failureReason]).to.deep.equal(["SUCCEEDED", undefined]);
        expect(proxy!.callsOf("CreateAccount")).to.have.length(1);
        expect(await accountsWithEmail(email)).to.deep.equal([record.accountId]);
        expect(record.history.map((e) => e.note)).to.include(
          `found account ${record.accountId} after an interrupted CreateAccount`,
        );
        expect(record.history.map((e) => e.note).filter((n) => n?.includes("outcome unknown"))).to.have.length(1);
      });
    }

    it("keeps looking through AWS's listing lag instead of creating again (grace period)", async () => {
      // The reply is lost and the next ListAccounts answers (3 rounds of looking) do not show the new account yet.
      const email = "lagging@example.com";
      let hiddenListings = 3;
      const { outcome, record } = await vend((call) => {
        if (call.operation.endsWith(".CreateAccount")) return "drop";
        if (call.operation.endsWith(".ListAccounts") && hiddenListings > 0) {
          hiddenListings -= 1;
          return {
            replace: (body: string) => {
              const page = JSON.parse(body) as { Accounts?: { Email?: string }[] };
              return JSON.stringify({ ...page, Accounts: (page.Accounts ?? []).filter((a) => a.Email !== email) });
            },
          };
        }
        return "pass";
      }, email);
      expect(outcome.status).to.equal("terminal");
      expect(record.state).to.equal("SUCCEEDED");
      expect(hiddenListings).to.equal(0);
      expect(proxy!.callsOf("CreateAccount")).to.have.length(1);
      expect(proxy!.callsOf("ListAccounts").length).to.be.greaterThan(3);
      expect(await accountsWithEmail(email)).to.deep.equal([record.accountId]);
    });
  });
});
