import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { CONFIG_KEYS } from "../src/config";
import { meshfedServicePolicy } from "../src/policies/meshfedServicePolicy";
import { suggestedScps } from "./security/suggestedScps";

const root = path.resolve(__dirname, "..");
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");

/** Rows of the README's configuration reference table: key -> [type, default, stack]. */
function configTable(): Map<string, string[]> {
  const section = readme.split("## Configuration reference")[1]?.split("\n## ")[0] ?? "";
  const rows = new Map<string, string[]>();
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim());
    const key = /^`(\w+)`$/.exec(cells[1] ?? "")?.[1];
    if (key !== undefined) rows.set(key, cells.slice(2, 5));
  }
  return rows;
}

describe("README", () => {
  it("documents exactly the configuration keys src/config.ts reads, with the right stack kind and secrecy", () => {
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

  it("shows exactly the suggested SCPs that test/security/scp.spec.ts proves", () => {
    const section = readme.split("### Suggested SCPs")[1] ?? "";
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
    const section = readme.split("### meshStack's own principal")[1] ?? "";
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

  it("gives the newcomer commands, and CI runs exactly the test command", () => {
    expect(readme).to.contain("bash scripts/dev.sh demo");
    expect(readme).to.contain("bash scripts/dev.sh test");
    const ci = fs.readFileSync(path.join(root, ".ci", "run"), "utf8");
    expect(ci.trim().split("\n").at(-1)).to.equal("exec bash scripts/dev.sh test");
  });
});
