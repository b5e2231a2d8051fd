import { expect } from "chai";
import { recordJson } from "../../../automation/cli/output";
import { VEND, useCliHarness } from "./commandsFixture";
import type { CliHarness } from "./harness";

describe("avm CLI commands (in-process, fake Organizations)", function () {
  let h: CliHarness;
  useCliHarness((harness) => (h = harness));

  describe("status", () => {
    it("finds a record by email, account id and request id without any Organizations call", async () => {
      await h.run([...VEND, "--quiet"]);
      const before = h.organizationsClients;
      const record = recordJson((await h.ledger.get("team-a@example.com"))!);
      for (const key of [
        ["--email", "TEAM-A@example.com"],
        ["--account-id", "100000000000"],
        ["--request-id", "req-a"],
      ]) {
        const r = await h.run(["status", "--json", ...key]);
        expect(r.code).to.equal(0);
        expect(JSON.parse(r.stdout)).to.deep.equal({ record });
      }
      expect(h.organizationsClients).to.equal(before);
      const text = await h.run(["status", "--request-id", "req-a"]);
      expect(text.stdout).to.include("state       SUCCEEDED\n");
      expect(text.stdout).to.include("history:\n");
    });

    it("needs exactly one key and a 12-digit account id", async () => {
      expect((await h.run(["status"])).stderr).to.equal(
        "avm: error: status needs exactly one of --email, --account-id or --request-id\n",
      );
      expect((await h.run(["status", "--email", "a@example.com", "--request-id", "r"])).code).to.equal(2);
      expect(await h.run(["status", "--account-id", "123"])).to.deep.equal({
        code: 2,
        stdout: "",
        stderr: 'avm: error: --account-id must be a 12-digit AWS account id, got "123"\n',
      });
    });

    it("refuses a malformed --email or an empty --request-id as usage errors (exit 2)", async () => {
      expect(await h.run(["status", "--email", "notanemail"])).to.deep.equal({
        code: 2,
        stdout: "",
        stderr: 'avm: error: --email must be an email address, got "notanemail"\n',
      });
      expect(await h.run(["status", "--request-id", " "])).to.deep.equal({
        code: 2,
        stdout: "",
        stderr: "avm: error: --request-id must not be empty\n",
      });
    });

    it("exits 1 with one line when nothing matches", async () => {
      expect(await h.run(["status", "--account-id", "123456789012"])).to.deep.equal({
        code: 1,
        stdout: "",
        stderr:
          "avm: error: no request found for account id 123456789012 in ledger /tmp/avm-cli-test/.avm/ledger.sqlite\n",
      });
    });
  });
});
