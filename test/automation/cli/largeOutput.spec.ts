/**
 * A large `--json` document through a pipe arrives whole: `bin/avm.js` exits only once stdout is flushed (writes to a
 * pipe are asynchronous; exiting at once cut a 500 KB batch result short at 146 KB).
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SqliteLedger } from "../../../src/adapters/local/sqliteLedger";
import { HANG_GUARD_MS } from "../../support/hangGuard";
import { avm } from "./subprocess";

describe("avm output through a pipe", function () {
  this.timeout(HANG_GUARD_MS);
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), "avm-large-output-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("writes a multi-megabyte `avm list --all --json` completely before it exits", async () => {
    const file = path.join(dir, "ledger.sqlite");
    const ledger = new SqliteLedger({ path: file });
    const n = 4_000;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        ledger.claim(
          {
            email: `row-${String(i).padStart(5, "0")}@example.com`,
            requestId: `req-${i}`,
            kind: "vend",
            request: { accountName: `row ${i}`, email: `row-${i}@example.com`, tags: { CostCenter: `${i}` } },
          },
          new Date(Date.UTC(2026, 0, 1) + i),
        ),
      ),
    );
    await ledger.close();
    const r = await avm(["list", "--all", "--json", "--ledger", file]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.length).to.be.greaterThan(1_000_000);
    const json = JSON.parse(r.stdout) as { count: number; records: { email: string }[]; next: string | null };
    expect([json.count, json.records.length, json.next]).to.deep.equal([n, n, null]);
    expect(json.records.at(-1)?.email).to.equal("row-03999@example.com");
  });
});
