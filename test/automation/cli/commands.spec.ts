import { expect } from "chai";
import { request } from "node:http";
import { createHmac } from "node:crypto";
import { Readable } from "node:stream";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CliHarness, fakePlan } from "./harness";
import { defaultDeps } from "../../../automation/cli/deps";
import { AutomationConfigError } from "../../../automation/errors";
import { OfflinePlanError } from "../../../automation/plan/offlinePlan";
import { recordJson } from "../../../automation/cli/output";
import { run } from "../../../automation/cli/main";
import { waitUntil } from "../../support/hangGuard";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { mockClient } from "aws-sdk-client-mock";

/** For {@link waitUntil}: why waiting is pointless once the command ended (undefined while it runs). */
function exitedOf(running: Promise<number>): () => string | undefined {
  let exited: string | undefined;
  running.then(
    (code) => (exited = `avm exited with ${code}`),
    (error: unknown) => (exited = `avm failed: ${String(error)}`),
  );
  return () => exited;
}

const VEND = [
  "vend",
  "--account-name",
  "team-a-dev",
  "--email",
  "Team-A@Example.com",
  "--ou",
  "/Workloads",
  "--tag",
  "CostCenter=1234",
  "--request-id",
  "req-a",
  "--product-name",
  "ws-a",
  "--stage",
  "dev",
];

describe("avm CLI commands (in-process, fake Organizations)", function () {
  let h: CliHarness;
  let ouId: string;
  beforeEach(() => {
    h = new CliHarness();
    ouId = h.org.addOu("Workloads");
  });
  afterEach(() => h.dispose());

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

  describe("status", () => {
    it("finds a record by email, account id and request id without any Organizations call", async () => {
      await h.run([...VEND, "--quiet"]);
      const before = h.organizationsClients;
      const record = recordJson((await h.ledger.get("team-a@example.com"))!);
      for (const key of [
        ["--email", "TEAM-A@example.com"],
        ["--account-id", "100000000000"],
        ["--request-id", "req-a"],
      ]) {
        const r = await h.run(["status", "--json", ...key]);
        expect(r.code).to.equal(0);
        expect(JSON.parse(r.stdout)).to.deep.equal({ record });
      }
      expect(h.organizationsClients).to.equal(before);
      const text = await h.run(["status", "--request-id", "req-a"]);
      expect(text.stdout).to.include("state       SUCCEEDED\n");
      expect(text.stdout).to.include("history:\n");
    });

    it("needs exactly one key and a 12-digit account id", async () => {
      expect((await h.run(["status"])).stderr).to.equal(
        "avm: error: status needs exactly one of --email, --account-id or --request-id\n",
      );
      expect((await h.run(["status", "--email", "a@example.com", "--request-id", "r"])).code).to.equal(2);
      expect(await h.run(["status", "--account-id", "123"])).to.deep.equal({
        code: 2,
        stdout: "",
        stderr: 'avm: error: --account-id must be a 12-digit AWS account id, got "123"\n',
      });
    });

    it("exits 1 with one line when nothing matches", async () => {
      expect(await h.run(["status", "--account-id", "123456789012"])).to.deep.equal({
        code: 1,
        stdout: "",
        stderr:
          "avm: error: no request found for account id 123456789012 in ledger /tmp/avm-cli-test/.avm/ledger.sqlite\n",
      });
    });
  });

  describe("list", () => {
    it("lists records, filters by state and prints the --json shape", async () => {
      await h.run([...VEND, "--quiet"]);
      h.org.scriptedFailures.set("c@example.com", ["INVALID_EMAIL"]);
      await h.run(["vend", "--quiet", "--account-name", "c", "--email", "c@example.com", "--request-id", "req-c"]);
      const all = await h.run(["list"]);
      expect(all.code).to.equal(0);
      expect(all.stdout.split("\n")[0]).to.match(/^REQUEST ID +EMAIL +STATE +ACCOUNT ID +UPDATED$/);
      expect(all.stdout.trimEnd().split("\n")).to.have.length(3);
      const failed = await h.run(["list", "--json", "--state", "failed"]);
      const records = [recordJson((await h.ledger.get("c@example.com"))!)];
      expect(JSON.parse(failed.stdout)).to.deep.equal({ count: 1, records });
      const none = await h.run(["list", "--state", "CLOSED"]);
      expect(none).to.deep.equal({ code: 0, stdout: "no requests\n", stderr: "" });
    });

    it("rejects an unknown state", async () => {
      expect((await h.run(["list", "--state", "DONE"])).stderr).to.equal(
        'avm: error: --state: unknown state "DONE" (one of RECEIVED, CREATING, MOVING, TAGGING, BOOTSTRAPPING, COMPLETING, PLANNED, SUCCEEDED, FAILED, CLOSING, CLOSED)\n',
      );
    });
  });

  describe("close", () => {
    beforeEach(async () => {
      await h.run([...VEND, "--quiet"]);
    });

    it("requires --yes when not interactive", async () => {
      expect(await h.run(["close", "100000000000"])).to.deep.equal({
        code: 2,
        stdout: "",
        stderr: "avm: error: close needs --yes when not run interactively (closing an account cannot be undone)\n",
      });
      expect(h.org.count("CloseAccount")).to.equal(0);
    });

    it("asks interactively and refuses unless the account id is typed", async () => {
      const questions: string[] = [];
      const io = {
        interactive: true,
        prompt: async (q: string) => {
          questions.push(q);
          return "yes";
        },
      };
      expect(await h.run(["close", "100000000000"], io)).to.deep.equal({
        code: 1,
        stdout: "",
        stderr: "avm: error: close of account 100000000000 not confirmed\n",
      });
      expect(questions).to.have.length(1);
      expect(h.org.count("CloseAccount")).to.equal(0);
      const confirmed = await h.run(["close", "100000000000", "--quiet"], {
        ...io,
        prompt: async () => "100000000000\n",
      });
      expect(confirmed.code).to.equal(0);
      expect(h.org.count("CloseAccount")).to.equal(1);
    });

    it("closes with --yes, keeps the account in the organization and prints the quota", async () => {
      const r = await h.run(["close", "100000000000", "--yes", "--json", "--reason", "decommissioned"]);
      expect(r.code, r.stderr).to.equal(0);
      const record = recordJson((await h.ledger.get("team-a@example.com"))!);
      expect(JSON.parse(r.stdout)).to.deep.equal({
        accountId: "100000000000",
        status: "close-requested",
        quota: { memberAccounts: 1, allowed: 10, used: 0, remaining: 10 },
        record,
      });
      expect(record.state).to.equal("CLOSED");
      expect(record.history.at(-2)).to.deep.include({ state: "CLOSING", note: "close requested: decommissioned" });
      expect(h.org.accounts.get("100000000000")!.status).to.not.equal("ACTIVE");
      expect(h.org.count("RemoveAccountFromOrganization")).to.equal(0);
    });

    it("refuses the management account and malformed ids", async () => {
      expect((await h.run(["close", "999999999999", "--yes"])).stderr).to.equal(
        "avm: error: refusing to close account 999999999999: it is the organization's management account\n",
      );
      expect(await h.run(["close", "12", "--yes"])).to.deep.equal({
        code: 2,
        stdout: "",
        stderr: 'avm: error: <accountId> must be a 12-digit AWS account id, got "12"\n',
      });
    });
  });

  describe("bootstrap", () => {
    it("deploys with the local runner using the ledger record's tags", async () => {
      await h.run([...VEND, "--quiet"]);
      h.pulumiOnPath = true;
      const r = await h.run(["bootstrap", "100000000000", "--json", "--management-account-id", "111122223333"]);
      expect(r.code, r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout)).to.deep.equal({
        accountId: "100000000000",
        status: "deployed",
        stackName: "account-100000000000",
        summary: "account-100000000000 deployed",
        url: null,
        outputs: null,
        requestId: "req-a",
      });
      expect(h.runners.local.calls.at(-1)).to.deep.equal({
        accountId: "100000000000",
        accountName: "team-a-dev",
        email: "team-a@example.com",
        requestId: "req-a",
        tags: { CostCenter: "1234" },
      });
    });

    it("starts a Pulumi Deployments update with --remote", async () => {
      const r = await h.run(["bootstrap", "123456789012", "--remote", "--management-account-id", "111122223333"]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.equal(
        "account-123456789012: queued (account-123456789012 queued)\nurl: https://app.pulumi.com/acme/meshstack-avm/account-123456789012/deployments/1\n",
      );
      expect(h.runnerSettings.map((s) => s.kind)).to.deep.equal(["remote"]);
    });

    it("needs the management account id, a pulumi binary and a valid account id", async () => {
      expect((await h.run(["bootstrap", "123456789012"])).stderr).to.equal(
        "avm: error: --management-account-id (or AVM_MANAGEMENT_ACCOUNT_ID) is required: the account stack's access role trusts that account's meshfed-service user\n",
      );
      h.env = { AVM_MANAGEMENT_ACCOUNT_ID: "111122223333" };
      h.pulumiOnPath = false;
      const noPulumi = await h.run(["bootstrap", "123456789012", "--quiet"]);
      expect(noPulumi.code).to.equal(1);
      expect(noPulumi.stderr).to.equal(
        "avm: error: the pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) or use --runner offline\n",
      );
      expect((await h.run(["bootstrap", "1234"])).code).to.equal(2);
      h.env = { AVM_MANAGEMENT_ACCOUNT_ID: "1111" };
      expect((await h.run(["bootstrap", "123456789012"])).stderr).to.equal(
        'avm: error: --management-account-id (or AVM_MANAGEMENT_ACCOUNT_ID) must be a 12-digit AWS account id, got "1111"\n',
      );
    });
  });

  describe("plan", () => {
    it("renders the offline plan with the ledger record's tags and prints the --json shape", async () => {
      await h.run([...VEND, "--quiet"]);
      const r = await h.run([
        "plan",
        "100000000000",
        "--json",
        "--management-account-id",
        "111122223333",
        "--automation-account-id",
        "444455556666",
        "--access-role",
        "MeshRole",
        "--region",
        "eu-central-1",
      ]);
      expect(r.code, r.stderr).to.equal(0);
      const plan = fakePlan("100000000000");
      expect(JSON.parse(r.stdout)).to.deep.equal({
        accountId: "100000000000",
        stackName: "account-100000000000",
        status: "planned",
        resources: plan.resources,
        policies: plan.policies,
        catalogCheck: plan.catalogCheck,
      });
      expect(h.plans).to.deep.equal([
        {
          target: { accountId: "100000000000", tags: { CostCenter: "1234" } },
          settings: {
            managementAccountId: "111122223333",
            automationAccountId: "444455556666",
            region: "eu-central-1",
            accessRoleName: "MeshRole",
          },
        },
      ]);
    });

    it("prints resources and policy documents for humans", async () => {
      h.env = { AVM_MANAGEMENT_ACCOUNT_ID: "111122223333" };
      const r = await h.run(["plan", "123456789012"]);
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(
        /^account-123456789012: planned offline \(no pulumi CLI, no credentials; nothing deployed\)\n\nresources \(2\):\n  TYPE +NAME\n  pulumi:providers:aws +managed-account\n/,
      );
      expect(r.stdout).to.include("IAM policies (1); IAM catalog check passed for 1 actions in 1 policies:\n");
      expect(r.stdout).to.include('            "AWS": "arn:aws:iam::111122223333:user/meshfed-service"\n');
    });

    it("exits 2 for a malformed account id, a missing management account and invalid settings", async () => {
      expect((await h.run(["plan", "abc"])).stderr).to.equal(
        'avm: error: <accountId> must be a 12-digit AWS account id, got "abc"\n',
      );
      expect((await h.run(["plan", "123456789012"])).code).to.equal(2);
      expect(
        (await h.run(["plan", "123456789012", "--management-account-id", "111122223333", "--access-role", "bad role"]))
          .stderr,
      ).to.equal('avm: error: --access-role (or AVM_ACCESS_ROLE_NAME) must match [\\w+=,.@-]{1,64}, got "bad role"\n');
      const failing = new CliHarness({
        planAccountStack: async () => {
          throw new AutomationConfigError("meshstack-avm:externalId must be 2-1224 characters");
        },
      });
      try {
        expect(
          await failing.run(["plan", "123456789012", "--management-account-id", "111122223333", "-q"]),
        ).to.deep.equal({
          code: 2,
          stdout: "",
          stderr: "avm: error: meshstack-avm:externalId must be 2-1224 characters\n",
        });
      } finally {
        failing.dispose();
      }
    });

    it("exits 1 with the program's message when the plan fails", async () => {
      const failing = new CliHarness({
        planAccountStack: async () => {
          throw new OfflinePlanError(
            "offline plan of account-123456789012 failed: unknown IAM action iam:ListSAMProviders",
          );
        },
      });
      try {
        expect(
          await failing.run(["plan", "123456789012", "--management-account-id", "111122223333", "-q"]),
        ).to.deep.equal({
          code: 1,
          stdout: "",
          stderr: "avm: error: offline plan of account-123456789012 failed: unknown IAM action iam:ListSAMProviders\n",
        });
      } finally {
        failing.dispose();
      }
    });
  });

  describe("default runner wiring", () => {
    it("names a missing passphrase for the local Automation API runner (file backend)", async () => {
      const real = new CliHarness({ localStackRunner: defaultDeps().localStackRunner });
      try {
        real.pulumiOnPath = true;
        real.env = { AVM_MANAGEMENT_ACCOUNT_ID: "111122223333", PULUMI_BACKEND_URL: "file:///tmp/avm-cli-test-state" };
        expect(await real.run(["bootstrap", "123456789012", "-q"])).to.deep.equal({
          code: 2,
          stdout: "",
          stderr:
            "avm: error: PULUMI_CONFIG_PASSPHRASE is not set: the passphrase secrets provider needs it to encrypt account stack secrets " +
            "(set it, or PULUMI_CONFIG_PASSPHRASE_FILE, or choose AVM_SECRETS_PROVIDER=awskms://<key>)\n",
        });
      } finally {
        real.dispose();
      }
    });

    it("names the missing Pulumi Deployments setting and never echoes the token", async () => {
      const real = new CliHarness({ remoteStackRunner: defaultDeps().remoteStackRunner });
      try {
        real.env = { AVM_MANAGEMENT_ACCOUNT_ID: "111122223333" };
        expect((await real.run(["bootstrap", "123456789012", "--remote", "-q"])).stderr).to.equal(
          "avm: error: PULUMI_ACCESS_TOKEN is not set: Pulumi Deployments needs a Pulumi access token\n",
        );
        real.env = { AVM_MANAGEMENT_ACCOUNT_ID: "111122223333", PULUMI_ACCESS_TOKEN: "pul-secret-token" };
        const r = await real.run(["bootstrap", "123456789012", "--remote", "-q"]);
        expect(r).to.deep.equal({
          code: 2,
          stdout: "",
          stderr: "avm: error: AVM_PULUMI_ORGANIZATION is not set: Pulumi Deployments needs it\n",
        });
      } finally {
        real.dispose();
      }
    });
  });

  describe("serve", () => {
    it("listens on 127.0.0.1, answers a ping, and stops on the interrupt signal", async () => {
      let stop!: (signal: string) => void;
      const interrupted = new Promise<string>((resolve) => (stop = resolve));
      let claimed = false;
      let stdout = "";
      let stderr = "";
      const running = run(
        ["serve", "--port", "0", "--json"],
        {
          stdout: { write: (s: string) => (stdout += s) },
          stderr: { write: (s: string) => (stderr += s) },
          stdin: "",
          env: {},
          cwd: "/tmp",
          interrupted,
          claimInterrupt: () => (claimed = true),
        },
        h.deps(),
      );
      await waitUntil("avm serve to print its listening line", () => stdout.includes("\n"), {
        stopped: exitedOf(running),
        describe: () => `stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)}`,
      });
      const listening = JSON.parse(stdout);
      expect(listening.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/webhooks\/pulumi$/);
      expect(listening.signed).to.equal(false);
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          listening.url,
          {
            method: "POST",
            headers: { "pulumi-webhook-kind": "ping", "pulumi-webhook-id": "d-1", "content-type": "application/json" },
          },
          (res) => {
            let body = "";
            res.on("data", (c) => (body += c));
            res.on("end", () => resolve({ status: res.statusCode!, body }));
          },
        );
        req.on("error", reject);
        req.end("{}");
      });
      expect(answer.status).to.equal(200);
      stop("SIGINT");
      expect(await running).to.equal(0);
      expect(claimed).to.equal(true);
      expect(stderr).to.include(
        "avm: warning: AVM_WEBHOOK_SECRET is not set: deliveries are accepted unsigned (local testing only)\n",
      );
      expect(stderr).to.include("stopping (SIGINT)\n");
    });

    it("never prints the webhook secret", async () => {
      let stop!: (signal: string) => void;
      const interrupted = new Promise<string>((resolve) => (stop = resolve));
      let out = "";
      const running = run(
        ["serve", "--port", "0"],
        {
          stdout: { write: (s: string) => (out += s) },
          stderr: { write: (s: string) => (out += s) },
          stdin: "",
          env: { AVM_WEBHOOK_SECRET: "s3cr3t-value" },
          cwd: "/tmp",
          interrupted,
        },
        h.deps(),
      );
      await waitUntil("avm serve to print its listening line", () => out.includes("listening"), {
        stopped: exitedOf(running),
        describe: () => `output ${JSON.stringify(out)}`,
      });
      stop("SIGTERM");
      expect(await running).to.equal(0);
      expect(out).to.match(
        /^listening on http:\/\/127\.0\.0\.1:\d+\/webhooks\/pulumi \(signed deliveries only; Ctrl-C to stop\)\n/,
      );
      expect(out).to.not.include("s3cr3t-value");
    });

    it("with --process, finishes a request whose queued remote deployment a signed webhook reports", async () => {
      const vend = await h.run([...VEND, "--runner", "remote", "--json", "-q"]);
      expect(vend.code, vend.stderr).to.equal(0);
      expect(JSON.parse(vend.stdout)).to.deep.include({ outcome: "waiting", reason: "account-100000000000 queued" });
      expect((await h.ledger.get("team-a@example.com"))!.state).to.equal("BOOTSTRAPPING");

      let stop!: (signal: string) => void;
      const interrupted = new Promise<string>((resolve) => (stop = resolve));
      let stdout = "";
      let stderr = "";
      const secret = "whsec-test";
      const running = run(
        ["serve", "--port", "0", "--json", "--process"],
        {
          stdout: { write: (s: string) => (stdout += s) },
          stderr: { write: (s: string) => (stderr += s) },
          stdin: "",
          env: { AVM_WEBHOOK_SECRET: secret },
          cwd: "/tmp",
          interrupted,
        },
        h.deps(),
      );
      const exited = exitedOf(running);
      await waitUntil("avm serve to print its listening line", () => stdout.includes("\n"), {
        stopped: exited,
        describe: () => `stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)}`,
      });
      const { url, signed } = JSON.parse(stdout);
      expect(signed).to.equal(true);
      const body = JSON.stringify({
        projectName: "meshstack-avm",
        stackName: "acme/meshstack-avm/account-100000000000",
        kind: "update",
        result: "succeeded",
        updateUrl: "https://app.pulumi.com/acme/meshstack-avm/account-100000000000/updates/1",
      });
      const post = (signature: string) =>
        new Promise<number>((resolve, reject) => {
          const req = request(
            url,
            {
              method: "POST",
              headers: {
                "pulumi-webhook-kind": "stack_update",
                "pulumi-webhook-id": "delivery-1",
                "pulumi-webhook-signature": signature,
                "content-type": "application/json",
              },
            },
            (res) => {
              res.resume();
              res.on("end", () => resolve(res.statusCode!));
            },
          );
          req.on("error", reject);
          req.end(body);
        });
      expect(await post("0".repeat(64))).to.equal(401);
      expect(await post(createHmac("sha256", secret).update(body).digest("hex"))).to.equal(200);
      await waitUntil(
        "the signed webhook to finish the request",
        async () => (await h.ledger.get("team-a@example.com"))!.state === "SUCCEEDED",
        {
          stopped: exited,
          describe: async () =>
            `state ${(await h.ledger.get("team-a@example.com"))!.state}, stderr ${JSON.stringify(stderr)}`,
        },
      );
      stop("SIGINT");
      expect(await running).to.equal(0);
      const record = (await h.ledger.get("team-a@example.com"))!;
      expect(record.history.slice(-2).map((e) => e.state)).to.deep.equal(["COMPLETING", "SUCCEEDED"]);
      expect(h.org.accounts.get("100000000000")!.tags).to.deep.equal({
        CostCenter: "1234",
        ProductName: "ws-a",
        Stage: "dev",
      });
      expect(stderr).to.not.include(secret);
    });

    it("rejects a malformed port", async () => {
      expect((await h.run(["serve", "--port", "99999"])).stderr).to.equal(
        "avm: error: option '--port <port>' argument '99999' is invalid. must be a port number 0-65535.\n",
      );
    });
  });
});
