/**
 * `avm plan-platform`: configuration input (the JSON of `pulumi config --json`, plain JSON, `--set`), secret
 * masking and exit codes, with a recording planner (the real planner runs in test/automation/plan/offlinePlan.spec.ts).
 */
import { expect } from "chai";
import { Readable } from "node:stream";
import { OfflinePlanError, type PlatformPlan } from "../../../automation/plan/offlinePlan";
import { PLANNED_SECRET, PlatformPlanInputError, platformPlanInput } from "../../../automation/plan/platformPlanInput";
import { CliHarness } from "./harness";

const PLAN: PlatformPlan = {
  stackName: "dev",
  resources: [{ type: "aws:iam/policy:Policy", name: "meshfed-service-policy-policy", inputs: {}, secretInputs: [] }],
  policies: [
    {
      name: "MeshfedServicePolicy",
      resource: "meshfed-service-policy-policy",
      document: {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "organizations:ListRoots", Resource: "*" }],
      },
    },
  ],
  catalogCheck: { policies: 1, actions: 1 },
};

describe("platformPlanInput", () => {
  it("reads `pulumi config --json` (secrets without value get the stand-in) and plain JSON, then --set", () => {
    expect(
      platformPlanInput(
        {
          "aws:region": { value: "eu-central-1", secret: false },
          "meshstack-avm:logRetentionDays": { value: "365", secret: false },
          "meshstack-avm:webhookSecret": { secret: true },
          "meshstack-avm:externalId": { value: "ext-known", secret: true },
          "meshstack-avm:tags": { value: '{"a":"b"}', objectValue: { a: "b" }, secret: false },
          managementAccountId: "111122223333",
          maxConcurrentCreates: 3,
        },
        ["meshfedServicePolicy=attach", "aws:region=us-east-1", "pulumiAccessToken=pul-x=y"],
      ),
    ).to.deep.equal({
      config: {
        "aws:region": "us-east-1",
        "meshstack-avm:logRetentionDays": "365",
        "meshstack-avm:webhookSecret": PLANNED_SECRET,
        "meshstack-avm:externalId": "ext-known",
        "meshstack-avm:tags": '{"a":"b"}',
        "meshstack-avm:managementAccountId": "111122223333",
        "meshstack-avm:maxConcurrentCreates": "3",
        "meshstack-avm:meshfedServicePolicy": "attach",
        "meshstack-avm:pulumiAccessToken": "pul-x=y",
      },
      secretKeys: ["meshstack-avm:webhookSecret", "meshstack-avm:externalId", "meshstack-avm:pulumiAccessToken"],
    });
  });

  it("names what it cannot read", () => {
    const message = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(error).to.be.instanceOf(PlatformPlanInputError);
        return (error as Error).message;
      }
      throw new Error("did not throw");
    };
    expect([
      message(() => platformPlanInput(["aws:region"])),
      message(() => platformPlanInput({ "aws:region": null })),
      message(() => platformPlanInput({ organizationId: { secret: false } })),
      message(() => platformPlanInput(undefined, ["organizationId"])),
    ]).to.deep.equal([
      'stack configuration must be a JSON object of keys, e.g. {"aws:region": "..."}',
      "config key aws:region: expected a string, number, boolean or object value",
      "config key meshstack-avm:organizationId: no value",
      '--set must be key=value, got "organizationId"',
    ]);
  });
});

describe("avm plan-platform", () => {
  let h: CliHarness;
  let calls: { stack: string; config: Record<string, string>; secretKeys: readonly string[] }[];
  let outcome: () => Promise<PlatformPlan>;
  beforeEach(() => {
    calls = [];
    outcome = async () => PLAN;
    h = new CliHarness({
      planPlatformStack: async (stack, config, secretKeys) => {
        calls.push({ stack, config, secretKeys });
        return outcome();
      },
    });
  });
  afterEach(() => h.dispose());

  it("plans the stack from stdin JSON and --set, and prints the --json shape", async () => {
    const stdin = Readable.from([JSON.stringify({ "aws:region": { value: "eu-central-1", secret: false } })]);
    const r = await h.run(["plan-platform", "prod", "-f", "-", "--set", "meshfedServicePolicy=create", "--json"], {
      stdin,
    });
    expect(r.code, r.stderr).to.equal(0);
    expect(calls).to.deep.equal([
      {
        stack: "prod",
        config: { "aws:region": "eu-central-1", "meshstack-avm:meshfedServicePolicy": "create" },
        secretKeys: [],
      },
    ]);
    expect(JSON.parse(r.stdout)).to.deep.equal({ status: "planned", ...PLAN });
  });

  it("defaults to stack dev and prints the policies as text", async () => {
    const r = await h.run(["plan-platform", "--set", "organizationId=o-exampleorg1"]);
    expect([r.code, calls[0]?.stack]).to.deep.equal([0, "dev"]);
    expect(r.stdout).to.include("MeshfedServicePolicy (meshfed-service-policy-policy)\n");
    expect(r.stdout).to.include("IAM catalog check passed for 1 actions in 1 policies");
  });

  it("exits 2 naming the key for invalid input or configuration, 1 when the planner fails", async () => {
    let r = await h.run(["plan-platform", "--set", "organizationId"]);
    expect([r.code, r.stderr]).to.deep.equal([2, 'avm: error: --set must be key=value, got "organizationId"\n']);
    r = await h.run(["plan-platform", "-f", "/nonexistent/avm-config.json"]);
    expect([r.code, r.stderr]).to.deep.equal([
      2,
      "avm: error: cannot read --file /nonexistent/avm-config.json: ENOENT\n",
    ]);
    outcome = async () => {
      throw new OfflinePlanError(
        'offline plan of dev failed: meshstack-avm:managementAccountId must be a 12-digit AWS account id, got "123"',
        "ConfigError",
      );
    };
    r = await h.run(["plan-platform", "--set", "managementAccountId=123"]);
    const progress = "dev: rendering the platform stack under the Pulumi mock runtime\n";
    expect([r.code, r.stderr]).to.deep.equal([
      2,
      progress +
        'avm: error: offline plan of dev failed: meshstack-avm:managementAccountId must be a 12-digit AWS account id, got "123"\n',
    ]);
    outcome = async () => {
      throw new OfflinePlanError("offline plan of dev did not complete: killed");
    };
    r = await h.run(["plan-platform"]);
    expect([r.code, r.stderr]).to.deep.equal([
      1,
      `${progress}avm: error: offline plan of dev did not complete: killed\n`,
    ]);
  });
});
