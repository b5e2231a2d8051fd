import { expect } from "chai";
import { vendingRolePermissionsPolicy, vendingRoleTrustPolicy } from "../../src/policies/managementVendingRole";
import { meshfedServicePolicy } from "../../src/policies/meshfedServicePolicy";
import { installPulumiMocks, PROGRAM_PATH, runProgram } from "../support/pulumiMocks";

const BASE_CONFIG = {
  "aws:region": "eu-central-1",
  "meshstack-avm:managementAccountId": "111122223333",
  "meshstack-avm:automationAccountId": "444455556666",
  "meshstack-avm:organizationId": "o-exampleorg1",
};

function roleChildren(name: string): [string, string][] {
  return [
    ["avm:iam:LeastPrivilegeRole", name],
    ["aws:iam/role:Role", `${name}-role`],
    ["aws:iam/rolePoliciesExclusive:RolePoliciesExclusive", `${name}-inline-policies`],
    ["aws:iam/rolePolicy:RolePolicy", `${name}-permissions`],
    ["aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", `${name}-managed-policies`],
  ];
}

/** The platform stack's resources without the optional secrets. */
const PLATFORM_RESOURCES: [string, string][] = [
  ["pulumi:providers:aws", "automation"],
  ["pulumi:providers:aws", "management"],
  ["avm:vending:AccountVendingMachine", "avm"],
  ["avm:vending:LedgerTable", "avm-ledger"],
  ["avm:vending:WorkQueue", "avm"],
  ["avm:vending:Function", "avm-entry-point"],
  ["avm:vending:Function", "avm-worker"],
  ["avm:vending:Function", "avm-webhook"],
  ["avm:vending:WebhookEndpoint", "avm-webhook"],
  ["aws:dynamodb/table:Table", "avm-ledger"],
  ["aws:sqs/queue:Queue", "avm-dlq"],
  ["aws:sqs/queue:Queue", "avm-queue"],
  ["aws:cloudwatch/metricAlarm:MetricAlarm", "avm-dlq-alarm"],
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
  ["avm:vending:ManagementVendingRole", "vending-role"],
  ...roleChildren("vending-role"),
];

const SECRET_RESOURCES: [string, string][] = [
  ["avm:vending:StoredSecret", "avm-external-id"],
  ["avm:vending:StoredSecret", "avm-webhook-secret"],
  ["avm:vending:StoredSecret", "avm-pulumi-token"],
  ["aws:secretsmanager/secret:Secret", "avm-external-id"],
  ["aws:secretsmanager/secretVersion:SecretVersion", "avm-external-id-value"],
  ["aws:secretsmanager/secret:Secret", "avm-webhook-secret"],
  ["aws:secretsmanager/secretVersion:SecretVersion", "avm-webhook-secret-value"],
  ["aws:secretsmanager/secret:Secret", "avm-pulumi-token"],
  ["aws:secretsmanager/secretVersion:SecretVersion", "avm-pulumi-token-value"],
];

function sorted(pairs: [string, string][]): [string, string][] {
  return [...pairs].sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
}

describe("src/index.ts as the platform stack (Pulumi mocks)", () => {
  it("deploys the AVM into the automation account and the vending role into the management account", async () => {
    const recorder = await installPulumiMocks({ stack: "dev", config: BASE_CONFIG });
    const outputs = await runProgram(PROGRAM_PATH);
    expect(recorder.inventory()).to.deep.equal(sorted(PLATFORM_RESOURCES));
    expect(outputs).to.deep.equal({
      stackKind: "platform",
      accessRoleArn: undefined,
      accessRoleName: undefined,
      avmDeployment: undefined,
      entryPointArn: "arn:aws:lambda:eu-central-1:444455556666:function:AVMEntryPoint",
      webhookUrl: "https://avm-webhook-url.lambda-url.eu-central-1.on.aws/",
      ledgerTableName: "avm-ledger",
      queueUrl: "https://sqs.eu-central-1.amazonaws.com/444455556666/avm-work",
      deadLetterQueueUrl: "https://sqs.eu-central-1.amazonaws.com/444455556666/avm-work-dlq",
      entryPointRoleArn: "arn:aws:iam::444455556666:role/AVMEntryPointRole",
      workerRoleArn: "arn:aws:iam::444455556666:role/AVMWorkerRole",
      webhookRoleArn: "arn:aws:iam::444455556666:role/AVMWebhookRole",
      vendingRoleArn: "arn:aws:iam::111122223333:role/AVMVendingRole",
      meshfedServicePolicyArn: undefined,
      guardrails: { targets: [], policies: {} },
      deploymentsRoleArn: undefined,
    });
    const automation = recorder.one("pulumi:providers:aws", "automation").inputs;
    const management = recorder.one("pulumi:providers:aws", "management").inputs;
    expect([JSON.parse(automation["allowedAccountIds"]), automation["assumeRoles"]]).to.deep.equal([
      ["444455556666"],
      undefined,
    ]);
    expect([JSON.parse(management["allowedAccountIds"]), management["assumeRoles"]]).to.deep.equal([
      ["111122223333"],
      undefined,
    ]);
    const byProvider = (name: string) =>
      recorder.resources
        .filter((r) => r.custom && r.provider === name)
        .map((r) => r.name)
        .sort();
    expect(byProvider("management")).to.deep.equal([
      "vending-role-inline-policies",
      "vending-role-managed-policies",
      "vending-role-permissions",
      "vending-role-role",
    ]);
    expect(byProvider("automation")).to.have.length(27);
    expect(recorder.invokes.map((i) => [i.token, i.provider])).to.deep.equal([
      ["aws:index/getPartition:getPartition", "automation"],
      ["aws:index/getPartition:getPartition", "management"],
    ]);
    expect(recorder.json("aws:iam/role:Role", "vending-role-role", "assumeRolePolicy")).to.deep.equal(
      vendingRoleTrustPolicy({
        trustedRoleArns: [
          "arn:aws:iam::444455556666:role/AVMWorkerRole",
          "arn:aws:iam::444455556666:role/AVMEntryPointRole",
        ],
      }),
    );
    expect(recorder.json("aws:iam/rolePolicy:RolePolicy", "vending-role-permissions", "policy")).to.deep.equal(
      vendingRolePermissionsPolicy({
        partition: "aws",
        managementAccountId: "111122223333",
        organizationId: "o-exampleorg1",
      }),
    );
  });

  it("adds the secrets and the management deploy role when configured", async () => {
    const recorder = await installPulumiMocks({
      stack: "dev",
      config: {
        ...BASE_CONFIG,
        "meshstack-avm:managementDeployRoleArn": "arn:aws:iam::111122223333:role/PulumiDeploy",
        "meshstack-avm:webhookSecret": "0123456789abcdef",
        "meshstack-avm:pulumiAccessToken": "pul-123",
        "meshstack-avm:logRetentionDays": "365",
        "meshstack-avm:externalId": "ext-123",
      },
      secretKeys: ["meshstack-avm:webhookSecret", "meshstack-avm:pulumiAccessToken", "meshstack-avm:externalId"],
    });
    await runProgram(PROGRAM_PATH);
    expect(recorder.inventory()).to.deep.equal(sorted([...PLATFORM_RESOURCES, ...SECRET_RESOURCES]));
    const management = recorder.one("pulumi:providers:aws", "management").inputs;
    expect(JSON.parse(management["assumeRoles"])).to.deep.equal([
      { roleArn: "arn:aws:iam::111122223333:role/PulumiDeploy", sessionName: "meshstack-avm" },
    ]);
    expect(
      recorder.byType("aws:secretsmanager/secretVersion:SecretVersion").map((r) => [r.name, r.secretInputs]),
    ).to.deep.equal([
      ["avm-webhook-secret-value", ["secretString"]],
      ["avm-external-id-value", ["secretString"]],
      ["avm-pulumi-token-value", ["secretString"]],
    ]);
    expect(recorder.byType("aws:cloudwatch/logGroup:LogGroup").map((r) => r.inputs["retentionInDays"])).to.deep.equal([
      365, 365, 365,
    ]);
    const env = recorder.byType("aws:lambda/function:Function").map((r) => JSON.stringify(r.inputs["environment"]));
    for (const value of env) {
      expect(value).not.to.include("0123456789abcdef");
      expect(value).not.to.include("pul-123");
      expect(value).not.to.include("ext-123");
    }
  });

  const POLICY = (bootstrapRoleName: string) =>
    meshfedServicePolicy({
      partition: "aws",
      managementAccountId: "111122223333",
      organizationId: "o-exampleorg1",
      automationAccountId: "444455556666",
      accessRoleName: "MeshstackAccountAccessRole",
      bootstrapRoleName,
    });

  it("creates meshStack's principal policy in the management account with meshfedServicePolicy create, unattached", async () => {
    const recorder = await installPulumiMocks({
      stack: "dev",
      config: { ...BASE_CONFIG, "meshstack-avm:meshfedServicePolicy": "create" },
    });
    const outputs = await runProgram(PROGRAM_PATH);
    expect(recorder.inventory()).to.deep.equal(
      sorted([
        ...PLATFORM_RESOURCES,
        ["avm:access:MeshfedServicePolicy", "meshfed-service-policy"],
        ["aws:iam/policy:Policy", "meshfed-service-policy-policy"],
      ]),
    );
    const policy = recorder.one("aws:iam/policy:Policy", "meshfed-service-policy-policy");
    expect([policy.provider, policy.inputs["name"]]).to.deep.equal(["management", "MeshfedServicePolicy"]);
    expect(recorder.json("aws:iam/policy:Policy", "meshfed-service-policy-policy", "policy")).to.deep.equal(
      POLICY("OrganizationAccountAccessRole"),
    );
    expect(outputs["meshfedServicePolicyArn"]).to.equal("arn:aws:iam::111122223333:policy/MeshfedServicePolicy");
    expect(recorder.invokes.map((i) => [i.token, i.provider])).to.deep.equal([
      ["aws:index/getPartition:getPartition", "automation"],
      ["aws:index/getPartition:getPartition", "management"],
    ]);
  });

  it("attaches it to the default meshfed-service user, or to the configured role, with attach", async () => {
    let recorder = await installPulumiMocks({
      stack: "dev",
      config: { ...BASE_CONFIG, "meshstack-avm:meshfedServicePolicy": "attach" },
    });
    await runProgram(PROGRAM_PATH);
    const user = recorder.one("aws:iam/userPolicyAttachment:UserPolicyAttachment", "meshfed-service-policy-attachment");
    expect([user.provider, user.inputs["user"], user.inputs["policyArn"]]).to.deep.equal([
      "management",
      "meshfed-service",
      "arn:aws:iam::111122223333:policy/MeshfedServicePolicy",
    ]);
    recorder = await installPulumiMocks({
      stack: "dev",
      config: {
        ...BASE_CONFIG,
        "meshstack-avm:meshfedServicePolicy": "attach",
        "meshstack-avm:meshfedServicePrincipalArn": "arn:aws:iam::111122223333:role/meshstack/replicator",
        "meshstack-avm:bootstrapRoleName": "AWSControlTowerExecution",
      },
    });
    await runProgram(PROGRAM_PATH);
    const role = recorder.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "meshfed-service-policy-attachment");
    expect([role.provider, role.inputs["role"]]).to.deep.equal(["management", "replicator"]);
    expect(recorder.byType("aws:iam/userPolicyAttachment:UserPolicyAttachment")).to.deep.equal([]);
    expect(recorder.json("aws:iam/policy:Policy", "meshfed-service-policy-policy", "policy")).to.deep.equal(
      POLICY("AWSControlTowerExecution"),
    );
  });

  it("with guardrailTargets deploys the guardrail SCPs and exports their ids and targets (avm doctor reads them)", async () => {
    const recorder = await installPulumiMocks({
      stack: "dev",
      config: { ...BASE_CONFIG, "meshstack-avm:guardrailTargets": '["ou-ab12-cd34ef56","r-ab12"]' },
    });
    const outputs = await runProgram(PROGRAM_PATH);
    const names = ["ProtectMeshstackAccessRole", "ProtectMeshstackSamlProvider", "OnlyMeshstackInvokesAvmEntryPoint"];
    expect(outputs["guardrails"]).to.deep.equal({
      targets: ["ou-ab12-cd34ef56", "r-ab12"],
      policies: Object.fromEntries(names.map((name) => [name, `guardrails-${name}-id`])),
    });
    expect(
      recorder.byType("aws:organizations/policy:Policy").map((r) => [r.name, r.provider, r.inputs["name"]]),
    ).to.deep.equal(names.map((name) => [`guardrails-${name}`, "management", name]));
    expect(recorder.byType("aws:organizations/policyAttachment:PolicyAttachment")).to.have.length(6);
  });
});
