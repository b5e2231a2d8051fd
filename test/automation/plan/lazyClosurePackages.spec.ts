/**
 * The planner's stand-ins for the closure-serialisation packages of `@pulumi/pulumi`: not loaded with the SDK, and
 * loaded (working) on first use. In a child process, because the hook changes the module loader for good.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { REPO } from "../cli/subprocess";
import { HANG_GUARD_MS } from "../../support/hangGuard";

const SCRIPT = `
require("./automation/plan/lazyClosurePackages");
const pulumi = require("@pulumi/pulumi");
const loaded = () => ({
  arborist: Object.keys(require.cache).some((f) => f.includes("/@npmcli/arborist/")),
  typescript: Object.keys(require.cache).some((f) => f.includes("/typescript/lib/")),
});
(async () => {
  const withSdk = loaded();
  const serialized = await pulumi.runtime.serializeFunction(function add(a) { return a + 1; });
  const afterSerialising = loaded();
  const paths = await pulumi.runtime.computeCodePaths({ extraIncludePackages: ["upath"] });
  process.stdout.write(JSON.stringify({
    withSdk,
    afterSerialising,
    afterCodePaths: loaded(),
    serialized: serialized.text.includes("return a + 1"),
    upathIncluded: [...paths.keys()].some((p) => p.endsWith("node_modules/upath")),
  }));
})();
`;

describe("offline planner: deferred closure-serialisation packages", function () {
  this.timeout(HANG_GUARD_MS);

  it("loads @npmcli/arborist and TypeScript only when a closure is serialised, and they work then", () => {
    const child = spawnSync(process.execPath, ["--no-warnings", "--import", "tsx", "-e", SCRIPT], {
      cwd: REPO,
      encoding: "utf8",
      timeout: HANG_GUARD_MS / 2,
    });
    expect(child.stderr).to.equal("");
    expect(JSON.parse(child.stdout)).to.deep.equal({
      withSdk: { arborist: false, typescript: false },
      afterSerialising: { arborist: false, typescript: true },
      afterCodePaths: { arborist: true, typescript: true },
      serialized: true,
      upathIncluded: true,
    });
  });
});
