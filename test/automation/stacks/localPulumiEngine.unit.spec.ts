import { expect } from "chai";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { requiredPlugins } from "../../../automation/stacks/localPulumiEngine";
import { defaultRepoRoot } from "../../../automation/stacks/workspaceSettings";

describe("requiredPlugins", () => {
  it("lists one resource plugin per @pulumi provider dependency (aws only: aws-native is not a dependency), at the installed version", () => {
    const root = defaultRepoRoot();
    const version = (dep: string): string =>
      (JSON.parse(readFileSync(path.join(root, "node_modules", dep, "package.json"), "utf8")) as { version: string })
        .version;
    expect(requiredPlugins(root)).to.deep.equal([{ name: "aws", version: `v${version("@pulumi/aws")}` }]);
  });
});
