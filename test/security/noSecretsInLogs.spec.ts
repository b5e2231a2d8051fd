/**
 * Log capture: the webhook secret, the Pulumi access token, the state passphrase and the external id never appear
 * in any log line, answer, error message or command output, on success and failure paths alike:
 * - the `avm` CLI in-process (`bootstrap --remote` through the real Pulumi Deployments runner against a local fake
 *   of the Pulumi Cloud API, `vend`, `status`, `list`), with every secret in its environment;
 * - the Lambda webhook host with the production Powertools logger (stdout captured) and the secret read from a
 *   mocked Secrets Manager;
 * - the `AVMEntryPoint` handler with the production Powertools logger rejecting a payload whose values look like
 *   secrets (payload values are never logged).
 */
import { expect } from "chai";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Logger } from "@aws-lambda-powertools/logger";
import type { LambdaFunctionURLEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { defaultDeps } from "../../automation/cli/deps";
import { createEntryPointHandler } from "../../src/lambda/entryPoint/handler";
import { createWebhookHandler, fromPowertools } from "../../src/lambda/webhook/handler";
import { secretsManagerSecret } from "../../src/adapters/aws/secretsManagerSecret";
import { MemoryDeliveryStore } from "../../src/adapters/local/memoryDeliveryStore";
import { computeSignature } from "../../src/core/webhooks/signature";
import { LedgerStackOutcomeRecorder } from "../../src/core/webhooks/stackOutcomeRecorder";
import { MemoryLedger } from "../support/memoryLedger";
import { CliHarness } from "../automation/cli/harness";
import { FakePulumiCloud } from "../support/fakePulumiCloud";
import { RecordingQueue } from "../support/recordingQueue";
import { RecordingTiming } from "../support/recordingTiming";
import { captureOutput } from "../support/captureOutput";
import { HANG_GUARD_MS } from "../support/hangGuard";
import { OPERATOR_GATE } from "../support/entryPointGates";

const WEBHOOK_SECRET = "whsec-log-7c6b5a4f3e2d1c0b9a8f7e6d";
const PULUMI_TOKEN = "pul-log-0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const PASSPHRASE = "passphrase-log-correct-horse-battery";
const EXTERNAL_ID = "ext-log-4d3c2b1a0f9e8d7c";
const SECRETS = { WEBHOOK_SECRET, PULUMI_TOKEN, PASSPHRASE, EXTERNAL_ID };

/** Names of the secrets found in `text`. */
function leaked(text: string): string[] {
  return Object.entries(SECRETS)
    .filter(([, value]) => text.includes(value))
    .map(([name]) => name);
}

describe("no secret in any log line or output", function () {
  this.timeout(HANG_GUARD_MS);

  describe("avm CLI with every secret in its environment", () => {
    let cloud: FakePulumiCloud;
    let harness: CliHarness;

    beforeEach(async () => {
      cloud = new FakePulumiCloud(PULUMI_TOKEN);
      const apiUrl = await cloud.start();
      harness = new CliHarness({ remoteStackRunner: defaultDeps().remoteStackRunner });
      harness.env = {
        AVM_MANAGEMENT_ACCOUNT_ID: "111122223333",
        AVM_AUTOMATION_ACCOUNT_ID: "444455556666",
        AVM_EXTERNAL_ID: EXTERNAL_ID,
        AVM_WEBHOOK_SECRET: WEBHOOK_SECRET,
        PULUMI_ACCESS_TOKEN: PULUMI_TOKEN,
        PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
        PULUMI_API_URL: apiUrl,
        AVM_PULUMI_ORGANIZATION: "acme",
        AVM_PULUMI_REPO_URL: "https://github.com/acme/meshstack-avm.git",
        AVM_DEPLOYMENT_WAIT_SECONDS: "60",
      };
    });
    afterEach(async () => {
      harness.dispose();
      await cloud.stop();
    });

    it("deploys through Pulumi Deployments: the token and external id reach the API only", async () => {
      cloud.nextStatuses = ["succeeded"];
      const text = await harness.run(["bootstrap", "222233334444", "--remote"]);
      const json = await harness.run(["bootstrap", "333344445555", "--remote", "--json"]);
      expect([text.code, json.code], text.stderr + json.stderr).to.deep.equal([0, 0]);
      expect(text.stdout).to.include("account-222233334444: deployed");
      // The secrets did travel where they belong: the Authorization header and a secret env var of the deployment.
      expect(cloud.requests.every((r) => r.authorization === `token ${PULUMI_TOKEN}`)).to.equal(true);
      expect(JSON.stringify([...cloud.settings.values()])).to.include(`{"secret":"${EXTERNAL_ID}"}`);
      expect(leaked(text.stdout + text.stderr + json.stdout + json.stderr)).to.deep.equal([]);
    });

    it("reports a failed deployment and a rejected token without echoing either secret", async () => {
      cloud.nextStatuses = ["failed"];
      const failed = await harness.run(["bootstrap", "222233334444", "--remote"]);
      harness.env = { ...harness.env, PULUMI_ACCESS_TOKEN: `${PULUMI_TOKEN}-revoked` };
      const rejected = await harness.run(["bootstrap", "222233334444", "--remote", "--json"]);
      expect([failed.code, rejected.code]).to.deep.equal([1, 1]);
      expect(failed.stderr).to.match(/^avm: error: update deployment #1 of account-222233334444 failed/m);
      expect(rejected.stderr).to.match(/^avm: error: POST \/api\/stacks\/acme\/meshstack-avm: HTTP 401: /m);
      const everything = failed.stdout + failed.stderr + rejected.stdout + rejected.stderr;
      expect(leaked(everything)).to.deep.equal([]);
      expect(everything).not.to.include(`${PULUMI_TOKEN}-revoked`);
    });

    it("vends, reports status and lists without printing a secret", async () => {
      const runs = [
        await harness.run(["vend", "--account-name", "team-a", "--email", "team-a@example.com", "--request-id", "r1"]),
        await harness.run(["status", "--request-id", "r1", "--json"]),
        await harness.run(["status", "--email", "team-a@example.com"]),
        await harness.run(["list", "--json"]),
      ];
      expect(runs.map((r) => r.code)).to.deep.equal([0, 0, 0, 0]);
      expect(leaked(runs.map((r) => r.stdout + r.stderr).join("\n"))).to.deep.equal([]);
    });
  });

  describe("Lambda webhook host with the Powertools logger", () => {
    const secretsManager = new SecretsManagerClient({ region: "eu-central-1" });
    const sm = mockClient(secretsManager);
    after(() => sm.restore());

    function event(body: string, headers: Record<string, string>): LambdaFunctionURLEvent {
      return {
        body,
        isBase64Encoded: false,
        headers,
        requestContext: { http: { method: "POST" } },
      } as unknown as LambdaFunctionURLEvent;
    }

    it("logs rejections and applications as JSON lines without the secret or any signature", async () => {
      const arn = "arn:aws:secretsmanager:eu-central-1:444455556666:secret:avm/webhook-secret-AbCdEf";
      sm.on(GetSecretValueCommand, { SecretId: arn }).resolves({ SecretString: WEBHOOK_SECRET });
      const ledger = new MemoryLedger();
      const now = new Date("2026-01-01T00:00:00Z");
      const { record } = await ledger.claim(
        { email: "a@example.com", requestId: "req-1", kind: "meshstack-hook", request: {}, accountId: "222233334444" },
        now,
      );
      await ledger.update(record.email, record.version, { state: "BOOTSTRAPPING" }, now);
      const timing = new RecordingTiming();
      const body = JSON.stringify({
        projectName: "meshstack-avm",
        stackName: "account-222233334444",
        status: "succeeded",
        operation: "update",
        version: 3,
      });
      const good = computeSignature(WEBHOOK_SECRET, body);
      const signatures = [good, computeSignature("not-the-secret", body)];
      const { result, text } = await captureOutput(async () => {
        const handler = createWebhookHandler({
          secret: secretsManagerSecret(secretsManager, arn),
          recorder: new LedgerStackOutcomeRecorder({ ledger, queue: new RecordingQueue(), timing }),
          deliveries: new MemoryDeliveryStore(),
          timing,
          logger: fromPowertools(new Logger({ serviceName: "avm-webhook" })),
        });
        const headers = (id: string, signature?: string) => ({
          "Pulumi-Webhook-ID": id,
          "Pulumi-Webhook-Kind": "deployment",
          ...(signature === undefined ? {} : { "Pulumi-Webhook-Signature": signature }),
        });
        return Promise.all([
          handler(event(body, headers("w-1"))),
          handler(event(body, headers("w-2", signatures[1]))),
          handler(event(`${body} `, headers("w-3", good))),
          handler(event("{not json", headers("w-4", computeSignature(WEBHOOK_SECRET, "{not json")))),
          handler(event(body, headers("w-5", good))),
        ]);
      });
      expect(result.map((r) => r.statusCode)).to.deep.equal([401, 401, 401, 400, 200]);
      const lines = text.trim().split("\n");
      expect(lines.length).to.be.at.least(4);
      expect(lines.map((line) => (JSON.parse(line) as { level: string }).level)).to.include("WARN");
      const everything = text + result.map((r) => r.body).join("\n");
      expect(leaked(everything)).to.deep.equal([]);
      for (const signature of signatures) expect(everything).not.to.include(signature);
    });
  });

  describe("AVMEntryPoint with the Powertools logger", () => {
    it("rejects a bad payload without logging its values", async () => {
      const { result, text } = await captureOutput(async () => {
        const handler = createEntryPointHandler({
          ledger: new MemoryLedger(),
          queue: new RecordingQueue(),
          now: () => new Date("2026-01-01T00:00:00Z"),
          logger: new Logger({ serviceName: "AVMEntryPoint" }),
          gate: OPERATOR_GATE,
        });
        return handler({
          AccountName: EXTERNAL_ID,
          AccountEmail: `${PULUMI_TOKEN}@`,
          AccountId: WEBHOOK_SECRET,
          ProductName: PASSPHRASE,
        });
      });
      expect(result).to.have.property("error");
      expect(text).to.include('"message":"invalid request"');
      expect(leaked(text)).to.deep.equal([]);
    });
  });
});
