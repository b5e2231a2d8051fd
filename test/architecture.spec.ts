import { expect } from "chai";
import * as path from "node:path";
import { checkImportRules, readSources, type SourceFiles } from "./support/importGraph";

const ROOT = path.resolve(__dirname, "..");

describe("architecture: the import rules of ARCHITECTURE.md", () => {
  it("hold for src/ and automation/", () => {
    expect(checkImportRules(readSources(ROOT, ["src", "automation"]))).to.deep.equal([]);
  });

  it("finds every kind of broken rule in a tree that breaks them", () => {
    const broken: SourceFiles = new Map([
      [
        "src/core/vending/workflow.ts",
        `import { OrganizationsGateway } from "../../adapters/aws/organizationsGateway";\nimport * as sdk from "@aws-sdk/client-organizations";\nimport { x } from "../../shared/naming";`,
      ],
      ["src/adapters/aws/organizationsGateway.ts", `import type { Organizations } from "../../core/ports";`],
      ["src/core/ports.ts", `import { createWorkflow } from "./vending/workflow";`],
      ["src/shared/naming.ts", `export const x = 1;`],
      ["src/policies/stackPolicies.ts", `import type { AvmConfig } from "../config";`],
      ["src/config.ts", `import * as pulumi from "@pulumi/pulumi";`],
      ["src/lambda/worker/index.ts", `const d = require("./deps");`],
      ["src/lambda/worker/deps.ts", `import { runner } from "../../stacks/runner";`],
      ["src/stacks/runner.ts", `import { LocalPulumiEngine } from "../../automation/stacks/localPulumiEngine";`],
      ["automation/stacks/localPulumiEngine.ts", `import { LocalWorkspace } from "@pulumi/pulumi/automation";`],
    ]);
    expect(checkImportRules(broken)).to.deep.equal([
      {
        rule: "core imports no adapter, AWS SDK or @pulumi",
        detail: `src/core/vending/workflow.ts imports "../../adapters/aws/organizationsGateway"`,
      },
      {
        rule: "core imports no adapter, AWS SDK or @pulumi",
        detail: `src/core/vending/workflow.ts imports "@aws-sdk/client-organizations"`,
      },
      { rule: "policies are pure", detail: `src/policies/stackPolicies.ts imports "../config"` },
      {
        rule: "src never imports automation",
        detail: `src/stacks/runner.ts imports "../../automation/stacks/localPulumiEngine"`,
      },
      {
        rule: "handlers import no @pulumi",
        detail: `src/lambda/worker/index.ts reaches "@pulumi/pulumi" (through automation/stacks/localPulumiEngine.ts)`,
      },
      {
        rule: "src never imports automation",
        detail: "src/lambda/worker/index.ts reaches automation/stacks/localPulumiEngine",
      },
      {
        rule: "no cycles",
        detail:
          "src/adapters/aws/organizationsGateway -> src/core/ports -> src/core/vending/workflow -> src/adapters/aws/organizationsGateway",
      },
    ]);
  });
});
