/**
 * AWS calls per vended account on the DynamoDB ledger (counted by an SDK middleware, never timed): one vend through
 * the intake and the workflow with the deployed ledger and CreateAccount slots, against moto. Every ledger write is
 * one conditional PutItem (no read before it: the ledger remembers the version it last wrote), a lost claim gets
 * the stored item back from the failed condition, and the slot limiter takes and frees a slot without reading the
 * lease items. The figures are in docs/performance.md (`npm run bench -- vending`).
 */
import { expect } from "chai";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { useMoto } from "../support/moto";
import { HANG_GUARD_MS } from "../support/hangGuard";
import { realTiming } from "../../src/shared/timing";
import { DynamoLedger, createLedgerTable } from "../../src/adapters/aws/dynamoLedger";
import { DynamoCreateSlots } from "../../src/adapters/aws/dynamoCreateSlots";
import { acceptRequest } from "../../src/core/vending/intake";
import { InProcessWorkQueue } from "../../src/adapters/local/inProcessWorkQueue";
import { OrganizationsGateway } from "../../src/adapters/aws/organizationsGateway";
import { createWorkflow } from "../../src/core/vending/workflow";
import { RecordingStackRunner } from "../src/core/vending/workflowFixtures";

/** Counts every command a client sends, by name. */
function countCalls(client: OrganizationsClient | DynamoDBClient, calls: Map<string, number>): void {
  (
    client.middlewareStack as unknown as {
      add(mw: unknown, options: { step: string; name: string; priority: string }): void;
    }
  ).add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const name = (context.commandName ?? "?").replace(/Command$/, "");
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "countCalls", priority: "high" },
  );
}

describe("AWS calls per vended account on the DynamoDB ledger (moto)", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();

  it("reads the ledger once and the slot leases never: every write is one conditional PutItem", async () => {
    const org = await moto.createOrganization("Workloads");
    const organizationsClient = new OrganizationsClient(moto.clientConfig());
    const dynamo = new DynamoDBClient(moto.clientConfig());
    try {
      await createLedgerTable(dynamo, "avm-ledger");
      const dynamoCalls = new Map<string, number>();
      const organizationsCalls = new Map<string, number>();
      countCalls(dynamo, dynamoCalls);
      countCalls(organizationsClient, organizationsCalls);
      const ledger = new DynamoLedger({ client: dynamo, tableName: "avm-ledger" });
      const workflow = createWorkflow({
        ledger,
        organizations: new OrganizationsGateway(organizationsClient, { timing: realTiming }),
        stackRunner: new RecordingStackRunner(),
        createSlots: new DynamoCreateSlots({ client: dynamo, tableName: "avm-ledger" }),
        timing: realTiming,
      });
      const accepted = await acceptRequest(
        { accountName: "calls", email: "aws+calls@example.com", targetOu: org.ouId, tags: { CostCenter: "1" } },
        { ledger, queue: new InProcessWorkQueue(), now: () => new Date() },
      );
      const outcome = await workflow.processRequest(accepted.email);
      expect(outcome.status).to.equal("terminal");
      expect((outcome as { record: { state: string } }).record.state).to.equal("SUCCEEDED");

      const counted = new Map(dynamoCalls);
      const total = [...dynamoCalls.values(), ...organizationsCalls.values()].reduce((a, b) => a + b, 0);
      const puts = counted.get("PutItem") ?? 0;
      const history = (await ledger.get(accepted.email))!.history.length;
      // The only reads: the workflow's first read of the record; the slot is freed by one conditional delete.
      expect(Object.fromEntries([...counted].filter(([name]) => name !== "PutItem"))).to.deep.equal({
        GetItem: 1,
        DeleteItem: 1,
      });
      // Writes: the claim, every ledger update (each history entry after the first, plus lease-only writes), and
      // one slot take; the lease-only writes are the lease's own (take, renew before CreateAccount, release).
      expect(puts).to.be.within(history + 1, history + 4);
      expect(total).to.be.at.most(19);
    } finally {
      organizationsClient.destroy();
      dynamo.destroy();
    }
  });
});
