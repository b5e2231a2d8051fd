/**
 * The peer of the batch vending bench: `org-formation update` (aws-organization-formation 1.0.17, the tool and
 * version the performance issue measured), creating the same accounts as `avm vend -f` (an OU, two tags each)
 * against the same moto. Installed on first use into `.tools/peers/` (bench tooling only: not a dependency of the
 * product). moto has no AWS Support API, which org-formation asks for every account's support level; a loopback stub
 * answers `SubscriptionRequiredException` there, as AWS does for an account without a premium support plan.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { ListTagsForResourceCommand, OrganizationsClient, paginateListAccounts } from "@aws-sdk/client-organizations";
import { localClientConfig } from "../../automation/localAws";

export const ORG_FORMATION_VERSION = "1.0.17";

/** The org-formation binary, installed into `.tools/peers/` when missing; undefined (with the reason) when it cannot be. */
export function ensureOrgFormation(repoRoot: string): { bin?: string; reason?: string } {
  const prefix = path.join(repoRoot, ".tools", "peers", `org-formation-${ORG_FORMATION_VERSION}`);
  const bin = path.join(prefix, "node_modules", ".bin", "org-formation");
  if (existsSync(bin)) return { bin };
  mkdirSync(prefix, { recursive: true });
  writeFileSync(path.join(prefix, "package.json"), '{ "private": true }\n');
  const npm = spawnSync(
    "npm",
    ["install", "--no-audit", "--no-fund", "--loglevel=error", `aws-organization-formation@${ORG_FORMATION_VERSION}`],
    { cwd: prefix, encoding: "utf8", timeout: 10 * 60_000 },
  );
  if (npm.status !== 0 || !existsSync(bin)) {
    return {
      reason: `npm install aws-organization-formation failed: ${(npm.stderr || npm.error?.message || "").slice(-500)}`,
    };
  }
  return { bin };
}

/** The org-formation template for `n` accounts in a new OU `Workloads`, with the same names, emails and tags as the avm batch. */
export function orgFormationTemplate(managementAccountId: string, accounts: readonly OrgPeerAccount[]): string {
  const refs = accounts.map((_, i) => `        - !Ref Account${i}\n`).join("");
  const resources = accounts
    .map(
      (a, i) =>
        `  Account${i}:\n    Type: OC::ORG::Account\n    Properties:\n      AccountName: ${a.name}\n` +
        `      RootEmail: ${a.email}\n      Tags:\n` +
        Object.entries(a.tags)
          .map(([k, v]) => `        ${k}: '${v}'\n`)
          .join(""),
    )
    .join("");
  return (
    "AWSTemplateFormatVersion: '2010-09-09-OC'\nOrganization:\n" +
    `  MasterAccount:\n    Type: OC::ORG::MasterAccount\n    Properties:\n      AccountName: master\n      AccountId: '${managementAccountId}'\n` +
    "  OrganizationRoot:\n    Type: OC::ORG::OrganizationRoot\n" +
    `  WorkloadsOU:\n    Type: OC::ORG::OrganizationalUnit\n    Properties:\n      OrganizationalUnitName: Workloads\n      Accounts:\n${refs}` +
    resources
  );
}

/** One account of the peer's template. */
export interface OrgPeerAccount {
  readonly name: string;
  readonly email: string;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Runs `org-formation update` for `accounts` against moto (an organization must exist, without a `Workloads` OU),
 * and checks that it created every account with its tags. Returns the wall time (process start to exit) in seconds.
 */
export async function runOrgFormation(
  bin: string,
  dir: string,
  endpoint: string,
  managementAccountId: string,
  accounts: readonly OrgPeerAccount[],
): Promise<number> {
  const template = path.join(dir, `org-${accounts.length}.yml`);
  writeFileSync(template, orgFormationTemplate(managementAccountId, accounts));
  const support = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(400, { "content-type": "application/x-amz-json-1.1" });
      res.end(
        JSON.stringify({
          __type: "SubscriptionRequiredException",
          message: "AWS Premium Support Subscription is required",
        }),
      );
    });
  });
  await new Promise<void>((resolve) => support.listen(0, "127.0.0.1", resolve));
  try {
    const started = performance.now();
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(bin, ["update", template, "--no-color"], {
        cwd: dir,
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...process.env,
          AWS_ENDPOINT_URL: endpoint,
          AWS_ENDPOINT_URL_SUPPORT: `http://127.0.0.1:${(support.address() as AddressInfo).port}`,
          AWS_ACCESS_KEY_ID: "testing",
          AWS_SECRET_ACCESS_KEY: "testing",
          AWS_REGION: "us-east-1",
          AWS_DEFAULT_REGION: "us-east-1",
        },
      });
      let text = "";
      const keep = (chunk: Buffer): void => void (text = (text + chunk.toString("utf8")).slice(-4_000));
      child.stdout.on("data", keep);
      child.stderr.on("data", keep);
      const timer = setTimeout(() => child.kill("SIGKILL"), 15 * 60_000);
      child.once("error", reject);
      child.once("close", (exit) => {
        clearTimeout(timer);
        resolve({ code: exit, output: text });
      });
    });
    const wall = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`org-formation update exited ${code}: ${output}`);
    await checkCreated(endpoint, accounts);
    return wall;
  } finally {
    support.close();
  }
}

/** The peer did the whole job: every account exists, and (spot check) the last one carries its tags. */
async function checkCreated(endpoint: string, accounts: readonly OrgPeerAccount[]): Promise<void> {
  const client = new OrganizationsClient(localClientConfig(endpoint));
  try {
    const byEmail = new Map<string, string>();
    for await (const page of paginateListAccounts({ client }, {})) {
      for (const a of page.Accounts ?? []) if (a.Email && a.Id) byEmail.set(a.Email, a.Id);
    }
    const missing = accounts.filter((a) => !byEmail.has(a.email));
    if (missing.length > 0) throw new Error(`org-formation left ${missing.length} accounts uncreated`);
    const last = accounts[accounts.length - 1]!;
    const tags = await client.send(new ListTagsForResourceCommand({ ResourceId: byEmail.get(last.email) }));
    const got = Object.fromEntries((tags.Tags ?? []).map((t) => [t.Key, t.Value]));
    if (JSON.stringify(got) !== JSON.stringify(last.tags)) {
      throw new Error(`org-formation tagged ${last.email} ${JSON.stringify(got)}, not ${JSON.stringify(last.tags)}`);
    }
  } finally {
    client.destroy();
  }
}
