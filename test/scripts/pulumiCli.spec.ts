/**
 * scripts/pulumi-cli.sh decides where the real-engine suites get their `pulumi` CLI: a new enough one on PATH, else
 * the pinned one cached outside the repo, else a build from the Go module proxy, else a visible skip. Tested with fake
 * `pulumi` executables and a temporary cache (the build itself is exercised by the test command on a cold machine).
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const SCRIPT = path.resolve(__dirname, "..", "..", "scripts", "pulumi-cli.sh");

/** Writes an executable fake `pulumi` into `dir` that prints `version`. */
function fakePulumi(dir: string, version: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "pulumi");
  writeFileSync(file, `#!/bin/sh\necho ${version}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Sources the script with `PATH` and a cache dir; returns which pulumi it chose and the skip reason. */
function source(pathEnv: string, cacheDir: string) {
  const result = spawnSync(
    "/bin/bash",
    [
      "-c",
      `source "${SCRIPT}"; echo "chosen=$(command -v pulumi || echo none)"; echo "skip=\${AVM_PULUMI_SKIP_REASON:-}"`,
    ],
    { env: { PATH: pathEnv, AVM_CACHE_DIR: cacheDir, HOME: cacheDir }, encoding: "utf8" },
  );
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(result.stdout)?.[1];
  return { chosen: value("chosen"), skip: value("skip"), stderr: result.stderr };
}

describe("scripts/pulumi-cli.sh", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), "avm-pulumi-cli-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("uses a pulumi on PATH that is at least the pinned version, as it is", () => {
    const onPath = fakePulumi(path.join(root, "bin"), "v3.280.0");
    const { chosen, skip, stderr } = source(`${path.join(root, "bin")}:/usr/bin:/bin`, path.join(root, "cache"));
    expect([chosen, skip, stderr]).to.deep.equal([onPath, "", ""]);
  });

  it("prefers the cached pinned CLI over an older pulumi on PATH", () => {
    fakePulumi(path.join(root, "bin"), "v3.100.0");
    const cached = fakePulumi(path.join(root, "cache", "pulumi-v3.274.1", "bin"), "v3.274.1");
    const { chosen, skip } = source(`${path.join(root, "bin")}:/usr/bin:/bin`, path.join(root, "cache"));
    expect([chosen, skip]).to.deep.equal([cached, ""]);
  });

  it("says why the real-engine suites will skip when there is neither a pulumi nor Go", () => {
    const { chosen, skip, stderr } = source("/usr/bin:/bin", path.join(root, "cache"));
    expect([chosen, skip]).to.deep.equal(["none", "no pulumi >= v3.274.1 on PATH and no Go toolchain to build it"]);
    expect(stderr).to.equal(
      "==> no pulumi >= v3.274.1 on PATH and no Go toolchain to build it; the real-engine suites will skip\n",
    );
  });
});
