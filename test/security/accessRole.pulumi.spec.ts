/**
 * Security proof of the meshStack access role AS DEPLOYED: `src/index.ts` runs as an account stack under the
 * recording Pulumi mocks, the trust and permission documents are taken from the registered `aws:iam/Role` and
 * `aws:iam/RolePolicy`, checked against the policy builders, and then evaluated offline with iam-simulate.
 *
 * Claims:
 * - meshStack's principal can do exactly the six permitted actions on their resources;
 * - it is denied every action of a table of sensitive workload actions (data, compute, IAM escalation, other SAML
 *   providers, other functions, the bootstrap admin role), each checked against a control (an admin policy is
 *   allowed the same request) so a denial always comes from the role's policy, never from the test setup;
 * - only the configured principal (and only with the configured external id) may assume the role;
 * - widening any scoped resource to `*` makes the tables fail.
 */
import { expect } from "chai";
import { parseConfig } from "../../src/config/parseConfig";
import type { AccountStackConfig } from "../../src/config/types";
import type { PolicyDocument } from "../../src/policies/document";
import { buildAccountStackPolicies } from "../../src/policies/stackPolicies";
import { installPulumiMocks, PROGRAM_PATH, runProgram } from "../support/pulumiMocks";
import {
  type AccessCase,
  ADMIN_POLICY,
  accountTrust,
  allowedPairs,
  assumeRoleDecision,
  delegatingKeyPolicy,
  fullDecision,
  identityDecision,
  widenResource,
} from "./iamProof";
import { HANG_GUARD_MS } from "../support/hangGuard";

const P = "aws";
const REGION = "eu-central-1";
const MANAGEMENT = "111122223333";
const ACCOUNT = "222233334444";
const AUTOMATION = "444455556666";
const OTHER = "999988887777";
const ORG = "o-exampleorg1";

interface Scenario {
  readonly title: string;
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
  readonly roleName: string;
  readonly samlProvider: string;
  /** The principal that must be able to assume the role (as configured or the default). */
  readonly principal: string;
  /** Further ARNs that act as the configured principal (role sessions). */
  readonly principalSessions: string[];
  readonly externalId?: string;
}

const BASE = {
  "aws:region": REGION,
  "meshstack-avm:managementAccountId": MANAGEMENT,
  "meshstack-avm:automationAccountId": AUTOMATION,
  "meshstack-avm:accountId": ACCOUNT,
};

const SCENARIOS: Scenario[] = [
  {
    title: "defaults (user/meshfed-service, no external id)",
    config: BASE,
    secretKeys: [],
    roleName: "MeshstackAccountAccessRole",
    samlProvider: "meshstack-saml-idp",
    principal: `arn:${P}:iam::${MANAGEMENT}:user/meshfed-service`,
    principalSessions: [],
  },
  {
    title: "custom role principal, external id, role and SAML provider names",
    config: {
      ...BASE,
      "meshstack-avm:meshfedServicePrincipalArn": `arn:${P}:iam::${MANAGEMENT}:role/meshfed-replicator`,
      "meshstack-avm:externalId": "meshstack-ext-7f3a9c",
      "meshstack-avm:accessRoleName": "MeshAccess",
      "meshstack-avm:samlProviderName": "corp-meshstack",
    },
    secretKeys: ["meshstack-avm:externalId"],
    roleName: "MeshAccess",
    samlProvider: "corp-meshstack",
    principal: `arn:${P}:iam::${MANAGEMENT}:role/meshfed-replicator`,
    principalSessions: [`arn:${P}:sts::${MANAGEMENT}:assumed-role/meshfed-replicator/replication-42`],
    externalId: "meshstack-ext-7f3a9c",
  },
];

/** The six grants, as `[action, resource]`. */
function expectedPairs(s: Scenario): [string, string][] {
  return [
    ["iam:GetRole", "*"],
    ["iam:ListRoles", "*"],
    ["iam:ListSAMLProviders", "*"],
    ["iam:GetSAMLProvider", "*"],
    ["iam:UpdateSAMLProvider", `arn:${P}:iam::${ACCOUNT}:saml-provider/${s.samlProvider}`],
    ["lambda:InvokeFunction", `arn:${P}:lambda:${REGION}:${AUTOMATION}:function:AVMEntryPoint`],
  ];
}

function allowedCases(s: Scenario): AccessCase[] {
  const iam = `arn:${P}:iam::${ACCOUNT}`;
  return [
    { action: "iam:GetRole", resource: `${iam}:role/${s.roleName}` },
    { action: "iam:GetRole", resource: `${iam}:role/OrganizationAccountAccessRole` },
    { action: "iam:ListRoles", resource: "*" },
    { action: "iam:ListSAMLProviders", resource: "*" },
    { action: "iam:GetSAMLProvider", resource: `${iam}:saml-provider/${s.samlProvider}` },
    { action: "iam:GetSAMLProvider", resource: `${iam}:saml-provider/corporate-idp` },
    { action: "iam:UpdateSAMLProvider", resource: `${iam}:saml-provider/${s.samlProvider}` },
    { action: "lambda:InvokeFunction", resource: `arn:${P}:lambda:${REGION}:${AUTOMATION}:function:AVMEntryPoint` },
  ];
}

/** At least 50 sensitive workload actions the access role must never get. */
function deniedCases(s: Scenario): AccessCase[] {
  const a = ACCOUNT;
  const iam = `arn:${P}:iam::${a}`;
  const r = REGION;
  const key = `arn:${P}:kms:${r}:${a}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const instance = `arn:${P}:ec2:${r}:${a}:instance/i-0123456789abcdef0`;
  const otherSaml = s.samlProvider === "meshstack-saml-idp" ? "corporate-idp" : "meshstack-saml-idp";
  const kms = delegatingKeyPolicy(P, a);
  return [
    // Data
    { action: "s3:GetObject", resource: `arn:${P}:s3:::workload-data/customers.csv` },
    { action: "s3:PutObject", resource: `arn:${P}:s3:::workload-data/customers.csv` },
    { action: "s3:DeleteObject", resource: `arn:${P}:s3:::workload-data/customers.csv` },
    { action: "s3:ListBucket", resource: `arn:${P}:s3:::workload-data` },
    { action: "s3:PutBucketPolicy", resource: `arn:${P}:s3:::workload-data` },
    { action: "dynamodb:Scan", resource: `arn:${P}:dynamodb:${r}:${a}:table/orders` },
    { action: "dynamodb:GetItem", resource: `arn:${P}:dynamodb:${r}:${a}:table/orders` },
    { action: "dynamodb:Query", resource: `arn:${P}:dynamodb:${r}:${a}:table/orders` },
    { action: "dynamodb:PutItem", resource: `arn:${P}:dynamodb:${r}:${a}:table/orders` },
    { action: "dynamodb:ExportTableToPointInTime", resource: `arn:${P}:dynamodb:${r}:${a}:table/orders` },
    {
      action: "secretsmanager:GetSecretValue",
      resource: `arn:${P}:secretsmanager:${r}:${a}:secret:db-password-AbCdEf`,
    },
    {
      action: "secretsmanager:PutSecretValue",
      resource: `arn:${P}:secretsmanager:${r}:${a}:secret:db-password-AbCdEf`,
    },
    { action: "ssm:GetParameter", resource: `arn:${P}:ssm:${r}:${a}:parameter/prod/db-password` },
    { action: "ssm:GetParametersByPath", resource: `arn:${P}:ssm:${r}:${a}:parameter/prod` },
    { action: "kms:Decrypt", resource: key, resourcePolicy: kms },
    { action: "kms:CreateGrant", resource: key, resourcePolicy: kms },
    { action: "kms:ScheduleKeyDeletion", resource: key, resourcePolicy: kms },
    { action: "rds:DeleteDBInstance", resource: `arn:${P}:rds:${r}:${a}:db:prod` },
    { action: "logs:GetLogEvents", resource: `arn:${P}:logs:${r}:${a}:log-group:app:log-stream:web-1` },
    { action: "sqs:ReceiveMessage", resource: `arn:${P}:sqs:${r}:${a}:orders` },
    { action: "sns:Publish", resource: `arn:${P}:sns:${r}:${a}:alerts` },
    { action: "ecr:GetDownloadUrlForLayer", resource: `arn:${P}:ecr:${r}:${a}:repository/app` },
    // Compute
    { action: "ec2:RunInstances", resource: instance },
    { action: "ec2:TerminateInstances", resource: instance },
    { action: "ec2:GetPasswordData", resource: instance },
    { action: "ec2:ModifyInstanceAttribute", resource: instance },
    { action: "ssm:SendCommand", resource: instance },
    { action: "ssm:StartSession", resource: instance },
    { action: "lambda:UpdateFunctionCode", resource: `arn:${P}:lambda:${r}:${a}:function:payments` },
    { action: "lambda:CreateFunction", resource: `arn:${P}:lambda:${r}:${a}:function:backdoor` },
    // Other functions: only AVMEntryPoint in the automation account and region
    { action: "lambda:InvokeFunction", resource: `arn:${P}:lambda:${r}:${a}:function:payments`, why: "workload fn" },
    { action: "lambda:InvokeFunction", resource: `arn:${P}:lambda:${r}:${AUTOMATION}:function:AVMWorker` },
    { action: "lambda:InvokeFunction", resource: `arn:${P}:lambda:${r}:${AUTOMATION}:function:AVMWebhook` },
    { action: "lambda:InvokeFunction", resource: `arn:${P}:lambda:us-east-1:${AUTOMATION}:function:AVMEntryPoint` },
    { action: "lambda:InvokeFunction", resource: `arn:${P}:lambda:${r}:${OTHER}:function:AVMEntryPoint` },
    { action: "lambda:UpdateFunctionCode", resource: `arn:${P}:lambda:${r}:${AUTOMATION}:function:AVMEntryPoint` },
    // IAM escalation
    { action: "iam:CreateUser", resource: `${iam}:user/backdoor` },
    { action: "iam:CreateAccessKey", resource: `${iam}:user/backdoor` },
    { action: "iam:CreateLoginProfile", resource: `${iam}:user/backdoor` },
    { action: "iam:AttachUserPolicy", resource: `${iam}:user/backdoor` },
    { action: "iam:CreateRole", resource: `${iam}:role/backdoor` },
    { action: "iam:AttachRolePolicy", resource: `${iam}:role/${s.roleName}`, why: "self-escalation" },
    { action: "iam:PutRolePolicy", resource: `${iam}:role/${s.roleName}`, why: "self-escalation" },
    { action: "iam:DeleteRolePolicy", resource: `${iam}:role/${s.roleName}` },
    { action: "iam:DeleteRole", resource: `${iam}:role/${s.roleName}` },
    { action: "iam:PassRole", resource: `${iam}:role/Admin` },
    { action: "iam:UpdateAssumeRolePolicy", resource: `${iam}:role/OrganizationAccountAccessRole` },
    { action: "iam:UpdateAssumeRolePolicy", resource: `${iam}:role/${s.roleName}` },
    { action: "iam:CreatePolicyVersion", resource: `${iam}:policy/workload-access` },
    { action: "iam:TagRole", resource: `${iam}:role/Admin` },
    // SAML and OIDC providers other than meshStack's own
    { action: "iam:UpdateSAMLProvider", resource: `${iam}:saml-provider/${otherSaml}`, why: "another provider" },
    {
      action: "iam:UpdateSAMLProvider",
      resource: `arn:${P}:iam::${OTHER}:saml-provider/${s.samlProvider}`,
      why: "another account",
    },
    {
      action: "iam:UpdateSAMLProvider",
      resource: `arn:${P}:iam::${MANAGEMENT}:saml-provider/${s.samlProvider}`,
      why: "management account",
    },
    { action: "iam:CreateSAMLProvider", resource: `${iam}:saml-provider/evil-idp` },
    { action: "iam:DeleteSAMLProvider", resource: `${iam}:saml-provider/${s.samlProvider}` },
    { action: "iam:CreateOpenIDConnectProvider", resource: `${iam}:oidc-provider/evil.example.com` },
    // STS: the bootstrap admin role, even if an account admin delegated it to the whole account
    {
      action: "sts:AssumeRole",
      resource: `${iam}:role/OrganizationAccountAccessRole`,
      resourcePolicy: accountTrust(P, a),
      why: "bootstrap admin role",
    },
    { action: "sts:AssumeRole", resource: `${iam}:role/Admin`, resourcePolicy: accountTrust(P, a) },
    { action: "sts:GetFederationToken", resource: `arn:${P}:sts::${a}:federated-user/backdoor` },
    // Organizations and audit trail
    { action: "organizations:CreateAccount", resource: "*" },
    { action: "organizations:LeaveOrganization", resource: "*" },
    { action: "cloudtrail:StopLogging", resource: `arn:${P}:cloudtrail:${r}:${a}:trail/org-trail` },
    { action: "cloudtrail:DeleteTrail", resource: `arn:${P}:cloudtrail:${r}:${a}:trail/org-trail` },
    {
      action: "guardduty:DeleteDetector",
      resource: `arn:${P}:guardduty:${r}:${a}:detector/12abc34d567e8fa901bc2d34e56789f0`,
    },
  ];
}

function title(c: AccessCase): string {
  return `${c.action} on ${c.resource}${c.why ? ` (${c.why})` : ""}`;
}

function accessRoleConfig(s: Scenario): AccountStackConfig {
  const values = Object.fromEntries(
    Object.entries(s.config)
      .filter(([k]) => k.startsWith("meshstack-avm:"))
      .map(([k, v]) => [k.slice("meshstack-avm:".length), v]),
  );
  const cfg = parseConfig({ stackName: `account-${ACCOUNT}`, region: REGION, values });
  if (cfg.kind !== "account") throw new Error("expected an account stack config");
  return cfg;
}

for (const scenario of SCENARIOS) {
  describe(`access role as deployed by the account stack: ${scenario.title}`, function () {
    const roleArn = `arn:${P}:iam::${ACCOUNT}:role/${scenario.roleName}`;
    // meshStack acts through a session of the role.
    const session = `arn:${P}:sts::${ACCOUNT}:assumed-role/${scenario.roleName}/meshfed-replication`;
    let trust: PolicyDocument;
    let permissions: PolicyDocument;

    before(async function () {
      this.timeout(HANG_GUARD_MS);
      const recorder = await installPulumiMocks({
        stack: `account-${ACCOUNT}`,
        config: scenario.config,
        secretKeys: scenario.secretKeys,
      });
      await runProgram(PROGRAM_PATH);
      trust = recorder.json("aws:iam/role:Role", "access-role-role", "assumeRolePolicy") as PolicyDocument;
      permissions = recorder.json(
        "aws:iam/rolePolicy:RolePolicy",
        "access-role-permissions",
        "policy",
      ) as PolicyDocument;
      expect(recorder.one("aws:iam/role:Role", "access-role-role").inputs["name"]).to.equal(scenario.roleName);
    });

    it("registers exactly the documents the policy builders produce", () => {
      const built = buildAccountStackPolicies(accessRoleConfig(scenario), {
        partition: P,
        externalId: scenario.externalId,
      });
      expect(built.map((p) => p.name)).to.deep.equal([
        `${scenario.roleName}/trust`,
        `${scenario.roleName}/permissions`,
      ]);
      expect([trust, permissions]).to.deep.equal(built.map((p) => p.document));
    });

    it("grants exactly six actions, on their resources, with no Deny, NotAction or condition tricks", () => {
      expect(allowedPairs(permissions)).to.deep.equal(expectedPairs(scenario));
      for (const statement of permissions.Statement) {
        expect(Object.keys(statement).sort()).to.deep.equal(["Action", "Effect", "Resource", "Sid"]);
      }
    });

    describe("permissions: allowed", () => {
      for (const access of allowedCases(scenario)) {
        it(`allows ${title(access)}`, async () => {
          expect(await identityDecision(session, [permissions], access)).to.equal("Allowed");
        });
      }
    });

    describe("permissions: denied sensitive workload actions", () => {
      const cases = deniedCases(scenario);
      it(`covers at least 50 sensitive actions (${cases.length})`, () => {
        expect(cases.length).to.be.at.least(50);
      });
      for (const access of cases) {
        it(`denies ${title(access)}`, async () => {
          // Control: the same request is grantable at all (otherwise the denial would prove nothing).
          expect(await identityDecision(session, [ADMIN_POLICY], access), "control with an admin policy").to.equal(
            "Allowed",
          );
          expect(await identityDecision(session, [permissions], access)).to.equal("ImplicitlyDenied");
        });
      }
    });

    it("lets meshStack invoke AVMEntryPoint across accounts through the organization-wide Lambda permission", async () => {
      const entryPoint = `arn:${P}:lambda:${REGION}:${AUTOMATION}:function:AVMEntryPoint`;
      const resourcePolicy = organizationInvokePolicy(entryPoint);
      const request = (context: Record<string, string>) =>
        fullDecision({
          principal: session,
          identityPolicies: [permissions],
          access: { action: "lambda:InvokeFunction", resource: entryPoint, resourceAccount: AUTOMATION, context },
          resourcePolicy,
        });
      expect([
        await request({ "aws:PrincipalOrgID": ORG }),
        await request({ "aws:PrincipalOrgID": "o-stranger123" }),
      ]).to.deep.equal(["Allowed", "ImplicitlyDenied"]);
    });

    it("fails the tables when any scoped resource is widened to *", async () => {
      const denied = deniedCases(scenario);
      for (const index of [1, 2]) {
        const widened = widenResource(permissions, index);
        const leaks: string[] = [];
        for (const access of denied) {
          if ((await identityDecision(session, [widened], access)) === "Allowed") leaks.push(access.action);
        }
        expect(leaks, `statement ${index} widened`).not.to.deep.equal([]);
      }
    });

    describe("trust", () => {
      const ext = scenario.externalId;
      const withExt: Record<string, string> = ext === undefined ? {} : { "sts:ExternalId": ext };
      for (const principal of [scenario.principal, ...scenario.principalSessions]) {
        it(`lets ${principal} assume the role${ext ? " with the external id" : ""}`, async () => {
          expect(await assumeRoleDecision({ principal, roleArn, trustPolicy: trust, context: withExt })).to.equal(
            "Allowed",
          );
        });
      }
      if (ext !== undefined) {
        it("denies the configured principal without an external id", async () => {
          expect(await assumeRoleDecision({ principal: scenario.principal, roleArn, trustPolicy: trust })).to.equal(
            "ImplicitlyDenied",
          );
        });
        it("denies the configured principal with a wrong external id", async () => {
          for (const wrong of [`${ext}x`, ext.toUpperCase(), ext.slice(1), "*"]) {
            expect(
              await assumeRoleDecision({
                principal: scenario.principal,
                roleArn,
                trustPolicy: trust,
                context: { "sts:ExternalId": wrong },
              }),
              wrong,
            ).to.equal("ImplicitlyDenied");
          }
        });
      }
      const strangers: [string, string][] = [
        [`arn:${P}:iam::${MANAGEMENT}:user/intruder`, "another user in the management account"],
        [`arn:${P}:iam::${MANAGEMENT}:role/OrganizationAccountAccessRole`, "another role in the management account"],
        [`arn:${P}:iam::${MANAGEMENT}:root`, "the root of the management account"],
        [`arn:${P}:iam::${OTHER}:user/meshfed-service`, "the same name in another account"],
        [`arn:${P}:iam::${OTHER}:role/meshfed-replicator`, "the same role name in another account"],
        [`arn:${P}:iam::${ACCOUNT}:user/account-admin`, "an admin of the managed account itself"],
        [`arn:${P}:iam::${ACCOUNT}:root`, "the root of the managed account"],
        [`arn:${P}:iam::${AUTOMATION}:role/AVMWorkerRole`, "the AVM worker"],
      ];
      for (const [principal, who] of strangers) {
        it(`denies ${who} (${principal}), even with the external id and an admin identity policy`, async () => {
          expect(await assumeRoleDecision({ principal, roleArn, trustPolicy: trust, context: withExt })).to.equal(
            "ImplicitlyDenied",
          );
        });
      }
    });
  });
}

/** The resource policy the platform stack's `aws.lambda.Permission` (principal `*`, principalOrgId) produces. */
function organizationInvokePolicy(functionArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: "lambda:InvokeFunction",
        Resource: functionArn,
        Condition: { StringEquals: { "aws:PrincipalOrgID": ORG } },
      },
    ],
  };
}
