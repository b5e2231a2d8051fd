/**
 * The built CLI as a subprocess: `node bin/avm.js` (the `bin` entry of package.json) with Node 22 first on
 * PATH. It runs the compiled CLI (dist/cli/main.js), built on first run when missing.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { avm } from "./subprocess";
import { HANG_GUARD_MS } from "../../support/hangGuard";

describe("avm as a subprocess (node bin/avm.js)", function () {
  this.timeout(HANG_GUARD_MS);
  let dir: string;
  let ledger: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-bin-"));
    ledger = path.join(dir, "ledger.sqlite");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("prints help on stdout and exits 0", async () => {
    const r = await avm(["--help"]);
    expect(r.code).to.equal(0);
    expect(r.stderr).to.equal("");
    expect(r.stdout).to.match(/^Usage: avm \[options\] \[command\]\n/);
    expect(r.stdout).to.include("Example:\n  $ avm vend");
  });

  it("exits 2 with exactly one line on stderr for a usage error", async () => {
    expect(await avm(["vend", "--account-name", "x", "--email", "nope"])).to.deep.equal({
      code: 2,
      stdout: "",
      stderr: "avm: error: invalid vend request: --email: must be 6 to 64 characters long\n",
    });
  });

  it("exits 1 with one line when status finds nothing (and no SQLite warning leaks)", async () => {
    expect(await avm(["status", "--email", "nobody@example.com", "--ledger", ledger])).to.deep.equal({
      code: 1,
      stdout: "",
      stderr: `avm: error: no request found for email nobody@example.com in ledger ${ledger}\n`,
    });
  });

  it("refuses a vend request at the entry point unless the operator enabled it (exit 2, nothing written)", async () => {
    const r = await avm(["invoke", "--ledger", ledger], {
      stdin: JSON.stringify({ accountName: "x", email: "new@example.com" }),
    });
    const message =
      "vend requests (creating, adopting or moving accounts) are disabled at AVMEntryPoint; an operator enables them with the platform stack setting entryPointVending, or vends with the avm CLI";
    expect(r.code, r.stderr).to.equal(2);
    expect(JSON.parse(r.stdout)).to.deep.equal({
      error: { message: `refused vend request: payload: ${message}`, issues: [{ field: "payload", message }] },
    });
    expect(await avm(["status", "--email", "new@example.com", "--ledger", ledger])).to.have.property("code", 1);
  });
});
