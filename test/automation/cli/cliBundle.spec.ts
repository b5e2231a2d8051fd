/**
 * The compiled CLI (scripts/cliBundle.cjs -> dist/cli/main.js) that bin/avm.js runs: rebuilt when a source changes,
 * and `avm --help` / `avm status` load neither the Pulumi SDK nor an AWS client.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ensureCliBundle, isFresh, OUT } from "../../../scripts/cliBundle.cjs";
import { REPO } from "./subprocess";
import { HANG_GUARD_MS } from "../../support/hangGuard";

/** Runs the compiled CLI in a fresh node and returns the node_modules packages it loaded. */
function packagesLoadedBy(args: readonly string[]): { code: number; packages: string[] } {
  const script =
    `require(${JSON.stringify(OUT)}).main(${JSON.stringify(args)}).then((code) => {` +
    `const pkgs = new Set(Object.keys(require.cache).map((f) => /node_modules\\/((@[^/]+\\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean));` +
    `process.stdout.write("\\n@@" + JSON.stringify([...pkgs].sort()) + "\\n", () => process.exit(code)); })`;
  const child = spawnSync(process.execPath, ["-e", script], {
    cwd: REPO,
    encoding: "utf8",
    // A hang guard only; spawnSync blocks the event loop, so mocha's own timeout could not fire meanwhile.
    timeout: HANG_GUARD_MS / 2,
  });
  const line = child.stdout.split("\n").find((l) => l.startsWith("@@"));
  if (line === undefined) throw new Error(`no result (signal ${child.signal ?? "none"}): ${child.stderr}`);
  return { code: child.status ?? -1, packages: JSON.parse(line.slice(2)) as string[] };
}

describe("the compiled CLI (dist/cli/main.js)", function () {
  this.timeout(HANG_GUARD_MS);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-clibundle-"));
    expect(ensureCliBundle()).to.equal(OUT);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("is stale once a bundled source changes, and fresh again when it is as it was", () => {
    expect(isFresh()).to.equal(true);
    const source = path.join(REPO, "automation", "cli", "errors.ts");
    const { atime, mtimeMs } = statSync(source);
    // Restored to the millisecond the fingerprint keeps (a Date carries no finer time).
    const mtime = new Date(Math.round(mtimeMs));
    try {
      utimesSync(source, atime, new Date(mtime.getTime() + 5_000));
      expect(isFresh()).to.equal(false);
    } finally {
      utimesSync(source, atime, mtime);
    }
    expect(isFresh()).to.equal(true);
  });

  it("prints help without loading the Pulumi SDK, an AWS client or zod", () => {
    expect(packagesLoadedBy(["--help"])).to.deep.equal({ code: 0, packages: [] });
  });

  it("answers status from a SQLite ledger without loading the Pulumi SDK or an AWS client", () => {
    const ledger = path.join(dir, "ledger.sqlite");
    expect(packagesLoadedBy(["status", "--email", "nobody@example.com", "--ledger", ledger])).to.deep.equal({
      code: 1,
      packages: [],
    });
  });
});
