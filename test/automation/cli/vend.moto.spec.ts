/**
 * `avm vend` as a subprocess against moto, configured only through the environment an operator would use:
 * `AWS_ENDPOINT_URL` and static credentials for the SDK's standard chain.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ListParentsCommand, ListTagsForResourceCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createLedgerTable } from "../../../src/adapters/aws/dynamoLedger";
import { useMoto } from "../../support/moto";
import { avm, cliEnv } from "./subprocess";
import { HANG_GUARD_MS } from "../../support/hangGuard";

describe("avm vend against moto (subprocess)", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-vend-moto-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("vends an account into /Workloads with tags and completion tags; status reads it back from the ledger", async () => {
    const org = await moto.createOrganization("Workloads");
    const ledger = path.join(dir, "ledger.sqlite");
    const env = cliEnv({
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: "us-east-1",
      AVM_STACK_RUNNER: "offline",
      AVM_AUTOMATION_ACCOUNT_ID: "444455556666",
    });
    delete env.AWS_PROFILE;
    const r = await avm(
      [
        "vend",
        "--json",
        "--ledger",
        ledger,
        "--account-name",
        "cli-moto",
        "--email",
        "aws+cli-moto@example.com",
        "--ou",
        "/Workloads",
        "--tag",
        "CostCenter=42",
        "--request-id",
        "req-cli-moto",
        "--product-name",
        "ws",
        "--stage",
        "prj",
      ],
      { env },
    );
    expect(r.code, r.stderr).to.equal(0);
    const result = JSON.parse(r.stdout);
    expect(result).to.deep.include({ created: true, outcome: "terminal", reason: null });
    expect(result.stack).to.include({ status: "planned", stackName: `account-${result.record.accountId}` });
    expect(result.record).to.include({
      requestId: "req-cli-moto",
      email: "aws+cli-moto@example.com",
      // The offline runner only plans: PLANNED, never SUCCEEDED, and no completion tags.
      state: "PLANNED",
      targetOu: "/Workloads",
      failureReason: null,
    });
    expect(result.record.accountId).to.match(/^\d{12}$/);
    expect(result.record.history.map((h: { state: string }) => h.state)).to.deep.equal([
      "RECEIVED",
      "CREATING",
      "CREATING",
      "CREATING",
      "MOVING",
      "TAGGING",
      "BOOTSTRAPPING",
      "PLANNED",
    ]);
    expect(r.stderr).to.include(`aws+cli-moto@example.com: account ${result.record.accountId} created -> MOVING\n`);

    const client = new OrganizationsClient(moto.clientConfig());
    try {
      const parents = await client.send(new ListParentsCommand({ ChildId: result.record.accountId }));
      expect(parents.Parents?.map((p) => p.Id)).to.deep.equal([org.ouId]);
      const tags = await client.send(new ListTagsForResourceCommand({ ResourceId: result.record.accountId }));
      expect(Object.fromEntries((tags.Tags ?? []).map((t) => [t.Key, t.Value]))).to.deep.equal({
        CostCenter: "42",
      });
    } finally {
      client.destroy();
    }

    // The ledger alone answers status: no endpoint needed.
    const status = await avm(["status", "--json", "--ledger", ledger, "--request-id", "req-cli-moto"], {
      env: cliEnv({ AWS_ENDPOINT_URL: "http://127.0.0.1:9" }),
    });
    expect(status.code, status.stderr).to.equal(0);
    expect(JSON.parse(status.stdout)).to.deep.equal({ record: result.record });
  });

  it("uses the DynamoDB ledger with --ledger-table (and its CreateAccount slots), then answers status from it", async () => {
    await moto.createOrganization("Workloads");
    const dynamo = new DynamoDBClient(moto.clientConfig());
    try {
      await createLedgerTable(dynamo, "avm-ledger");
    } finally {
      dynamo.destroy();
    }
    const env = cliEnv({
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AVM_STACK_RUNNER: "offline",
      AVM_LEDGER_TABLE: "avm-ledger",
      AVM_AUTOMATION_ACCOUNT_ID: "444455556666",
    });
    delete env.AWS_PROFILE;
    const r = await avm(
      ["vend", "--json", "-q", "--region", "us-east-1", "--account-name", "dyn", "--email", "aws+dyn@example.com"],
      { env },
    );
    expect(r.code, r.stderr).to.equal(0);
    const result = JSON.parse(r.stdout);
    expect(result.record).to.include({ email: "aws+dyn@example.com", state: "PLANNED", targetOu: null });
    const status = await avm(["status", "--json", "--region", "us-east-1", "--account-id", result.record.accountId], {
      env,
    });
    expect(status.code, status.stderr).to.equal(0);
    expect(JSON.parse(status.stdout)).to.deep.equal({ record: result.record });
  });
});
