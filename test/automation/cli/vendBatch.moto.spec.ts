/**
 * `avm vend -f requests.jsonl` (and `-f -`) as a subprocess against moto: many requests in one process, bad lines
 * reported by line and field without losing the good ones, and a re-run that finishes only what is unfinished.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ListAccountsCommand, ListAccountsForParentCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { useMoto } from "../../support/moto";
import { HANG_GUARD_MS } from "../../support/hangGuard";
import { avm, cliEnv } from "./subprocess";

interface BatchResult {
  line: number;
  email: string | null;
  outcome: string;
  created: boolean;
  reason: string | null;
  issues: { field: string; message: string }[] | null;
  record: { state: string; accountId: string | null; requestId: string } | null;
}

describe("avm vend with a batch file against moto (subprocess)", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-batch-moto-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const env = () => {
    const e = cliEnv({
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: "us-east-1",
      AVM_STACK_RUNNER: "offline",
      AVM_AUTOMATION_ACCOUNT_ID: "444455556666",
    });
    delete e.AWS_PROFILE;
    return e;
  };

  async function accountsIn(parentId: string): Promise<string[]> {
    const client = new OrganizationsClient(moto.clientConfig());
    try {
      const { Accounts } = await client.send(new ListAccountsForParentCommand({ ParentId: parentId }));
      return (Accounts ?? []).map((a) => a.Email!).sort();
    } finally {
      client.destroy();
    }
  }

  it("vends the good lines, names the bad ones by line and field, and a re-run creates nothing new", async () => {
    const org = await moto.createOrganization("Workloads");
    const ledger = path.join(dir, "ledger.sqlite");
    const file = path.join(dir, "requests.jsonl");
    const lines = [
      { accountName: "batch-1", email: "aws+batch-1@example.com", targetOu: "/Workloads", tags: { CostCenter: "1" } },
      { accountName: "batch-2", email: "aws+batch-2@example.com", targetOu: "/Workloads" },
      { accountName: "batch-3", targetOu: "/Workloads" },
      { accountName: "batch-4", email: "aws+batch-4@example.com", targetOu: "/Workloads" },
      { accountName: "batch-1-again", email: "AWS+batch-1@example.com", targetOu: "/Workloads" },
    ];
    writeFileSync(file, [...lines.map((l) => JSON.stringify(l)), "", "{not json"].join("\n") + "\n");

    const first = await avm(["vend", "-f", file, "--json", "--ledger", ledger, "--concurrency", "3"], { env: env() });
    expect(first.code, first.stderr).to.equal(1);
    const result = JSON.parse(first.stdout) as {
      total: number;
      succeeded: number;
      planned: number;
      invalid: number;
      results: BatchResult[];
    };
    // The offline runner only plans: PLANNED, not SUCCEEDED.
    expect(result).to.deep.include({ total: 6, succeeded: 0, planned: 3, invalid: 3 });
    const byLine = new Map(result.results.map((r) => [r.line, r]));
    for (const line of [1, 2, 4]) {
      expect(byLine.get(line)).to.deep.include({ outcome: "terminal", created: true, reason: null });
      expect(byLine.get(line)!.record).to.include({ state: "PLANNED" });
    }
    expect(new Set([1, 2, 4].map((l) => byLine.get(l)!.record!.accountId)).size).to.equal(3);
    expect(byLine.get(3)).to.deep.include({ outcome: "invalid", record: null });
    expect(byLine.get(3)!.reason).to.match(/^line 3: email: /);
    expect(byLine.get(3)!.issues!.map((i) => i.field)).to.deep.equal(["email"]);
    expect(byLine.get(5)).to.deep.include({
      outcome: "invalid",
      email: "aws+batch-1@example.com",
      reason: "line 5: email: aws+batch-1@example.com is already requested on line 1",
    });
    expect(byLine.get(7)).to.deep.include({ outcome: "invalid", reason: "line 7: not valid JSON (at position 1)" });
    expect(first.stderr).to.include("line 3");
    expect(await accountsIn(org.ouId)).to.deep.equal([
      "aws+batch-1@example.com",
      "aws+batch-2@example.com",
      "aws+batch-4@example.com",
    ]);

    // The same file again: the finished requests are reported from the ledger, nothing is created.
    const again = await avm(["vend", "-f", file, "--json", "--ledger", ledger], { env: env() });
    expect(again.code).to.equal(1);
    const second = JSON.parse(again.stdout) as { planned: number; results: BatchResult[] };
    expect(second.planned).to.equal(3);
    for (const r of second.results.filter((r) => r.outcome !== "invalid")) {
      expect(r).to.deep.include({ outcome: "terminal", created: false });
      expect(r.record!.requestId).to.equal(byLine.get(r.line)!.record!.requestId);
    }
    const client = new OrganizationsClient(moto.clientConfig());
    try {
      expect((await client.send(new ListAccountsCommand({}))).Accounts).to.have.length(4);
    } finally {
      client.destroy();
    }
  });

  it("reads the batch from stdin with -f -, prints a table and exits 0 when every line succeeds", async () => {
    const org = await moto.createOrganization("Workloads");
    const ledger = path.join(dir, "ledger.sqlite");
    const stdin = [1, 2, 3]
      .map((i) =>
        JSON.stringify({ accountName: `stdin-${i}`, email: `aws+stdin-${i}@example.com`, targetOu: org.ouId }),
      )
      .join("\n");
    const r = await avm(["vend", "-f", "-", "--ledger", ledger], { env: env(), stdin });
    expect(r.code, r.stderr).to.equal(0);
    const out = r.stdout.split("\n");
    expect(out[0]).to.match(/^line\s+email\s+state\s+account\s+note$/);
    expect(out.filter((l) => /^\d\s+aws\+stdin-\d@example.com\s+PLANNED\s+\d{12}/.test(l))).to.have.length(3);
    expect(r.stdout).to.match(
      /3 requests: 0 succeeded, 3 planned \(not deployed\), 0 failed, 0 unfinished, 0 invalid \(\d+\.\d s\)\n$/,
    );
    expect(r.stderr).to.match(/\[3\/3 done, 0 failed, 0 in flight\] line \d aws\+stdin-\d@example.com: PLANNED/);
    expect(await accountsIn(org.ouId)).to.have.length(3);
  });
});
