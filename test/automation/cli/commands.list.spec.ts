import { expect } from "chai";
import { recordJson } from "../../../automation/cli/output";
import { VEND, useCliHarness } from "./commandsFixture";
import type { CliHarness } from "./harness";

describe("avm CLI commands (in-process, fake Organizations)", function () {
  let h: CliHarness;
  useCliHarness((harness) => (h = harness));

  describe("list", () => {
    it("lists records, filters by state and prints the --json shape", async () => {
      await h.run([...VEND, "--quiet"]);
      h.org.scriptedFailures.set("c@example.com", ["INVALID_EMAIL"]);
      await h.run(["vend", "--quiet", "--account-name", "c", "--email", "c@example.com", "--request-id", "req-c"]);
      const all = await h.run(["list"]);
      expect(all.code).to.equal(0);
      expect(all.stdout.split("\n")[0]).to.match(/^REQUEST ID +EMAIL +STATE +ACCOUNT ID +UPDATED$/);
      expect(all.stdout.trimEnd().split("\n")).to.have.length(3);
      const failed = await h.run(["list", "--json", "--state", "failed"]);
      const records = [recordJson((await h.ledger.get("c@example.com"))!)];
      expect(JSON.parse(failed.stdout)).to.deep.equal({ count: 1, records });
      const none = await h.run(["list", "--state", "CLOSED"]);
      expect(none).to.deep.equal({ code: 0, stdout: "no requests\n", stderr: "" });
    });

    it("rejects an unknown state", async () => {
      expect((await h.run(["list", "--state", "DONE"])).stderr).to.equal(
        'avm: error: --state: unknown state "DONE" (one of RECEIVED, CREATING, MOVING, TAGGING, BOOTSTRAPPING, COMPLETING, PLANNED, SUCCEEDED, FAILED, CLOSING, CLOSED)\n',
      );
    });
  });
});
