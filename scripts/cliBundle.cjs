// Builds the `avm` CLI into one compiled JavaScript file, dist/cli/main.js, with esbuild, so `bin/avm.js` starts
// without transpiling TypeScript (tsx). The offline planner child (automation/plan/planChild.ts) is built beside it
// as dist/cli/planChild.js, so batch vending's planners start without tsx too. The project's own sources and the small libraries (commander, zod) are
// bundled; the heavy packages (@pulumi/*, the AWS SDK, ...) stay in node_modules and are loaded only by the
// commands that need them. dist/cli/main.inputs.json records every bundled source with its mtime and size, so a
// stale bundle (a source edited, package-lock.json changed) is rebuilt on the next run.
//   node scripts/cliBundle.cjs          build now (npm run build, npm run build:cli, npm's prepare hook)
//   node scripts/cliBundle.cjs --if-stale  build unless fresh (scripts/dev.sh)
//   require("./scripts/cliBundle.cjs")  ensureCliBundle() for bin/avm.js: reuse or rebuild, undefined on failure
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const ENTRY = path.join(ROOT, "automation", "cli", "main.ts");
const PLANNER_ENTRY = path.join(ROOT, "automation", "plan", "planChild.ts");
// Same depth as automation/cli/ and automation/plan/ so code that locates the repository from __dirname finds the
// same root.
const OUT_DIR = path.join(ROOT, "dist", "cli");
const OUT = path.join(OUT_DIR, "main.js");
const PLANNER_OUT = path.join(OUT_DIR, "planChild.js");
const MANIFEST = path.join(ROOT, "dist", "cli", "main.inputs.json");
/** Packages loaded from node_modules at run time (large, or native, or loaded by a few commands only). */
const EXTERNAL = [
  "@pulumi/*",
  "@aws-sdk/*",
  "@smithy/*",
  "@aws-lambda-powertools/*",
  "@cloud-copilot/*",
  "esbuild",
  "tsx",
  "tsx/*",
];
/** Files whose change makes the bundle stale besides the bundled sources. */
const ALSO_WATCHED = ["package-lock.json", "scripts/cliBundle.cjs"];

function fingerprint(file) {
  // Concatenated, not path.join()ed: every start stats each bundled source, and join's normalising cost more than
  // the stat calls (the manifest's paths are relative and normalised already, as esbuild wrote them).
  const stat = fs.statSync(`${ROOT}/${file}`);
  // Rounded, not truncated: a time set through utimes (float seconds) can come back a hair below the millisecond.
  return `${Math.round(stat.mtimeMs)}:${stat.size}`;
}

/** True when dist/cli/main.js and dist/cli/planChild.js exist and every file they were built from is unchanged. */
function isFresh() {
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(MANIFEST, "utf8"));
    if (manifest.node !== process.versions.node || !fs.existsSync(OUT) || !fs.existsSync(PLANNER_OUT)) return false;
    for (const [file, print] of Object.entries(manifest.inputs)) if (fingerprint(file) !== print) return false;
    return true;
  } catch {
    return false;
  }
}

/** Builds the bundles (atomically: a concurrent run sees the old or the new files, never half of one). */
function build() {
  const esbuild = require("esbuild");
  const result = esbuild.buildSync({
    entryPoints: { main: ENTRY, planChild: PLANNER_ENTRY },
    bundle: true,
    write: false,
    platform: "node",
    target: "node22",
    format: "cjs",
    // Less to parse at every start; names are kept for error messages and `AVM_DEBUG=1` stack traces.
    minify: true,
    keepNames: true,
    external: EXTERNAL,
    metafile: true,
    logLevel: "silent",
    absWorkingDir: ROOT,
    outdir: OUT_DIR,
  });
  const inputs = {};
  for (const file of [...Object.keys(result.metafile.inputs), ...ALSO_WATCHED]) {
    // Bundled files of node_modules change only with the lockfile, which is watched.
    if (!file.includes("node_modules/")) inputs[file] = fingerprint(file);
  }
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const suffix = `.${process.pid}.tmp`;
  for (const file of result.outputFiles) fs.writeFileSync(file.path + suffix, file.contents);
  fs.writeFileSync(MANIFEST + suffix, JSON.stringify({ node: process.versions.node, inputs }));
  // The manifest last: until it is renamed, a concurrent run sees a stale bundle and builds its own.
  for (const file of result.outputFiles) fs.renameSync(file.path + suffix, file.path);
  fs.renameSync(MANIFEST + suffix, MANIFEST);
  return OUT;
}

/**
 * The compiled CLI, built first when missing or stale. Returns undefined when it cannot be built (esbuild
 * missing, read-only install): the caller then runs the TypeScript sources through tsx.
 */
function ensureCliBundle() {
  if (isFresh()) return OUT;
  try {
    return build();
  } catch (error) {
    if (process.env.AVM_DEBUG === "1") process.stderr.write(`avm: building ${OUT} failed: ${error.message}\n`);
    return undefined;
  }
}

module.exports = { ensureCliBundle, build, isFresh, OUT, PLANNER_OUT };

if (require.main === module) {
  const started = Date.now();
  if (process.argv.includes("--if-stale") && isFresh()) process.exit(0);
  build();
  if (!process.argv.includes("--quiet")) {
    console.log(`built ${path.relative(ROOT, OUT)} in ${Date.now() - started} ms`);
  }
}
