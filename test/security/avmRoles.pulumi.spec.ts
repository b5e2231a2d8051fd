/**
 * Security proof of the AVM's own roles AS DEPLOYED by the platform stack: `src/index.ts` runs as the platform stack
 * (with the webhook secret, Pulumi token and external id configured, so every optional grant is present) under the recording
 * Pulumi mocks; the trust and permission documents of the entry point, worker, webhook and management vending roles
 * are taken from the registered resources, checked against `buildPlatformPolicies`, and evaluated with iam-simulate.
 *
 * Each role: the exact list of `[action, resource]` grants, every grant exercised as Allowed, a table of actions its
 * step must not have (each with an admin control), its trust (who may assume it), and a check that widening any
 * scoped, unconditioned resource to `*` makes a denied case pass.
 */
import { expect } from "chai";
import { parseConfig } from "../../src/config/parseConfig";
import type { PlatformStackConfig } from "../../src/config/types";
import type { PolicyDocument } from "../../src/policies/document";
import { buildPlatformPolicies } from "../../src/policies/stackPolicies";
import { installPulumiMocks, PROGRAM_PATH, runProgram, type PulumiRecorder } from "../support/pulumiMocks";
import {
  type AccessCase,
  ADMIN_POLICY,
  accountTrust,
  allowedPairs,
  assumeRoleDecision,
  delegatingKeyPolicy,
  identityDecision,
  widenResource,
} from "./iamProof";
import { HANG_GUARD_MS } from "../support/hangGuard";

const P = "aws";
const R = "eu-central-1";
const MANAGEMENT = "111122223333";
const MEMBER = "222233334444";
const AUTOMATION = "444455556666";
const OTHER = "999988887777";
const ORG = "o-exampleorg1";

const CONFIG = {
  "aws:region": R,
  "meshstack-avm:managementAccountId": MANAGEMENT,
  "meshstack-avm:automationAccountId": AUTOMATION,
  "meshstack-avm:organizationId": ORG,
  "meshstack-avm:webhookSecret": "whsec-0123456789abcdef",
  "meshstack-avm:pulumiAccessToken": "pul-0123456789abcdef",
  "meshstack-avm:externalId": "ext-0123456789",
};
const SECRET_KEYS = ["meshstack-avm:webhookSecret", "meshstack-avm:pulumiAccessToken", "meshstack-avm:externalId"];

// Resources of the automation account.
const A = `${P}:`;
const LEDGER = `arn:${A}dynamodb:${R}:${AUTOMATION}:table/avm-ledger`;
const WORK_QUEUE = `arn:${A}sqs:${R}:${AUTOMATION}:avm-work`;
const DLQ = `arn:${A}sqs:${R}:${AUTOMATION}:avm-work-dlq`;
const WEBHOOK_SECRET = `arn:${A}secretsmanager:${R}:${AUTOMATION}:secret:avm/webhook-secret-AbCdEf`;
const TOKEN_SECRET = `arn:${A}secretsmanager:${R}:${AUTOMATION}:secret:avm/pulumi-access-token-AbCdEf`;
const EXTERNAL_ID_SECRET = `arn:${A}secretsmanager:${R}:${AUTOMATION}:secret:avm/external-id-AbCdEf`;
const logGroup = (fn: string) => `arn:${A}logs:${R}:${AUTOMATION}:log-group:/aws/lambda/${fn}`;
const logStream = (fn: string) => `${logGroup(fn)}:log-stream:2026/11/25/[$LATEST]0123456789abcdef`;
const fn = (name: string) => `arn:${A}lambda:${R}:${AUTOMATION}:function:${name}`;
const role = (account: string, name: string) => `arn:${A}iam::${account}:role/${name}`;
const VENDING_ROLE = role(MANAGEMENT, "AVMVendingRole");
// Organizations resources.
const orgArn = `arn:${A}organizations::${MANAGEMENT}`;
const MEMBER_ACCOUNT = `${orgArn}:account/${ORG}/${MEMBER}`;
const FOREIGN_ACCOUNT = `${orgArn}:account/o-otherorg123/${OTHER}`;
const OU = `${orgArn}:ou/${ORG}/ou-ab12-abcdefgh`;
const ROOT = `${orgArn}:root/${ORG}/r-ab12`;
const SCP = `${orgArn}:policy/${ORG}/service_control_policy/p-abcdefgh`;

/** One role of the platform stack and its contract. */
interface RoleContract {
  readonly title: string;
  /** Logical name of the LeastPrivilegeRole component (`<name>-role`, `<name>-permissions`). */
  readonly component: string;
  /** Name of the policies in `buildPlatformPolicies`. */
  readonly roleName: string;
  /** A session of the role, as the caller of AWS APIs. */
  readonly session: string;
  readonly pairs: [string, string][];
  readonly allowed: AccessCase[];
  readonly denied: AccessCase[];
  readonly trustedPrincipals: string[];
  readonly untrustedPrincipals: string[];
}

const ledgerPairs = (actions: string[]): [string, string][] =>
  actions.flatMap((a): [string, string][] => [
    [a, LEDGER],
    [a, `${LEDGER}/index/*`],
  ]);
const logPairs = (name: string): [string, string][] => [
  ["logs:CreateLogStream", `${logGroup(name)}:*`],
  ["logs:PutLogEvents", `${logGroup(name)}:*`],
];
const logCases = (name: string): AccessCase[] => [
  { action: "logs:CreateLogStream", resource: logStream(name) },
  { action: "logs:PutLogEvents", resource: logStream(name) },
];
const ledgerCases = (actions: string[]): AccessCase[] => [
  ...actions.map((action) => ({ action, resource: LEDGER })),
  { action: "dynamodb:Query", resource: `${LEDGER}/index/byRequestId` },
  { action: "dynamodb:Query", resource: `${LEDGER}/index/byState` },
];

const LAMBDA_UNTRUSTED = [
  "ec2.amazonaws.com",
  "states.amazonaws.com",
  `arn:${A}iam::${AUTOMATION}:user/developer`,
  `arn:${A}iam::${AUTOMATION}:root`,
  `arn:${A}iam::${MANAGEMENT}:root`,
];

/** Denials every AVM Lambda role shares (data, escalation, Organizations, other functions). */
function commonDenials(own: string): AccessCase[] {
  const others = ["AVMEntryPoint", "AVMWorker", "AVMWebhook"].filter((n) => n !== own);
  return [
    { action: "dynamodb:Scan", resource: LEDGER, why: "no full-table reads" },
    { action: "dynamodb:DeleteTable", resource: LEDGER },
    { action: "dynamodb:UpdateTable", resource: LEDGER },
    { action: "dynamodb:BatchWriteItem", resource: LEDGER },
    { action: "dynamodb:UpdateItem", resource: LEDGER },
    { action: "dynamodb:PutItem", resource: `arn:${A}dynamodb:${R}:${AUTOMATION}:table/payments`, why: "other table" },
    { action: "dynamodb:GetItem", resource: `arn:${A}dynamodb:${R}:${AUTOMATION}:table/payments`, why: "other table" },
    {
      action: "dynamodb:PutItem",
      resource: `arn:${A}dynamodb:us-east-1:${AUTOMATION}:table/avm-ledger`,
      why: "other region",
    },
    { action: "sqs:SendMessage", resource: DLQ, why: "the dead-letter queue" },
    { action: "sqs:SendMessage", resource: `arn:${A}sqs:${R}:${AUTOMATION}:payments` },
    { action: "sqs:PurgeQueue", resource: WORK_QUEUE },
    { action: "sqs:DeleteQueue", resource: WORK_QUEUE },
    { action: "sqs:SetQueueAttributes", resource: WORK_QUEUE, why: "redrive policy" },
    { action: "sqs:ReceiveMessage", resource: DLQ },
    ...others.map((name) => ({
      action: "logs:PutLogEvents",
      resource: logStream(name),
      why: "another function's logs",
    })),
    { action: "logs:DeleteLogGroup", resource: `${logGroup(own)}:*` },
    { action: "logs:PutRetentionPolicy", resource: `${logGroup(own)}:*` },
    ...others.map((name) => ({ action: "lambda:InvokeFunction", resource: fn(name) })),
    { action: "lambda:UpdateFunctionCode", resource: fn(own), why: "its own code" },
    { action: "lambda:UpdateFunctionConfiguration", resource: fn(own) },
    { action: "lambda:AddPermission", resource: fn("AVMEntryPoint") },
    { action: "iam:PassRole", resource: role(AUTOMATION, "AVMWorkerRole") },
    { action: "iam:PutRolePolicy", resource: role(AUTOMATION, `${own}Role`), why: "self-escalation" },
    { action: "iam:CreateRole", resource: role(AUTOMATION, "backdoor") },
    { action: "iam:CreateUser", resource: `arn:${A}iam::${AUTOMATION}:user/backdoor` },
    { action: "organizations:CreateAccount", resource: "*", why: "only through the vending role" },
    { action: "organizations:MoveAccount", resource: MEMBER_ACCOUNT },
    {
      action: "sts:AssumeRole",
      resource: role(MEMBER, "OrganizationAccountAccessRole"),
      resourcePolicy: accountTrust(P, AUTOMATION),
      why: "the bootstrap admin role of a member account",
    },
    {
      action: "sts:AssumeRole",
      resource: role(MANAGEMENT, "OrganizationAccountAccessRole"),
      resourcePolicy: accountTrust(P, AUTOMATION),
    },
    { action: "s3:GetObject", resource: `arn:${A}s3:::pulumi-state/.pulumi/stacks/dev.json` },
    {
      action: "kms:Decrypt",
      resource: `arn:${A}kms:${R}:${AUTOMATION}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      resourcePolicy: delegatingKeyPolicy(P, AUTOMATION),
    },
    {
      action: "secretsmanager:GetSecretValue",
      resource: `arn:${A}secretsmanager:${R}:${AUTOMATION}:secret:database-AbCdEf`,
    },
  ];
}

const assumeVending: AccessCase = {
  action: "sts:AssumeRole",
  resource: VENDING_ROLE,
  resourcePolicy: accountTrust(P, AUTOMATION),
  why: "the management vending role",
};

const ROLES: RoleContract[] = [
  {
    title: "AVMEntryPoint execution role",
    component: "avm-entry-point-role",
    roleName: "AVMEntryPointRole",
    session: `arn:${A}sts::${AUTOMATION}:assumed-role/AVMEntryPointRole/AVMEntryPoint`,
    pairs: [
      ...logPairs("AVMEntryPoint"),
      ...ledgerPairs(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]),
      ["sqs:SendMessage", WORK_QUEUE],
      ["sts:AssumeRole", VENDING_ROLE],
    ],
    allowed: [
      ...logCases("AVMEntryPoint"),
      ...ledgerCases(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]),
      { action: "sqs:SendMessage", resource: WORK_QUEUE },
      { ...assumeVending, why: "to check a hook's account (its session policy leaves only DescribeAccount)" },
    ],
    denied: [
      ...commonDenials("AVMEntryPoint"),
      {
        action: "sts:AssumeRole",
        resource: role(MANAGEMENT, "Admin"),
        resourcePolicy: accountTrust(P, AUTOMATION),
        why: "any other management role",
      },
      { action: "dynamodb:DeleteItem", resource: LEDGER },
      { action: "sqs:ReceiveMessage", resource: WORK_QUEUE, why: "only the worker consumes" },
      { action: "sqs:DeleteMessage", resource: WORK_QUEUE },
      { action: "secretsmanager:GetSecretValue", resource: WEBHOOK_SECRET },
      { action: "secretsmanager:GetSecretValue", resource: TOKEN_SECRET },
      { action: "secretsmanager:GetSecretValue", resource: EXTERNAL_ID_SECRET },
    ],
    trustedPrincipals: ["lambda.amazonaws.com"],
    untrustedPrincipals: LAMBDA_UNTRUSTED,
  },
  {
    title: "worker execution role",
    component: "avm-worker-role",
    roleName: "AVMWorkerRole",
    session: `arn:${A}sts::${AUTOMATION}:assumed-role/AVMWorkerRole/AVMWorker`,
    pairs: [
      ...logPairs("AVMWorker"),
      ...ledgerPairs(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"]),
      ["sqs:ReceiveMessage", WORK_QUEUE],
      ["sqs:DeleteMessage", WORK_QUEUE],
      ["sqs:ChangeMessageVisibility", WORK_QUEUE],
      ["sqs:GetQueueAttributes", WORK_QUEUE],
      ["sqs:SendMessage", WORK_QUEUE],
      ["sts:AssumeRole", VENDING_ROLE],
      [
        "secretsmanager:GetSecretValue",
        `arn:${A}secretsmanager:${R}:${AUTOMATION}:secret:avm/pulumi-access-token-??????`,
      ],
      ["secretsmanager:GetSecretValue", `arn:${A}secretsmanager:${R}:${AUTOMATION}:secret:avm/external-id-??????`],
    ],
    allowed: [
      ...logCases("AVMWorker"),
      ...ledgerCases(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"]),
      ...["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"].map(
        (action) => ({ action, resource: WORK_QUEUE }),
      ),
      { action: "sqs:SendMessage", resource: WORK_QUEUE, why: "re-enqueue deferred work" },
      assumeVending,
      { action: "secretsmanager:GetSecretValue", resource: TOKEN_SECRET },
      { action: "secretsmanager:GetSecretValue", resource: EXTERNAL_ID_SECRET },
    ],
    denied: [
      ...commonDenials("AVMWorker"),
      {
        action: "dynamodb:DeleteItem",
        resource: `arn:${A}dynamodb:${R}:${AUTOMATION}:table/payments`,
        why: "other table",
      },
      { action: "dynamodb:PutItem", resource: `arn:${A}dynamodb:${R}:${OTHER}:table/avm-ledger`, why: "other account" },
      { action: "dynamodb:RestoreTableFromBackup", resource: LEDGER },
      { action: "secretsmanager:GetSecretValue", resource: WEBHOOK_SECRET },
      {
        action: "secretsmanager:GetSecretValue",
        resource: `arn:${A}secretsmanager:${R}:${AUTOMATION}:secret:avm/pulumi-access-token-extra-AbCdEf`,
        why: "a longer name with the same prefix",
      },
      {
        action: "sts:AssumeRole",
        resource: role(MANAGEMENT, "Admin"),
        resourcePolicy: accountTrust(P, AUTOMATION),
        why: "any other management role",
      },
      {
        action: "sts:AssumeRole",
        resource: role(OTHER, "AVMVendingRole"),
        resourcePolicy: accountTrust(P, AUTOMATION),
        why: "the same name in another account",
      },
    ],
    trustedPrincipals: ["lambda.amazonaws.com"],
    untrustedPrincipals: LAMBDA_UNTRUSTED,
  },
  {
    title: "webhook execution role",
    component: "avm-webhook-role",
    roleName: "AVMWebhookRole",
    session: `arn:${A}sts::${AUTOMATION}:assumed-role/AVMWebhookRole/AVMWebhook`,
    pairs: [
      ...logPairs("AVMWebhook"),
      ...ledgerPairs(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]),
      ["sqs:SendMessage", WORK_QUEUE],
      ["secretsmanager:GetSecretValue", `arn:${A}secretsmanager:${R}:${AUTOMATION}:secret:avm/webhook-secret-??????`],
    ],
    allowed: [
      ...logCases("AVMWebhook"),
      ...ledgerCases(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]),
      { action: "sqs:SendMessage", resource: WORK_QUEUE },
      { action: "secretsmanager:GetSecretValue", resource: WEBHOOK_SECRET },
    ],
    denied: [
      ...commonDenials("AVMWebhook"),
      assumeVending,
      { action: "dynamodb:DeleteItem", resource: LEDGER },
      { action: "sqs:ReceiveMessage", resource: WORK_QUEUE },
      { action: "secretsmanager:GetSecretValue", resource: TOKEN_SECRET, why: "the Pulumi token" },
      { action: "secretsmanager:GetSecretValue", resource: EXTERNAL_ID_SECRET, why: "the external id" },
      { action: "secretsmanager:PutSecretValue", resource: WEBHOOK_SECRET, why: "rotating its own secret" },
    ],
    trustedPrincipals: ["lambda.amazonaws.com"],
    untrustedPrincipals: LAMBDA_UNTRUSTED,
  },
  {
    title: "management vending role",
    component: "vending-role",
    roleName: "AVMVendingRole",
    session: `arn:${A}sts::${MANAGEMENT}:assumed-role/AVMVendingRole/avm-worker`,
    pairs: [
      ...[
        "organizations:CreateAccount",
        "organizations:DescribeCreateAccountStatus",
        "organizations:ListCreateAccountStatus",
        "organizations:ListAccounts",
        "organizations:ListRoots",
        "organizations:DescribeOrganization",
      ].map((a): [string, string] => [a, "*"]),
      ...[
        "organizations:DescribeAccount",
        "organizations:TagResource",
        "organizations:UntagResource",
        "organizations:ListTagsForResource",
        "organizations:CloseAccount",
      ].map((a): [string, string] => [a, `${orgArn}:account/${ORG}/*`]),
      ...[
        "organizations:ListParents",
        "organizations:ListOrganizationalUnitsForParent",
        "organizations:DescribeOrganizationalUnit",
        "organizations:MoveAccount",
      ].flatMap((a): [string, string][] => [
        [a, `${orgArn}:account/${ORG}/*`],
        [a, `${orgArn}:ou/${ORG}/ou-*`],
        [a, `${orgArn}:root/${ORG}/r-*`],
      ]),
      ["iam:CreateServiceLinkedRole", `arn:${A}iam::${MANAGEMENT}:role/aws-service-role/organizations.amazonaws.com/*`],
    ],
    allowed: [
      ...[
        "organizations:CreateAccount",
        "organizations:DescribeCreateAccountStatus",
        "organizations:ListCreateAccountStatus",
        "organizations:ListAccounts",
        "organizations:ListRoots",
        "organizations:DescribeOrganization",
      ].map((action) => ({ action, resource: "*" })),
      ...[
        "organizations:DescribeAccount",
        "organizations:TagResource",
        "organizations:UntagResource",
        "organizations:ListTagsForResource",
        "organizations:CloseAccount",
        "organizations:ListParents",
        "organizations:MoveAccount",
      ].map((action) => ({ action, resource: MEMBER_ACCOUNT })),
      { action: "organizations:MoveAccount", resource: OU },
      { action: "organizations:MoveAccount", resource: ROOT },
      { action: "organizations:ListOrganizationalUnitsForParent", resource: OU },
      { action: "organizations:ListOrganizationalUnitsForParent", resource: ROOT },
      { action: "organizations:DescribeOrganizationalUnit", resource: OU },
      {
        action: "iam:CreateServiceLinkedRole",
        resource: `arn:${A}iam::${MANAGEMENT}:role/aws-service-role/organizations.amazonaws.com/AWSServiceRoleForOrganizations`,
        context: { "iam:AWSServiceName": "organizations.amazonaws.com" },
      },
    ],
    denied: [
      { action: "organizations:RemoveAccountFromOrganization", resource: MEMBER_ACCOUNT },
      { action: "organizations:LeaveOrganization", resource: "*" },
      { action: "organizations:DeleteOrganization", resource: "*" },
      { action: "organizations:DeleteOrganizationalUnit", resource: OU },
      { action: "organizations:CreateOrganizationalUnit", resource: ROOT },
      { action: "organizations:UpdateOrganizationalUnit", resource: OU },
      { action: "organizations:CreatePolicy", resource: "*", why: "SCPs" },
      { action: "organizations:UpdatePolicy", resource: SCP },
      { action: "organizations:DeletePolicy", resource: SCP },
      { action: "organizations:AttachPolicy", resource: MEMBER_ACCOUNT },
      { action: "organizations:DetachPolicy", resource: MEMBER_ACCOUNT },
      { action: "organizations:DisablePolicyType", resource: ROOT },
      { action: "organizations:InviteAccountToOrganization", resource: "*" },
      { action: "organizations:EnableAWSServiceAccess", resource: "*" },
      { action: "organizations:DisableAWSServiceAccess", resource: "*" },
      { action: "organizations:RegisterDelegatedAdministrator", resource: MEMBER_ACCOUNT },
      { action: "organizations:CloseAccount", resource: FOREIGN_ACCOUNT, why: "another organization" },
      { action: "organizations:TagResource", resource: FOREIGN_ACCOUNT, why: "another organization" },
      { action: "organizations:MoveAccount", resource: FOREIGN_ACCOUNT, why: "another organization" },
      { action: "iam:CreateUser", resource: `arn:${A}iam::${MANAGEMENT}:user/backdoor` },
      { action: "iam:CreateAccessKey", resource: `arn:${A}iam::${MANAGEMENT}:user/meshfed-service` },
      { action: "iam:CreateRole", resource: role(MANAGEMENT, "backdoor") },
      { action: "iam:AttachRolePolicy", resource: VENDING_ROLE, why: "self-escalation" },
      { action: "iam:PutRolePolicy", resource: VENDING_ROLE, why: "self-escalation" },
      { action: "iam:UpdateAssumeRolePolicy", resource: VENDING_ROLE },
      { action: "iam:PassRole", resource: role(MANAGEMENT, "Admin") },
      { action: "iam:DeleteRole", resource: role(MANAGEMENT, "OrganizationAccountAccessRole") },
      {
        action: "iam:CreateServiceLinkedRole",
        resource: `arn:${A}iam::${MANAGEMENT}:role/aws-service-role/organizations.amazonaws.com/AWSServiceRoleForOrganizations`,
        context: { "iam:AWSServiceName": "ec2.amazonaws.com" },
        why: "for another service",
      },
      {
        action: "iam:CreateServiceLinkedRole",
        resource: `arn:${A}iam::${MANAGEMENT}:role/aws-service-role/ec2.amazonaws.com/AWSServiceRoleForEC2`,
        context: { "iam:AWSServiceName": "ec2.amazonaws.com" },
      },
      {
        action: "sts:AssumeRole",
        resource: role(MEMBER, "OrganizationAccountAccessRole"),
        resourcePolicy: accountTrust(P, MANAGEMENT),
        why: "the bootstrap admin role trusts the management account",
      },
      { action: "s3:GetObject", resource: `arn:${A}s3:::billing-reports/2026-11.csv` },
      { action: "account:PutAlternateContact", resource: `arn:${A}account::${MANAGEMENT}:account/${ORG}/${MEMBER}` },
      { action: "lambda:InvokeFunction", resource: fn("AVMEntryPoint") },
      { action: "dynamodb:PutItem", resource: LEDGER },
    ],
    trustedPrincipals: [
      role(AUTOMATION, "AVMWorkerRole"),
      `arn:${A}sts::${AUTOMATION}:assumed-role/AVMWorkerRole/AVMWorker`,
      role(AUTOMATION, "AVMEntryPointRole"),
      `arn:${A}sts::${AUTOMATION}:assumed-role/AVMEntryPointRole/AVMEntryPoint`,
    ],
    untrustedPrincipals: [
      role(AUTOMATION, "AVMWebhookRole"),
      `arn:${A}sts::${AUTOMATION}:assumed-role/AVMWebhookRole/AVMWebhook`,
      `arn:${A}iam::${AUTOMATION}:root`,
      `arn:${A}iam::${AUTOMATION}:user/developer`,
      `arn:${A}iam::${MANAGEMENT}:root`,
      `arn:${A}iam::${MANAGEMENT}:user/admin`,
      `arn:${A}iam::${MANAGEMENT}:user/meshfed-service`,
      role(MEMBER, "MeshstackAccountAccessRole"),
      role(OTHER, "AVMWorkerRole"),
      "lambda.amazonaws.com",
    ],
  },
];

function title(c: AccessCase): string {
  return `${c.action} on ${c.resource}${c.why ? ` (${c.why})` : ""}`;
}

function platformConfig(): PlatformStackConfig {
  const values = Object.fromEntries(
    Object.entries(CONFIG)
      .filter(([k]) => k.startsWith("meshstack-avm:"))
      .map(([k, v]) => [k.slice("meshstack-avm:".length), v]),
  );
  const cfg = parseConfig({ stackName: "dev", region: R, values });
  if (cfg.kind !== "platform") throw new Error("expected a platform stack config");
  return cfg;
}

describe("AVM roles as deployed by the platform stack", function () {
  let recorder: PulumiRecorder;
  const trust = new Map<string, PolicyDocument>();
  const permissions = new Map<string, PolicyDocument>();

  before(async function () {
    this.timeout(HANG_GUARD_MS);
    recorder = await installPulumiMocks({ stack: "dev", config: CONFIG, secretKeys: SECRET_KEYS });
    await runProgram(PROGRAM_PATH);
    for (const contract of ROLES) {
      trust.set(
        contract.roleName,
        recorder.json("aws:iam/role:Role", `${contract.component}-role`, "assumeRolePolicy") as PolicyDocument,
      );
      permissions.set(
        contract.roleName,
        recorder.json("aws:iam/rolePolicy:RolePolicy", `${contract.component}-permissions`, "policy") as PolicyDocument,
      );
    }
  });

  it("registers exactly the documents buildPlatformPolicies produces, and no other role or policy", () => {
    const built = buildPlatformPolicies(platformConfig(), { partition: P });
    const deployed = ROLES.flatMap((c) => [
      { name: `${c.roleName}/trust`, document: trust.get(c.roleName) },
      { name: `${c.roleName}/permissions`, document: permissions.get(c.roleName) },
    ]);
    expect(deployed).to.deep.equal(built);
    expect(recorder.byType("aws:iam/role:Role").map((r) => r.inputs["name"])).to.deep.equal(
      ROLES.map((c) => c.roleName),
    );
    expect(recorder.byType("aws:iam/rolePolicy:RolePolicy")).to.have.length(ROLES.length);
    expect(
      recorder
        .byType("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive")
        .map((r) => r.inputs["policyArns"]),
    ).to.deep.equal(ROLES.map(() => []));
    expect(recorder.byType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).to.deep.equal([]);
    expect(recorder.byType("aws:iam/policy:Policy")).to.deep.equal([]);
  });

  for (const contract of ROLES) {
    describe(contract.title, () => {
      const perms = () => permissions.get(contract.roleName)!;

      it("grants exactly its step's actions on their resources", () => {
        expect(allowedPairs(perms())).to.deep.equal(contract.pairs);
        expect(
          perms().Statement.filter((s) => s.Effect !== "Allow" || "NotAction" in s || "NotResource" in s),
        ).to.deep.equal([]);
      });

      for (const access of contract.allowed) {
        it(`allows ${title(access)}`, async () => {
          expect(await identityDecision(contract.session, [perms()], access)).to.equal("Allowed");
        });
      }

      for (const access of contract.denied) {
        it(`denies ${title(access)}`, async () => {
          expect(await identityDecision(contract.session, [ADMIN_POLICY], access), "admin control").to.equal("Allowed");
          expect(await identityDecision(contract.session, [perms()], access)).to.equal("ImplicitlyDenied");
        });
      }

      it("fails its denial table when any scoped, unconditioned resource is widened to *", async () => {
        const document = perms();
        const scoped = document.Statement.map((s, i) => ({ s, i })).filter(
          ({ s }) => s.Resource !== "*" && s.Condition === undefined,
        );
        expect(scoped.length).to.be.greaterThan(0);
        for (const { i } of scoped) {
          const widened = widenResource(document, i);
          let leaked = false;
          for (const access of contract.denied) {
            if ((await identityDecision(contract.session, [widened], access)) === "Allowed") {
              leaked = true;
              break;
            }
          }
          expect(leaked, `statement ${i} (${document.Statement[i]!.Sid}) widened to *`).to.equal(true);
        }
      });

      const roleArn = role(contract.roleName === "AVMVendingRole" ? MANAGEMENT : AUTOMATION, contract.roleName);
      for (const principal of contract.trustedPrincipals) {
        it(`trusts ${principal}`, async () => {
          expect(await assumeRoleDecision({ principal, roleArn, trustPolicy: trust.get(contract.roleName)! })).to.equal(
            "Allowed",
          );
        });
      }
      for (const principal of contract.untrustedPrincipals) {
        it(`does not trust ${principal}, even with an admin identity policy`, async () => {
          expect(await assumeRoleDecision({ principal, roleArn, trustPolicy: trust.get(contract.roleName)! })).to.equal(
            "ImplicitlyDenied",
          );
        });
      }
    });
  }
});
