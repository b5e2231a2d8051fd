import { expect } from "chai";
import { defaultDeps } from "../../../automation/cli/deps";
import { CliHarness } from "./harness";

describe("avm CLI commands (in-process, fake Organizations)", function () {
  describe("default runner wiring", () => {
    it("names a missing passphrase for the local Automation API runner (file backend)", async () => {
      const real = new CliHarness({ localStackRunner: defaultDeps().localStackRunner });
      try {
        real.pulumiOnPath = true;
        real.env = { AVM_MANAGEMENT_ACCOUNT_ID: "111122223333", PULUMI_BACKEND_URL: "file:///tmp/avm-cli-test-state" };
        expect(await real.run(["bootstrap", "123456789012", "-q"])).to.deep.equal({
          code: 2,
          stdout: "",
          stderr:
            "avm: error: PULUMI_CONFIG_PASSPHRASE is not set: the passphrase secrets provider needs it to encrypt account stack secrets " +
            "(set it, or PULUMI_CONFIG_PASSPHRASE_FILE, or choose AVM_SECRETS_PROVIDER=awskms://<key>)\n",
        });
      } finally {
        real.dispose();
      }
    });

    it("names the missing Pulumi Deployments setting and never echoes the token", async () => {
      const real = new CliHarness({ remoteStackRunner: defaultDeps().remoteStackRunner });
      try {
        real.env = { AVM_MANAGEMENT_ACCOUNT_ID: "111122223333" };
        expect((await real.run(["bootstrap", "123456789012", "--remote", "-q"])).stderr).to.equal(
          "avm: error: PULUMI_ACCESS_TOKEN is not set: Pulumi Deployments needs a Pulumi access token\n",
        );
        real.env = { AVM_MANAGEMENT_ACCOUNT_ID: "111122223333", PULUMI_ACCESS_TOKEN: "pul-secret-token" };
        const r = await real.run(["bootstrap", "123456789012", "--remote", "-q"]);
        expect(r).to.deep.equal({
          code: 2,
          stdout: "",
          stderr: "avm: error: AVM_PULUMI_ORGANIZATION is not set: Pulumi Deployments needs it\n",
        });
      } finally {
        real.dispose();
      }
    });
  });
});
