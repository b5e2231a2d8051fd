import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { CONFIG_KEYS } from "../src/config/keys";
import { meshfedServicePolicy } from "../src/policies/meshfedServicePolicy";
import { suggestedScps } from "./security/suggestedScps";

const root = path.resolve(__dirname, "..");
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
const doc = (page: string) => fs.readFileSync(path.join(root, "docs", page), "utf8");

/** Rows of the README's configuration reference table: key -> [type, default, stack]. */
function configTable(): Map<string, string[]> {
  const section = doc("configuration.md").split("## Configuration reference")[1]?.split("\n## ")[0] ?? "";
  const rows = new Map<string, string[]>();
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim());
    const key = /^`(\w+)`$/.exec(cells[1] ?? "")?.[1];
    if (key !== undefined) rows.set(key, cells.slice(2, 5));
  }
  return rows;
}

/** Every `.ts` file under `dir`. */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** Names that look like environment variables in the code but are not read from the environment. */
const NOT_READ: Record<string, string> = {
  AVM_RESOURCE_NAMES: "a constant (src/policies/platformNames.ts)",
  AWS_QUEUE_HOST: "a regular expression (avm reconcile)",
  PULUMI_ORGANIZATION: "a regular expression (src/config/schemas.ts)",
  PULUMI_OIDC_ISSUER: "a constant (src/policies/deploymentsRole.ts)",
  PULUMI_OIDC_PROVIDER: "a constant (src/policies/deploymentsRole.ts)",
  PULUMI_OIDC_PROVIDER_ARN: "a regular expression (src/config/schemas.ts)",
  PULUMI_CONFIG: "cleared for planner child processes; read by the Pulumi runtime, not by this code",
  PULUMI_CONFIG_SECRET_KEYS: "cleared for planner child processes",
  PULUMI_SKIP_UPDATE_CHECK: "set for the Pulumi CLI",
};

describe("README and docs/", () => {
  it("lists in its Environment table every environment variable the code reads", () => {
    const read = new Set<string>();
    for (const file of [...sources(path.join(root, "src")), ...sources(path.join(root, "automation"))]) {
      for (const match of fs
        .readFileSync(file, "utf8")
        .matchAll(/\b(?:AVM|PULUMI|AWS|POWERTOOLS)_[A-Z0-9_]*[A-Z0-9]\b/g)) {
        if (!(match[0] in NOT_READ)) read.add(match[0]);
      }
    }
    const section = doc("cli.md").split("### Environment\n")[1]?.split("\n### ")[0] ?? "";
    const documented = new Set<string>();
    for (const line of section.split("\n").filter((l) => l.startsWith("| `"))) {
      const variables = line.split("|")[1] ?? "";
      for (const match of variables.matchAll(/`([A-Z][A-Z0-9_]*)(?:=[^`]*)?`/g)) documented.add(match[1]!);
    }
    expect([...read].filter((name) => !documented.has(name)).sort(), "read but not documented").to.deep.equal([]);
    expect([...documented].filter((name) => !read.has(name)).sort(), "documented but not read").to.deep.equal([]);
  });

  it("documents exactly the configuration keys src/config reads, with the right stack kind and secrecy", () => {
    const expected = new Map<string, string>();
    for (const key of CONFIG_KEYS.common) expected.set(key, "both");
    for (const key of CONFIG_KEYS.account) expected.set(key, "account");
    for (const key of CONFIG_KEYS.platform) expected.set(key, "platform");
    const table = configTable();
    expect([...table.keys()].sort()).to.deep.equal([...expected.keys()].sort());
    for (const [key, [type, , stack]] of table) {
      expect(stack, key).to.equal(expected.get(key));
      expect(type === "secret", `${key} secret`).to.equal((CONFIG_KEYS.secret as readonly string[]).includes(key));
    }
  });

  it("shows exactly the guardrail SCPs the program deploys and test/security/scp.spec.ts proves", () => {
    const section = doc("security.md").split("### Guardrails: the SCPs")[1] ?? "";
    const json = /```json\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    const shown = JSON.parse(json.replaceAll("<automationAccountId>", "444455556666")) as unknown;
    const proven = suggestedScps({
      accessRoleName: "MeshstackAccountAccessRole",
      samlProviderName: "meshstack-saml-idp",
      bootstrapRoleName: "OrganizationAccountAccessRole",
      automationAccountId: "444455556666",
    });
    expect(shown).to.deep.equal({
      Version: "2012-10-17",
      Statement: proven.flatMap((scp) => scp.document.Statement),
    });
  });

  it("shows exactly the MeshfedServicePolicy src/policies/meshfedServicePolicy.ts builds", () => {
    const section = doc("security.md").split("### meshStack's own principal")[1] ?? "";
    const json = /```json\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    expect(JSON.parse(json)).to.deep.equal(
      meshfedServicePolicy({
        partition: "aws",
        managementAccountId: "111122223333",
        organizationId: "o-exampleorg1",
        automationAccountId: "444455556666",
        accessRoleName: "MeshstackAccountAccessRole",
        bootstrapRoleName: "OrganizationAccountAccessRole",
      }),
    );
  });

  it("links every docs/ page from the README, and every relative link of the docs resolves", () => {
    const pages = fs.readdirSync(path.join(root, "docs")).filter((f) => f.endsWith(".md"));
    for (const page of pages) expect(readme, page).to.contain(`(docs/${page})`);
    const broken: string[] = [];
    for (const file of ["README.md", "ARCHITECTURE.md", ...pages.map((p) => `docs/${p}`)]) {
      const text = fs.readFileSync(path.join(root, file), "utf8").replace(/```[\s\S]*?```/g, "");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:)/.test(target!)) continue;
        const [file2, anchor] = target!.split("#");
        const resolved =
          file2 === "" ? path.join(root, file) : path.resolve(path.dirname(path.join(root, file)), file2!);
        if (!fs.existsSync(resolved)) broken.push(`${file}: ${target}`);
        else if (anchor !== undefined && resolved.endsWith(".md")) {
          const slugs = [...fs.readFileSync(resolved, "utf8").matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
            m[1]!
              .trim()
              .toLowerCase()
              .replace(/[^\w\- ]/g, "")
              .replaceAll(" ", "-"),
          );
          if (!slugs.includes(anchor)) broken.push(`${file}: ${target}`);
        }
      }
    }
    expect(broken).to.deep.equal([]);
  });

  it("gives the newcomer commands, and CI runs exactly the test command", () => {
    expect(readme).to.contain("bash scripts/dev.sh demo");
    expect(readme).to.contain("bash scripts/dev.sh test");
    const ci = fs.readFileSync(path.join(root, ".ci", "run"), "utf8");
    expect(ci.trim().split("\n").at(-1)).to.equal("exec bash scripts/dev.sh test");
  });
});
