import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { recordJson } from "../../../automation/cli/output";
import { OfflinePlanError } from "../../../automation/plan/offlinePlan";
import { VEND, useCliHarness } from "./commandsFixture";
import { CliHarness } from "./harness";
import { BATCH_LOCAL_STACKS } from "../../../automation/cli/commands/vendBatch";
import type { AccountStackRunner } from "../../../src/core/ports";

describe("avm CLI commands (in-process, fake Organizations)", function () {
  let h: CliHarness;
  let ouId: string;
  useCliHarness((harness, ou) => {
    h = harness;
    ouId = ou;
  });

  describe("vend", () => {
    it("with --runner offline creates, moves, tags and plans the stack, and ends PLANNED without completion tags", async () => {
      const r = await h.run([...VEND, "--json", "--management-account-id", "111122223333", "--runner", "offline"]);
      expect(r.code, r.stderr).to.equal(0);
      const json = JSON.parse(r.stdout);
      const record = await h.ledger.get("team-a@example.com");
      expect(json).to.deep.equal({
        created: true,
        outcome: "terminal",
        reason: null,
        stack: {
          status: "planned",
          stackName: "account-100000000000",
          summary: "account-100000000000 planned",
          url: null,
        },
        record: recordJson(record!),
      });
      expect(json.record).to.include({
        requestId: "req-a",
        email: "team-a@example.com",
        state: "PLANNED",
        accountId: "100000000000",
        accountName: "team-a-dev",
        targetOu: "/Workloads",
        productName: "ws-a",
        stage: "dev",
        failureReason: null,
      });
      const account = h.org.accounts.get("100000000000")!;
      expect(account.parentId).to.equal(ouId);
      // Planned is not deployed: no completion tags, so meshStack never takes the account as ready.
      expect(account.tags).to.deep.equal({ CostCenter: "1234" });
      expect(h.runners.offline.calls).to.deep.equal([
        {
          accountId: "100000000000",
          accountName: "team-a-dev",
          email: "Team-A@Example.com", // as sent; the ledger key is the normalised email
          requestId: "req-a",
          tags: { CostCenter: "1234" },
        },
      ]);
      expect(h.runnerSettings).to.deep.equal([
        {
          kind: "offline",
          settings: { managementAccountId: "111122223333", automationAccountId: "111122223333", region: "us-east-1" },
        },
      ]);
      expect(r.stderr.split("\n")).to.include.members([
        "team-a@example.com: accepted request req-a (account stacks: offline)",
        "team-a@example.com: account stack planned only: account-100000000000 planned; nothing deployed, no completion tags -> PLANNED",
      ]);

      // Run again with a way to deploy: the same account is deployed and completed.
      const deployed = await h.run([...VEND, "--json", "-q", "--management-account-id", "111122223333"]);
      expect(deployed.code, deployed.stderr).to.equal(0);
      expect(JSON.parse(deployed.stdout).record.state).to.equal("SUCCEEDED");
      expect(account.tags).to.deep.equal({ CostCenter: "1234", ProductName: "ws-a", Stage: "dev" });
      expect(h.org.count("CreateAccount")).to.equal(1);
    });

    it("fails before CreateAccount, naming what is missing, when --runner auto finds no way to deploy", async () => {
      h.pulumiOnPath = false;
      h.env = { PULUMI_ACCESS_TOKEN: "pul-token" };
      const r = await h.run([...VEND, "-q"]);
      expect(r).to.deep.equal({
        code: 2,
        stdout: "",
        stderr:
          "avm: error: no way to deploy account stacks: the pulumi CLI is not on PATH (--runner local) and Pulumi " +
          "Deployments is not configured (--runner remote needs AVM_PULUMI_ORGANIZATION, AVM_PULUMI_REPO_URL); install " +
          "pulumi, configure Deployments, or pass --runner offline to plan only (the request then ends PLANNED, not deployed)\n",
      });
      expect(h.org.count("CreateAccount")).to.equal(0);
      expect(await h.ledger.list()).to.deep.equal([]);

      h.env = {
        PULUMI_ACCESS_TOKEN: "pul-token",
        AVM_PULUMI_ORGANIZATION: "acme",
        AVM_PULUMI_REPO_URL: "https://x/y.git",
      };
      const remote = await h.run([...VEND, "-q", "--json"]);
      expect(remote.code, remote.stderr).to.equal(0);
      expect(h.runnerSettings.map((s) => s.kind)).to.deep.equal(["remote"]);
    });

    it("prints the record for humans and suppresses progress with --quiet", async () => {
      h.env = { AVM_MANAGEMENT_ACCOUNT_ID: "111122223333", AVM_AUTOMATION_ACCOUNT_ID: "444455556666" };
      const r = await h.run([...VEND, "--quiet"]);
      expect(r.code).to.equal(0);
      expect(r.stderr).to.equal("");
      expect(r.stdout).to.match(
        /^request +req-a\nemail +team-a@example.com\nkind +vend\nstate +SUCCEEDED\naccount +100000000000\n/,
      );
      expect(r.stdout).to.include("completion  ProductName=ws-a, Stage=dev\n");
      expect(r.stdout).to.include("stack     account-100000000000: deployed (account-100000000000 deployed)\n");
    });

    it("draws one live progress line per request when stderr is a terminal", async () => {
      let stderr = "";
      const r = await h.run(VEND, { stderr: { write: (s: string) => (stderr += s), isTTY: true, columns: 200 } });
      expect(r.code).to.equal(0);
      expect(stderr).to.include("\x1b[2K… team-a@example.com creating account -> CREATING\n");
      expect(stderr).to.include("\x1b[1A\x1b[2K… team-a@example.com account 100000000000 created -> MOVING\n");
      expect(stderr.endsWith("\x1b[1A\x1b[2K✔ team-a@example.com SUCCEEDED account 100000000000\n")).to.equal(true);
    });

    it("uses the local Automation API runner when pulumi is on PATH, and the organization's management account", async () => {
      h.pulumiOnPath = true;
      const r = await h.run([...VEND, "--json"]);
      expect(r.code, r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout).stack.status).to.equal("deployed");
      expect(h.runnerSettings).to.deep.equal([
        {
          kind: "local",
          settings: { managementAccountId: "999999999999", automationAccountId: "999999999999", region: "us-east-1" },
        },
      ]);
      expect(r.stderr).to.include(
        "note: AVM_AUTOMATION_ACCOUNT_ID not set: the access role may invoke AVMEntryPoint in the management account 999999999999\n",
      );
    });

    it("refuses --runner local without a pulumi binary", async () => {
      h.pulumiOnPath = false;
      const r = await h.run([...VEND, "--runner", "local"]);
      expect(r.code).to.equal(1);
      expect(r.stderr.split("\n").at(-2)).to.equal(
        "avm: error: the pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) or use --runner offline",
      );
    });

    it("names the credential chain when AWS credentials are missing, before recording anything", async () => {
      const client = new OrganizationsClient({ region: "us-east-1" });
      const stub = mockClient(client);
      stub.rejects(
        Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }),
      );
      const noCredentials = new CliHarness({ organizationsClient: () => client });
      try {
        expect(await noCredentials.run([...VEND, "-q"])).to.deep.equal({
          code: 1,
          stdout: "",
          stderr:
            "avm: error: Could not load credentials from any providers (AWS credentials come from the standard chain: " +
            "AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, SSO, or an instance role)\n",
        });
        expect(await noCredentials.ledger.list()).to.deep.equal([]);
      } finally {
        stub.restore();
        noCredentials.dispose();
      }
    });

    it("reports a failing stack step with where the request stopped, and resumes it on the next run", async () => {
      h.runners.local.failWith = new OfflinePlanError("offline plan of account-100000000000 did not complete: killed");
      const r = await h.run([...VEND, "-q"]);
      expect(r).to.deep.equal({
        code: 1,
        stdout: "",
        stderr:
          "avm: error: offline plan of account-100000000000 did not complete: killed (request req-a stays BOOTSTRAPPING; run the command again to resume)\n",
      });
      h.runners.local.failWith = undefined;
      const again = await h.run([...VEND, "-q", "--json"]);
      expect(again.code, again.stderr).to.equal(0);
      expect(JSON.parse(again.stdout)).to.deep.include({ created: false, outcome: "terminal" });
      expect(JSON.parse(again.stdout).record.state).to.equal("SUCCEEDED");
      expect(h.org.count("CreateAccount")).to.equal(1);
    });

    it("is idempotent: a repeat reports the stored outcome without calling AWS", async () => {
      expect((await h.run(VEND)).code).to.equal(0);
      const clients = h.organizationsClients;
      const r = await h.run([...VEND, "--json"]);
      expect(r.code).to.equal(0);
      expect(JSON.parse(r.stdout)).to.include({ created: false, outcome: "terminal" });
      expect(h.organizationsClients).to.equal(clients);
      expect(h.org.count("CreateAccount")).to.equal(1);
    });

    it("exits 1 with the failure reason verbatim when the request FAILS", async () => {
      h.org.scriptedFailures.set("team-a@example.com", ["ACCOUNT_LIMIT_EXCEEDED"]);
      const r = await h.run([...VEND, "--json"]);
      expect(r.code).to.equal(1);
      expect(r.stderr.split("\n").at(-2)).to.equal(
        "avm: error: request req-a (team-a@example.com) FAILED: ACCOUNT_LIMIT_EXCEEDED",
      );
      // One JSON document: the result, whose record carries the failure.
      const result = JSON.parse(r.stdout);
      expect(result.outcome).to.equal("terminal");
      expect(result.record).to.include({ state: "FAILED", failureReason: "ACCOUNT_LIMIT_EXCEEDED" });
    });

    it("names the flag of an invalid field and exits 2 before touching the ledger", async () => {
      const r = await h.run(["vend", "--account-name", "x", "--email", "not-an-email"]);
      expect(r).to.deep.equal({
        code: 2,
        stdout: "",
        stderr: "avm: error: invalid vend request: --email: must contain exactly one @\n",
      });
      expect(h.opened).to.deep.equal([]);
    });

    it("reports every missing field and a malformed --tag", async () => {
      expect((await h.run(["vend"])).stderr).to.equal(
        "avm: error: invalid vend request: --account-name: is required; --email: is required\n",
      );
      expect(
        (await h.run(["vend", "--account-name", "a", "--email", "a@example.com", "--tag", "novalue"])).stderr,
      ).to.equal('avm: error: invalid vend request: --tag: must be Key=Value, got "novalue"\n');
    });

    it("lists validation issues in the --json error shape", async () => {
      const r = await h.run(["vend", "--json", "--account-name", "a", "--email", "a@example.com", "--ou", "Workloads"]);
      expect(r.code).to.equal(2);
      expect(JSON.parse(r.stdout)).to.deep.equal({
        error: {
          code: "validation",
          message:
            "invalid vend request: --ou: must be an OU id (ou-...), a root id (r-...) or an OU path starting with /",
          exitCode: 2,
          issues: [
            { field: "--ou", message: "must be an OU id (ou-...), a root id (r-...) or an OU path starting with /" },
          ],
        },
      });
    });

    describe("from a request file", () => {
      let dir: string;
      beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "avm-cli-"));
      });
      afterEach(() => rmSync(dir, { recursive: true, force: true }));

      it("reads the file and names JSON fields in validation errors", async () => {
        writeFileSync(
          path.join(dir, "bad.json"),
          JSON.stringify({ accountName: "a", email: "a@example.com", colour: 1 }),
        );
        const r = await h.run(["vend", "--file", path.join(dir, "bad.json")]);
        expect(r).to.deep.equal({
          code: 2,
          stdout: "",
          stderr: "avm: error: invalid vend request: colour: is not a known field\n",
        });
      });

      it("runs at most BATCH_LOCAL_STACKS local account stacks of a batch at once", async () => {
        let running = 0;
        let most = 0;
        const deployed: string[] = [];
        const local: AccountStackRunner = {
          async deploy(request) {
            running += 1;
            most = Math.max(most, running);
            // Held for a few turns, so the other lines reach their stack step meanwhile.
            for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
            running -= 1;
            deployed.push(request.accountId);
            return { status: "deployed", stackName: `account-${request.accountId}`, summary: "deployed" };
          },
        };
        h = new CliHarness({ localStackRunner: async () => local });
        const ou = h.org.addOu("Workloads");
        const lines = Array.from({ length: 8 }, (_, i) =>
          JSON.stringify({ accountName: `b${i}`, email: `b${i}@example.com`, targetOu: ou, tags: { N: `${i}` } }),
        );
        const r = await h.run(
          [
            "vend",
            "-f",
            "-",
            "--json",
            "--runner",
            "local",
            "--concurrency",
            "8",
            "--management-account-id",
            "111122223333",
          ],
          { stdin: Readable.from([`${lines.join("\n")}\n`]) },
        );
        h.dispose();
        expect(r.code, r.stderr).to.equal(0);
        expect(JSON.parse(r.stdout)).to.include({ total: 8, succeeded: 8 });
        expect(deployed).to.have.length(8);
        expect(most).to.equal(BATCH_LOCAL_STACKS);
      });

      it("vends from stdin with --file -", async () => {
        const body = JSON.stringify({ accountName: "b", email: "b@example.com", targetOu: ouId, requestId: "req-b" });
        const r = await h.run(["vend", "--json", "--file", "-"], { stdin: Readable.from([body]) });
        expect(r.code, r.stderr).to.equal(0);
        expect(JSON.parse(r.stdout).record).to.include({ requestId: "req-b", state: "SUCCEEDED", targetOu: ouId });
      });

      it("exits 2 for a missing file and for --file with request flags", async () => {
        expect(await h.run(["vend", "--file", path.join(dir, "none.json")])).to.deep.equal({
          code: 2,
          stdout: "",
          stderr: `avm: error: cannot read --file ${path.join(dir, "none.json")}: ENOENT\n`,
        });
        expect((await h.run(["vend", "--file", "x.json", "--email", "a@example.com", "--tag", "a=b"])).stderr).to.equal(
          "avm: error: --file cannot be combined with request flags (--email, --tag)\n",
        );
      });
    });
  });
});
