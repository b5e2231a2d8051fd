import { expect } from "chai";
import { recordJson } from "../../../automation/cli/output";
import { VEND, useCliHarness } from "./commandsFixture";
import type { CliHarness } from "./harness";

describe("avm CLI commands (in-process, fake Organizations)", function () {
  let h: CliHarness;
  useCliHarness((harness) => (h = harness));

  describe("close", () => {
    beforeEach(async () => {
      await h.run([...VEND, "--quiet"]);
    });

    it("requires --yes when not interactive", async () => {
      expect(await h.run(["close", "100000000000"])).to.deep.equal({
        code: 2,
        stdout: "",
        stderr: "avm: error: close needs --yes when not run interactively (closing an account cannot be undone)\n",
      });
      expect(h.org.count("CloseAccount")).to.equal(0);
    });

    it("asks interactively and refuses unless the account id is typed", async () => {
      const questions: string[] = [];
      const io = {
        interactive: true,
        prompt: async (q: string) => {
          questions.push(q);
          return "yes";
        },
      };
      expect(await h.run(["close", "100000000000"], io)).to.deep.equal({
        code: 1,
        stdout: "",
        stderr: "avm: error: close of account 100000000000 not confirmed\n",
      });
      expect(questions).to.have.length(1);
      expect(h.org.count("CloseAccount")).to.equal(0);
      const confirmed = await h.run(["close", "100000000000", "--quiet"], {
        ...io,
        prompt: async () => "100000000000\n",
      });
      expect(confirmed.code).to.equal(0);
      expect(h.org.count("CloseAccount")).to.equal(1);
    });

    it("closes with --yes, keeps the account in the organization and prints the quota", async () => {
      const r = await h.run(["close", "100000000000", "--yes", "--json", "--reason", "decommissioned"]);
      expect(r.code, r.stderr).to.equal(0);
      const record = recordJson((await h.ledger.get("team-a@example.com"))!);
      expect(JSON.parse(r.stdout)).to.deep.equal({
        accountId: "100000000000",
        status: "close-requested",
        quota: { memberAccounts: 1, allowed: 10, used: 0, remaining: 10 },
        record,
      });
      expect(record.state).to.equal("CLOSED");
      expect(record.history.at(-2)).to.deep.include({ state: "CLOSING", note: "close requested: decommissioned" });
      expect(h.org.accounts.get("100000000000")!.status).to.not.equal("ACTIVE");
      expect(h.org.count("RemoveAccountFromOrganization")).to.equal(0);
    });

    it("refuses the management account and malformed ids", async () => {
      expect((await h.run(["close", "999999999999", "--yes"])).stderr).to.equal(
        "avm: error: refusing to close account 999999999999: it is the organization's management account\n",
      );
      expect(await h.run(["close", "12", "--yes"])).to.deep.equal({
        code: 2,
        stdout: "",
        stderr: 'avm: error: <accountId> must be a 12-digit AWS account id, got "12"\n',
      });
    });
  });
});
