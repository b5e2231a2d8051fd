import { expect } from "chai";
import { VEND, useCliHarness } from "./commandsFixture";
import type { CliHarness } from "./harness";

describe("avm CLI commands (in-process, fake Organizations)", function () {
  let h: CliHarness;
  useCliHarness((harness) => (h = harness));

  describe("bootstrap", () => {
    it("deploys with the local runner using the ledger record's tags", async () => {
      await h.run([...VEND, "--quiet"]);
      h.pulumiOnPath = true;
      const r = await h.run(["bootstrap", "100000000000", "--json", "--management-account-id", "111122223333"]);
      expect(r.code, r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout)).to.deep.equal({
        accountId: "100000000000",
        status: "deployed",
        stackName: "account-100000000000",
        summary: "account-100000000000 deployed",
        url: null,
        outputs: null,
        requestId: "req-a",
      });
      expect(h.runners.local.calls.at(-1)).to.deep.equal({
        accountId: "100000000000",
        accountName: "team-a-dev",
        email: "team-a@example.com",
        requestId: "req-a",
        tags: { CostCenter: "1234" },
      });
    });

    it("starts a Pulumi Deployments update with --remote", async () => {
      const r = await h.run(["bootstrap", "123456789012", "--remote", "--management-account-id", "111122223333"]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.equal(
        "account-123456789012: queued (account-123456789012 queued)\nurl: https://app.pulumi.com/acme/meshstack-avm/account-123456789012/deployments/1\n",
      );
      expect(h.runnerSettings.map((s) => s.kind)).to.deep.equal(["remote"]);
    });

    it("needs the management account id, a pulumi binary and a valid account id", async () => {
      expect((await h.run(["bootstrap", "123456789012"])).stderr).to.equal(
        "avm: error: --management-account-id (or AVM_MANAGEMENT_ACCOUNT_ID) is required: the account stack's access role trusts that account's meshfed-service user\n",
      );
      h.env = { AVM_MANAGEMENT_ACCOUNT_ID: "111122223333" };
      h.pulumiOnPath = false;
      const noPulumi = await h.run(["bootstrap", "123456789012", "--quiet"]);
      expect(noPulumi.code).to.equal(1);
      expect(noPulumi.stderr).to.equal(
        "avm: error: the pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) or use --runner offline\n",
      );
      expect((await h.run(["bootstrap", "1234"])).code).to.equal(2);
      h.env = { AVM_MANAGEMENT_ACCOUNT_ID: "1111" };
      expect((await h.run(["bootstrap", "123456789012"])).stderr).to.equal(
        'avm: error: --management-account-id (or AVM_MANAGEMENT_ACCOUNT_ID) must be a 12-digit AWS account id, got "1111"\n',
      );
    });
  });
});
