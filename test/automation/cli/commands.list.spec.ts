import { expect } from "chai";
import { recordJson } from "../../../automation/cli/output";
import { type ListJson } from "../../../automation/cli/commands/list";
import { encodeListCursor } from "../../../src/core/ledgerRecords";
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
      expect(JSON.parse(failed.stdout)).to.deep.equal({ count: 1, records, next: null });
      const none = await h.run(["list", "--state", "CLOSED"]);
      expect(none).to.deep.equal({ code: 0, stdout: "no requests\n", stderr: "" });
    });

    /** `n` RECEIVED records `p000@example.com`... one second apart; every third FAILED. */
    async function records(n: number): Promise<void> {
      for (let i = 0; i < n; i += 1) {
        const email = `p${String(i).padStart(3, "0")}@example.com`;
        const at = new Date(Date.parse("2026-04-01T00:00:00.000Z") + i * 1000);
        await h.ledger.claim({ email, requestId: `req-${i}`, kind: "vend", request: { accountName: `p${i}` } }, at);
        if (i % 3 === 2) await h.ledger.update(email, 1, { state: "FAILED", failureReason: "x" }, at);
      }
    }

    const emailsOf = (stdout: string): string[] => [...stdout.matchAll(/(p\d{3}@example\.com)/g)].map((m) => m[1]!);
    const nextLine = (stdout: string): string | undefined => /^next page: (.*)$/m.exec(stdout)?.[1];

    it("shows 100 records per page and ends with the exact command for the next page", async () => {
      await records(101);
      const first = await h.run(["list"]);
      expect(first.code).to.equal(0);
      expect(emailsOf(first.stdout)).to.have.length(100);
      const cursor = encodeListCursor((await h.ledger.get("p099@example.com"))!);
      expect(first.stdout.endsWith(`\nnext page: avm list --after ${cursor}\n`)).to.equal(true);
      const second = await h.run(nextLine(first.stdout)!.split(" ").slice(1));
      expect([second.code, emailsOf(second.stdout), nextLine(second.stdout)]).to.deep.equal([
        0,
        ["p100@example.com"],
        undefined,
      ]);
      const json = JSON.parse((await h.run(["list", "--json"])).stdout) as ListJson;
      expect([json.count, json.next]).to.deep.equal([100, cursor]);
    });

    it("pages by --limit within --state, repeating the options and the ledger in the next command", async () => {
      await records(10);
      h.env = { AVM_LEDGER_TABLE: "avm-ledger", AWS_REGION: "eu-central-1" };
      const first = await h.run(["list", "--state", "failed", "--limit", "2"]);
      expect(emailsOf(first.stdout)).to.deep.equal(["p002@example.com", "p005@example.com"]);
      const cursor = encodeListCursor((await h.ledger.get("p005@example.com"))!);
      expect(nextLine(first.stdout)).to.equal(
        `avm --ledger-table avm-ledger --region eu-central-1 list --state FAILED --limit 2 --after ${cursor}`,
      );
      const second = await h.run(nextLine(first.stdout)!.split(" ").slice(1));
      expect([emailsOf(second.stdout), nextLine(second.stdout)]).to.deep.equal([["p008@example.com"], undefined]);
      h.env = {};
      const sqlite = await h.run(["list", "--ledger", "other dir/l.sqlite", "--limit", "9"]);
      expect(nextLine(sqlite.stdout)).to.equal(
        `avm --ledger '/tmp/avm-cli-test/other dir/l.sqlite' list --limit 9 --after ${encodeListCursor((await h.ledger.get("p008@example.com"))!)}`,
      );
      const json = JSON.parse((await h.run(["list", "--json", "--limit", "3", "--after", cursor])).stdout) as ListJson;
      expect([json.records.map((r) => r.email), json.next]).to.deep.equal([
        ["p006@example.com", "p007@example.com", "p008@example.com"],
        encodeListCursor((await h.ledger.get("p008@example.com"))!),
      ]);
    });

    it("walks every page with --all (pages of --limit), with next null", async () => {
      await records(7);
      const calls: number[] = [];
      const list = h.ledger.list.bind(h.ledger);
      h.ledger.list = async (options) => {
        calls.push(options?.limit ?? -1);
        return list(options);
      };
      const all = await h.run(["list", "--all", "--limit", "3"]);
      expect([emailsOf(all.stdout).length, nextLine(all.stdout)]).to.deep.equal([7, undefined]);
      expect(calls).to.deep.equal([4, 4, 4]);
      const after = encodeListCursor((await h.ledger.get("p004@example.com"))!);
      const json = JSON.parse((await h.run(["list", "--all", "--json", "--after", after])).stdout) as ListJson;
      expect([json.count, json.records.map((r) => r.email), json.next]).to.deep.equal([
        2,
        ["p005@example.com", "p006@example.com"],
        null,
      ]);
      expect(calls.slice(3)).to.deep.equal([1001]);
    });

    it("rejects a malformed --after with exit 2, naming the flag, before opening the ledger", async () => {
      const r = await h.run(["list", "--after", "page-2"]);
      expect(r).to.deep.equal({
        code: 2,
        stdout: "",
        stderr:
          'avm: error: --after must be a cursor printed by avm list (its "next page" line or "next" in --json), got "page-2"\n',
      });
      expect(h.opened).to.deep.equal([]);
    });

    it("rejects an unknown state", async () => {
      expect((await h.run(["list", "--state", "DONE"])).stderr).to.equal(
        'avm: error: --state: unknown state "DONE" (one of RECEIVED, CREATING, MOVING, TAGGING, BOOTSTRAPPING, COMPLETING, PLANNED, SUCCEEDED, FAILED, CLOSING, CLOSED)\n',
      );
    });
  });
});
