import { expect } from "chai";
import { DeploymentsAccountStackRunner } from "../../../src/stacks/deploymentsRunner";
import { shellQuote } from "../../../src/shared/shellQuote";
import {
  DeploymentFailedError,
  DeploymentSkippedError,
  DeploymentsConfigError,
  PulumiCloudApiError,
  PulumiCloudAuthError,
} from "../../../src/stacks/deploymentsErrors";
import { PulumiCloudClient, tokenFromEnv } from "../../../src/stacks/pulumiCloudClient";
import type { AccountStackSettings } from "../../../automation/stacks/stackConfig";
import type { AutomationLogger } from "../../../automation/logger";
import { FakePulumiCloud } from "../../support/fakePulumiCloud";
import { RecordingTiming } from "../../support/recordingTiming";
import { rejection } from "../../support/rejection";

const TOKEN = "pul-0123456789abcdef0123456789abcdef01234567";
const ACCOUNT = "222233334444";
const STACK_PATH = "/api/stacks/acme/meshstack-avm/account-222233334444";
const settings: AccountStackSettings = {
  managementAccountId: "111122223333",
  automationAccountId: "444455556666",
  region: "eu-central-1",
  externalId: "ext-secret-42",
};
const request = {
  accountId: ACCOUNT,
  accountName: "team-a",
  email: "a@example.com",
  requestId: "req-1",
  tags: { "Cost Center": "12 34" },
};

const QUOTED_STACK = "'acme/meshstack-avm/account-222233334444'";
/** The Deployments settings a deploy of `request` writes: git source, stack config, external id as a secret env var. */
const SETTINGS = {
  sourceContext: { git: { repoURL: "https://github.com/acme/meshstack-avm.git", branch: "refs/heads/main" } },
  operationContext: {
    preRunCommands: [
      `pulumi config set-all --stack ${QUOTED_STACK} --plaintext 'aws:region=eu-central-1' ` +
        "--plaintext 'meshstack-avm:stackKind=account' --plaintext 'meshstack-avm:accountId=222233334444' " +
        "--plaintext 'meshstack-avm:managementAccountId=111122223333' " +
        "--plaintext 'meshstack-avm:automationAccountId=444455556666' " +
        `--plaintext 'meshstack-avm:tags={"Cost Center":"12 34"}'`,
      `pulumi config set --stack ${QUOTED_STACK} --secret -- 'meshstack-avm:externalId' "$AVM_EXTERNAL_ID"`,
    ],
    environmentVariables: { AVM_EXTERNAL_ID: { secret: "ext-secret-42" } },
  },
};

describe("DeploymentsAccountStackRunner", () => {
  let cloud: FakePulumiCloud;
  let baseUrl: string;
  let timing: RecordingTiming;
  let logs: string[];

  beforeEach(async () => {
    cloud = new FakePulumiCloud(TOKEN);
    baseUrl = await cloud.start();
    timing = new RecordingTiming();
    logs = [];
  });
  afterEach(() => cloud.stop());

  function runner(
    options: { token?: string; waitTimeoutMs?: number; awsOidcRoleArn?: string } = {},
  ): DeploymentsAccountStackRunner {
    const log = (message: string, extra?: Record<string, unknown>): void => {
      logs.push(JSON.stringify([message, extra ?? {}]));
    };
    const logger: AutomationLogger = { debug: log, info: log, warn: log, error: log };
    return new DeploymentsAccountStackRunner({
      client: new PulumiCloudClient({ token: options.token ?? TOKEN, baseUrl, timing, baseDelayMs: 100 }),
      organization: "acme",
      source: { repoUrl: "https://github.com/acme/meshstack-avm.git", branch: "main" },
      settings,
      timing,
      logger,
      pollIntervalMs: 5000,
      waitTimeoutMs: options.waitTimeoutMs ?? 60_000,
      ...(options.awsOidcRoleArn === undefined ? {} : { awsOidcRoleArn: options.awsOidcRoleArn }),
    });
  }

  it("creates the stack, patches settings, creates an update deployment and polls it to success", async () => {
    const result = await runner().deploy(request);
    expect(result).to.deep.equal({
      stackName: "account-222233334444",
      url: "https://app.pulumi.com/acme/meshstack-avm/account-222233334444/deployments/1",
      status: "deployed",
      summary: "deployment #1 succeeded",
    });
    expect(cloud.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal([
      "POST /api/stacks/acme/meshstack-avm",
      `POST ${STACK_PATH}/deployments/settings`,
      `POST ${STACK_PATH}/deployments`,
      `GET ${STACK_PATH}/deployments/dep-1`,
      `GET ${STACK_PATH}/deployments/dep-1`,
      `GET ${STACK_PATH}/deployments/dep-1`,
    ]);
    expect(cloud.requests.every((r) => r.authorization === `token ${TOKEN}`)).to.equal(true);
    expect(cloud.requests[0]?.body).to.deep.equal({ stackName: "account-222233334444" });
    expect(cloud.requests[2]?.body).to.deep.equal({ operation: "update", inheritSettings: true });
    expect(timing.sleeps).to.deep.equal([5000, 5000]);
  });

  it("writes the git source and the stack config; the external id travels only as a secret env var", async () => {
    await runner().deploy(request);
    expect(cloud.settings.get("acme/meshstack-avm/account-222233334444")).to.deep.equal(SETTINGS);
  });

  it("with the deploy role, sets AWS OIDC (role, per-stack session, 1 hour) and sends no static AWS keys", async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    // Keys in the runner's own environment must not travel to Pulumi Cloud.
    process.env.AWS_ACCESS_KEY_ID = "AKIAOPERATORKEY00001";
    process.env.AWS_SECRET_ACCESS_KEY = "operator-secret-key-never-sent";
    try {
      await runner({ awsOidcRoleArn: "arn:aws:iam::111122223333:role/AVMDeploymentsRole" }).deploy(request);
    } finally {
      for (const [name, value] of [
        ["AWS_ACCESS_KEY_ID", saved.id],
        ["AWS_SECRET_ACCESS_KEY", saved.secret],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    expect(cloud.settings.get("acme/meshstack-avm/account-222233334444")).to.deep.equal({
      ...SETTINGS,
      operationContext: {
        ...SETTINGS.operationContext,
        oidc: {
          aws: {
            roleArn: "arn:aws:iam::111122223333:role/AVMDeploymentsRole",
            sessionName: "avm-account-222233334444",
            duration: "1h",
          },
        },
      },
    });
    const sent = JSON.stringify(cloud.requests.map((r) => r.body));
    expect([
      sent.includes("AKIA"),
      sent.includes("operator-secret-key"),
      sent.includes("AWS_ACCESS_KEY_ID"),
    ]).to.deep.equal([false, false, false]);
  });

  it("refuses a deploy role that is not an IAM role ARN, naming the variable", () => {
    expect(() => runner({ awsOidcRoleArn: "arn:aws:iam::111122223333:user/deployer" })).to.throw(
      DeploymentsConfigError,
      'AVM_DEPLOYMENTS_ROLE_ARN must be an IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>), got "arn:aws:iam::111122223333:user/deployer"',
    );
  });

  it("treats an existing stack (409 on create) as fine", async () => {
    cloud.stacks.add("acme/meshstack-avm/account-222233334444");
    expect((await runner().deploy(request)).status).to.equal("deployed");
  });

  it("returns queued with the console URL when the deployment does not finish within the wait budget", async () => {
    cloud.nextStatuses = ["not-started", "not-started", "not-started", "not-started", "not-started"];
    const result = await runner({ waitTimeoutMs: 12_000 }).deploy(request);
    expect(result).to.deep.equal({
      stackName: "account-222233334444",
      url: "https://app.pulumi.com/acme/meshstack-avm/account-222233334444/deployments/1",
      status: "queued",
      deploymentVersion: 1,
      summary: "deployment #1 not-started; the outcome arrives by webhook",
    });
    expect(timing.sleeps).to.deep.equal([5000, 5000]);
  });

  it("returns queued right after creating the deployment when the wait budget is 0 (Lambda)", async () => {
    const result = await runner({ waitTimeoutMs: 0 }).deploy(request);
    expect(result.status).to.equal("queued");
    expect(cloud.requests.filter((r) => r.method === "GET")).to.have.length(1);
    expect(timing.sleeps).to.deep.equal([]);
  });

  it("waits for a deployment already running on the stack (409), then creates its own", async () => {
    cloud.conflictWhileActive = true;
    cloud.stacks.add("acme/meshstack-avm/account-222233334444");
    const active = cloud.addActiveDeployment("acme/meshstack-avm/account-222233334444", [
      "running",
      "running",
      "succeeded",
    ]);
    const result = await runner().deploy(request);
    expect(result.summary).to.equal("deployment #2 succeeded");
    const calls = cloud.requests.map((r) => `${r.method} ${r.path}`);
    expect(calls.slice(2, 7)).to.deep.equal([
      `POST ${STACK_PATH}/deployments`,
      `GET ${STACK_PATH}/deployments?page=1&pageSize=10`,
      `GET ${STACK_PATH}/deployments/${active}`,
      `GET ${STACK_PATH}/deployments/${active}`,
      `GET ${STACK_PATH}/deployments/${active}`,
    ]);
    expect(calls[7]).to.equal(`POST ${STACK_PATH}/deployments`);
  });

  it("polls a queued deployment (the stack's queue) until it runs and succeeds", async () => {
    cloud.nextStatuses = ["not-started", "not-started", "accepted", "running", "succeeded"];
    expect((await runner().deploy(request)).status).to.equal("deployed");
    expect(timing.sleeps).to.deep.equal([5000, 5000, 5000, 5000]);
  });

  it("raises DeploymentFailedError with the console URL for a failed deployment", async () => {
    cloud.nextStatuses = ["running", "failed"];
    const error = await rejection(runner().deploy(request));
    expect(error).to.be.instanceOf(DeploymentFailedError);
    expect(error.message).to.equal(
      "update deployment #1 of account-222233334444 failed (https://app.pulumi.com/acme/meshstack-avm/account-222233334444/deployments/1)",
    );
  });

  it("raises DeploymentSkippedError for a skipped deployment", async () => {
    cloud.nextStatuses = ["not-started", "skipped"];
    const error = await rejection(runner().deploy(request));
    expect(error).to.be.instanceOf(DeploymentSkippedError);
    expect(error.message).to.equal(
      "update deployment #1 of account-222233334444 was skipped (superseded or expired in the queue) (https://app.pulumi.com/acme/meshstack-avm/account-222233334444/deployments/1)",
    );
  });

  it("runs destroy deployments too", async () => {
    cloud.stacks.add("acme/meshstack-avm/account-222233334444");
    expect((await runner().destroy(ACCOUNT)).summary).to.equal("deployment #1 succeeded");
    expect(
      cloud.requests.find((r) => r.path === `${STACK_PATH}/deployments` && r.method === "POST")?.body,
    ).to.deep.equal({
      operation: "destroy",
      inheritSettings: true,
      operationContext: { options: { deleteAfterDestroy: true } },
    });
  });

  it("gives a clear 401 error without the token", async () => {
    const error = await rejection(runner({ token: "pul-wrong-token-value" }).deploy(request));
    expect(error).to.be.instanceOf(PulumiCloudAuthError);
    expect((error as PulumiCloudAuthError).status).to.equal(401);
    expect(error.message).to.equal(
      "POST /api/stacks/acme/meshstack-avm: HTTP 401: the Pulumi access token is invalid or lacks access " +
        "(Unauthorized: No credentials provided or are invalid.); check PULUMI_ACCESS_TOKEN",
    );
    expect(error.message).to.not.include("pul-wrong-token-value");
  });

  it("retries 5xx with backoff and succeeds", async () => {
    cloud.inject.push({ method: "POST", pathIncludes: "/deployments/settings", status: 503, times: 2 });
    expect((await runner().deploy(request)).status).to.equal("deployed");
    // two retries (50 + 100*0.5*... full jitter halves): 100 -> 75, 200 -> 150; then the polls
    expect(timing.sleeps).to.deep.equal([75, 150, 5000, 5000]);
  });

  it("honours Retry-After on 429", async () => {
    cloud.inject.push({
      method: "POST",
      pathIncludes: "/deployments/settings",
      status: 429,
      times: 1,
      retryAfter: "7",
    });
    expect((await runner().deploy(request)).status).to.equal("deployed");
    expect(timing.sleeps).to.deep.equal([7000, 5000, 5000]);
  });

  it("gives up on persistent 5xx with the status and attempts in the message", async () => {
    cloud.inject.push({ method: "POST", pathIncludes: "/deployments/settings", status: 500, times: 10 });
    const error = await rejection(runner().deploy(request));
    expect(error).to.be.instanceOf(PulumiCloudApiError);
    expect(error.message).to.equal(`POST ${STACK_PATH}/deployments/settings: HTTP 500 after 4 attempts: injected 500`);
  });

  it("does not retry other 4xx answers", async () => {
    cloud.inject.push({ method: "POST", pathIncludes: `${STACK_PATH}/deployments`, status: 400, times: 1 });
    const error = await rejection(runner().deploy(request));
    expect((error as PulumiCloudApiError).status).to.equal(400);
    expect(timing.sleeps).to.deep.equal([]);
  });

  it("never logs the token or the external id", async () => {
    await runner().deploy(request);
    const text = logs.join("\n");
    expect(logs.length).to.be.greaterThan(2);
    expect(text).to.not.include(TOKEN);
    expect(text).to.not.include("ext-secret-42");
  });

  it("validates its settings", () => {
    const make = (organization: string, repoUrl: string) => () =>
      new DeploymentsAccountStackRunner({
        client: new PulumiCloudClient({ token: TOKEN, baseUrl }),
        organization,
        source: { repoUrl, branch: "main" },
        settings,
      });
    expect(make("acme corp", "https://github.com/acme/x.git")).to.throw(
      DeploymentsConfigError,
      'Pulumi organization must be letters, digits and ._- (at most 100), got "acme corp"',
    );
    expect(make("acme", "/local/path")).to.throw(
      DeploymentsConfigError,
      'repository URL must be an https:// or ssh git URL, got "/local/path"',
    );
    expect(() => tokenFromEnv({})).to.throw(DeploymentsConfigError, "PULUMI_ACCESS_TOKEN is not set");
    expect(tokenFromEnv({ PULUMI_ACCESS_TOKEN: ` ${TOKEN} ` })).to.equal(TOKEN);
  });

  it("quotes shell arguments safely", () => {
    expect(shellQuote("a'b $(x)")).to.equal("'a'\\''b $(x)'");
  });
});

describe("PulumiCloudClient", () => {
  it("reports a 2xx body that is not JSON clearly, without the token", async () => {
    const { createServer } = await import("node:http");
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<html>proxy login for ${TOKEN}</html>`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const client = new PulumiCloudClient({
        token: TOKEN,
        baseUrl: `http://127.0.0.1:${port}`,
        timing: new RecordingTiming(),
      });
      const error = await rejection(client.request("GET", "/api/user"));
      expect(error).to.be.instanceOf(PulumiCloudApiError);
      expect(error.message).to.equal(
        "GET /api/user: HTTP 200 with a body that is not JSON: <html>proxy login for [redacted]</html>",
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
