import { expect } from "chai";
import { spawnSync } from "node:child_process";
import path from "node:path";
import fc from "fast-check";
import { z } from "zod";
import { bundleHandler, HANDLER_ENTRIES } from "../../../../src/lambda/bundle";
import { deploymentEventSchema, stackUpdateEventSchema } from "../../../../src/core/webhooks/events";
import { HANG_GUARD_MS } from "../../../support/hangGuard";

/** The schemas as they were written with the classic zod API: the reference for behaviour and messages. */
const classic = {
  stackUpdate: z.looseObject({
    projectName: z.string().min(1),
    stackName: z.string().min(1),
    kind: z.string().min(1),
    result: z.string().min(1),
    updateUrl: z.string().optional(),
    isPreview: z.boolean().optional(),
  }),
  deployment: z.looseObject({
    projectName: z.string().min(1),
    stackName: z.string().min(1),
    operation: z.string().min(1),
    status: z.string().min(1),
    deploymentUrl: z.string().optional(),
    version: z.number().int().optional(),
  }),
};

type Parsed = { success: true; data: unknown } | { success: false; error: { issues: readonly z.core.$ZodIssue[] } };

function view(result: Parsed): unknown {
  return result.success
    ? { data: result.data }
    : { issues: result.error.issues.map((i) => ({ path: i.path, code: i.code, message: i.message })) };
}

const value = fc.oneof(
  fc.constant(undefined),
  fc.string(),
  fc.constant(""),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant({}),
  fc.constant([]),
  fc.constant(2 ** 60),
);
const FIELDS = [
  "projectName",
  "stackName",
  "kind",
  "result",
  "updateUrl",
  "isPreview",
  "operation",
  "status",
  "deploymentUrl",
  "version",
  "extra",
];
const payload = fc.oneof(
  fc.record(Object.fromEntries(FIELDS.map((k) => [k, value])), { requiredKeys: [] }),
  fc.record({ projectName: fc.string(), stackName: fc.string(), kind: fc.string(), result: fc.string() }),
  value,
);

describe("webhook event schemas (zod/mini)", () => {
  it("accept and reject exactly what the classic zod schemas did, with the same issues and messages", () => {
    fc.assert(
      fc.property(payload, (input) => {
        expect(view(stackUpdateEventSchema.safeParse(input) as Parsed)).to.deep.equal(
          view(classic.stackUpdate.safeParse(input) as Parsed),
        );
        expect(view(deploymentEventSchema.safeParse(input) as Parsed)).to.deep.equal(
          view(classic.deployment.safeParse(input) as Parsed),
        );
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  it("give English messages in a bundle without classic zod (which would configure them as a side effect)", function () {
    this.timeout(HANG_GUARD_MS);
    // In this process classic zod is loaded (above), so check the bundled module in a fresh node process.
    const { code } = bundleHandler(path.resolve(__dirname, "../../../../src/core/webhooks/events.ts"));
    const script = `const m = { exports: {} };
(function (module, exports, require) { ${code}\n})(m, m.exports, require);
const r = m.exports.deploymentEventSchema.safeParse({ projectName: "p", stackName: "", status: 1, version: 1.5 });
process.stdout.write(JSON.stringify(r.error.issues.map((i) => i.path.join(".") + ": " + i.message)));`;
    const child = spawnSync(process.execPath, ["-"], { input: script, encoding: "utf8" });
    expect(child.stderr).to.equal("");
    expect(JSON.parse(child.stdout)).to.deep.equal([
      "stackName: Too small: expected string to have >=1 characters",
      "operation: Invalid input: expected string, received undefined",
      "status: Invalid input: expected string, received number",
      "version: Invalid input: expected int, received number",
    ]);
  });

  it("keep the webhook Lambda bundle small (no classic zod API): under 100 KB with the AWS SDK external", function () {
    this.timeout(HANG_GUARD_MS);
    // Measured 61,706 bytes with zod/mini; the classic API added about 434,000.
    expect(bundleHandler(HANDLER_ENTRIES.webhook, { externalAwsSdk: true }).bytes).to.be.below(100_000);
  });
});
