/**
 * "meshStack never reaches workloads", proven over every chain of roles (see roleGraph.ts for the model).
 *
 * The graph holds every principal and role the product defines or relies on, with the documents the product's own
 * builders write (`buildAccountStackPolicies`, `buildPlatformPolicies`; `accessRole.pulumi.spec.ts` and
 * `avmRoles.pulumi.spec.ts` prove the deployed documents equal them):
 * - meshfed-service in the management account, with and without `MeshfedServicePolicy`;
 * - `MeshstackAccountAccessRole` in two managed accounts;
 * - `OrganizationAccountAccessRole` (AdministratorAccess, trusting the management account root) in both managed
 *   accounts and in the automation account;
 * - the AVM's execution roles (automation account) and the vending role (management account);
 * - the Pulumi Deployments deploy role `AVMDeploymentsRole` (management account, `deploymentsOidc`), which no AWS
 *   principal can assume (its trust admits web identities only; deploymentsRole.spec.ts proves who gets in).
 * Without SCPs first; then with the guardrail SCPs the platform stack deploys on request (`guardrailTargets`).
 *
 * Claims:
 * 1. With `MeshfedServicePolicy` (as its only policy, or as the permissions boundary over AdministratorAccess), the
 *    only chains from meshfed-service into a member account are `meshfed-service -> MeshstackAccountAccessRole`,
 *    and no chain reaches any of the workload actions in any workload account.
 * 2. Without it (meshfed-service with AdministratorAccess), the chains into `OrganizationAccountAccessRole` exist and
 *    reach every workload action: the path the policy closes.
 * 3. An admin of a member account (an IAM user with AdministratorAccess there, or that account's
 *    `OrganizationAccountAccessRole`) reaches no role of another account and none of the AVM's roles.
 * 4. The AVM's own roles reach no workload action (the worker and the entry point reach the vending role).
 * 5. With the guardrail SCPs, every start finds the same chains and no more workload reach.
 * 6. A Pulumi Deployments session of `AVMDeploymentsRole` reaches exactly the bootstrap roles of the member accounts
 *    (what the account stacks deploy through), no other role, and no workload action by itself.
 * A widened trust or a removed deny in a scratch copy makes the claims report the new path.
 */
import { expect } from "chai";
import { parseConfig } from "../../src/config/parseConfig";
import type { PolicyDocument } from "../../src/policies/document";
import { suggestedScps } from "../../src/policies/guardrailScps";
import { buildAccountStackPolicies, buildPlatformPolicies, roleArn } from "../../src/policies/stackPolicies";
import { ADMIN_POLICY, accountTrust, delegatingKeyPolicy } from "./iamProof";
import {
  type Chain,
  chainsFrom,
  formatChain,
  type PrincipalNode,
  type ProofStats,
  type Reach,
  type RoleGraph,
  type RoleNode,
  requestDecision,
  withTrust,
  type WorkloadAction,
  workloadReach,
} from "./roleGraph";
import { HANG_GUARD_MS } from "../support/hangGuard";

const P = "aws";
const R = "eu-central-1";
const MANAGEMENT = "111122223333";
const AUTOMATION = "444455556666";
const MEMBER_A = "222233334444";
const MEMBER_B = "555566667777";
const ORG = "o-exampleorg1";
const ACCOUNT_NAMES: Record<string, string> = {
  [MANAGEMENT]: "management",
  [AUTOMATION]: "automation",
  [MEMBER_A]: "member-a",
  [MEMBER_B]: "member-b",
};

const common = { managementAccountId: MANAGEMENT, automationAccountId: AUTOMATION };

function platformPolicies(): Map<string, PolicyDocument> {
  const cfg = parseConfig({
    stackName: "dev",
    region: R,
    values: {
      ...common,
      organizationId: ORG,
      meshfedServicePolicy: "create",
      webhookSecret: "whsec-0123456789abcdef",
      pulumiAccessToken: "pul-0123456789abcdef",
      pulumiOrganization: "acme",
      deploymentsOidc: "true",
    },
  });
  if (cfg.kind !== "platform") throw new Error("expected the platform stack");
  return new Map(buildPlatformPolicies(cfg, { partition: P }).map((p) => [p.name, p.document]));
}

function accessRolePolicies(accountId: string): Map<string, PolicyDocument> {
  const cfg = parseConfig({ stackName: `account-${accountId}`, region: R, values: { ...common, accountId } });
  if (cfg.kind !== "account") throw new Error("expected an account stack");
  return new Map(buildAccountStackPolicies(cfg, { partition: P }).map((p) => [p.name, p.document]));
}

const PLATFORM = platformPolicies();
const policy = (map: Map<string, PolicyDocument>, name: string): PolicyDocument => {
  const document = map.get(name);
  if (document === undefined) throw new Error(`no policy ${name}`);
  return document;
};
const MESHFED_POLICY = policy(PLATFORM, "MeshfedServicePolicy");

function role(account: string, name: string, trust: PolicyDocument, identityPolicies: PolicyDocument[]): RoleNode {
  return {
    id: `${name}@${ACCOUNT_NAMES[account]}`,
    roleArn: roleArn(P, account, name),
    arn: `arn:${P}:sts::${account}:assumed-role/${name}/chain`,
    account,
    trust,
    identityPolicies,
  };
}

function accessRole(account: string): RoleNode {
  const policies = accessRolePolicies(account);
  return role(account, "MeshstackAccountAccessRole", policy(policies, "MeshstackAccountAccessRole/trust"), [
    policy(policies, "MeshstackAccountAccessRole/permissions"),
  ]);
}

/** The admin role AWS Organizations creates in every member account, trusting the management account. */
const bootstrapRole = (account: string) =>
  role(account, "OrganizationAccountAccessRole", accountTrust(P, MANAGEMENT), [ADMIN_POLICY]);

const avmRole = (name: string, account = AUTOMATION) =>
  role(account, name, policy(PLATFORM, `${name}/trust`), [policy(PLATFORM, `${name}/permissions`)]);

const ROLES: RoleNode[] = [
  accessRole(MEMBER_A),
  accessRole(MEMBER_B),
  bootstrapRole(MEMBER_A),
  bootstrapRole(MEMBER_B),
  bootstrapRole(AUTOMATION),
  avmRole("AVMEntryPointRole"),
  avmRole("AVMWorkerRole"),
  avmRole("AVMWebhookRole"),
  avmRole("AVMVendingRole", MANAGEMENT),
  avmRole("AVMDeploymentsRole", MANAGEMENT),
];
const AVM_ROLE_IDS = ROLES.filter((r) => r.id.startsWith("AVM")).map((r) => r.id);

const GRAPH: RoleGraph = {
  partition: P,
  organizationId: ORG,
  workloadAccounts: { [MEMBER_A]: "member-a", [MEMBER_B]: "member-b", [AUTOMATION]: "automation" },
  scps: {},
  roles: ROLES,
};

const MESHFED_ARN = `arn:${P}:iam::${MANAGEMENT}:user/meshfed-service`;
const meshfed = (identityPolicies: PolicyDocument[], boundary?: PolicyDocument): PrincipalNode => ({
  id: "meshfed-service",
  arn: MESHFED_ARN,
  account: MANAGEMENT,
  identityPolicies,
  boundary,
});
const ACCOUNT_ADMIN: PrincipalNode = {
  id: "account-admin@member-a",
  arn: `arn:${P}:iam::${MEMBER_A}:user/account-admin`,
  account: MEMBER_A,
  identityPolicies: [ADMIN_POLICY],
};
const byId = (id: string): RoleNode => {
  const found = ROLES.find((r) => r.id === id);
  if (found === undefined) throw new Error(`no role ${id}`);
  return found;
};

// Workload actions, on resources of account `a` (58 actions across S3, DynamoDB, EC2, Secrets Manager, KMS, RDS,
// Lambda and IAM write).
const arn = (service: string, a: string, rest: string) => `arn:${P}:${service}:${R}:${a}:${rest}`;
const s3 = (action: string, object: boolean): WorkloadAction => ({
  action,
  resource: (a) => `arn:${P}:s3:::workload-data-${a}${object ? "/customers/2026.csv" : ""}`,
});
const on = (action: string, resource: (a: string) => string): WorkloadAction => ({ action, resource });
const table = (a: string) => arn("dynamodb", a, "table/orders");
const instance = (a: string) => arn("ec2", a, "instance/i-0123456789abcdef0");
const secret = (a: string) => arn("secretsmanager", a, "secret:prod/db-password-AbCdEf");
const key = (a: string) => arn("kms", a, "key/1234abcd-12ab-34cd-56ef-1234567890ab");
const db = (a: string) => arn("rds", a, "db:orders-db");
const fn = (a: string) => arn("lambda", a, "function:payments");
const iam = (a: string, rest: string) => `arn:${P}:iam::${a}:${rest}`;
const kms = (action: string): WorkloadAction => ({
  action,
  resource: key,
  resourcePolicy: (a) => delegatingKeyPolicy(P, a),
});

const WORKLOAD_ACTIONS: WorkloadAction[] = [
  s3("s3:GetObject", true),
  s3("s3:PutObject", true),
  s3("s3:DeleteObject", true),
  s3("s3:ListBucket", false),
  s3("s3:PutBucketPolicy", false),
  s3("s3:DeleteBucket", false),
  s3("s3:PutBucketPublicAccessBlock", false),
  s3("s3:PutLifecycleConfiguration", false),
  on("dynamodb:GetItem", table),
  on("dynamodb:PutItem", table),
  on("dynamodb:UpdateItem", table),
  on("dynamodb:DeleteItem", table),
  on("dynamodb:Scan", table),
  on("dynamodb:Query", table),
  on("dynamodb:DeleteTable", table),
  on("dynamodb:ExportTableToPointInTime", table),
  on("ec2:TerminateInstances", instance),
  on("ec2:StopInstances", instance),
  on("ec2:ModifyInstanceAttribute", instance),
  on("ec2:GetPasswordData", instance),
  on("ec2:GetConsoleOutput", instance),
  on("ec2:CreateSnapshot", (a) => arn("ec2", a, "volume/vol-0123456789abcdef0")),
  on("ec2:AuthorizeSecurityGroupIngress", (a) => arn("ec2", a, "security-group/sg-0123456789abcdef0")),
  on("ec2:RunInstances", (a) => arn("ec2", a, "instance/*")),
  on("secretsmanager:GetSecretValue", secret),
  on("secretsmanager:PutSecretValue", secret),
  on("secretsmanager:UpdateSecret", secret),
  on("secretsmanager:DeleteSecret", secret),
  on("secretsmanager:PutResourcePolicy", secret),
  kms("kms:Decrypt"),
  kms("kms:Encrypt"),
  kms("kms:GenerateDataKey"),
  kms("kms:CreateGrant"),
  kms("kms:PutKeyPolicy"),
  kms("kms:ScheduleKeyDeletion"),
  on("rds:DeleteDBInstance", db),
  on("rds:ModifyDBInstance", db),
  on("rds:StopDBInstance", db),
  on("rds:CreateDBSnapshot", db),
  on("rds:DeleteDBSnapshot", (a) => arn("rds", a, "snapshot:orders-db-2026-11-30")),
  on("rds-db:connect", (a) => arn("rds-db", a, "dbuser:db-ABCDEFGHIJKLMNOP/admin")),
  on("lambda:InvokeFunction", fn),
  on("lambda:GetFunction", fn),
  on("lambda:UpdateFunctionCode", fn),
  on("lambda:UpdateFunctionConfiguration", fn),
  on("lambda:AddPermission", fn),
  on("lambda:DeleteFunction", fn),
  on("iam:CreateUser", (a) => iam(a, "user/backdoor")),
  on("iam:CreateAccessKey", (a) => iam(a, "user/deployer")),
  on("iam:CreateLoginProfile", (a) => iam(a, "user/deployer")),
  on("iam:PutUserPolicy", (a) => iam(a, "user/deployer")),
  on("iam:CreateRole", (a) => iam(a, "role/backdoor")),
  on("iam:AttachRolePolicy", (a) => iam(a, "role/workload-app")),
  on("iam:PutRolePolicy", (a) => iam(a, "role/workload-app")),
  on("iam:UpdateAssumeRolePolicy", (a) => iam(a, "role/workload-app")),
  on("iam:PassRole", (a) => iam(a, "role/workload-app")),
  on("iam:DeleteRole", (a) => iam(a, "role/workload-app")),
  on("iam:UpdateSAMLProvider", (a) => iam(a, "saml-provider/corporate-idp")),
];

/** Violations of claim 1: a chain into a member account not ending in the access role, or any workload reach. */
function meshfedViolations(chains: readonly Chain[], reaches: readonly Reach[]): string[] {
  const badChains = chains
    .filter((c) => c.length > 1 && !(c.length === 2 && c[1]!.startsWith("MeshstackAccountAccessRole@")))
    .map((c) => `chain ${formatChain(c)}`);
  return [...badChains, ...reaches.map((r) => `${formatChain(r.chain)} reaches ${r.action} on ${r.resource}`)];
}

/** Violations of claim 3: a role of another account or of the AVM on a chain from an admin of `account`. */
function accountAdminViolations(chains: readonly Chain[], account: string): string[] {
  const foreign = (id: string) => {
    const r = ROLES.find((x) => x.id === id);
    return r !== undefined && (r.account !== account || AVM_ROLE_IDS.includes(id));
  };
  return chains.filter((c) => c.slice(1).some(foreign)).map((c) => `chain ${formatChain(c)}`);
}

function report(title: string, chains: readonly Chain[], reaches: readonly Reach[]): void {
  const lines = chains.map((c) => {
    const n = reaches.filter((r) => r.chain === c).length;
    return `    ${formatChain(c)}  (${n} workload actions reached)`;
  });
  console.log(`  ${title}: ${chains.length} chains\n${lines.join("\n")}`);
}

const totals: ProofStats = { steps: 0, workloadChecks: 0 };
let chainCount = 0;

/** Enumerates, checks and prints the chains from `start`; `scratch` proofs (widened copies) are not counted. */
async function prove(title: string, graph: RoleGraph, start: PrincipalNode, scratch = false) {
  const chains = await chainsFrom(graph, start, totals);
  const reaches = await workloadReach(graph, start, chains, WORKLOAD_ACTIONS, totals);
  if (!scratch) chainCount += chains.length;
  report(title, chains, reaches);
  return { chains, reaches };
}

const ids = (chains: readonly Chain[]) => chains.map((c) => [...c]);
const MESHFED_TO_ACCESS_ROLES = [
  ["meshfed-service"],
  ["meshfed-service", "MeshstackAccountAccessRole@member-a"],
  ["meshfed-service", "MeshstackAccountAccessRole@member-b"],
];

describe("role chains: meshStack never reaches workloads", function () {
  this.timeout(HANG_GUARD_MS);

  after(() => {
    console.log(
      `  proven: ${chainCount} chains of the product's graph, ${WORKLOAD_ACTIONS.length} workload actions x ` +
        `${Object.keys(GRAPH.workloadAccounts).length} accounts, ${totals.steps} sts:AssumeRole steps and ` +
        `${totals.workloadChecks} workload checks simulated`,
    );
  });

  it("checks at least 50 workload actions across S3, DynamoDB, EC2, Secrets Manager, KMS, RDS, Lambda and IAM", () => {
    const services = new Set(WORKLOAD_ACTIONS.map((w) => w.action.split(":")[0]));
    expect([WORKLOAD_ACTIONS.length, [...services].sort()]).to.deep.equal([
      58,
      ["dynamodb", "ec2", "iam", "kms", "lambda", "rds", "rds-db", "s3", "secretsmanager"],
    ]);
  });

  it("with MeshfedServicePolicy as its only policy: the only chains into member accounts end in the access role, none reaches a workload action", async () => {
    const { chains, reaches } = await prove(
      "meshfed-service with MeshfedServicePolicy (managed policy)",
      GRAPH,
      meshfed([MESHFED_POLICY]),
    );
    expect(ids(chains)).to.deep.equal(MESHFED_TO_ACCESS_ROLES);
    expect(meshfedViolations(chains, reaches)).to.deep.equal([]);
  });

  it("with MeshfedServicePolicy as permissions boundary over AdministratorAccess: the same chains, no workload action", async () => {
    const { chains, reaches } = await prove(
      "meshfed-service with AdministratorAccess, MeshfedServicePolicy as permissions boundary",
      GRAPH,
      meshfed([ADMIN_POLICY], MESHFED_POLICY),
    );
    expect(ids(chains)).to.deep.equal(MESHFED_TO_ACCESS_ROLES);
    expect(meshfedViolations(chains, reaches)).to.deep.equal([]);
  });

  it("with MeshfedServicePolicy attached beside AdministratorAccess: its denies close the bootstrap role, but the other policy's own rights stay", async () => {
    const { chains, reaches } = await prove(
      "meshfed-service with AdministratorAccess and MeshfedServicePolicy attached",
      GRAPH,
      meshfed([ADMIN_POLICY, MESHFED_POLICY]),
    );
    expect(ids(chains)).to.deep.equal(MESHFED_TO_ACCESS_ROLES);
    // Only the start itself (AdministratorAccess, should a workload's resource policy admit it): use the boundary.
    expect([...new Set(reaches.map((r) => formatChain(r.chain)))]).to.deep.equal(["meshfed-service"]);
  });

  it("meshfed-service invokes AVMEntryPoint only through the access role, and assumes access roles of this organization only", async () => {
    const entryPoint = `arn:${P}:lambda:${R}:${AUTOMATION}:function:AVMEntryPoint`;
    // The function's resource policy as deployed: principals of the organization.
    const orgInvoke: PolicyDocument = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: "lambda:InvokeFunction",
          Resource: entryPoint,
          Condition: { StringEquals: { "aws:PrincipalOrgID": ORG } },
        },
      ],
    };
    const invoke = (caller: PrincipalNode) =>
      requestDecision(GRAPH, caller, "lambda:InvokeFunction", entryPoint, AUTOMATION, orgInvoke);
    expect([
      await invoke(meshfed([ADMIN_POLICY])),
      await invoke(meshfed([MESHFED_POLICY])),
      await invoke(meshfed([ADMIN_POLICY], MESHFED_POLICY)),
      await invoke(meshfed([ADMIN_POLICY, MESHFED_POLICY])),
      await invoke(byId("MeshstackAccountAccessRole@member-a")),
    ]).to.deep.equal(["Allowed", "ExplicitlyDenied", "ExplicitlyDenied", "ExplicitlyDenied", "Allowed"]);
    const foreignOrg: RoleGraph = { ...GRAPH, organizationId: "o-otherorg123" };
    const outside = role(MEMBER_B, "MeshstackAccountAccessRole", byId("MeshstackAccountAccessRole@member-b").trust, []);
    expect([
      await requestDecision(
        GRAPH,
        meshfed([MESHFED_POLICY]),
        "sts:AssumeRole",
        outside.roleArn,
        MEMBER_B,
        outside.trust,
      ),
      await requestDecision(
        foreignOrg,
        meshfed([MESHFED_POLICY]),
        "sts:AssumeRole",
        outside.roleArn,
        MEMBER_B,
        outside.trust,
      ),
    ]).to.deep.equal(["Allowed", "ImplicitlyDenied"]);
  });

  it("without MeshfedServicePolicy (AdministratorAccess): the OrganizationAccountAccessRole chains exist and reach every workload action", async () => {
    const { chains, reaches } = await prove(
      "meshfed-service with AdministratorAccess, no MeshfedServicePolicy",
      GRAPH,
      meshfed([ADMIN_POLICY]),
    );
    expect(ids(chains)).to.deep.equal([
      ...MESHFED_TO_ACCESS_ROLES,
      ["meshfed-service", "OrganizationAccountAccessRole@member-a"],
      ["meshfed-service", "OrganizationAccountAccessRole@member-b"],
      ["meshfed-service", "OrganizationAccountAccessRole@automation"],
    ]);
    for (const [account, name] of Object.entries(GRAPH.workloadAccounts)) {
      const chain = `meshfed-service -> OrganizationAccountAccessRole@${name}`;
      const own = reaches.filter((r) => formatChain(r.chain) === chain && r.account === account);
      expect(
        own.map((r) => r.action),
        chain,
      ).to.deep.equal(WORKLOAD_ACTIONS.map((w) => w.action));
    }
    expect(meshfedViolations(chains, reaches)).to.include(
      "chain meshfed-service -> OrganizationAccountAccessRole@member-a",
    );
  });

  it("an admin of a member account reaches no role of another account and none of the AVM's roles", async () => {
    for (const start of [ACCOUNT_ADMIN, byId("OrganizationAccountAccessRole@member-a")]) {
      const { chains, reaches } = await prove(`${start.id} (admin of member-a)`, GRAPH, start);
      expect(ids(chains)).to.deep.equal([[start.id]]);
      expect(accountAdminViolations(chains, MEMBER_A)).to.deep.equal([]);
      // Control: the workload check does see an admin's own account.
      expect(reaches.filter((r) => r.account === MEMBER_A)).to.have.length(WORKLOAD_ACTIONS.length);
    }
  });

  it("the AVM's own roles reach no workload action (the worker and the entry point only the vending role)", async () => {
    const all: Chain[] = [];
    for (const id of ["AVMEntryPointRole@automation", "AVMWorkerRole@automation", "AVMWebhookRole@automation"]) {
      const { chains, reaches } = await prove(id, GRAPH, byId(id));
      expect(reaches).to.deep.equal([]);
      all.push(...chains);
    }
    // The entry point's session of the vending role carries a DescribeAccount-only session policy; the graph
    // leaves it out (a compromised function need not pass it), so the chain is checked with the role's full rights.
    expect(ids(all)).to.deep.equal([
      ["AVMEntryPointRole@automation"],
      ["AVMEntryPointRole@automation", "AVMVendingRole@management"],
      ["AVMWorkerRole@automation"],
      ["AVMWorkerRole@automation", "AVMVendingRole@management"],
      ["AVMWebhookRole@automation"],
    ]);
  });

  it("a Pulumi Deployments session of AVMDeploymentsRole reaches only the member accounts' bootstrap roles", async () => {
    const start = byId("AVMDeploymentsRole@management");
    const { chains, reaches } = await prove(
      "AVMDeploymentsRole@management (a Pulumi Deployments session)",
      GRAPH,
      start,
    );
    expect(ids(chains)).to.deep.equal([
      ["AVMDeploymentsRole@management"],
      ["AVMDeploymentsRole@management", "OrganizationAccountAccessRole@member-a"],
      ["AVMDeploymentsRole@management", "OrganizationAccountAccessRole@member-b"],
      ["AVMDeploymentsRole@management", "OrganizationAccountAccessRole@automation"],
    ]);
    // By itself nothing; only through a bootstrap role (admin: what deploying an account stack needs).
    expect(reaches.filter((r) => r.chain.length === 1)).to.deep.equal([]);
    expect([...new Set(reaches.map((r) => r.chain[1]))].sort()).to.deep.equal([
      "OrganizationAccountAccessRole@automation",
      "OrganizationAccountAccessRole@member-a",
      "OrganizationAccountAccessRole@member-b",
    ]);
    // No other start reaches it: its trust admits no AWS principal.
    expect(
      await requestDecision(GRAPH, meshfed([ADMIN_POLICY]), "sts:AssumeRole", start.roleArn, MANAGEMENT, start.trust),
    ).to.equal("ImplicitlyDenied");
  });

  it("has enumerated 26 chains of the product's graph in the proofs above (docs/security.md's count)", () => {
    expect(chainCount).to.equal(26);
  });

  it("finds the same chains, and no new workload reach, with the guardrail SCPs deployed (guardrailTargets)", async () => {
    const guardrails = suggestedScps({
      accessRoleName: "MeshstackAccountAccessRole",
      samlProviderName: "meshstack-saml-idp",
      bootstrapRoleName: "OrganizationAccountAccessRole",
      automationAccountId: AUTOMATION,
    }).map((scp) => scp.document);
    // SCPs bind the member accounts (the OUs or root they are attached to), never the management account.
    const withScps: RoleGraph = {
      ...GRAPH,
      scps: { [MEMBER_A]: guardrails, [MEMBER_B]: guardrails, [AUTOMATION]: guardrails },
    };
    const starts: PrincipalNode[] = [
      meshfed([MESHFED_POLICY]),
      meshfed([ADMIN_POLICY], MESHFED_POLICY),
      meshfed([ADMIN_POLICY]),
      ACCOUNT_ADMIN,
      byId("OrganizationAccountAccessRole@member-a"),
      byId("AVMEntryPointRole@automation"),
      byId("AVMWorkerRole@automation"),
      byId("AVMWebhookRole@automation"),
      byId("AVMDeploymentsRole@management"),
    ];
    for (const start of starts) {
      const plain = await chainsFrom(GRAPH, start);
      const guarded = await prove(`${start.id} with the guardrail SCPs`, withScps, start, true);
      expect(ids(guarded.chains), start.id).to.deep.equal(ids(plain));
      const before = await workloadReach(GRAPH, start, plain, WORKLOAD_ACTIONS);
      expect(guarded.reaches.length, start.id).to.be.at.most(before.length);
    }
  });

  describe("fails when a trust or a grant opens a path (scratch copies)", () => {
    it("reports the new chain when member-b's access role also trusts member-a", async () => {
      const widened = withTrust(GRAPH, "MeshstackAccountAccessRole@member-b", {
        Version: "2012-10-17",
        Statement: [
          ...byId("MeshstackAccountAccessRole@member-b").trust.Statement,
          { Effect: "Allow", Principal: { AWS: `arn:${P}:iam::${MEMBER_A}:root` }, Action: "sts:AssumeRole" },
        ],
      });
      const { chains } = await prove(
        "account-admin@member-a, member-b's access role trust widened",
        widened,
        ACCOUNT_ADMIN,
        true,
      );
      expect(accountAdminViolations(chains, MEMBER_A)).to.deep.equal([
        "chain account-admin@member-a -> MeshstackAccountAccessRole@member-b",
      ]);
    });

    it("reports the bootstrap-role chains when the policy's DenyBootstrapRoles statement is removed", async () => {
      const withoutDeny: PolicyDocument = {
        ...MESHFED_POLICY,
        Statement: MESHFED_POLICY.Statement.filter((s) => s.Sid !== "DenyBootstrapRoles"),
      };
      expect(withoutDeny.Statement).to.have.length(MESHFED_POLICY.Statement.length - 1);
      const { chains, reaches } = await prove(
        "meshfed-service with AdministratorAccess and MeshfedServicePolicy without DenyBootstrapRoles",
        GRAPH,
        meshfed([ADMIN_POLICY, withoutDeny]),
        true,
      );
      expect(meshfedViolations(chains, reaches).filter((v) => v.startsWith("chain "))).to.deep.equal([
        "chain meshfed-service -> OrganizationAccountAccessRole@member-a",
        "chain meshfed-service -> OrganizationAccountAccessRole@member-b",
        "chain meshfed-service -> OrganizationAccountAccessRole@automation",
      ]);
    });
  });
});
