/**
 * An independent, third-party IAM policy analyzer over every policy document the product renders: Parliament
 * (duo-labs, PyPI `parliament`, pinned in scripts/requirements-test.txt and installed into .venv/ by
 * scripts/setup-moto.sh), with its community auditors (privilege escalation, credentials exposure, permissions
 * management, sensitive access, single-value conditions).
 *
 * The documents come from the offline plans (`avm plan` / `avm plan-platform`: the program under the mock runtime),
 * with every optional feature on: an account stack with an external id, and a platform stack with all secrets,
 * `meshfedServicePolicy: attach`, the guardrail SCPs and `deploymentsOidc`. Every finding must be one of ACCEPTED
 * below, each with its reason; any other finding, of any severity, fails the test.
 *
 * Trust policies have no `Resource` element (IAM refuses one there); Parliament reads every document as an identity
 * or resource policy and stops at "neither Resource nor NotResource". So each trust policy is analyzed with the
 * role it governs as its `Resource`, which lets Parliament check its actions, principals and conditions.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { planAccountStack, planPlatformStack, type PlannedPolicy } from "../../automation/plan/offlinePlan";
import type { PolicyDocument } from "../../src/policies/document";
import { HANG_GUARD_MS } from "../support/hangGuard";

const MANAGEMENT = "111122223333";
const AUTOMATION = "444455556666";
const MEMBER = "222233334444";
const REPO = path.resolve(__dirname, "..", "..");
const PARLIAMENT = path.join(REPO, ".venv", "bin", "parliament");

/** One finding, reduced to what identifies it. */
interface Finding {
  readonly policy: string;
  readonly issue: string;
  readonly severity: string;
  /** The actions it names, or its detail text. */
  readonly detail: string;
}

/** A trust policy's own grant: its principal may assume this role (proven per role in the security specs). */
const trustGrant = (role: string, action = "sts:assumerole"): Finding & { readonly reason: string } => ({
  policy: `${role}/trust`,
  issue: "CREDENTIALS_EXPOSURE",
  severity: "MEDIUM",
  detail: action,
  reason: "a trust policy's only grant: its principal may assume this role, the edge the role exists for",
});

/** Findings accepted on purpose, with the reason (docs/security.md "How this is proven" summarises them). */
const ACCEPTED: (Finding & { readonly reason: string })[] = [
  {
    policy: "AVMDeploymentsRole/permissions",
    issue: "CREDENTIALS_EXPOSURE",
    severity: "MEDIUM",
    detail: "sts:assumerole",
    reason:
      "its only right: the bootstrap role of member accounts, which the account stacks deploy through (roleChains.spec.ts)",
  },
  trustGrant("AVMDeploymentsRole", "sts:assumerolewithwebidentity"),
  ...["aud", "sub"].map((claim) => ({
    policy: "AVMDeploymentsRole/trust",
    issue: "UNKNOWN_CONDITION_FOR_ACTION",
    severity: "MEDIUM",
    detail: `Unknown condition api.pulumi.com/oidc:${claim} for action sts:AssumeRoleWithWebIdentity`,
    reason:
      "an OIDC provider's claims are keys named after its URL (AWS: <provider>:aud, :sub); Parliament knows those of a few providers only",
  })),
  {
    policy: "AVMDeploymentsRole/trust",
    issue: "UNKNOWN_FEDERATION_SOURCE",
    severity: "MEDIUM",
    detail: "arn:aws:iam::111122223333:oidc-provider/api.pulumi.com/oidc",
    reason:
      "Parliament knows a fixed list of web identity providers; Pulumi Cloud's issuer is not on it (deploymentsRole.spec.ts proves the trust)",
  },
  {
    policy: "AVMEntryPointRole/permissions",
    issue: "CREDENTIALS_EXPOSURE",
    severity: "MEDIUM",
    detail: "sts:assumerole",
    reason:
      "AVMVendingRole only, for DescribeAccount in a session policy (avmRoles.pulumi.spec.ts, roleChains.spec.ts)",
  },
  trustGrant("AVMEntryPointRole"),
  {
    policy: "AVMVendingRole/permissions",
    issue: "PERMISSIONS_MANAGEMENT_ACTIONS",
    severity: "MEDIUM",
    detail: "iam:createservicelinkedrole",
    reason: "only Organizations' service-linked role (iam:AWSServiceName condition): CreateAccount needs it",
  },
  trustGrant("AVMVendingRole"),
  trustGrant("AVMWebhookRole"),
  {
    policy: "AVMWorkerRole/permissions",
    issue: "CREDENTIALS_EXPOSURE",
    severity: "MEDIUM",
    detail: "sts:assumerole",
    reason: "AVMVendingRole only: the worker's way to Organizations",
  },
  trustGrant("AVMWorkerRole"),
  {
    policy: "MeshfedServicePolicy",
    issue: "CREDENTIALS_EXPOSURE",
    severity: "MEDIUM",
    detail: "sts:assumerole",
    reason: "the access role in the organization's accounts, what meshStack exists for; bootstrap roles denied",
  },
  {
    policy: "MeshstackAccountAccessRole/permissions",
    issue: "PERMISSIONS_MANAGEMENT_ACTIONS",
    severity: "MEDIUM",
    detail: "iam:updatesamlprovider",
    reason: "meshStack maintains exactly one SAML provider (its ARN is the resource); the design's contract",
  },
  {
    policy: "MeshstackAccountAccessRole/permissions",
    issue: "RESOURCE_STAR",
    severity: "LOW",
    detail: "iam:GetRole,iam:GetSAMLProvider",
    reason: "the design requires reading any role and SAML provider of the account (DESIGN.md, the corrected seed)",
  },
  trustGrant("MeshstackAccountAccessRole"),
];

/** The account a planned trust policy's role lives in, from the provider that deploys it. */
function roleAccount(provider: string | undefined): string {
  if (provider === "automation") return AUTOMATION;
  if (provider === "management") return MANAGEMENT;
  if (provider === "managed-account") return MEMBER;
  throw new Error(`no account for provider ${String(provider)}`);
}

/** The document Parliament reads: trust policies get the role they govern as `Resource`. */
function analyzable(policy: PlannedPolicy, provider: string | undefined): PolicyDocument {
  if (!policy.name.endsWith("/trust")) return policy.document;
  const role = `arn:aws:iam::${roleAccount(provider)}:role/${policy.name.replace(/\/trust$/, "")}`;
  return { ...policy.document, Statement: policy.document.Statement.map((s) => ({ ...s, Resource: role })) };
}

/** Runs Parliament once over `documents` (name -> document) and returns its findings. */
async function parliament(documents: ReadonlyMap<string, PolicyDocument>): Promise<Finding[]> {
  if (!existsSync(PARLIAMENT)) {
    throw new Error(
      `${PARLIAMENT} is missing: run bash scripts/setup-moto.sh (installs scripts/requirements-test.txt)`,
    );
  }
  const dir = mkdtempSync(path.join(tmpdir(), "avm-parliament-"));
  const files = new Map<string, string>();
  try {
    let i = 0;
    for (const [name, document] of documents) {
      const file = path.join(dir, `policy-${i++}.json`);
      files.set(file, name);
      writeFileSync(file, JSON.stringify(document, null, 2));
    }
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        PARLIAMENT,
        ["--directory", dir, "--include_policy_extension", ".json", "--json", "--include-community-auditors"],
        { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
        // Parliament exits 1 when it reports findings: the findings are the result, not an error.
        (error, out, err) =>
          error && (error.code !== 1 || out.trim() === "")
            ? reject(new Error(`parliament failed: ${err}`))
            : resolve(out),
      ),
    );
    return stdout
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => {
        const f = JSON.parse(line) as {
          issue: string;
          severity: string;
          detail: unknown;
          location: { filepath?: string; actions?: string[] };
        };
        const detail =
          f.location.actions?.join(",") ?? (Array.isArray(f.detail) ? f.detail.join(",") : String(f.detail));
        return { policy: files.get(f.location.filepath ?? "") ?? "?", issue: f.issue, severity: f.severity, detail };
      })
      .sort((a, b) => `${a.policy} ${a.issue} ${a.detail}`.localeCompare(`${b.policy} ${b.issue} ${b.detail}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("third-party policy analyzer (Parliament) over every policy the product renders", function () {
  this.timeout(HANG_GUARD_MS);
  const documents = new Map<string, PolicyDocument>();

  before(async () => {
    const platform = await planPlatformStack(
      "dev",
      {
        "aws:region": "eu-central-1",
        "meshstack-avm:managementAccountId": MANAGEMENT,
        "meshstack-avm:automationAccountId": AUTOMATION,
        "meshstack-avm:organizationId": "o-exampleorg1",
        "meshstack-avm:meshfedServicePolicy": "attach",
        "meshstack-avm:webhookSecret": "whsec-analyzer-0123456789",
        "meshstack-avm:pulumiAccessToken": "pul-analyzer-0123",
        "meshstack-avm:externalId": "ext-analyzer-0123",
        "meshstack-avm:pulumiOrganization": "acme",
        "meshstack-avm:deploymentsOidc": "true",
        "meshstack-avm:guardrailTargets": '["ou-ab12-cd34ef56"]',
      },
      ["meshstack-avm:webhookSecret", "meshstack-avm:pulumiAccessToken", "meshstack-avm:externalId"],
    );
    const account = await planAccountStack(
      { accountId: MEMBER, tags: {} },
      { managementAccountId: MANAGEMENT, automationAccountId: AUTOMATION, region: "eu-central-1", externalId: "ext-1" },
    );
    for (const plan of [platform, account]) {
      for (const policy of plan.policies) {
        const provider = plan.resources.find((r) => r.name === policy.resource)?.provider;
        documents.set(policy.name, analyzable(policy, provider));
      }
    }
  });

  it("covers every role, policy and SCP the offline plans render", () => {
    expect([...documents.keys()].sort()).to.deep.equal([
      "AVMDeploymentsRole/permissions",
      "AVMDeploymentsRole/trust",
      "AVMEntryPointRole/permissions",
      "AVMEntryPointRole/trust",
      "AVMVendingRole/permissions",
      "AVMVendingRole/trust",
      "AVMWebhookRole/permissions",
      "AVMWebhookRole/trust",
      "AVMWorkerRole/permissions",
      "AVMWorkerRole/trust",
      "MeshfedServicePolicy",
      "MeshstackAccountAccessRole/permissions",
      "MeshstackAccountAccessRole/trust",
      "scp/OnlyMeshstackInvokesAvmEntryPoint",
      "scp/ProtectMeshstackAccessRole",
      "scp/ProtectMeshstackSamlProvider",
    ]);
  });

  it("finds nothing but the accepted findings, each with its reason", async () => {
    const findings = await parliament(documents);
    for (const f of findings) {
      const accepted = ACCEPTED.find((a) => a.policy === f.policy && a.issue === f.issue && a.detail === f.detail);
      console.log(`    ${f.severity} ${f.issue} ${f.policy} [${f.detail}]: ${accepted?.reason ?? "NOT ACCEPTED"}`);
    }
    const key = (f: Finding) => `${f.policy} ${f.issue} ${f.detail}`;
    expect(findings).to.deep.equal(
      ACCEPTED.map(({ reason: _reason, ...finding }) => finding).sort((a, b) => key(a).localeCompare(key(b))),
    );
  });

  it("reports a misspelled action and a wildcard grant (the analyzer is really consulted)", async () => {
    const findings = await parliament(
      new Map<string, PolicyDocument>([
        [
          "typo",
          {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "s3:GetObjct", Resource: "arn:aws:s3:::bucket/*" }],
          },
        ],
        ["admin", { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "iam:*", Resource: "*" }] }],
      ]),
    );
    expect(findings.map((f) => `${f.policy} ${f.issue}`)).to.include.members([
      "typo UNKNOWN_ACTION",
      "admin PRIVILEGE_ESCALATION",
    ]);
  });
});
