/**
 * One active runner per request on the deployed ledger: separate workflows (each as a separate Lambda
 * invocation would build it: its own DynamoDB and Organizations clients and lease owner) race on one record in
 * moto's DynamoDB; a holder that crashes leaves a lease that expires, and the next runner takes over.
 */
import { expect } from "chai";
import { ListAccountsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { HANG_GUARD_MS } from "../../../support/hangGuard";
import { useMoto } from "../../../support/moto";
import type { Timing } from "../../../../src/shared/timing";
import { DynamoLedger, createLedgerTable } from "../../../../src/adapters/aws/dynamoLedger";
import { DynamoCreateSlots } from "../../../../src/adapters/aws/dynamoCreateSlots";
import { OrganizationsGateway } from "../../../../src/adapters/aws/organizationsGateway";
import { createWorkflow, DEFAULT_LEASE_TTL_MS, type Workflow } from "../../../../src/core/vending/workflow";
import type { AccountStackRunner } from "../../../../src/core/ports";
import { CrashingLedger, SimulatedCrash } from "./workflowFixtures";

const TABLE = "avm-ledger";
const RUNNERS = 6;

/** Real time plus an offset a test can move forward (lease expiry without waiting). */
class ShiftedTiming implements Timing {
  offsetMs = 0;
  now = () => new Date(Date.now() + this.offsetMs);
  sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 50)));
  random = () => 0.5;
}

describe("request lease on the DynamoDB ledger (moto)", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  const clients: { destroy(): void }[] = [];
  let timing: ShiftedTiming;
  let creates: number;
  let deploys: string[];
  let setup: DynamoDBClient;

  /** A runner with its own clients, as one Lambda invocation would have. */
  function runner(name: string, crashAfterLease = false): { workflow: Workflow; ledger: CrashingLedger } {
    const dynamo = new DynamoDBClient(moto.clientConfig());
    const organizations = new OrganizationsClient(moto.clientConfig());
    clients.push(dynamo, organizations);
    organizations.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "CreateAccountCommand") creates += 1;
        return next(args);
      },
      { step: "initialize", name: "countCreates" },
    );
    const ledger = new CrashingLedger(new DynamoLedger({ client: dynamo, tableName: TABLE }));
    if (crashAfterLease) ledger.crashes.push({ when: "after", match: (patch) => patch.lease !== undefined });
    const stackRunner: AccountStackRunner = {
      async deploy(request) {
        deploys.push(`${name}:${request.accountId}`);
        // A deployment takes a while: the other runners arrive meanwhile.
        await new Promise((resolve) => setTimeout(resolve, 300));
        return { status: "deployed", stackName: `account-${request.accountId}`, summary: "deployed" };
      },
    };
    const workflow = createWorkflow({
      ledger,
      organizations: new OrganizationsGateway(organizations, { timing }),
      stackRunner,
      createSlots: new DynamoCreateSlots({ client: dynamo, tableName: TABLE }),
      timing,
      options: { leaseOwner: name, slotWait: { baseDelayMs: 20, maxDelayMs: 200 } },
    });
    return { workflow, ledger };
  }

  beforeEach(async () => {
    await moto.createOrganization("Workloads");
    timing = new ShiftedTiming();
    creates = 0;
    deploys = [];
    setup = new DynamoDBClient(moto.clientConfig());
    clients.push(setup);
    await createLedgerTable(setup, TABLE);
    await new DynamoLedger({ client: setup, tableName: TABLE }).claim(
      {
        email: "aws+lease@example.com",
        requestId: "req-lease",
        kind: "vend",
        request: { kind: "vend", accountName: "lease", email: "aws+lease@example.com", tags: {} },
      },
      timing.now(),
    );
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy();
  });

  async function accountsWithEmail(): Promise<string[]> {
    const out = await new OrganizationsClient(moto.clientConfig()).send(new ListAccountsCommand({}));
    return (out.Accounts ?? []).filter((a) => a.Email === "aws+lease@example.com").map((a) => a.Id!);
  }

  it(`lets exactly one of ${RUNNERS} racing runners work; the others are told who holds the lease and until when`, async () => {
    const runners = Array.from({ length: RUNNERS }, (_, i) => runner(`lambda-${i}`));
    const outcomes = await Promise.all(runners.map((r) => r.workflow.processRequest("aws+lease@example.com")));
    const worked = outcomes.filter((o) => o.status === "terminal");
    expect(worked.length).to.equal(1);
    for (const outcome of outcomes.filter((o) => o.status !== "terminal")) {
      if (outcome.status === "busy") {
        expect(outcome.reason).to.match(
          /^request req-lease is being processed by lambda-\d #1 \(lease until \d{4}-\d\d-\d\dT[\d:.]+Z\)$/,
        );
      } else {
        expect(outcome).to.deep.equal({ status: "skipped", reason: "another worker updated the record first" });
      }
    }
    const [account] = await accountsWithEmail();
    expect(creates).to.equal(1);
    expect(deploys).to.have.length(1);
    expect(deploys[0]).to.match(new RegExp(`^lambda-\\d:${account}$`));

    // Asked again, every runner reports the outcome.
    const again = await Promise.all(runners.map((r) => r.workflow.processRequest("aws+lease@example.com")));
    expect(again.map((o) => ("record" in o ? [o.status, o.record.state, o.record.lease] : [o.status]))).to.deep.equal(
      Array.from({ length: RUNNERS }, () => ["terminal", "SUCCEEDED", undefined]),
    );
  });

  it("keeps a crashed holder's lease until it expires, then the next runner takes over: one account", async () => {
    const crashed = runner("lambda-crashed", true);
    expect(await crashed.workflow.processRequest("aws+lease@example.com").catch((e: unknown) => e)).to.be.instanceOf(
      SimulatedCrash,
    );
    const next = runner("lambda-next");
    const busy = await next.workflow.processRequest("aws+lease@example.com");
    expect(busy.status).to.equal("busy");
    expect(creates).to.equal(0);

    timing.offsetMs = DEFAULT_LEASE_TTL_MS + 1_000;
    const outcome = await next.workflow.processRequest("aws+lease@example.com");
    expect(outcome.status === "terminal" && outcome.record.state).to.equal("SUCCEEDED");
    expect(outcome.status === "terminal" && outcome.record.lease).to.equal(undefined);
    expect(creates).to.equal(1);
    expect(await accountsWithEmail()).to.have.length(1);
  });
});
