/**
 * The request lifecycle through `avm` subprocesses against moto: validation before any side effect,
 * corrected resubmission, and `avm retry` of a request that FAILED after its account existed.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ListAccountsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { SqliteLedger } from "../../../src/adapters/local/sqliteLedger";
import { HANG_GUARD_MS } from "../../support/hangGuard";
import { useMoto } from "../../support/moto";
import { avm, cliEnv } from "./subprocess";

describe("avm request lifecycle against moto (subprocess)", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let dir: string;
  let ledgerPath: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-lifecycle-moto-"));
    ledgerPath = path.join(dir, "ledger.sqlite");
    env = cliEnv({
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: "us-east-1",
      AVM_STACK_RUNNER: "offline",
      AVM_AUTOMATION_ACCOUNT_ID: "444455556666",
    });
    delete env.AWS_PROFILE;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function memberEmails(): Promise<string[]> {
    const client = new OrganizationsClient(moto.clientConfig());
    try {
      const out = await client.send(new ListAccountsCommand({}));
      return (out.Accounts ?? []).map((a) => a.Email ?? "").filter((e) => e.startsWith("aws+"));
    } finally {
      client.destroy();
    }
  }

  const vend = (ou: string) =>
    avm(
      [
        "vend",
        "--json",
        "--ledger",
        ledgerPath,
        "--account-name",
        "life",
        "--email",
        "aws+life@example.com",
        "--ou",
        ou,
      ],
      { env },
    );

  for (const badOu of ["/NoSuchOU", "ou-zzzz-zzzzzzzz"]) {
    it(`fails a vend into ${badOu} before CreateAccount; the corrected vend then succeeds with one account`, async () => {
      await moto.createOrganization("Workloads");
      const bad = await vend(badOu);
      expect(bad.code, bad.stderr).to.equal(1);
      const failed = JSON.parse(bad.stdout);
      expect(failed.record.state).to.equal("FAILED");
      expect(failed.record.accountId).to.equal(null);
      expect(failed.record.failureReason).to.include(badOu);
      expect(bad.stderr).to.include(`FAILED: ${failed.record.failureReason}`);
      expect(await memberEmails()).to.deep.equal([]);

      const good = await vend("/Workloads");
      expect(good.code, good.stderr).to.equal(0);
      const result = JSON.parse(good.stdout);
      expect(result.record).to.include({ state: "PLANNED", targetOu: "/Workloads", failureReason: null });
      expect(result.record.requestId).to.equal(failed.record.requestId);
      expect(good.stderr).to.include(`retrying FAILED request ${failed.record.requestId}`);
      expect(await memberEmails()).to.deep.equal(["aws+life@example.com"]);
    });
  }

  it("avm retry resumes a request that FAILED after its account existed, by email or request id, never a second account", async () => {
    await moto.createOrganization("Workloads");
    const first = await vend("/Workloads");
    expect(first.code, first.stderr).to.equal(0);
    const done = JSON.parse(first.stdout).record;

    // A later failed stack update (e.g. reported by a webhook) marks the request FAILED.
    const ledger = new SqliteLedger({ path: ledgerPath });
    try {
      const record = (await ledger.get("aws+life@example.com"))!;
      await ledger.update(
        record.email,
        record.version,
        { state: "FAILED", failureReason: "account stack update failed" },
        new Date(),
      );
    } finally {
      await ledger.close();
    }

    const retried = await avm(["retry", "--json", "--ledger", ledgerPath, done.requestId], { env });
    expect(retried.code, retried.stderr).to.equal(0);
    const result = JSON.parse(retried.stdout);
    expect(result.record).to.include({ state: "PLANNED", accountId: done.accountId, failureReason: null });
    expect(retried.stderr).to.include(`retrying FAILED request ${done.requestId}`);
    expect(await memberEmails()).to.deep.equal(["aws+life@example.com"]);

    // Retrying a PLANNED request plans (or, with a way to deploy, deploys) the same account again.
    const again = await avm(["retry", "--ledger", ledgerPath, "aws+life@example.com"], { env });
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stderr).to.include(`retrying PLANNED request ${done.requestId}`);
    expect(await memberEmails()).to.deep.equal(["aws+life@example.com"]);

    const missing = await avm(["retry", "--ledger", ledgerPath, "no-such-request"], { env });
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.equal(`avm: error: no request found for no-such-request in ledger ${ledgerPath}\n`);
  });
});
