import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { AccountVendingMachine, workerMaximumConcurrency } from "../../../src/components/accountVendingMachine";
import { entryPointPolicy, lambdaTrustPolicy, webhookPolicy, workerPolicy } from "../../../src/policies/avmRoles";
import { installPulumiMocks, outputValue, type PulumiRecorder, settle } from "../../support/pulumiMocks";
import { AVM_BASE_ARGS } from "./avmArgs";

const FN = "aws:lambda/function:Function";
const ROLE = "aws:iam/role:Role";
const POLICY = "aws:iam/rolePolicy:RolePolicy";
const location = { partition: "aws", region: "eu-central-1", accountId: "444455556666" };
const QUEUE_URL = "https://sqs.eu-central-1.amazonaws.com/444455556666/avm-work";
const VENDING_ROLE = "arn:aws:iam::111122223333:role/AVMVendingRole";

function roleChildren(name: string): [string, string][] {
  return [
    ["avm:iam:LeastPrivilegeRole", name],
    ["aws:iam/role:Role", `${name}-role`],
    ["aws:iam/rolePoliciesExclusive:RolePoliciesExclusive", `${name}-inline-policies`],
    ["aws:iam/rolePolicy:RolePolicy", `${name}-permissions`],
    ["aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", `${name}-managed-policies`],
  ];
}

function sorted(pairs: [string, string][]): [string, string][] {
  return [...pairs].sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
}

describe("AccountVendingMachine (Pulumi mocks)", () => {
  let recorder: PulumiRecorder;
  let avm: AccountVendingMachine;
  before(async () => {
    recorder = await installPulumiMocks({ stack: "dev" });
    const provider = new aws.Provider("automation", { region: "eu-central-1", allowedAccountIds: ["444455556666"] });
    avm = new AccountVendingMachine(
      "avm",
      {
        ...AVM_BASE_ARGS,
        defaultOuId: "ou-ab12-cd34ef56",
        webhookSecret: pulumi.secret("0123456789abcdef"),
        pulumiAccessToken: pulumi.secret("pul-123"),
        pulumiOrganization: "example-org",
        pulumiRepoUrl: "https://github.com/example/meshstack-avm.git",
        pulumiRepoBranch: "main",
        pulumiRepoDir: "infra",
        accessRoleName: "MeshstackAccountAccessRole",
        samlProviderName: "meshstack-saml-idp",
        meshfedServicePrincipalArn: "arn:aws:iam::111122223333:role/meshfed",
        externalId: pulumi.secret("ext-123"),
      },
      { providers: [provider] },
    );
    await settle();
  });

  it("registers exactly the documented resources", () => {
    expect(recorder.inventory()).to.deep.equal(
      sorted([
        ["pulumi:providers:aws", "automation"],
        ["avm:vending:AccountVendingMachine", "avm"],
        // Sub-components (their children keep the names they had directly under the AVM; see avmUrns.pulumi.spec.ts).
        ["avm:vending:LedgerTable", "avm-ledger"],
        ["avm:vending:WorkQueue", "avm"],
        ["avm:vending:StoredSecret", "avm-webhook-secret"],
        ["avm:vending:StoredSecret", "avm-pulumi-token"],
        ["avm:vending:StoredSecret", "avm-external-id"],
        ["avm:vending:Function", "avm-entry-point"],
        ["avm:vending:Function", "avm-worker"],
        ["avm:vending:Function", "avm-webhook"],
        ["avm:vending:WebhookEndpoint", "avm-webhook"],
        ["aws:dynamodb/table:Table", "avm-ledger"],
        ["aws:sqs/queue:Queue", "avm-dlq"],
        ["aws:sqs/queue:Queue", "avm-queue"],
        ["aws:cloudwatch/metricAlarm:MetricAlarm", "avm-dlq-alarm"],
        ["aws:secretsmanager/secret:Secret", "avm-webhook-secret"],
        ["aws:secretsmanager/secretVersion:SecretVersion", "avm-webhook-secret-value"],
        ["aws:secretsmanager/secret:Secret", "avm-pulumi-token"],
        ["aws:secretsmanager/secretVersion:SecretVersion", "avm-pulumi-token-value"],
        ["aws:secretsmanager/secret:Secret", "avm-external-id"],
        ["aws:secretsmanager/secretVersion:SecretVersion", "avm-external-id-value"],
        ...roleChildren("avm-entry-point-role"),
        ...roleChildren("avm-worker-role"),
        ...roleChildren("avm-webhook-role"),
        ["aws:cloudwatch/logGroup:LogGroup", "avm-entry-point-logs"],
        ["aws:cloudwatch/logGroup:LogGroup", "avm-worker-logs"],
        ["aws:cloudwatch/logGroup:LogGroup", "avm-webhook-logs"],
        ["aws:lambda/function:Function", "avm-entry-point"],
        ["aws:lambda/function:Function", "avm-worker"],
        ["aws:lambda/function:Function", "avm-webhook"],
        ["aws:lambda/permission:Permission", "avm-entry-point-organization-invoke"],
        ["aws:lambda/eventSourceMapping:EventSourceMapping", "avm-worker-events"],
        ["aws:lambda/functionUrl:FunctionUrl", "avm-webhook-url"],
        ["aws:lambda/permission:Permission", "avm-webhook-url-invoke"],
        ["aws:lambda/permission:Permission", "avm-webhook-function-invoke"],
      ]),
    );
    expect(recorder.resources.filter((r) => r.custom && r.type !== "pulumi:providers:aws").map((r) => r.provider))
      .to.have.length(33)
      .and.satisfy((providers: string[]) => providers.every((p) => p === "automation"));
  });

  it("exposes the documented outputs", async () => {
    expect(
      await outputValue(
        pulumi.all([
          avm.entryPointArn,
          avm.workerFunctionArn,
          avm.webhookUrl,
          avm.ledgerTableName,
          avm.queueUrl,
          avm.deadLetterQueueUrl,
          avm.entryPointRoleArn,
          avm.workerRoleArn,
          avm.webhookRoleArn,
          avm.vendingRoleArn,
        ]),
      ),
    ).to.deep.equal([
      "arn:aws:lambda:eu-central-1:444455556666:function:AVMEntryPoint",
      "arn:aws:lambda:eu-central-1:444455556666:function:AVMWorker",
      "https://avm-webhook-url.lambda-url.eu-central-1.on.aws/",
      "avm-ledger",
      QUEUE_URL,
      "https://sqs.eu-central-1.amazonaws.com/444455556666/avm-work-dlq",
      "arn:aws:iam::444455556666:role/AVMEntryPointRole",
      "arn:aws:iam::444455556666:role/AVMWorkerRole",
      "arn:aws:iam::444455556666:role/AVMWebhookRole",
      VENDING_ROLE,
    ]);
  });

  it("creates the ledger with the shared layout, PITR, encryption, TTL and deletion protection", () => {
    expect(recorder.one("aws:dynamodb/table:Table", "avm-ledger").inputs).to.deep.equal({
      name: "avm-ledger",
      billingMode: "PAY_PER_REQUEST",
      hashKey: "email",
      attributes: [
        { name: "email", type: "S" },
        { name: "requestId", type: "S" },
        { name: "accountId", type: "S" },
        { name: "state", type: "S" },
        { name: "createdAt", type: "S" },
      ],
      // The first three indexes exactly as first deployed (changing one would delete and recreate it);
      // byStateCreatedAt (list paging) is added next to them, an in-place update of the table.
      globalSecondaryIndexes: [
        { name: "byRequestId", hashKey: "requestId", projectionType: "ALL" },
        { name: "byAccountId", hashKey: "accountId", projectionType: "ALL" },
        { name: "byState", hashKey: "state", projectionType: "ALL" },
        { name: "byStateCreatedAt", hashKey: "state", rangeKey: "createdAt", projectionType: "ALL" },
      ],
      ttl: { attributeName: "expiresAt", enabled: true },
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
      deletionProtectionEnabled: true,
    });
  });

  it("creates the encrypted work queue with redrive to the dead-letter queue", () => {
    expect(recorder.one("aws:sqs/queue:Queue", "avm-dlq").inputs).to.deep.equal({
      name: "avm-work-dlq",
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: 1209600,
    });
    const queue = recorder.one("aws:sqs/queue:Queue", "avm-queue").inputs;
    expect({ ...queue, redrivePolicy: JSON.parse(queue["redrivePolicy"] as string) }).to.deep.equal({
      name: "avm-work",
      sqsManagedSseEnabled: true,
      visibilityTimeoutSeconds: 720,
      messageRetentionSeconds: 1209600,
      redrivePolicy: { deadLetterTargetArn: "arn:aws:sqs:eu-central-1:444455556666:avm-work-dlq", maxReceiveCount: 5 },
    });
    expect(queue["visibilityTimeoutSeconds"]).to.be.at.least(
      6 * (recorder.one(FN, "avm-worker").inputs["timeout"] as number),
    );
  });

  it("alarms as soon as one message is visible in the dead-letter queue, naming avm reconcile", () => {
    expect(recorder.one("aws:cloudwatch/metricAlarm:MetricAlarm", "avm-dlq-alarm").inputs).to.deep.equal({
      name: "avm-work-dlq-not-empty",
      alarmDescription:
        "Work messages are in the dead-letter queue avm-work-dlq: their requests are unfinished. " +
        "Run `avm reconcile --dlq-url <deadLetterQueueUrl> --queue-url <queueUrl>`.",
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: "avm-work-dlq" },
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    });
  });

  it("creates the log groups with the configured retention", () => {
    expect(
      recorder
        .byType("aws:cloudwatch/logGroup:LogGroup")
        .map((r) => [r.name, r.inputs["name"], r.inputs["retentionInDays"]]),
    ).to.deep.equal([
      ["avm-entry-point-logs", "/aws/lambda/AVMEntryPoint", 30],
      ["avm-worker-logs", "/aws/lambda/AVMWorker", 30],
      ["avm-webhook-logs", "/aws/lambda/AVMWebhook", 30],
    ]);
  });

  it("stores the secrets in Secrets Manager, as secrets", () => {
    const webhook = recorder.one("aws:secretsmanager/secretVersion:SecretVersion", "avm-webhook-secret-value");
    const token = recorder.one("aws:secretsmanager/secretVersion:SecretVersion", "avm-pulumi-token-value");
    const externalId = recorder.one("aws:secretsmanager/secretVersion:SecretVersion", "avm-external-id-value");
    expect([
      webhook.inputs,
      webhook.secretInputs,
      token.inputs,
      token.secretInputs,
      externalId.inputs,
      externalId.secretInputs,
    ]).to.deep.equal([
      { secretId: "avm-webhook-secret-id", secretString: "0123456789abcdef" },
      ["secretString"],
      { secretId: "avm-pulumi-token-id", secretString: "pul-123" },
      ["secretString"],
      { secretId: "avm-external-id-id", secretString: "ext-123" },
      ["secretString"],
    ]);
    expect(
      recorder
        .byType("aws:secretsmanager/secret:Secret")
        .map((r) => r.inputs["name"])
        .sort(),
    ).to.deep.equal(["avm/external-id", "avm/pulumi-access-token", "avm/webhook-secret"]);
  });

  it("deploys AVMEntryPoint on nodejs22.x with its role and environment", () => {
    const fn = recorder.one(FN, "avm-entry-point").inputs;
    expect({ ...fn, code: undefined }).to.deep.equal({
      name: "AVMEntryPoint",
      runtime: "nodejs22.x",
      handler: "index.handler",
      architectures: ["arm64"],
      role: "arn:aws:iam::444455556666:role/AVMEntryPointRole",
      code: undefined,
      timeout: 15,
      memorySize: 256,
      environment: {
        variables: {
          AVM_LEDGER_TABLE: "avm-ledger",
          AVM_QUEUE_URL: QUEUE_URL,
          POWERTOOLS_SERVICE_NAME: "AVMEntryPoint",
          AVM_MAX_CONCURRENT_CREATES: "3",
          AVM_DEFAULT_OU_ID: "ou-ab12-cd34ef56",
          AVM_MANAGEMENT_ROLE_ARN: VENDING_ROLE,
          AVM_MANAGEMENT_ACCOUNT_ID: "111122223333",
        },
      },
      loggingConfig: { logFormat: "JSON", logGroup: "/aws/lambda/AVMEntryPoint" },
    });
    expect(fn["code"]).to.have.property("__pulumiArchive", true);
  });

  it("deploys the worker with the vending role ARN, the account-stack settings and only secret ARNs", () => {
    const fn = recorder.one(FN, "avm-worker").inputs;
    expect([fn["name"], fn["runtime"], fn["role"], fn["timeout"], fn["memorySize"]]).to.deep.equal([
      "AVMWorker",
      "nodejs22.x",
      "arn:aws:iam::444455556666:role/AVMWorkerRole",
      120,
      512,
    ]);
    expect(fn["environment"]).to.deep.equal({
      variables: {
        AVM_LEDGER_TABLE: "avm-ledger",
        AVM_QUEUE_URL: QUEUE_URL,
        POWERTOOLS_SERVICE_NAME: "AVMWorker",
        AVM_MANAGEMENT_ROLE_ARN: VENDING_ROLE,
        AVM_MAX_CONCURRENT_CREATES: "3",
        AVM_BOOTSTRAP_ROLE_NAME: "OrganizationAccountAccessRole",
        AVM_QUEUE_MAX_RECEIVE_COUNT: "5",
        AVM_DEFAULT_OU_ID: "ou-ab12-cd34ef56",
        AVM_PULUMI_TOKEN_SECRET_ARN:
          "arn:aws:secretsmanager:eu-central-1:444455556666:secret:avm/pulumi-access-token-AbCdEf",
        AVM_PULUMI_ORGANIZATION: "example-org",
        AVM_PULUMI_REPO_URL: "https://github.com/example/meshstack-avm.git",
        AVM_PULUMI_REPO_BRANCH: "main",
        AVM_PULUMI_REPO_DIR: "infra",
        AVM_ACCESS_ROLE_NAME: "MeshstackAccountAccessRole",
        AVM_SAML_PROVIDER_NAME: "meshstack-saml-idp",
        AVM_MESHFED_SERVICE_PRINCIPAL_ARN: "arn:aws:iam::111122223333:role/meshfed",
        AVM_EXTERNAL_ID_SECRET_ARN: "arn:aws:secretsmanager:eu-central-1:444455556666:secret:avm/external-id-AbCdEf",
      },
    });
  });

  it("deploys the webhook with only the webhook secret's ARN behind a public Function URL", () => {
    const fn = recorder.one(FN, "avm-webhook").inputs;
    expect([fn["name"], fn["role"], fn["timeout"], fn["environment"]]).to.deep.equal([
      "AVMWebhook",
      "arn:aws:iam::444455556666:role/AVMWebhookRole",
      10,
      {
        variables: {
          AVM_LEDGER_TABLE: "avm-ledger",
          AVM_QUEUE_URL: QUEUE_URL,
          POWERTOOLS_SERVICE_NAME: "AVMWebhook",
          AVM_WEBHOOK_SECRET_ARN: "arn:aws:secretsmanager:eu-central-1:444455556666:secret:avm/webhook-secret-AbCdEf",
        },
      },
    ]);
    expect(recorder.one("aws:lambda/functionUrl:FunctionUrl", "avm-webhook-url").inputs).to.deep.equal({
      functionName: "AVMWebhook",
      authorizationType: "NONE",
      invokeMode: "BUFFERED",
    });
    expect(recorder.one("aws:lambda/permission:Permission", "avm-webhook-url-invoke").inputs).to.deep.equal({
      function: "AVMWebhook",
      action: "lambda:InvokeFunctionUrl",
      principal: "*",
      functionUrlAuthType: "NONE",
    });
    expect(recorder.one("aws:lambda/permission:Permission", "avm-webhook-function-invoke").inputs).to.deep.equal({
      function: "AVMWebhook",
      action: "lambda:InvokeFunction",
      principal: "*",
      invokedViaFunctionUrl: true,
    });
  });

  it("lets principals of the organization invoke AVMEntryPoint", () => {
    expect(
      recorder.one("aws:lambda/permission:Permission", "avm-entry-point-organization-invoke").inputs,
    ).to.deep.equal({
      function: "AVMEntryPoint",
      action: "lambda:InvokeFunction",
      principal: "*",
      principalOrgId: "o-exampleorg1",
    });
  });

  it("feeds the worker from the queue with partial batch failure reporting", () => {
    expect(recorder.one("aws:lambda/eventSourceMapping:EventSourceMapping", "avm-worker-events").inputs).to.deep.equal({
      eventSourceArn: "arn:aws:sqs:eu-central-1:444455556666:avm-work",
      functionName: "arn:aws:lambda:eu-central-1:444455556666:function:AVMWorker",
      batchSize: 10,
      functionResponseTypes: ["ReportBatchItemFailures"],
      scalingConfig: { maximumConcurrency: 3 },
    });
    expect([1, 2, 3, 5].map(workerMaximumConcurrency)).to.deep.equal([2, 2, 3, 5]);
  });

  it("gives each function a Lambda-only trust and its least-privilege policy", () => {
    for (const role of ["avm-entry-point-role", "avm-worker-role", "avm-webhook-role"]) {
      expect(recorder.json(ROLE, `${role}-role`, "assumeRolePolicy"), role).to.deep.equal(lambdaTrustPolicy());
    }
    expect(recorder.json(POLICY, "avm-entry-point-role-permissions", "policy")).to.deep.equal(
      entryPointPolicy({ ...location, vendingRoleArn: VENDING_ROLE }),
    );
    expect(recorder.json(POLICY, "avm-worker-role-permissions", "policy")).to.deep.equal(
      workerPolicy({ ...location, vendingRoleArn: VENDING_ROLE, pulumiTokenSecret: true, externalIdSecret: true }),
    );
    expect(recorder.json(POLICY, "avm-webhook-role-permissions", "policy")).to.deep.equal(
      webhookPolicy({ ...location, webhookSecret: true }),
    );
  });

  it("passes the entry point's operator-only settings only when an operator enabled them", async () => {
    recorder.reset();
    new AccountVendingMachine("open", {
      ...AVM_BASE_ARGS,
      entryPointAuthority: { vend: true, adopt: true, moveTargets: ["ou-ab12-cd34ef56", "/Sandbox"] },
    });
    await settle();
    const variables = recorder.one(FN, "open-entry-point").inputs["environment"].variables;
    expect([
      variables["AVM_ENTRY_POINT_VENDING"],
      variables["AVM_ENTRY_POINT_ADOPTION"],
      variables["AVM_ENTRY_POINT_TARGET_OUS"],
    ]).to.deep.equal(["true", "true", '["ou-ab12-cd34ef56","/Sandbox"]']);
    expect(Object.keys(recorder.one(FN, "open-worker").inputs["environment"].variables)).not.to.include(
      "AVM_ENTRY_POINT_VENDING",
    );
  });

  it("creates no secrets and passes no secret ARNs when none are configured", async () => {
    recorder.reset();
    new AccountVendingMachine("bare", AVM_BASE_ARGS);
    await settle();
    expect(recorder.byType("aws:secretsmanager/secret:Secret")).to.deep.equal([]);
    expect(recorder.byType("aws:secretsmanager/secretVersion:SecretVersion")).to.deep.equal([]);
    expect(recorder.resources).to.have.length(37); // 27 resources and 10 components
    expect(Object.keys(recorder.one(FN, "bare-worker").inputs["environment"].variables).sort()).to.deep.equal([
      "AVM_BOOTSTRAP_ROLE_NAME",
      "AVM_LEDGER_TABLE",
      "AVM_MANAGEMENT_ROLE_ARN",
      "AVM_MAX_CONCURRENT_CREATES",
      "AVM_QUEUE_MAX_RECEIVE_COUNT",
      "AVM_QUEUE_URL",
      "POWERTOOLS_SERVICE_NAME",
    ]);
    expect(Object.keys(recorder.one(FN, "bare-webhook").inputs["environment"].variables).sort()).to.deep.equal([
      "AVM_LEDGER_TABLE",
      "AVM_QUEUE_URL",
      "POWERTOOLS_SERVICE_NAME",
    ]);
    expect(recorder.json(POLICY, "bare-worker-role-permissions", "policy")).to.deep.equal(
      workerPolicy({ ...location, vendingRoleArn: VENDING_ROLE, pulumiTokenSecret: false, externalIdSecret: false }),
    );
  });
});
