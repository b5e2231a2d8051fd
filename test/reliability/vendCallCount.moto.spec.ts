/**
 * AWS calls per vended account on the DynamoDB ledger (counted by an SDK middleware, never timed): one vend through
 * the intake and the workflow with the deployed ledger and CreateAccount slots, against moto. Every ledger write is
 * one conditional PutItem (no read before it: the ledger remembers the version it last wrote), a lost claim gets
 * the stored item back from the failed condition, the slot limiter takes and frees a slot without reading the
 * lease items, and the workflow writes only the pick-up, the CreateAccount request id and the end state (the
 * steps that are safe to repeat ride along with the next write). The figures are in docs/performance.md
 * (`npm run bench -- vending`).
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

  it("makes 12 AWS calls, 7 of them DynamoDB: one read, three workflow writes, no slot reads", async () => {
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

      // Per vended account (exact): the claim; the workflow's one read; a slot taken by one conditional put and
      // freed by one conditional delete; three workflow writes (the pick-up with the CreateAccount marker, the
      // CreateAccount request id, SUCCEEDED carrying the move, tags, deployment and completion steps); and the
      // Organizations calls of a create, a move and tags.
      expect(Object.fromEntries(dynamoCalls)).to.deep.equal({ PutItem: 5, GetItem: 1, DeleteItem: 1 });
      expect(Object.fromEntries(organizationsCalls)).to.deep.equal({
        DescribeOrganizationalUnit: 1,
        CreateAccount: 1,
        ListParents: 1,
        MoveAccount: 1,
        TagResource: 1,
      });
      const total = [...dynamoCalls.values(), ...organizationsCalls.values()].reduce((a, b) => a + b, 0);
      expect(total).to.equal(12);
      // Fewer writes, the same history: every step is listed.
      expect((await ledger.get(accepted.email))!.history.map((entry) => entry.state)).to.deep.equal([
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
    } finally {
      organizationsClient.destroy();
      dynamo.destroy();
    }
  });
});
