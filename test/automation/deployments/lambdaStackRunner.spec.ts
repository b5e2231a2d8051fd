import { expect } from "chai";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  AccountStackRunnerNotConfiguredError,
  createLambdaAccountStackRunner,
  settingsFromEnv,
} from "../../../src/lambda/worker/stackRunner";
import { FakePulumiCloud } from "../../support/fakePulumiCloud";
import { PulumiCloudAuthError } from "../../../src/stacks/deploymentsErrors";
import { RecordingTiming } from "../../support/recordingTiming";

const TOKEN = "pul-lambda-token-0123456789";
const env = {
  AVM_PULUMI_ORGANIZATION: "acme",
  AVM_PULUMI_TOKEN_SECRET_ARN: "arn:aws:secretsmanager:eu-central-1:444455556666:secret:avm-pulumi-token-AbC",
  AVM_EXTERNAL_ID_SECRET_ARN: "arn:aws:secretsmanager:eu-central-1:444455556666:secret:avm-external-id-DeF",
  AVM_PULUMI_REPO_URL: "https://github.com/acme/meshstack-avm.git",
  AVM_MANAGEMENT_ROLE_ARN: "arn:aws:iam::111122223333:role/AVMVendingRole",
  AVM_QUEUE_URL: "https://sqs.eu-central-1.amazonaws.com/444455556666/avm-work",
  AVM_BOOTSTRAP_ROLE_NAME: "OrganizationAccountAccessRole",
  AWS_REGION: "eu-central-1",
};
const request = { accountId: "222233334444", accountName: "a", email: "a@example.com", requestId: "r-1", tags: {} };

describe("createLambdaAccountStackRunner (worker Lambda -> Pulumi Deployments)", () => {
  // Created per suite (not at collection time) so suites in one process do not restore each other's stubs.
  let sm: AwsClientStub<SecretsManagerClient>;
  before(() => {
    sm = mockClient(SecretsManagerClient);
  });
  let cloud: FakePulumiCloud;
  let baseUrl: string;
  beforeEach(async () => {
    cloud = new FakePulumiCloud(TOKEN);
    baseUrl = await cloud.start();
    sm.on(GetSecretValueCommand, { SecretId: env.AVM_PULUMI_TOKEN_SECRET_ARN }).resolves({ SecretString: TOKEN });
    sm.on(GetSecretValueCommand, { SecretId: env.AVM_EXTERNAL_ID_SECRET_ARN }).resolves({ SecretString: "ext-77" });
  });
  afterEach(async () => {
    sm.reset();
    await cloud.stop();
  });
  after(() => sm.restore());

  it("creates the deployment and returns queued at once, reading each secret once", async () => {
    const runner = createLambdaAccountStackRunner(env, {
      secrets: new SecretsManagerClient({ region: "eu-central-1" }),
      timing: new RecordingTiming(),
      apiBaseUrl: baseUrl,
    });
    const first = await runner.deploy(request);
    expect(first).to.deep.equal({
      stackName: "account-222233334444",
      url: "https://app.pulumi.com/acme/meshstack-avm/account-222233334444/deployments/1",
      status: "queued",
      deploymentVersion: 1,
      summary: "deployment #1 not-started; the outcome arrives by webhook",
    });
    await runner.deploy(request);
    expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(2);
    const settings = cloud.settings.get("acme/meshstack-avm/account-222233334444") as {
      operationContext: { preRunCommands: string[]; environmentVariables: unknown };
    };
    expect(settings.operationContext.environmentVariables).to.deep.equal({ AVM_EXTERNAL_ID: { secret: "ext-77" } });
    expect(settings.operationContext.preRunCommands[0]).to.include(
      "--plaintext 'meshstack-avm:managementAccountId=111122223333'",
    );
    expect(settings.operationContext.preRunCommands[0]).to.include(
      "--plaintext 'meshstack-avm:automationAccountId=444455556666'",
    );
  });

  it("configures AWS OIDC with the deploy role the platform stack sets (AVM_DEPLOYMENTS_ROLE_ARN)", async () => {
    const runner = createLambdaAccountStackRunner(
      { ...env, AVM_DEPLOYMENTS_ROLE_ARN: "arn:aws:iam::111122223333:role/AVMDeploymentsRole" },
      {
        secrets: new SecretsManagerClient({ region: "eu-central-1" }),
        timing: new RecordingTiming(),
        apiBaseUrl: baseUrl,
      },
    );
    await runner.deploy(request);
    const settings = cloud.settings.get("acme/meshstack-avm/account-222233334444") as {
      operationContext: { oidc: unknown };
    };
    expect(settings.operationContext.oidc).to.deep.equal({
      aws: {
        roleArn: "arn:aws:iam::111122223333:role/AVMDeploymentsRole",
        sessionName: "avm-account-222233334444",
        duration: "1h",
      },
    });
  });

  it("reads the secrets again after the TTL, so a rotated token reaches a warm worker", async () => {
    const timing = new RecordingTiming();
    const runner = createLambdaAccountStackRunner(env, {
      secrets: new SecretsManagerClient({ region: "eu-central-1" }),
      timing,
      apiBaseUrl: baseUrl,
      secretTtlMs: 300_000,
    });
    await runner.deploy(request);
    timing.advance(299_999);
    await runner.deploy(request);
    expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(2);
    timing.advance(1);
    await runner.deploy(request);
    expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(4);
  });

  it("drops a token Pulumi Cloud rejects, so the retry reads the rotated one at once", async () => {
    sm.reset();
    sm.on(GetSecretValueCommand, { SecretId: env.AVM_PULUMI_TOKEN_SECRET_ARN })
      .resolvesOnce({ SecretString: "pul-revoked-token-0000000000" })
      .resolves({ SecretString: TOKEN });
    sm.on(GetSecretValueCommand, { SecretId: env.AVM_EXTERNAL_ID_SECRET_ARN }).resolves({ SecretString: "ext-77" });
    const runner = createLambdaAccountStackRunner(env, {
      secrets: new SecretsManagerClient({ region: "eu-central-1" }),
      timing: new RecordingTiming(),
      apiBaseUrl: baseUrl,
    });
    const error = await runner.deploy(request).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(PulumiCloudAuthError);
    expect(await runner.deploy(request)).to.have.property("status", "queued");
  });

  it("fails clearly when Pulumi Deployments is not configured", async () => {
    const error = await createLambdaAccountStackRunner({})
      .deploy(request)
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(AccountStackRunnerNotConfiguredError);
    expect((error as Error).message).to.equal(
      "Pulumi Deployments is not configured for the worker Lambda: set AVM_PULUMI_ORGANIZATION and " +
        "AVM_PULUMI_TOKEN_SECRET_ARN (platform stack config pulumiOrganization and pulumiAccessToken)",
    );
  });

  it("derives the account ids from the role ARN and the queue URL, naming bad variables", () => {
    expect(settingsFromEnv(env)).to.deep.equal({
      managementAccountId: "111122223333",
      automationAccountId: "444455556666",
      region: "eu-central-1",
      bootstrapRoleName: "OrganizationAccountAccessRole",
    });
    expect(
      settingsFromEnv({ ...env, AVM_SAML_PROVIDER_NAME: "corp-idp", AVM_ACCESS_ROLE_NAME: "MeshAccess" }),
    ).to.deep.equal({
      managementAccountId: "111122223333",
      automationAccountId: "444455556666",
      region: "eu-central-1",
      bootstrapRoleName: "OrganizationAccountAccessRole",
      accessRoleName: "MeshAccess",
      samlProviderName: "corp-idp",
    });
    expect(() => settingsFromEnv({ ...env, AVM_QUEUE_URL: "avm-work" })).to.throw(
      'AVM_QUEUE_URL must be an SQS queue URL, got "avm-work"',
    );
    expect(() => settingsFromEnv({ ...env, AWS_REGION: "" })).to.throw(
      "environment variable AWS_REGION is required but not set",
    );
  });
});
