/**
 * `AVMDeploymentsRole` (platform setting `deploymentsOidc`) evaluated with iam-simulate:
 * - its trust admits only a Pulumi Deployments token of this organization's `account-<12>` stacks of this project
 *   (audience = the organization, subject by the Deployments format); every other subject, audience or issuer is
 *   refused, and no AWS principal can assume it;
 * - a session of it can assume the bootstrap role of an organization member account and nothing else: not the access
 *   role, not a role of the management account, not a role outside the organization, no Organizations or workload
 *   action. Each denial has an admin control that is allowed.
 * The chains it opens are proven in roleChains.spec.ts (the role is part of the graph there).
 *
 * The simulator's IAM catalog lists condition keys of a few known OIDC providers only (`accounts.google.com:aud`,
 * `token.actions.githubusercontent.com:sub`, ...), not `api.pulumi.com/oidc:*`, and ignores keys it does not know
 * (the condition then fails as missing). AWS evaluates a custom provider's `aud` and `sub` keys like those of a known
 * provider (single-valued strings), so the trust cases rewrite the provider prefix `api.pulumi.com/oidc` to
 * `accounts.google.com` in the policy and the request alike; a control proves the unrewritten policy allows nothing
 * (so a key the simulator drops can never make a case pass).
 */
import { expect } from "chai";
import { parseConfig } from "../../src/config/parseConfig";
import type { PolicyDocument } from "../../src/policies/document";
import { buildPlatformPolicies } from "../../src/policies/stackPolicies";
import { ADMIN_POLICY, accountTrust, type Decision, fullDecision, simulate } from "./iamProof";

const P = "aws";
const MANAGEMENT = "111122223333";
const MEMBER = "222233334444";
const AUTOMATION = "444455556666";
const FOREIGN = "999988887777";
const ORG = "o-exampleorg1";
const PULUMI_ORG = "acme";
const ROLE_ARN = `arn:${P}:iam::${MANAGEMENT}:role/AVMDeploymentsRole`;
const PROVIDER_ARN = `arn:${P}:iam::${MANAGEMENT}:oidc-provider/api.pulumi.com/oidc`;

function policies(): Map<string, PolicyDocument> {
  const cfg = parseConfig({
    stackName: "dev",
    region: "eu-central-1",
    values: {
      managementAccountId: MANAGEMENT,
      automationAccountId: AUTOMATION,
      organizationId: ORG,
      pulumiOrganization: PULUMI_ORG,
      deploymentsOidc: "true",
    },
  });
  if (cfg.kind !== "platform") throw new Error("expected the platform stack");
  return new Map(buildPlatformPolicies(cfg, { partition: P }).map((p) => [p.name, p.document]));
}
const PLATFORM = policies();
const TRUST = PLATFORM.get("AVMDeploymentsRole/trust")!;
const PERMISSIONS = PLATFORM.get("AVMDeploymentsRole/permissions")!;

/** The simulator-readable copy: the provider's key prefix renamed, nothing else changed. */
const SIMULATED_PREFIX = "accounts.google.com";
function simulatable(document: PolicyDocument): PolicyDocument {
  return JSON.parse(JSON.stringify(document).replaceAll('"api.pulumi.com/oidc:', `"${SIMULATED_PREFIX}:`));
}

const sub = (org: string, project: string, stack: string, operation = "update", scope = "write") =>
  `pulumi:deploy:org:${org}:project:${project}:stack:${stack}:operation:${operation}:scope:${scope}`;

interface WebIdentity {
  readonly aud: string;
  readonly sub: string;
  /** The IAM OIDC provider the token came through; default Pulumi Cloud's in the management account. */
  readonly provider?: string;
  readonly why: string;
}

function assumeWithWebIdentity(trust: PolicyDocument, token: WebIdentity, prefix = SIMULATED_PREFIX) {
  return simulate({
    request: {
      principal: token.provider ?? PROVIDER_ARN,
      action: "sts:AssumeRoleWithWebIdentity",
      resource: { resource: ROLE_ARN, accountId: MANAGEMENT },
      contextVariables: { [`${prefix}:aud`]: token.aud, [`${prefix}:sub`]: token.sub },
    },
    identityPolicies: [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: trust,
  });
}

const ADMITTED: WebIdentity[] = ["update", "preview", "refresh", "destroy"].map((operation) => ({
  aud: PULUMI_ORG,
  sub: sub(PULUMI_ORG, "meshstack-avm", "account-222233334444", operation),
  why: `${operation} of account-222233334444`,
}));

const REFUSED: WebIdentity[] = [
  { aud: PULUMI_ORG, sub: sub(PULUMI_ORG, "other-project", "account-222233334444"), why: "another project" },
  { aud: PULUMI_ORG, sub: sub(PULUMI_ORG, "meshstack-avm", "dev"), why: "the platform stack" },
  { aud: PULUMI_ORG, sub: sub(PULUMI_ORG, "meshstack-avm", "production"), why: "another stack" },
  { aud: PULUMI_ORG, sub: sub(PULUMI_ORG, "meshstack-avm", "account-1234"), why: "an account stack name too short" },
  {
    aud: PULUMI_ORG,
    sub: sub(PULUMI_ORG, "meshstack-avm", "account-2222333344445"),
    why: "an account stack name too long",
  },
  { aud: PULUMI_ORG, sub: sub("evil", "meshstack-avm", "account-222233334444"), why: "another organization's stack" },
  {
    aud: PULUMI_ORG,
    sub: sub(PULUMI_ORG, "meshstack-avm", "account-222233334444", "update", "read"),
    why: "another scope",
  },
  {
    aud: PULUMI_ORG,
    sub: `pulumi:environments:org:${PULUMI_ORG}:env:meshstack-avm/account-222233334444`,
    why: "a Pulumi ESC token's subject",
  },
  { aud: "evil", sub: sub(PULUMI_ORG, "meshstack-avm", "account-222233334444"), why: "another audience" },
  {
    aud: `aws:${PULUMI_ORG}`,
    sub: sub(PULUMI_ORG, "meshstack-avm", "account-222233334444"),
    why: "the ESC audience aws:<org>",
  },
  { aud: "ACME", sub: sub("ACME", "meshstack-avm", "account-222233334444"), why: "the organization in other case" },
  {
    aud: PULUMI_ORG,
    sub: sub(PULUMI_ORG, "meshstack-avm", "account-222233334444"),
    provider: `arn:${P}:iam::${MANAGEMENT}:oidc-provider/token.actions.githubusercontent.com`,
    why: "another issuer (GitHub Actions) with a matching-looking token",
  },
  {
    aud: PULUMI_ORG,
    sub: sub(PULUMI_ORG, "meshstack-avm", "account-222233334444"),
    provider: `arn:${P}:iam::${FOREIGN}:oidc-provider/api.pulumi.com/oidc`,
    why: "Pulumi's issuer registered in another account",
  },
];

describe("AVMDeploymentsRole: Pulumi Deployments OIDC trust (iam-simulate)", () => {
  it("the simulated copy differs from the deployed trust only in the provider's key prefix", () => {
    const condition = TRUST.Statement[0]!.Condition!;
    expect(Object.keys(condition["StringEquals"]!).concat(Object.keys(condition["StringLike"]!))).to.deep.equal([
      "api.pulumi.com/oidc:aud",
      "api.pulumi.com/oidc:sub",
    ]);
    const back = JSON.parse(
      JSON.stringify(simulatable(TRUST)).replaceAll(`"${SIMULATED_PREFIX}:`, '"api.pulumi.com/oidc:'),
    );
    expect(back).to.deep.equal(TRUST);
  });

  for (const token of ADMITTED) {
    it(`admits ${token.why}`, async () => {
      expect(await assumeWithWebIdentity(simulatable(TRUST), token)).to.equal("Allowed");
    });
  }

  for (const token of REFUSED) {
    it(`refuses ${token.why}`, async () => {
      expect(await assumeWithWebIdentity(simulatable(TRUST), token)).to.equal("ImplicitlyDenied");
    });
  }

  it("control: the unrewritten trust admits not even a valid token (the simulator drops unknown keys)", async () => {
    expect(await assumeWithWebIdentity(TRUST, ADMITTED[0]!, "api.pulumi.com/oidc")).to.equal("ImplicitlyDenied");
  });

  it("fails when the subject condition is widened (scratch copy): another project's stack gets in", async () => {
    const widened = JSON.parse(
      JSON.stringify(TRUST).replace(/"pulumi:deploy:org:acme:project:[^"]*"/, '"pulumi:deploy:org:acme:*"'),
    ) as PolicyDocument;
    expect(widened).to.not.deep.equal(TRUST);
    expect(await assumeWithWebIdentity(simulatable(widened), REFUSED[0]!)).to.equal("Allowed");
  });

  it("no AWS principal can assume it with sts:AssumeRole, not even an admin of the management account", async () => {
    const admin = `arn:${P}:iam::${MANAGEMENT}:user/admin`;
    const decision = await fullDecision({
      principal: admin,
      identityPolicies: [ADMIN_POLICY],
      access: { action: "sts:AssumeRole", resource: ROLE_ARN, resourceAccount: MANAGEMENT },
      resourcePolicy: TRUST,
    });
    // Same account: the admin's identity policy would suffice if the trust named the account; it names only the provider.
    const control = await fullDecision({
      principal: admin,
      identityPolicies: [ADMIN_POLICY],
      access: { action: "sts:AssumeRole", resource: ROLE_ARN, resourceAccount: MANAGEMENT },
      resourcePolicy: accountTrust(P, MANAGEMENT),
    });
    expect([decision, control]).to.deep.equal(["ImplicitlyDenied", "Allowed"]);
  });
});

interface RoleCase {
  readonly account: string;
  readonly role: string;
  readonly org: string;
  readonly why: string;
}

const SESSION = `arn:${P}:sts::${MANAGEMENT}:assumed-role/AVMDeploymentsRole/avm-account-222233334444`;

function assumeFromSession(identity: PolicyDocument, c: RoleCase): Promise<Decision> {
  return fullDecision({
    principal: SESSION,
    identityPolicies: [identity],
    access: {
      action: "sts:AssumeRole",
      resource: `arn:${P}:iam::${c.account}:role/${c.role}`,
      resourceAccount: c.account,
      context: { "aws:ResourceOrgID": c.org, "aws:PrincipalOrgID": ORG },
    },
    // The role trusts the management account (as the bootstrap role does): the session's own policy decides.
    resourcePolicy: accountTrust(P, MANAGEMENT),
  });
}

const ASSUMABLE: RoleCase[] = [
  { account: MEMBER, role: "OrganizationAccountAccessRole", org: ORG, why: "a member account" },
  { account: AUTOMATION, role: "OrganizationAccountAccessRole", org: ORG, why: "the automation account (a member)" },
];

const NOT_ASSUMABLE: [RoleCase, Decision][] = [
  [{ account: MEMBER, role: "MeshstackAccountAccessRole", org: ORG, why: "the access role" }, "ImplicitlyDenied"],
  [
    { account: MEMBER, role: "workload-admin", org: ORG, why: "any other role of a member account" },
    "ImplicitlyDenied",
  ],
  [
    {
      account: MANAGEMENT,
      role: "OrganizationAccountAccessRole",
      org: ORG,
      why: "a bootstrap role in the management account",
    },
    "ExplicitlyDenied",
  ],
  [{ account: MANAGEMENT, role: "AVMVendingRole", org: ORG, why: "the vending role" }, "ExplicitlyDenied"],
  [{ account: MANAGEMENT, role: "AVMDeploymentsRole", org: ORG, why: "itself" }, "ExplicitlyDenied"],
  [
    {
      account: FOREIGN,
      role: "OrganizationAccountAccessRole",
      org: "o-otherorg123",
      why: "a bootstrap role outside the organization",
    },
    "ImplicitlyDenied",
  ],
];

const OTHER_ACTIONS: [string, string][] = [
  ["organizations:CreateAccount", "*"],
  ["organizations:ListAccounts", "*"],
  ["organizations:MoveAccount", `arn:${P}:organizations::${MANAGEMENT}:account/${ORG}/${MEMBER}`],
  ["organizations:CloseAccount", `arn:${P}:organizations::${MANAGEMENT}:account/${ORG}/${MEMBER}`],
  [
    "organizations:AttachPolicy",
    `arn:${P}:organizations::${MANAGEMENT}:policy/${ORG}/service_control_policy/p-abcd1234`,
  ],
  ["organizations:LeaveOrganization", "*"],
  ["iam:CreateRole", `arn:${P}:iam::${MANAGEMENT}:role/backdoor`],
  ["iam:PassRole", `arn:${P}:iam::${MANAGEMENT}:role/AVMVendingRole`],
  ["iam:UpdateAssumeRolePolicy", `arn:${P}:iam::${MANAGEMENT}:role/AVMDeploymentsRole`],
  ["iam:CreateOpenIDConnectProvider", `arn:${P}:iam::${MANAGEMENT}:oidc-provider/evil.example.com`],
  ["s3:GetObject", "arn:aws:s3:::management-data/customers.csv"],
  ["secretsmanager:GetSecretValue", `arn:${P}:secretsmanager:eu-central-1:${MANAGEMENT}:secret:prod-AbCdEf`],
];

describe("AVMDeploymentsRole: what a Deployments session can do (iam-simulate)", () => {
  for (const c of ASSUMABLE) {
    it(`assumes the bootstrap role of ${c.why}`, async () => {
      expect(await assumeFromSession(PERMISSIONS, c)).to.equal("Allowed");
    });
  }

  for (const [c, expected] of NOT_ASSUMABLE) {
    it(`cannot assume ${c.why} (${expected}; an admin could)`, async () => {
      expect([await assumeFromSession(PERMISSIONS, c), await assumeFromSession(ADMIN_POLICY, c)]).to.deep.equal([
        expected,
        "Allowed",
      ]);
    });
  }

  for (const [action, resource] of OTHER_ACTIONS) {
    it(`cannot ${action} (an admin could)`, async () => {
      const decide = (identity: PolicyDocument) =>
        fullDecision({
          principal: SESSION,
          identityPolicies: [identity],
          access: {
            action,
            resource,
            resourceAccount: /::(\d{12}):/.exec(resource)?.[1] ?? MANAGEMENT,
            context: { "aws:ResourceOrgID": ORG, "aws:PrincipalOrgID": ORG },
          },
        });
      expect([await decide(PERMISSIONS), await decide(ADMIN_POLICY)]).to.deep.equal(["ImplicitlyDenied", "Allowed"]);
    });
  }
});
