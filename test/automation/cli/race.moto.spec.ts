/**
 * One active runner per request across OS processes: six `avm vend` subprocesses race on one email against
 * moto (SQLite ledger shared through its file) with Pulumi Deployments faked on 127.0.0.1.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ListAccountsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { FakePulumiCloud } from "../../support/fakePulumiCloud";
import { HANG_GUARD_MS } from "../../support/hangGuard";
import { useMoto } from "../../support/moto";
import { avm, cliEnv } from "./subprocess";

const TOKEN = "pul-race-test-token";
const RUNNERS = 6;

describe("avm vend: six processes race on one email (SQLite across OS processes, moto)", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let dir: string;
  let cloud: FakePulumiCloud;
  let apiUrl: string;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-race-moto-"));
    cloud = new FakePulumiCloud(TOKEN);
    apiUrl = await cloud.start();
  });
  afterEach(async () => {
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("all exit 0 once the request SUCCEEDED, with exactly one account and one deployment", async () => {
    await moto.createOrganization("Workloads");
    cloud.nextStatuses = ["succeeded"];
    const env = cliEnv({
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: "us-east-1",
      AVM_STACK_RUNNER: "remote",
      AVM_AUTOMATION_ACCOUNT_ID: "444455556666",
      PULUMI_ACCESS_TOKEN: TOKEN,
      PULUMI_API_URL: apiUrl,
      AVM_PULUMI_ORGANIZATION: "acme",
      AVM_PULUMI_REPO_URL: "https://example.com/avm.git",
      AVM_DEPLOYMENT_WAIT_SECONDS: "120",
    });
    delete env.AWS_PROFILE;
    const args = [
      "vend",
      "--json",
      "--ledger",
      path.join(dir, "ledger.sqlite"),
      "--account-name",
      "race",
      "--email",
      "aws+race@example.com",
      "--ou",
      "/Workloads",
      "--product-name",
      "ws",
      "--stage",
      "prj",
    ];
    const runs = await Promise.all(Array.from({ length: RUNNERS }, () => avm(args, { env })));

    const summary = runs.map((r) => ({ code: r.code, error: r.code === 0 ? "" : r.stderr }));
    expect(summary).to.deep.equal(Array.from({ length: RUNNERS }, () => ({ code: 0, error: "" })));
    const records = runs.map((r) => JSON.parse(r.stdout).record as { state: string; accountId: string });
    const accountId = records[0]!.accountId;
    expect(accountId).to.match(/^\d{12}$/);
    expect(records.map((r) => [r.state, r.accountId])).to.deep.equal(
      Array.from({ length: RUNNERS }, () => ["SUCCEEDED", accountId]),
    );
    expect(cloud.deployments.map((d) => d.stack)).to.deep.equal([`acme/meshstack-avm/account-${accountId}`]);
    const client = new OrganizationsClient(moto.clientConfig());
    try {
      const accounts = (await client.send(new ListAccountsCommand({}))).Accounts ?? [];
      expect(accounts.filter((a) => a.Email === "aws+race@example.com").map((a) => a.Id)).to.deep.equal([accountId]);
    } finally {
      client.destroy();
    }
  });
});
