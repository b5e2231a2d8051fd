import { expect } from "chai";
import { AutomationConfigError } from "../../../automation/errors";
import { OfflinePlanError } from "../../../automation/plan/offlinePlan";
import { VEND, useCliHarness } from "./commandsFixture";
import { CliHarness, fakePlan } from "./harness";

describe("avm CLI commands (in-process, fake Organizations)", function () {
  let h: CliHarness;
  useCliHarness((harness) => (h = harness));

  describe("plan", () => {
    it("renders the offline plan with the ledger record's tags and prints the --json shape", async () => {
      await h.run([...VEND, "--quiet"]);
      const r = await h.run([
        "plan",
        "100000000000",
        "--json",
        "--management-account-id",
        "111122223333",
        "--automation-account-id",
        "444455556666",
        "--access-role",
        "MeshRole",
        "--region",
        "eu-central-1",
      ]);
      expect(r.code, r.stderr).to.equal(0);
      const plan = fakePlan("100000000000");
      expect(JSON.parse(r.stdout)).to.deep.equal({
        accountId: "100000000000",
        stackName: "account-100000000000",
        status: "planned",
        resources: plan.resources,
        policies: plan.policies,
        catalogCheck: plan.catalogCheck,
      });
      expect(h.plans).to.deep.equal([
        {
          target: { accountId: "100000000000", tags: { CostCenter: "1234" } },
          settings: {
            managementAccountId: "111122223333",
            automationAccountId: "444455556666",
            region: "eu-central-1",
            accessRoleName: "MeshRole",
          },
        },
      ]);
    });

    it("prints resources and policy documents for humans", async () => {
      h.env = { AVM_MANAGEMENT_ACCOUNT_ID: "111122223333" };
      const r = await h.run(["plan", "123456789012"]);
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(
        /^account-123456789012: planned offline \(no pulumi CLI, no credentials; nothing deployed\)\n\nresources \(2\):\n  TYPE +NAME\n  pulumi:providers:aws +managed-account\n/,
      );
      expect(r.stdout).to.include("IAM policies (1); IAM catalog check passed for 1 actions in 1 policies:\n");
      expect(r.stdout).to.include('            "AWS": "arn:aws:iam::111122223333:user/meshfed-service"\n');
    });

    it("exits 2 for a malformed account id, a missing management account and invalid settings", async () => {
      expect((await h.run(["plan", "abc"])).stderr).to.equal(
        'avm: error: <accountId> must be a 12-digit AWS account id, got "abc"\n',
      );
      expect((await h.run(["plan", "123456789012"])).code).to.equal(2);
      expect(
        (await h.run(["plan", "123456789012", "--management-account-id", "111122223333", "--access-role", "bad role"]))
          .stderr,
      ).to.equal('avm: error: --access-role (or AVM_ACCESS_ROLE_NAME) must match [\\w+=,.@-]{1,64}, got "bad role"\n');
      const failing = new CliHarness({
        planAccountStack: async () => {
          throw new AutomationConfigError("meshstack-avm:externalId must be 2-1224 characters");
        },
      });
      try {
        expect(
          await failing.run(["plan", "123456789012", "--management-account-id", "111122223333", "-q"]),
        ).to.deep.equal({
          code: 2,
          stdout: "",
          stderr: "avm: error: meshstack-avm:externalId must be 2-1224 characters\n",
        });
      } finally {
        failing.dispose();
      }
    });

    it("exits 1 with the program's message when the plan fails", async () => {
      const failing = new CliHarness({
        planAccountStack: async () => {
          throw new OfflinePlanError(
            "offline plan of account-123456789012 failed: unknown IAM action iam:ListSAMProviders",
          );
        },
      });
      try {
        expect(
          await failing.run(["plan", "123456789012", "--management-account-id", "111122223333", "-q"]),
        ).to.deep.equal({
          code: 1,
          stdout: "",
          stderr: "avm: error: offline plan of account-123456789012 failed: unknown IAM action iam:ListSAMProviders\n",
        });
      } finally {
        failing.dispose();
      }
    });
  });
});
