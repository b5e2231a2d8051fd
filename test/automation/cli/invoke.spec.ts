import { expect } from "chai";
import { Readable } from "node:stream";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CliHarness } from "./harness";
import { recordJson } from "../../../automation/cli/output";

/** The meshStack example hook payload with the ids of an account of the fake organization. */
function hookPayload(accountId: string, email: string): Record<string, string> {
  return {
    AccountName: "meshcloud.test-aws-integration",
    AccountEmail: email,
    AccountId: accountId,
    AccountArn: `arn:aws:organizations::999999999999:account/o-exampleorg1/${accountId}`,
    ProductName: "meshcloud",
    ContactEmail: "owner@example.com",
    Stage: "test-aws-integration",
    tagCostCenter: "1234",
    tagEnvironment: "dev",
  };
}

describe("avm invoke (in-process)", function () {
  let h: CliHarness;
  let accountId: string;
  const email = "awsexample+meshcloud.test-aws-integration@example.com";
  beforeEach(() => {
    h = new CliHarness();
    accountId = h.org.addAccount(email, "meshcloud.test-aws-integration").id;
  });
  afterEach(() => h.dispose());

  it("runs the AVMEntryPoint handler on stdin and prints its response; a repeat changes nothing", async () => {
    const first = await h.run(["invoke", "--json"], {
      stdin: Readable.from([JSON.stringify(hookPayload(accountId, email))]),
    });
    expect(first.code, first.stderr).to.equal(0);
    const record = (await h.ledger.get(email))!;
    expect(JSON.parse(first.stdout)).to.deep.equal({
      response: { requestId: record.requestId, state: "RECEIVED" },
      enqueued: 1,
      processed: null,
    });
    expect(record).to.include({ kind: "meshstack-hook", accountId, state: "RECEIVED" });
    const again = await h.run(["invoke", "--json"], { stdin: JSON.stringify(hookPayload(accountId, email)) });
    expect(JSON.parse(again.stdout)).to.deep.equal({
      response: { requestId: record.requestId, state: "RECEIVED" },
      enqueued: 0,
      processed: null,
    });
    expect((await h.ledger.get(email))!.version).to.equal(record.version);
    // Each run checks the hook's account id and email with DescribeAccount (and nothing else), as the Lambda does.
    expect(h.organizationsClients).to.equal(2);
    expect(h.org.count("DescribeAccount")).to.equal(2);
    expect(h.org.count("MoveAccount") + h.org.count("TagResource") + h.org.count("CreateAccount")).to.equal(0);
  });

  it("reads --file and, with --process, drives the hook request to SUCCEEDED with the completion tags", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "avm-invoke-"));
    try {
      const file = path.join(dir, "hook.json");
      writeFileSync(file, JSON.stringify(hookPayload(accountId, email)));
      const r = await h.run([
        "invoke",
        "--file",
        file,
        "--process",
        "--json",
        "--management-account-id",
        "111122223333",
      ]);
      expect(r.code, r.stderr).to.equal(0);
      const record = (await h.ledger.get(email))!;
      expect(JSON.parse(r.stdout)).to.deep.equal({
        response: { requestId: record.requestId, state: "RECEIVED" },
        enqueued: 1,
        processed: {
          created: true,
          outcome: "terminal",
          reason: null,
          stack: {
            status: "deployed",
            stackName: `account-${accountId}`,
            summary: `account-${accountId} deployed`,
            url: null,
          },
          record: recordJson(record),
        },
      });
      expect(record.state).to.equal("SUCCEEDED");
      expect(h.org.accounts.get(accountId)!.tags).to.deep.equal({
        CostCenter: "1234",
        Environment: "dev",
        ProductName: "meshcloud",
        Stage: "test-aws-integration",
      });
      expect(h.org.count("CreateAccount")).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("prints the handler's error response and exits 2 naming the field", async () => {
    const r = await h.run(["invoke"], { stdin: JSON.stringify({ ...hookPayload(accountId, email), AccountId: "12" }) });
    expect(r.code).to.equal(2);
    expect(JSON.parse(r.stdout)).to.deep.equal({
      error: {
        message: "invalid meshStack hook payload: AccountId: must be a 12-digit AWS account id",
        issues: [{ field: "AccountId", message: "must be a 12-digit AWS account id" }],
      },
    });
    expect(r.stderr).to.equal(
      "avm: error: invalid meshStack hook payload: AccountId: must be a 12-digit AWS account id\n",
    );
    expect(await h.ledger.list()).to.deep.equal([]);
  });

  it("refuses a hook whose account id is recorded under another email: exit 2, both named, nothing written", async () => {
    expect((await h.run(["invoke", "-q"], { stdin: JSON.stringify(hookPayload(accountId, email)) })).code).to.equal(0);
    const before = await h.ledger.list();
    // The organization now knows the account under another root email (so the entry point's gate, which checks the
    // organization's record, lets the hook through): the ledger's one-record-per-account-id rule refuses it.
    h.org.accounts.get(accountId)!.email = "other+" + email;
    const other = { ...hookPayload(accountId, "other+" + email), ProductName: "ws-other" };
    const r = await h.run(["invoke"], { stdin: JSON.stringify(other) });
    const message =
      `invalid meshStack hook payload: AccountId: account ${accountId} is already recorded for ${email} ` +
      `(request ${before[0]!.requestId}), not other+${email}`;
    expect(r.code).to.equal(2);
    expect(JSON.parse(r.stdout)).to.deep.equal({
      error: { message, issues: [{ field: "AccountId", message: message.split("AccountId: ")[1] }] },
    });
    expect(r.stderr).to.equal(`avm: error: ${message}\n`);
    expect(await h.ledger.list()).to.deep.equal(before);
  });

  it("prints the handler's structured logs with --logs", async () => {
    const r = await h.run(["invoke", "--logs"], { stdin: JSON.stringify(hookPayload(accountId, email)) });
    const record = (await h.ledger.get(email))!;
    expect(JSON.parse(r.stderr)).to.deep.equal({
      level: "INFO",
      message: "request recorded",
      service: "AVMEntryPoint",
      requestId: record.requestId,
      kind: "meshstack-hook",
      state: "RECEIVED",
      created: true,
      enqueued: true,
      accountId,
    });
  });

  it("exits 2 for input that is not JSON, empty input and a missing file", async () => {
    expect(await h.run(["invoke"], { stdin: "{nope" })).to.deep.equal({
      code: 2,
      stdout: "",
      stderr: "avm: error: stdin is not valid JSON (at position 1)\n",
    });
    expect(await h.run(["invoke"], { stdin: " \n" })).to.deep.equal({
      code: 2,
      stdout: "",
      stderr: "avm: error: stdin is empty: expected one JSON event\n",
    });
    expect(await h.run(["invoke", "--file", "/nonexistent/hook.json"])).to.deep.equal({
      code: 2,
      stdout: "",
      stderr: "avm: error: cannot read --file /nonexistent/hook.json: ENOENT\n",
    });
  });
});
