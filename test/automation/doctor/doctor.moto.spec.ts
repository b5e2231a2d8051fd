/**
 * `avm doctor` against moto (AWS) and the fake Pulumi Cloud, with a real webhook receiver on 127.0.0.1: a healthy
 * installation passes every check; then each check is broken on its own and must fail (✗ with its fix) or, when
 * it cannot run, say so (!), never pass.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DeleteTableCommand, DynamoDBClient, type DescribeTableCommandOutput } from "@aws-sdk/client-dynamodb";
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  LambdaClient,
  RemovePermissionCommand,
} from "@aws-sdk/client-lambda";
import { CreateAccountCommand, CreateOrganizationCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { CliDeps } from "../../../automation/cli/deps";
import type { CheckResult, DoctorReport } from "../../../automation/doctor/doctorCheck";
import { checkNode } from "../../../automation/doctor/localChecks";
import { startWebhookServer, type WebhookServer } from "../../../automation/serve";
import { defaultRepoRoot } from "../../../automation/stacks/workspaceSettings";
import { webhookDisplayName } from "../../../automation/webhooks/ensureWebhook";
import { createLedgerTable } from "../../../src/adapters/aws/dynamoLedger";
import { LEDGER_INDEXES } from "../../../src/adapters/aws/ledgerTable";
import { MemoryDeliveryStore } from "../../../src/adapters/local/memoryDeliveryStore";
import { WebhookReceiver } from "../../../src/core/webhooks/receiver";
import { CliHarness } from "../cli/harness";
import { FakePulumiCloud } from "../../support/fakePulumiCloud";
import { HANG_GUARD_MS } from "../../support/hangGuard";
import { RecordingTiming } from "../../support/recordingTiming";
import { useMoto } from "../../support/moto";

const TOKEN = "pul-0123456789abcdef0123456789abcdef01234567";
const SECRET = "doctor-secret-0123456789abcdef";
const OTHER_SECRET = "some-other-secret-9876543210";
const REPO = "https://github.com/acme/meshstack-avm.git";
const EVENTS = [
  "deployment_failed",
  "deployment_succeeded",
  "drift_detection_failed",
  "drift_detection_succeeded",
  "drift_remediation_failed",
  "drift_remediation_succeeded",
  "update_failed",
  "update_succeeded",
];

interface Installation {
  organizationId: string;
  managementAccountId: string;
  memberId: string;
  entryPointArn: string;
  queueUrl: string;
  dlqUrl: string;
}

describe("avm doctor against moto and the fake Pulumi Cloud", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let cloud: FakePulumiCloud;
  let receiver: WebhookServer;
  let dir: string;
  let install: Installation;
  let cli: CliHarness;
  let overrides: Partial<CliDeps>;

  const aws = <C>(Client: new (config: object) => C, credentials?: object): C =>
    new Client({ ...moto.clientConfig(), ...(credentials !== undefined ? { credentials } : {}) });

  async function startReceiver(secret: string | undefined): Promise<WebhookServer> {
    return startWebhookServer({
      receiver: new WebhookReceiver({
        ...(secret !== undefined ? { secret } : {}),
        recorder: { record: async () => ({ action: "stale" }) },
        deliveries: new MemoryDeliveryStore(),
        timing: new RecordingTiming(),
        logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      }),
    });
  }

  async function createIamRole(name: string): Promise<void> {
    // IAM through its query API (no IAM client in the project's dependencies); moto does not check signatures.
    const response = await fetch(moto.endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization:
          "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
      },
      body: new URLSearchParams({
        Action: "CreateRole",
        Version: "2010-05-08",
        RoleName: name,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
      }).toString(),
    });
    expect(response.status).to.equal(200);
  }

  /** A complete, healthy installation in moto and the fake Pulumi Cloud. */
  async function deploy(featureSet: "ALL" | "CONSOLIDATED_BILLING" = "ALL"): Promise<Installation> {
    const orgs = aws(OrganizationsClient);
    const org = (await orgs.send(new CreateOrganizationCommand({ FeatureSet: featureSet }))).Organization!;
    const created = await orgs.send(new CreateAccountCommand({ AccountName: "member", Email: "member@example.com" }));
    const memberId = created.CreateAccountStatus!.AccountId!;
    await fetch(`${moto.endpoint}/moto-api/config`, {
      method: "POST",
      body: JSON.stringify({ lambda: { use_docker: false } }),
    });
    await createIamRole("AVMEntryPointRole");
    const lambda = aws(LambdaClient);
    const fn = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: "AVMEntryPoint",
        Runtime: "nodejs22.x",
        Role: "arn:aws:iam::123456789012:role/AVMEntryPointRole",
        Handler: "index.handler",
        Code: { ZipFile: Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]) },
      }),
    );
    await lambda.send(
      new AddPermissionCommand({
        FunctionName: "AVMEntryPoint",
        StatementId: "organization-invoke",
        Action: "lambda:InvokeFunction",
        Principal: "*",
        PrincipalOrgID: org.Id,
      }),
    );
    await createLedgerTable(aws(DynamoDBClient), "avm-ledger");
    const sqs = aws(SQSClient);
    const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "avm-dlq" }))).QueueUrl!;
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "avm-work" }))).QueueUrl!;
    const installation = {
      organizationId: org.Id!,
      managementAccountId: org.MasterAccountId!,
      memberId,
      entryPointArn: fn.FunctionArn!,
      queueUrl,
      dlqUrl,
    };
    writeOutputs({
      entryPointArn: installation.entryPointArn,
      webhookUrl: receiver.url,
      ledgerTableName: "avm-ledger",
      queueUrl,
      deadLetterQueueUrl: dlqUrl,
      guardrails: { targets: [], policies: {} },
    });
    cloud.addWebhook("acme", {
      displayName: webhookDisplayName(SECRET),
      payloadUrl: receiver.url,
      active: true,
      format: "raw",
      filters: EVENTS,
      groups: [],
      secret: SECRET,
    });
    const stack = `acme/meshstack-avm/account-${memberId}`;
    cloud.stacks.add(stack);
    cloud.settings.set(stack, { sourceContext: { git: { repoURL: REPO, branch: "main" } } });
    cli.env = {
      AVM_MANAGEMENT_ACCOUNT_ID: installation.managementAccountId,
      PULUMI_ACCESS_TOKEN: TOKEN,
      PULUMI_API_URL: cli.env.PULUMI_API_URL,
      AVM_PULUMI_ORGANIZATION: "acme",
      AVM_PULUMI_REPO_URL: REPO,
      AVM_WEBHOOK_SECRET: SECRET,
      AVM_STACK_RUNNER: "remote",
      PULUMI_BACKEND_URL: `file://${dir}/state`,
      PULUMI_CONFIG_PASSPHRASE: "pass-phrase",
    };
    return installation;
  }

  function writeOutputs(outputs: Record<string, unknown>): void {
    writeFileSync(path.join(dir, "outputs.json"), JSON.stringify(outputs));
  }

  async function doctor(...extra: string[]): Promise<{ code: number; report: DoctorReport; stderr: string }> {
    const r = await cli.run(["doctor", "--json", "--outputs", path.join(dir, "outputs.json"), ...extra]);
    return { code: r.code, report: JSON.parse(r.stdout) as DoctorReport, stderr: r.stderr };
  }

  const byId = (report: DoctorReport, id: string): CheckResult => {
    const found = report.checks.find((c) => c.id === id);
    if (found === undefined) throw new Error(`no check ${id}`);
    return found;
  };
  const statuses = (report: DoctorReport) => Object.fromEntries(report.checks.map((c) => [c.id, c.status]));

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-doctor-"));
    cloud = new FakePulumiCloud(TOKEN);
    const base = await cloud.start();
    receiver = await startReceiver(SECRET);
    overrides = {
      organizationsClient: () => aws(OrganizationsClient),
      sqsClient: () => aws(SQSClient),
      awsClient: (Client, _region, credentials) => aws(Client as new (config: object) => never, credentials),
      pulumiVersion: async () => "v3.210.0",
    };
    // The harness spreads this object on every run, so a test may swap one dependency before running.
    cli = new CliHarness(overrides);
    // No pulumi CLI unless a test says otherwise (the harness's default may change).
    cli.pulumiOnPath = false;
    cli.env = { PULUMI_API_URL: base };
    install = await deploy();
  });
  afterEach(async () => {
    cli.dispose();
    await receiver.stop();
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("passes every check of a healthy installation (exit 0); only the SCP check (no guardrails enabled) says it cannot run", async () => {
    const { code, report } = await doctor();
    expect(statuses(report)).to.deep.equal({
      "aws-credentials": "pass",
      organization: "pass",
      "platform-outputs": "pass",
      "entry-point": "pass",
      "ledger-table": "pass",
      "work-queue": "pass",
      "dead-letter-queue": "pass",
      "webhook-registered": "pass",
      "webhook-receiver": "pass",
      "webhook-delivery": "pass",
      "pulumi-project": "pass",
      "deployment-settings": "pass",
      "bootstrap-role": "pass",
      scps: "warn",
      node: "pass",
      "pulumi-cli": "warn",
      "state-backend": "pass",
    });
    expect(code).to.equal(0);
    expect(report.ok).to.equal(true);
    expect(report.summary).to.deep.equal({ pass: 15, fail: 0, warn: 2 });
    expect(byId(report, "organization").detail).to.equal(
      `${install.organizationId}, all features, management account ${install.managementAccountId} (matches AVM_MANAGEMENT_ACCOUNT_ID)`,
    );
    expect(byId(report, "entry-point").detail).to.equal(
      `${install.entryPointArn} (nodejs22.x); principals of organization ${install.organizationId} may invoke it`,
    );
    expect(byId(report, "bootstrap-role").detail).to.equal(
      `assumed arn:aws:iam::${install.memberId}:role/OrganizationAccountAccessRole (sample member account ${install.memberId})`,
    );
    expect(byId(report, "webhook-receiver").detail).to.equal(
      `${receiver.url} accepts a ping signed with AVM_WEBHOOK_SECRET and rejects an unsigned one`,
    );
    expect(byId(report, "deployment-settings").detail).to.equal(`account-${install.memberId} deploys from ${REPO}`);
  });

  it("prints a checklist: ✓ lines, and under each ✗ the exact fix; --strict fails on ! too", async () => {
    await aws(SQSClient).send(new SendMessageCommand({ QueueUrl: install.dlqUrl, MessageBody: "{}" }));
    const r = await cli.run(["doctor", "--outputs", path.join(dir, "outputs.json")]);
    expect(r.code).to.equal(1);
    const lines = r.stdout.split("\n");
    expect(lines).to.include(`✓ ledger table: avm-ledger (ACTIVE)`);
    const failing = lines.indexOf(
      `✗ dead-letter queue: ${install.dlqUrl} holds 1 message (requests whose worker gave up)`,
    );
    expect(failing).to.be.greaterThan(-1);
    expect(lines[failing + 1]).to.equal(
      `    fix: avm reconcile --ledger-table avm-ledger --dlq-url ${install.dlqUrl} --queue-url ${install.queueUrl}`,
    );
    expect(lines).to.include(
      "! service control policies: not checked: guardrails are not enabled (guardrailTargets is not set on the platform stack, so no SCPs are deployed)",
    );
    expect(lines.at(-2)).to.equal("14 passed, 1 failed, 2 not checked");
    expect(r.stdout).not.to.include(SECRET);
    expect(r.stdout).not.to.include(TOKEN);
  });

  it("--strict: a check that could not run fails the run", async () => {
    expect((await doctor()).code).to.equal(0);
    const strict = await doctor("--strict");
    expect([strict.code, strict.report.ok]).to.deep.equal([1, false]);
  });

  describe("each check fails on its own", () => {
    it("AWS credentials that do not resolve: ✗ with the fix; the checks that need them say they could not run", async () => {
      overrides.awsClient = (Client, _region, credentials) =>
        aws(
          Client as new (config: object) => never,
          credentials ??
            (async () =>
              Promise.reject(
                Object.assign(new Error("Could not load credentials from any providers"), {
                  name: "CredentialsProviderError",
                }),
              )),
        );
      const { code, report } = await doctor();
      expect(code).to.equal(1);
      expect(byId(report, "aws-credentials")).to.deep.equal({
        id: "aws-credentials",
        title: "AWS credentials",
        status: "fail",
        detail: "CredentialsProviderError: Could not load credentials from any providers",
        fix:
          "configure AWS credentials for the automation or management account (AWS_PROFILE, or AWS_ACCESS_KEY_ID and " +
          "AWS_SECRET_ACCESS_KEY, or aws sso login); `aws sts get-caller-identity` must work",
      });
      expect(byId(report, "organization").status).to.equal("warn");
    });

    it("an organization without all features", async () => {
      await fetch(`${moto.endpoint}/moto-api/reset`, { method: "POST" });
      cloud.webhooks.clear();
      install = await deploy("CONSOLIDATED_BILLING");
      const check = byId((await doctor()).report, "organization");
      expect([check.status, check.fix]).to.deep.equal([
        "fail",
        "aws organizations enable-all-features (in the management account; every member account accepts the handshake)",
      ]);
      expect(check.detail).to.equal(
        `organization ${install.organizationId} has feature set CONSOLIDATED_BILLING, not ALL (CreateAccount's bootstrap role and SCPs need all features)`,
      );
    });

    it("a management account id that does not match the setting", async () => {
      cli.env = { ...cli.env, AVM_MANAGEMENT_ACCOUNT_ID: "999988887777" };
      const check = byId((await doctor()).report, "organization");
      expect(check).to.deep.equal({
        id: "organization",
        title: "AWS Organizations",
        status: "fail",
        detail: `the organization's management account is ${install.managementAccountId}, but AVM_MANAGEMENT_ACCOUNT_ID is 999988887777`,
        fix: `export AVM_MANAGEMENT_ACCOUNT_ID=${install.managementAccountId} (or --management-account-id; and pulumi config set managementAccountId ${install.managementAccountId} on the platform stack)`,
      });
    });

    it("no organization at all", async () => {
      await fetch(`${moto.endpoint}/moto-api/reset`, { method: "POST" });
      const check = byId((await doctor()).report, "organization");
      expect([check.status, check.fix]).to.deep.equal([
        "fail",
        "aws organizations create-organization --feature-set ALL (in the management account)",
      ]);
    });

    it("no platform outputs: ! for every check that needs them; incomplete outputs: ✗", async () => {
      const r = await cli.run(["doctor", "--json"]);
      const report = JSON.parse(r.stdout) as DoctorReport;
      expect(r.code).to.equal(0);
      for (const id of [
        "entry-point",
        "ledger-table",
        "work-queue",
        "dead-letter-queue",
        "webhook-registered",
        "webhook-receiver",
      ]) {
        expect(byId(report, id), id).to.include({
          status: "warn",
          detail: "not checked: the platform stack outputs are not available",
        });
      }
      expect(byId(report, "platform-outputs").status).to.equal("warn");
      writeOutputs({ entryPointArn: install.entryPointArn });
      const partial = byId((await doctor()).report, "platform-outputs");
      expect(partial.status).to.equal("fail");
      expect(partial.detail).to.equal(
        `outputs file ${path.join(dir, "outputs.json")} lacks webhookUrl, ledgerTableName, queueUrl, deadLetterQueueUrl`,
      );
    });

    it("--stack that cannot be read: ✗ naming the stack", async () => {
      overrides.platformStackOutputs = async () => Promise.reject(new Error("error: no stack named 'dev' found"));
      const r = await cli.run(["doctor", "--json", "--stack", "dev"]);
      const check = byId(JSON.parse(r.stdout) as DoctorReport, "platform-outputs");
      expect([r.code, check.status, check.detail]).to.deep.equal([
        1,
        "fail",
        "stack dev: error: no stack named 'dev' found",
      ]);
    });

    it("AVMEntryPoint without the organization's invoke permission: ✗ with the add-permission command", async () => {
      await aws(LambdaClient).send(
        new RemovePermissionCommand({ FunctionName: "AVMEntryPoint", StatementId: "organization-invoke" }),
      );
      const check = byId((await doctor()).report, "entry-point");
      expect(check.status).to.equal("fail");
      expect(check.fix).to.equal(
        `aws lambda add-permission --function-name ${install.entryPointArn} --statement-id organization-invoke ` +
          `--action lambda:InvokeFunction --principal '*' --principal-org-id ${install.organizationId} (or pulumi up on the platform stack)`,
      );
    });

    it("AVMEntryPoint missing", async () => {
      writeOutputs({
        entryPointArn: "arn:aws:lambda:us-east-1:123456789012:function:Gone",
        webhookUrl: receiver.url,
        ledgerTableName: "avm-ledger",
        queueUrl: install.queueUrl,
        deadLetterQueueUrl: install.dlqUrl,
      });
      const check = byId((await doctor()).report, "entry-point");
      expect([check.status, check.fix]).to.deep.equal([
        "fail",
        "pulumi up on the platform stack (creates AVMEntryPoint)",
      ]);
    });

    it("credentials of another account than the platform's: ! for its resources, never ✗ or ✓", async () => {
      writeOutputs({
        entryPointArn: "arn:aws:lambda:us-east-1:444455556666:function:AVMEntryPoint",
        webhookUrl: receiver.url,
        ledgerTableName: "avm-ledger",
        queueUrl: install.queueUrl,
        deadLetterQueueUrl: install.dlqUrl,
      });
      const report = (await doctor()).report;
      for (const id of ["entry-point", "ledger-table", "work-queue", "dead-letter-queue"]) {
        expect(byId(report, id), id).to.deep.include({
          status: "warn",
          detail: "not checked: the platform runs in account 444455556666, the caller is in 123456789012",
          fix: "run avm doctor again with credentials of the automation account",
        });
      }
    });

    it("the ledger table missing", async () => {
      await aws(DynamoDBClient).send(new DeleteTableCommand({ TableName: "avm-ledger" }));
      const check = byId((await doctor()).report, "ledger-table");
      expect([check.status, check.fix]).to.deep.equal([
        "fail",
        "pulumi up on the platform stack (creates the ledger table)",
      ]);
    });

    it("the ledger table deployed before byStateCreatedAt: ✗ with pulumi up, which adds it in place", async () => {
      const dynamo = aws(DynamoDBClient);
      await dynamo.send(new DeleteTableCommand({ TableName: "avm-ledger" }));
      await createLedgerTable(
        dynamo,
        "avm-ledger",
        LEDGER_INDEXES.filter((index) => index.rangeKey === undefined),
      );
      expect(byId((await doctor()).report, "ledger-table")).to.deep.equal({
        id: "ledger-table",
        title: "ledger table",
        status: "fail",
        detail: "avm-ledger has no index byStateCreatedAt (a table deployed before it was added)",
        fix: "pulumi up on the platform stack (adds the missing indexes to the table in place)",
      });
    });

    it("the ledger's new index still backfilling: ✓, saying avm list reads the whole table meanwhile", async () => {
      // moto builds an added index at once; DynamoDB reports CREATING with Backfilling while it fills it.
      overrides.awsClient = (Client, _region, credentials) => {
        const client = aws(Client as new (config: object) => never, credentials) as DynamoDBClient;
        if (Client === DynamoDBClient) {
          client.middlewareStack.add(
            (next, context) => async (args) => {
              const output = await next(args);
              if (context.commandName === "DescribeTableCommand") {
                const table = (output.output as DescribeTableCommandOutput).Table!;
                for (const index of table.GlobalSecondaryIndexes ?? []) {
                  if (index.IndexName === "byStateCreatedAt")
                    Object.assign(index, { IndexStatus: "CREATING", Backfilling: true });
                }
              }
              return output;
            },
            { step: "initialize" },
          );
        }
        return client as never;
      };
      expect(byId((await doctor()).report, "ledger-table")).to.deep.include({
        status: "pass",
        detail:
          "avm-ledger (ACTIVE; index byStateCreatedAt CREATING: avm list reads the whole table until it is ACTIVE)",
      });
    });

    it("the queues missing", async () => {
      writeOutputs({
        entryPointArn: install.entryPointArn,
        webhookUrl: receiver.url,
        ledgerTableName: "avm-ledger",
        queueUrl: "http://127.0.0.1:1/123456789012/nope",
        deadLetterQueueUrl: install.queueUrl.replace("avm-work", "avm-gone"),
      });
      const report = (await doctor()).report;
      expect([byId(report, "work-queue").status, byId(report, "dead-letter-queue").status]).to.deep.equal([
        "fail",
        "fail",
      ]);
    });

    it("no webhook registered, or one with another secret or missing events: ✗ with the ensure command", async () => {
      const fix = `AVM_WEBHOOK_SECRET=<platform webhookSecret> avm webhooks ensure --org acme --url ${receiver.url}`;
      const hook = cloud.webhooks.get("acme")![0]!;
      hook.filters = ["deployment_succeeded"];
      let check = byId((await doctor()).report, "webhook-registered");
      expect(check).to.deep.equal({
        id: "webhook-registered",
        title: "Pulumi Cloud webhook",
        status: "fail",
        detail:
          `webhook ${hook.name} misses the events deployment_failed, drift_detection_failed, drift_detection_succeeded, ` +
          "drift_remediation_failed, drift_remediation_succeeded, update_failed, update_succeeded",
        fix,
      });
      hook.filters = EVENTS;
      hook.displayName = webhookDisplayName(OTHER_SECRET);
      check = byId((await doctor()).report, "webhook-registered");
      expect(check.detail).to.equal(
        `webhook ${hook.name} was registered with another secret than AVM_WEBHOOK_SECRET (its fingerprint differs)`,
      );
      hook.displayName = webhookDisplayName(SECRET);
      const old = cloud.addWebhook("acme", { ...hook, name: "old1", payloadUrl: "https://old.example.com/hook" });
      check = byId((await doctor()).report, "webhook-registered");
      expect(check.detail).to.equal(
        `2 webhooks are registered for the AVM (${hook.name} -> ${receiver.url}, ${old} -> https://old.example.com/hook); exactly one should be`,
      );
      cloud.webhooks.clear();
      const report = (await doctor()).report;
      expect(byId(report, "webhook-registered")).to.include({
        status: "fail",
        detail: `no webhook of organization acme delivers to ${receiver.url}`,
        fix,
      });
      expect(byId(report, "webhook-delivery").status).to.equal("warn");
    });

    it("a receiver with another secret rejects our signed ping: ✗ (and Pulumi Cloud's ping fails too)", async () => {
      await receiver.stop();
      const other = await startReceiver(OTHER_SECRET);
      try {
        writeOutputs({
          entryPointArn: install.entryPointArn,
          webhookUrl: other.url,
          ledgerTableName: "avm-ledger",
          queueUrl: install.queueUrl,
          deadLetterQueueUrl: install.dlqUrl,
        });
        cloud.webhooks.get("acme")![0]!.payloadUrl = other.url;
        const report = (await doctor()).report;
        expect(byId(report, "webhook-receiver")).to.include({
          status: "fail",
          detail: `${other.url} rejected a ping signed with AVM_WEBHOOK_SECRET (401): the receiver has another secret`,
        });
        expect(byId(report, "webhook-delivery")).to.include({
          status: "fail",
          detail: "the receiver answered 401 to Pulumi Cloud's ping: Pulumi Cloud signs with another secret",
        });
      } finally {
        await other.stop();
      }
    });

    it("without AVM_WEBHOOK_SECRET the receiver's secret cannot be checked: !", async () => {
      cli.env = { ...cli.env, AVM_WEBHOOK_SECRET: undefined };
      expect(byId((await doctor()).report, "webhook-receiver")).to.deep.equal({
        id: "webhook-receiver",
        title: "webhook receiver signature check",
        status: "warn",
        detail: "not checked: AVM_WEBHOOK_SECRET is not set",
        fix: 'export AVM_WEBHOOK_SECRET="$(pulumi config get webhookSecret)"',
      });
    });

    it("a receiver without a secret accepts unsigned deliveries: ✗", async () => {
      await receiver.stop();
      const open = await startReceiver(undefined);
      try {
        writeOutputs({
          entryPointArn: install.entryPointArn,
          webhookUrl: open.url,
          ledgerTableName: "avm-ledger",
          queueUrl: install.queueUrl,
          deadLetterQueueUrl: install.dlqUrl,
        });
        const check = byId((await doctor()).report, "webhook-receiver");
        expect([check.status, check.detail]).to.deep.equal([
          "fail",
          `${open.url} accepted an unsigned ping (200): it does not verify signatures`,
        ]);
      } finally {
        await open.stop();
      }
    });

    it("a secret changed in the console: Pulumi Cloud's ping fails; webhooks ensure --resend-secret repairs it", async () => {
      cloud.webhooks.get("acme")![0]!.secret = OTHER_SECRET;
      const check = byId((await doctor()).report, "webhook-delivery");
      expect(check).to.deep.equal({
        id: "webhook-delivery",
        title: "Pulumi Cloud ping through the webhook",
        status: "fail",
        detail: "the receiver answered 401 to Pulumi Cloud's ping: Pulumi Cloud signs with another secret",
        fix: `AVM_WEBHOOK_SECRET=<platform webhookSecret> avm webhooks ensure --org acme --url ${receiver.url} --resend-secret`,
      });
      const ensure = await cli.run(["webhooks", "ensure", "--org", "acme", "--url", receiver.url, "--resend-secret"]);
      expect(ensure.stdout).to.include("  secret: (resent) -> (set)");
      expect(byId((await doctor()).report, "webhook-delivery").status).to.equal("pass");
    });

    it("a token that Pulumi Cloud rejects: ✗ naming PULUMI_ACCESS_TOKEN; none at all: !", async () => {
      cli.env = { ...cli.env, PULUMI_ACCESS_TOKEN: "pul-wrong-0000000000000000000000" };
      const report = (await doctor()).report;
      expect(byId(report, "pulumi-project")).to.include({
        status: "fail",
        fix: "export PULUMI_ACCESS_TOKEN=<a token of a member (admin for webhooks) of the organization>",
      });
      expect(byId(report, "pulumi-project").detail).to.match(/HTTP 401/);
      expect(JSON.stringify(report)).not.to.include("pul-wrong-0000000000000000000000");
      cli.env = { ...cli.env, PULUMI_ACCESS_TOKEN: undefined };
      const none = (await doctor()).report;
      expect(byId(none, "pulumi-project")).to.include({
        status: "warn",
        detail:
          "not checked: PULUMI_ACCESS_TOKEN is not set: avm doctor's Pulumi Cloud checks needs a Pulumi access token",
      });
    });

    it("remote runner: missing repository setting, missing or different deployment settings", async () => {
      const stack = `acme/meshstack-avm/account-${install.memberId}`;
      cloud.settings.set(stack, { sourceContext: { git: { repoURL: "https://github.com/acme/fork.git" } } });
      let check = byId((await doctor()).report, "deployment-settings");
      expect(check).to.deep.equal({
        id: "deployment-settings",
        title: "Pulumi Deployments settings",
        status: "fail",
        detail: `account-${install.memberId} deploys from https://github.com/acme/fork.git, not AVM_PULUMI_REPO_URL`,
        fix: `avm bootstrap ${install.memberId} --remote (rewrites the stack's deployment settings)`,
      });
      cloud.settings.set(stack, {
        sourceContext: { git: { repoURL: REPO } },
        operationContext: {
          environmentVariables: { AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY: { ciphertext: "x" } },
        },
      });
      check = byId((await doctor()).report, "deployment-settings");
      expect(check).to.deep.equal({
        id: "deployment-settings",
        title: "Pulumi Deployments settings",
        status: "fail",
        detail: `account-${install.memberId} carries static AWS keys in its deployment settings (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)`,
        fix:
          "remove them from the stack's Deployments environment variables in Pulumi Cloud and set deploymentsOidc on " +
          "the platform stack (docs/security.md: Pulumi Deployments without static AWS keys)",
      });
      const role = "arn:aws:iam::111122223333:role/AVMDeploymentsRole";
      cloud.settings.set(stack, { sourceContext: { git: { repoURL: REPO } } });
      cli.env = { ...cli.env, AVM_DEPLOYMENTS_ROLE_ARN: role };
      check = byId((await doctor()).report, "deployment-settings");
      expect([check.status, check.detail, check.fix]).to.deep.equal([
        "fail",
        `account-${install.memberId} does not assume AVM_DEPLOYMENTS_ROLE_ARN through OIDC (its settings name no role)`,
        `avm bootstrap ${install.memberId} --remote (rewrites the stack's deployment settings)`,
      ]);
      cloud.settings.set(stack, {
        sourceContext: { git: { repoURL: REPO } },
        operationContext: { oidc: { aws: { roleArn: role, sessionName: `avm-account-${install.memberId}` } } },
      });
      check = byId((await doctor()).report, "deployment-settings");
      expect([check.status, check.detail]).to.deep.equal([
        "pass",
        `account-${install.memberId} deploys from ${REPO}; AWS credentials through OIDC (${role})`,
      ]);
      cli.env = { ...cli.env, AVM_DEPLOYMENTS_ROLE_ARN: undefined };
      cloud.settings.delete(stack);
      check = byId((await doctor()).report, "deployment-settings");
      expect([check.status, check.detail]).to.deep.equal([
        "fail",
        `account-${install.memberId} has no deployment settings`,
      ]);
      cli.env = { ...cli.env, AVM_PULUMI_REPO_URL: undefined };
      check = byId((await doctor()).report, "deployment-settings");
      expect([check.status, check.fix]).to.deep.equal(["fail", "export AVM_PULUMI_REPO_URL=..."]);
      cli.env = { ...cli.env, AVM_STACK_RUNNER: "offline" };
      check = byId((await doctor()).report, "deployment-settings");
      expect([check.status, check.detail]).to.deep.equal([
        "warn",
        "not checked: the stack runner is offline, not remote",
      ]);
    });

    it("a bootstrap role that cannot be assumed: ✗ with the permission to grant", async () => {
      overrides.awsClient = (Client, _region, credentials) => {
        const client = aws(Client as new (config: object) => never, credentials) as STSClient;
        if (Client === STSClient) {
          client.middlewareStack.add(
            (next, context) => async (args) => {
              if (context.commandName === "AssumeRoleCommand") {
                throw Object.assign(new Error("User is not authorized to perform: sts:AssumeRole"), {
                  name: "AccessDenied",
                });
              }
              return next(args);
            },
            { step: "initialize" },
          );
        }
        return client as never;
      };
      const check = byId((await doctor()).report, "bootstrap-role");
      expect(check.status).to.equal("fail");
      expect(check.detail).to.equal(
        `cannot assume arn:aws:iam::${install.memberId}:role/OrganizationAccountAccessRole: AccessDenied: User is not authorized to perform: sts:AssumeRole`,
      );
      expect(check.fix).to.equal(
        "allow the caller (arn:aws:sts::123456789012:user/moto) sts:AssumeRole on arn:aws:iam::*:role/OrganizationAccountAccessRole and make " +
          "the role trust the management account; if your bootstrap role has another name, export AVM_BOOTSTRAP_ROLE_NAME",
      );
    });

    it("credentials of a member account: the management-only and automation-only checks say they cannot run", async () => {
      const assumed = await aws(STSClient).send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${install.memberId}:role/OrganizationAccountAccessRole`,
          RoleSessionName: "member",
        }),
      );
      const member = {
        accessKeyId: assumed.Credentials!.AccessKeyId!,
        secretAccessKey: assumed.Credentials!.SecretAccessKey!,
        sessionToken: assumed.Credentials!.SessionToken!,
      };
      overrides.awsClient = (Client, _region, credentials) =>
        aws(Client as new (config: object) => never, credentials ?? member);
      const report = (await doctor()).report;
      expect(byId(report, "aws-credentials").detail).to.match(new RegExp(`\\(account ${install.memberId}\\)$`));
      expect(byId(report, "bootstrap-role")).to.deep.equal({
        id: "bootstrap-role",
        title: "bootstrap role OrganizationAccountAccessRole",
        status: "warn",
        detail:
          `not checked: the caller is in account ${install.memberId}, not the management account ` +
          `${install.managementAccountId} (the bootstrap role trusts the management account)`,
        fix: "run avm doctor again with credentials of the management account",
      });
      expect(byId(report, "entry-point")).to.include({
        status: "warn",
        detail: `not checked: the platform runs in account 123456789012, the caller is in ${install.memberId}`,
      });
    });

    it("no permission to read the organization: ! (not checked), never passed", async () => {
      overrides.organizationsClient = () => {
        const client = aws(OrganizationsClient);
        client.middlewareStack.add(
          () => async () => {
            throw Object.assign(new Error("You don't have permissions to access this resource."), {
              name: "AccessDeniedException",
            });
          },
          { step: "initialize" },
        );
        return client;
      };
      const report = (await doctor()).report;
      expect(byId(report, "organization")).to.deep.equal({
        id: "organization",
        title: "AWS Organizations",
        status: "warn",
        detail: "not checked: AccessDeniedException: You don't have permissions to access this resource.",
        fix: "grant organizations:DescribeOrganization to the caller",
      });
      expect(byId(report, "bootstrap-role").status).to.equal("warn");
    });

    it("local tools: the local runner needs the pulumi CLI and a passphrase", async () => {
      cli.env = { ...cli.env, AVM_STACK_RUNNER: "local", PULUMI_CONFIG_PASSPHRASE: undefined };
      const report = (await doctor()).report;
      expect(byId(report, "pulumi-cli")).to.include({
        status: "fail",
        detail: "not found on PATH, but AVM_STACK_RUNNER is local",
      });
      expect(byId(report, "state-backend")).to.include({
        status: "fail",
        detail:
          "PULUMI_CONFIG_PASSPHRASE is not set: the passphrase secrets provider needs it to encrypt account stack secrets " +
          "(set it, or PULUMI_CONFIG_PASSPHRASE_FILE, or choose AVM_SECRETS_PROVIDER=awskms://<key>)",
      });
      cli.pulumiOnPath = true;
      cli.env = { ...cli.env, PULUMI_CONFIG_PASSPHRASE: "x" };
      const fixed = (await doctor()).report;
      expect(byId(fixed, "pulumi-cli")).to.include({ status: "pass", detail: "v3.210.0" });
      expect(byId(fixed, "state-backend")).to.include({
        status: "pass",
        detail: `file://${dir}/state, secrets provider passphrase (PULUMI_CONFIG_PASSPHRASE set)`,
      });
      cli.env = { ...cli.env, PULUMI_BACKEND_URL: undefined };
      expect(byId((await doctor()).report, "state-backend")).to.include({
        status: "pass",
        detail: `file://${path.join(defaultRepoRoot(), ".avm", "state")}, secrets provider passphrase (PULUMI_CONFIG_PASSPHRASE set)`,
      });
    });

    it("Node.js older than 22", () => {
      expect(checkNode("20.11.1")).to.deep.equal({
        id: "node",
        title: "Node.js",
        status: "fail",
        detail: "v20.11.1 is older than 22",
        fix: "source scripts/node22.sh (or install Node.js 22)",
      });
      expect(checkNode("22.23.3").status).to.equal("pass");
    });
  });

  describe("usage errors (exit 2)", () => {
    it("names the bad flag", async () => {
      const cases: [string[], string][] = [
        [["--outputs", "/nonexistent/outputs.json"], '--outputs: cannot read "/nonexistent/outputs.json"'],
        [["--outputs", "x.json", "--stack", "dev"], "--outputs and --stack are mutually exclusive"],
        [
          ["--management-account-id", "12"],
          '--management-account-id (or AVM_MANAGEMENT_ACCOUNT_ID) must be a 12-digit AWS account id, got "12"',
        ],
        [["--runner", "cloud"], "option '--runner <kind>' argument 'cloud' is invalid"],
      ];
      for (const [args, message] of cases) {
        const r = await cli.run(["doctor", ...args]);
        expect(r.code, message).to.equal(2);
        expect(r.stderr, message).to.include(`avm: error: ${message}`);
      }
      writeFileSync(path.join(dir, "bad.json"), "[1]");
      const r = await cli.run(["doctor", "--outputs", path.join(dir, "bad.json")]);
      expect([r.code, r.stderr]).to.deep.equal([
        2,
        `avm: error: --outputs: "${path.join(dir, "bad.json")}" must hold a JSON object (pulumi stack output --json)\n`,
      ]);
    });
  });
});
